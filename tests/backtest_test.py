"""Backtesting: window bounds (pure functions), and `modelyard backtest` end to end on a real daily
series shipped inside a PyPI package (river's TrumpApproval, 2017-03-01 .. 2019-11-26, one row a
day). Every expected window below is written out by hand from the semantics in docs/backtesting.md,
not computed with modelyard's code.
"""

from __future__ import annotations

import datetime as dt
import json
import shutil
import textwrap
from pathlib import Path

import pytest
from conftest import cli
from helpers.workers import command_waits_for_a_worker

D = dt.datetime

# ---------------------------------------------------------------- pure window functions


def _windows(strategy, last_day, days_backward, train, test, slide):
    from modelyard.workflows.backtest.splits import WindowSizes, compute_windows

    sizes = WindowSizes(days_backward, dt.timedelta(**train), dt.timedelta(**test), dt.timedelta(**slide))
    return [(w.train_start, w.train_end, w.test_start, w.test_end) for w in compute_windows(strategy, last_day, sizes)]


def test_post_example_gives_23_sliding_windows():
    windows = _windows("sliding_time_window", dt.date(2024, 3, 31), 60, {"days": 10}, {"days": 5}, {"days": 2})
    assert len(windows) == 23
    # latest: trains on 03-17..03-26, tests on 03-27..03-31 (half-open ends are the next day)
    assert windows[-1] == (D(2024, 3, 17), D(2024, 3, 27), D(2024, 3, 27), D(2024, 4, 1))
    # earliest: trains on 02-02..02-11, tests on 02-12..02-16
    assert windows[0] == (D(2024, 2, 2), D(2024, 2, 12), D(2024, 2, 12), D(2024, 2, 17))
    assert windows[1] == (D(2024, 2, 4), D(2024, 2, 14), D(2024, 2, 14), D(2024, 2, 19))
    assert all(train_end <= test_start for _, train_end, test_start, _ in windows)


def test_expanding_keeps_test_windows_and_trains_from_range_start():
    sliding = _windows("sliding_time_window", dt.date(2024, 3, 31), 60, {"days": 10}, {"days": 5}, {"days": 2})
    expanding = _windows("expanding_time_window", dt.date(2024, 3, 31), 60, {"days": 10}, {"days": 5}, {"days": 2})
    assert [w[2:] for w in expanding] == [w[2:] for w in sliding]
    # the 60 days ending with 2024-03-31 start on 2024-02-01
    assert {w[0] for w in expanding} == {D(2024, 2, 1)}
    assert expanding[-1] == (D(2024, 2, 1), D(2024, 3, 27), D(2024, 3, 27), D(2024, 4, 1))


def test_hours():
    windows = _windows("sliding_time_window", dt.date(2024, 1, 10), 1, {"hours": 6}, {"hours": 2}, {"hours": 2})
    assert len(windows) == 9
    assert windows[-1] == (D(2024, 1, 10, 16), D(2024, 1, 10, 22), D(2024, 1, 10, 22), D(2024, 1, 11))
    assert windows[0] == (D(2024, 1, 10, 0), D(2024, 1, 10, 6), D(2024, 1, 10, 6), D(2024, 1, 10, 8))


def test_weeks():
    windows = _windows("sliding_time_window", dt.date(2024, 3, 31), 56, {"weeks": 3}, {"weeks": 1}, {"weeks": 1})
    assert windows == [
        (D(2024, 2, 5), D(2024, 2, 26), D(2024, 2, 26), D(2024, 3, 4)),
        (D(2024, 2, 12), D(2024, 3, 4), D(2024, 3, 4), D(2024, 3, 11)),
        (D(2024, 2, 19), D(2024, 3, 11), D(2024, 3, 11), D(2024, 3, 18)),
        (D(2024, 2, 26), D(2024, 3, 18), D(2024, 3, 18), D(2024, 3, 25)),
        (D(2024, 3, 4), D(2024, 3, 25), D(2024, 3, 25), D(2024, 4, 1)),
    ]


def test_as_of_moves_the_last_day():
    windows = _windows("sliding_time_window", dt.date(2024, 2, 29), 60, {"days": 10}, {"days": 5}, {"days": 2})
    assert windows[-1] == (D(2024, 2, 15), D(2024, 2, 25), D(2024, 2, 25), D(2024, 3, 1))


def test_mixed_units_and_no_fitting_window():
    windows = _windows(
        "sliding_time_window", dt.date(2024, 3, 31), 3, {"days": 1, "hours": 12}, {"hours": 12}, {"days": 1}
    )
    # the latest test window ends at 04-01 00:00, the one before one day earlier, at 03-31 00:00
    assert windows == [
        (D(2024, 3, 29), D(2024, 3, 30, 12), D(2024, 3, 30, 12), D(2024, 3, 31)),
        (D(2024, 3, 30), D(2024, 3, 31, 12), D(2024, 3, 31, 12), D(2024, 4, 1)),
    ]
    assert _windows("sliding_time_window", dt.date(2024, 3, 31), 5, {"days": 4}, {"days": 2}, {"days": 1}) == []


def test_non_positive_slide_is_an_error():
    from modelyard.workflows.backtest.splits import SplitError

    with pytest.raises(SplitError, match="slide_by"):
        _windows("sliding_time_window", dt.date(2024, 3, 31), 60, {"days": 10}, {"days": 5}, {"days": 0})


# ---------------------------------------------------------------- end to end on a real daily series

TRAINER = """
from dataclasses import dataclass
from typing import List

import numpy as np
import pandas as pd
from sklearn.linear_model import Ridge

from modelyard import AbstractTrainer, TrainedObject


@dataclass
class PollsModel:
    model: Ridge
    feature_columns: List[str]

    def predict(self, x: pd.DataFrame):
        return self.model.predict(x[self.feature_columns])


@dataclass
class PollsTrainer(AbstractTrainer[PollsModel]):
    feature_columns: List[str]
    target_label: str = "approval"
    alpha: float = 1.0

    def train(self, polls: pd.DataFrame) -> TrainedObject[PollsModel]:
        model = Ridge(alpha=self.alpha).fit(polls[self.feature_columns], polls[self.target_label])
        return TrainedObject(PollsModel(model, self.feature_columns), {"x": polls[self.feature_columns].head(3)})

    def evaluate(self, model: PollsModel, polls: pd.DataFrame):
        error = model.predict(polls) - polls[self.target_label].to_numpy()
        return {"mae": float(np.abs(error).mean()), "rmse": float(np.sqrt((error ** 2).mean()))}
"""
FEATURES = ["gallup", "ipsos", "morning_consult", "rasmussen", "you_gov"]


def approval_frame():
    """river's TrumpApproval (a CSV inside the wheel): one row a day, 2017-03-01 .. 2019-11-26."""
    import pandas as pd
    from river import datasets

    rows = [
        {"date": dt.date.fromordinal(int(x.pop("ordinal_date"))), **x, "approval": y}
        for x, y in datasets.TrumpApproval()
    ]
    return pd.DataFrame(rows)


def model_yaml(
    *,
    strategy="sliding_time_window",
    time_column="date",
    days_backward=120,
    train_size="{weeks: 4}",
    test_size="{days: 7}",
    slide_by="{days: 14}",
    as_of=None,
) -> str:
    return textwrap.dedent(f"""\
        model_name: Approval from polls
        tags:
          canonical_name: approval
        model_trainer: polls.ridge.PollsTrainer
        constructor_args:
          feature_columns: [{", ".join(FEATURES)}]
          alpha: 0.5
        dependencies:
          data:
            - train_param_name: polls
              file: approval.yaml
              file_param_name: approval
        split_config:
          train_param_name: polls
          strategy: {strategy}
          time_column: {time_column}
          days_backward: {days_backward}
          train_size: {train_size}
          test_size: {test_size}
          slide_by: {slide_by}
        """) + (f"  as_of: '{as_of}'\n" if as_of else "")


@pytest.fixture(scope="module")
def approval_template(template_repo, tmp_path_factory) -> Path:
    repo = tmp_path_factory.mktemp("approval") / "repo"
    shutil.copytree(template_repo, repo)
    approval_frame().to_csv(repo / "data" / "trump_approval.csv", index=False)
    (repo / "extracts" / "approval.yaml").write_text("approval:\n  operator: sql\n  sql_file: approval.sql\n")
    (repo / "extracts" / "approval.sql").write_text("SELECT * FROM trump_approval ORDER BY date\n")
    (repo / "trainers" / "polls").mkdir()
    (repo / "trainers" / "polls" / "ridge.py").write_text(TRAINER)
    (repo / "models" / "approval.yaml").write_text(model_yaml())
    return repo


@pytest.fixture
def approval_repo(approval_template, tmp_path) -> Path:
    return Path(shutil.copytree(approval_template, tmp_path / "repo"))


def backtest(repo: Path, *args: str):
    return cli("backtest", "models/approval.yaml", *args, cwd=repo)


def _iso(*windows):
    keys = ("train_start", "train_end", "test_start", "test_end")
    return [dict(zip(keys, (f"{day}T00:00:00" for day in w), strict=True)) for w in windows]


def _bounds(result):
    return [{k: w[k] for k in ("train_start", "train_end", "test_start", "test_end")} for w in result["windows"]]


def _backtest_tables(repo: Path) -> list[str]:
    import duckdb

    con = duckdb.connect(str(repo / ".modelyard" / "warehouse.duckdb"), read_only=True)
    try:
        return [
            r[0]
            for r in con.execute(
                "SELECT table_name FROM information_schema.tables WHERE table_schema = 'backtest'"
            ).fetchall()
        ]
    finally:
        con.close()


def test_sliding_backtest_on_real_daily_series(approval_repo):
    result = backtest(approval_repo, "--format", "json")
    assert result.returncode == 0, result
    data = result.json()
    # D = 2019-11-26; the 120 days ending with it are [2019-07-30, 2019-11-27). The latest window
    # tests on the 7 days ending with D and trains on the 4 weeks before; each earlier one is 14
    # days earlier; the earliest training window that still starts in the range starts on 07-31.
    assert _bounds(data) == _iso(
        ("2019-07-31", "2019-08-28", "2019-08-28", "2019-09-04"),
        ("2019-08-14", "2019-09-11", "2019-09-11", "2019-09-18"),
        ("2019-08-28", "2019-09-25", "2019-09-25", "2019-10-02"),
        ("2019-09-11", "2019-10-09", "2019-10-09", "2019-10-16"),
        ("2019-09-25", "2019-10-23", "2019-10-23", "2019-10-30"),
        ("2019-10-09", "2019-11-06", "2019-11-06", "2019-11-13"),
        ("2019-10-23", "2019-11-20", "2019-11-20", "2019-11-27"),
    )
    assert [(w["train_rows"], w["test_rows"]) for w in data["windows"]] == [(28, 7)] * 7
    assert set(data["summary"]) == {"mae", "rmse"}

    # The latest window's metrics, recomputed by hand from the same rows.
    import numpy as np
    from sklearn.linear_model import Ridge

    frame = approval_frame()
    day = frame["date"].astype(str)
    train = frame[(day >= "2019-10-23") & (day < "2019-11-20")]
    test = frame[(day >= "2019-11-20") & (day < "2019-11-27")]
    error = Ridge(alpha=0.5).fit(train[FEATURES], train["approval"]).predict(test[FEATURES]) - test["approval"]
    assert data["windows"][-1]["metrics"]["mae"] == pytest.approx(float(np.abs(error).mean()))
    maes = [w["metrics"]["mae"] for w in data["windows"]]
    assert data["summary"]["mae"]["mean"] == pytest.approx(sum(maes) / len(maes))
    assert data["summary"]["mae"]["min"] == min(maes) and data["summary"]["mae"]["max"] == max(maes)
    assert data["summary"]["mae"]["std"] == pytest.approx(float(np.std(maes, ddof=1)))

    # Kept in the warehouse and drawn.
    import duckdb

    con = duckdb.connect(str(approval_repo / ".modelyard" / "warehouse.duckdb"), read_only=True)
    rows = con.execute(
        "SELECT window_index, test_start, train_rows, mae FROM backtest.approval_windows ORDER BY 1"
    ).fetchall()
    summary = con.execute("SELECT metric, mean FROM backtest.approval_summary ORDER BY metric").fetchall()
    con.close()
    assert len(rows) == 7 and rows[-1][1] == D(2019, 11, 20) and rows[-1][3] == pytest.approx(maes[-1])
    assert [name for name, _ in summary] == ["mae", "rmse"]
    report = Path(data["report"])
    assert report.parent == approval_repo / ".modelyard" / "reports" and report.is_file()
    assert "plotly" in report.read_text()[:5000].lower() and "rmse" in report.read_text()


def test_expanding_trains_from_range_start(approval_repo):
    (approval_repo / "models" / "approval.yaml").write_text(model_yaml(strategy="expanding_time_window"))
    result = cli(
        "backtest",
        "models/approval.yaml",
        "--format",
        "json",
        "--workers",
        "1",
        cwd=approval_repo,
        env={"MODELYARD_DEBUG": "1"},
    )
    assert result.returncode == 0, result
    # without worker processes, every node (extract, split, each window, summary) shares one connection
    opened = [line for line in result.stderr.splitlines() if line.startswith("debug: warehouse ")]
    assert opened == [f"debug: warehouse {approval_repo / '.modelyard' / 'warehouse.duckdb'} opened for writing"]
    data = result.json()
    tests = [
        ("2019-08-28", "2019-09-04"),
        ("2019-09-11", "2019-09-18"),
        ("2019-09-25", "2019-10-02"),
        ("2019-10-09", "2019-10-16"),
        ("2019-10-23", "2019-10-30"),
        ("2019-11-06", "2019-11-13"),
        ("2019-11-20", "2019-11-27"),
    ]
    assert _bounds(data) == _iso(*(("2019-07-30", start, start, end) for start, end in tests))
    # one row a day from 07-30 up to the test window
    assert [w["train_rows"] for w in data["windows"]] == [29, 43, 57, 71, 85, 99, 113]


def test_as_of(approval_repo):
    (approval_repo / "models" / "approval.yaml").write_text(model_yaml(as_of="2018-12-31"))
    result = backtest(approval_repo, "--format", "json")
    assert result.returncode == 0, result
    bounds = _bounds(result.json())
    # the 120 days ending with 2018-12-31 are [2018-09-03, 2019-01-01)
    assert bounds[-1] == _iso(("2018-11-27", "2018-12-25", "2018-12-25", "2019-01-01"))[0]
    assert bounds[0] == _iso(("2018-09-04", "2018-10-02", "2018-10-02", "2018-10-09"))[0]
    assert len(bounds) == 7


def test_template_example_text_output_and_parallel_equals_serial(model_repo):
    trainer = command_waits_for_a_worker(model_repo)  # so the pool's worker runs windows too
    parallel = cli("backtest", "models/model_linear_regression.yaml", "--workers", "2", cwd=model_repo)
    (model_repo / "trainers" / "sklearn" / "sklearn_linear.py").write_text(trainer)
    assert parallel.returncode == 0, parallel
    assert "backtest windows" in parallel.stdout and "summary" in parallel.stdout
    assert "[2024-03-17, 2024-03-27)" in parallel.stdout and "[2024-03-27, 2024-04-01)" in parallel.stdout
    assert "[2024-02-02, 2024-02-12)" in parallel.stdout and "[2024-02-12, 2024-02-17)" in parallel.stdout
    plot = parallel.stdout.split("plot: ", 1)[1].split()[0]
    assert Path(plot).is_file()
    assert "windows" in parallel.stderr  # progress
    # the parallel run's results, kept apart before the serial run replaces the table
    parallel_table = windows_table(model_repo)
    serial = cli(
        "backtest", "models/model_linear_regression.yaml", "--workers", "1", "--format", "json", cwd=model_repo
    ).json()
    assert len(serial["windows"]) == 23
    assert [(w["train_rows"], w["test_rows"]) for w in serial["windows"]] == [(300, 150)] * 23
    serial_table = windows_table(model_repo)
    assert len(parallel_table) == 23
    assert parallel_table.to_dict("records") == serial_table.to_dict("records")  # value by value
    assert list(serial_table["r2"]) == [w["metrics"]["r2"] for w in serial["windows"]]
    # and both are right: the latest window refitted with scikit-learn directly
    from sklearn.linear_model import LinearRegression
    from sklearn.metrics import mean_squared_error, r2_score

    data = warehouse_frame(model_repo, "SELECT * FROM extracts.extract_inputs__training_data")
    train = data[(data["date"] >= "2024-03-17") & (data["date"] < "2024-03-27")]
    test = data[(data["date"] >= "2024-03-27") & (data["date"] < "2024-04-01")]
    features = ["x_0", "x_1", "x_2"]
    fitted = LinearRegression(fit_intercept=False).fit(train[features], train["y"])
    latest = parallel_table.iloc[-1]
    assert (len(train), len(test)) == (latest["train_rows"], latest["test_rows"]) == (300, 150)
    assert latest["r2"] == pytest.approx(r2_score(test["y"], fitted.predict(test[features])), rel=1e-9)
    assert latest["mean_squared_error"] == pytest.approx(
        mean_squared_error(test["y"], fitted.predict(test[features])), rel=1e-9
    )


def warehouse_frame(repo: Path, sql: str):
    import duckdb

    con = duckdb.connect(str(repo / ".modelyard" / "warehouse.duckdb"), read_only=True)
    try:
        return con.execute(sql).df()
    finally:
        con.close()


def windows_table(repo: Path):
    return warehouse_frame(repo, "SELECT * FROM backtest.model_linear_regression_windows ORDER BY window_index")


def test_hours_on_a_timestamp_column(model_repo):
    # 30 rows a day, 48 minutes apart from midnight: 00:00, 00:48, ..., 23:12
    (model_repo / "extracts" / "training_data.sql").write_text(
        "SELECT CAST(date AS TIMESTAMP) + to_minutes(48 * CAST(row_number() OVER (PARTITION BY date ORDER BY x_0) - 1 AS BIGINT)) AS ts,\n"
        "       x_0, x_1, x_2, y\nFROM sample_data\nLIMIT {{ limit }}\n"
    )
    model = model_repo / "models" / "model_linear_regression.yaml"
    text = (
        model.read_text()
        .replace("time_column: date", "time_column: ts")
        .replace("days_backward: 60", "days_backward: 2")
    )
    text = (
        text.replace("train_size:\n    days: 10", "train_size:\n    hours: 12")
        .replace("test_size:\n    days: 5", "test_size:\n    hours: 6")
        .replace("slide_by:\n    days: 2", "slide_by:\n    hours: 6")
    )
    model.write_text(text)
    result = cli("backtest", "models/model_linear_regression.yaml", "--format", "json", cwd=model_repo)
    assert result.returncode == 0, result
    windows = result.json()["windows"]
    starts = [
        "2024-03-30T00:00:00",
        "2024-03-30T06:00:00",
        "2024-03-30T12:00:00",
        "2024-03-30T18:00:00",
        "2024-03-31T00:00:00",
        "2024-03-31T06:00:00",
    ]
    assert [w["train_start"] for w in windows] == starts
    assert windows[-1]["test_start"] == "2024-03-31T18:00:00" and windows[-1]["test_end"] == "2024-04-01T00:00:00"
    # rows at k*48 minutes: [06:00, 18:00) holds k = 8..22, [18:00, 24:00) holds k = 23..29
    assert (windows[-1]["train_rows"], windows[-1]["test_rows"]) == (15, 7)


def test_compiled_workflow_maps_windows_from_the_split_node(model_repo):
    result = cli("compile", cwd=model_repo)
    assert result.returncode == 0, result
    document = json.loads((model_repo / ".modelyard" / "compiled" / "ir" / "ir.json").read_text())
    workflow = next(w for w in document["workflows"] if w["id"] == "backtest__model_linear_regression")
    nodes = {n["id"]: n for n in workflow["nodes"]}
    assert workflow["kind"] == "backtest"
    assert [n["id"] for n in workflow["nodes"]] == [
        "extract__extract_inputs__training_data",
        "split",
        "windows",
        "summary",
    ]
    assert nodes["windows"]["fan_out"] and nodes["windows"]["spec"]["items_from"] == "split"
    assert nodes["summary"]["upstream"] == ["windows"]


# ---------------------------------------------------------------- errors: exit 1, clear message, nothing written


def _rewrite(repo: Path, **changes) -> None:
    (repo / "models" / "approval.yaml").write_text(model_yaml(**changes))


@pytest.mark.parametrize(
    "changes, sql, expected",
    [
        (
            {"time_column": "day"},
            None,
            r"models/approval.yaml:\d+: split_config.time_column: dataset 'polls' \(extracts.approval__approval\) has no column 'day'",
        ),
        (
            {"time_column": "approval"},
            None,
            "column 'approval' of extracts.approval__approval has type DOUBLE, not a date",
        ),
        (
            {},
            "SELECT CAST(date AS VARCHAR) AS date, * EXCLUDE (date) FROM trump_approval",
            "column 'date' of extracts.approval__approval has type VARCHAR.*\n  hint: cast it in the extract's SQL",
        ),
        (
            {"days_backward": 2000},
            None,
            "split_config.days_backward: the 2000 days ending with 2019-11-26 start on 2014-06-06, "
            "but the data in extracts.approval__approval starts on 2017-03-01",
        ),
        ({"as_of": "2017-04-15"}, None, "the 120 days ending with 2017-04-15 start on 2016-12-17"),
        (
            {},
            "SELECT * FROM trump_approval WHERE date NOT BETWEEN '2019-09-05' AND '2019-09-20'",
            r"split_config: 1 of 7 windows have no rows in extracts.approval__approval:\n"
            r"  window 1: train \[2019-08-14T00:00:00, 2019-09-11T00:00:00\) 22 rows, "
            r"test \[2019-09-11T00:00:00, 2019-09-18T00:00:00\) 0 rows",
        ),
        ({"as_of": "2019-13-01"}, None, "split_config.as_of: '2019-13-01' is not a date"),
        ({"as_of": "31/12/2019"}, None, r"models/approval.yaml:\d+:\d+: .*as_of"),
        ({"strategy": "random_window"}, None, "models/approval.yaml:.*strategy"),
    ],
    ids=[
        "missing-column",
        "numeric-column",
        "string-column",
        "too-short",
        "too-short-as-of",
        "empty-window",
        "bad-as-of",
        "as-of-format",
        "unknown-strategy",
    ],
)
def test_errors(approval_repo, changes, sql, expected):
    _rewrite(approval_repo, **changes)
    if sql:
        (approval_repo / "extracts" / "approval.sql").write_text(sql + "\n")
    result = backtest(approval_repo)
    assert result.returncode == 1, result
    assert "Traceback" not in result.stderr
    import re

    assert re.search(expected, result.stderr), result.stderr
    assert not (approval_repo / ".modelyard" / "reports").exists()
    if (approval_repo / ".modelyard" / "warehouse.duckdb").exists():
        assert _backtest_tables(approval_repo) == []


def test_failed_backtest_keeps_the_previous_results(approval_repo):
    assert backtest(approval_repo).returncode == 0
    report = next((approval_repo / ".modelyard" / "reports").iterdir())
    before = report.read_bytes()
    _rewrite(approval_repo, days_backward=5000)
    result = backtest(approval_repo)
    assert result.returncode == 1 and "days_backward" in result.stderr
    assert report.read_bytes() == before
    assert sorted(_backtest_tables(approval_repo)) == ["approval_summary", "approval_windows"]


def test_model_without_split_config(model_repo):
    result = cli("backtest", "models/model_elastic_net.yaml", cwd=model_repo)
    assert result.returncode == 1 and "models/model_elastic_net.yaml has no split_config" in result.stderr
