"""Batch scoring and inference-time monitoring on the template's example: `modelyard score` with
the stored version, the signature checks, drift and labelled metrics against thresholds (warn
and fail), `modelyard monitor`, and the scoring DAG in real Airflow.

Expected values come from scikit-learn and numpy directly on the CSV files, never from modelyard.
"""

from __future__ import annotations

import contextlib
import json
import shutil
import sqlite3
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from conftest import cli, edit_file
from helpers.airflow import DagTestRun, dag_test_runs, recorded_run
from helpers.drift import bin_counts, numeric_bins, psi_by_hand

MODEL = "models/model_linear_regression.yaml"
NAME = "sample_regression_model_v1"
FEATURES = ["x_0", "x_1", "x_2"]
SCORING_SQL = "extracts/scoring_data.sql"
SCORING_DAG = "score__model_linear_regression"


def warehouse(repo: Path, sql: str) -> pd.DataFrame:
    import duckdb

    path = repo / ".modelyard" / "warehouse.duckdb"
    with contextlib.closing(duckdb.connect(str(path), read_only=True)) as con:
        return con.execute(sql).df()


def train(repo: Path) -> None:
    result = cli("run", MODEL, "--force", cwd=repo)
    assert result.returncode == 0, result


def score(repo: Path, *args: str) -> dict:
    result = cli("score", MODEL, "--format", "json", *args, cwd=repo)
    assert result.returncode == 0, result
    return result.json()


def expected_predictions(repo: Path) -> pd.Series:
    """The template's trainer by hand: a linear regression without intercept on every sample row."""
    from sklearn.linear_model import LinearRegression

    train_rows = pd.read_csv(repo / "data" / "sample_data.csv")
    new_rows = pd.read_csv(repo / "data" / "new_rows.csv")
    fitted = LinearRegression(fit_intercept=False).fit(train_rows[FEATURES], train_rows["y"])
    return pd.Series(fitted.predict(new_rows[FEATURES]), index=new_rows["row_id"])


def expected_input_psi(repo: Path, column: str) -> float:
    before = pd.read_csv(repo / "data" / "sample_data.csv")[column].to_numpy()
    after = pd.read_csv(repo / "data" / "new_rows.csv")[column].to_numpy()
    edges, counts = numeric_bins(before)
    return psi_by_hand(counts, bin_counts(edges, after))


def test_score_writes_predictions_and_monitors_the_run(trained_repo: Path):
    from sklearn.metrics import r2_score

    out = score(trained_repo)
    scored, state = out["score"], out["monitor"]
    run_id = Path(out["run_dir"]).name
    assert scored["rows"] == 300 and scored["version"] == 1 and scored["run_id"] == run_id

    rows = warehouse(trained_repo, "SELECT * FROM predictions.linear_regression ORDER BY row_key")
    assert list(rows.columns) == [
        "row_key",
        "model_name",
        "model_version",
        "scoring_run_id",
        "scored_at",
        "predicted_y",
    ]
    expected = expected_predictions(trained_repo)
    assert rows["row_key"].tolist() == expected.index.tolist()
    np.testing.assert_allclose(rows["predicted_y"], expected.to_numpy(), rtol=1e-9)
    assert set(rows["model_version"]) == {1} and set(rows["scoring_run_id"]) == {run_id}

    # x_1 of the new rows moved by about 0.4: a warning under the template's thresholds (0.1, 0.25)
    inputs = {c["column"]: c for c in state["drift"]["inputs"]["columns"]}
    for column in FEATURES:
        assert inputs[column]["value"] == pytest.approx(expected_input_psi(trained_repo, column), abs=1e-6)
    assert inputs["x_1"]["level"] == "warn" and inputs["x_0"]["level"] == inputs["x_2"]["level"] == "ok"
    labels = pd.read_csv(trained_repo / "data" / "new_rows.csv").set_index("row_id")["y"]
    assert state["labelled_rows"] == 300
    assert state["metrics"]["r2"]["value"] == pytest.approx(r2_score(labels, expected.loc[labels.index]))
    assert state["metrics"]["r2"]["level"] == "ok" and state["status"] == "warn"

    drift_rows = warehouse(trained_repo, "SELECT * FROM monitoring.model_linear_regression_drift ORDER BY column_name")
    x_1 = drift_rows[(drift_rows["dataset"] == "inputs") & (drift_rows["column_name"] == "x_1")].iloc[0]
    assert (x_1["scoring_run_id"], x_1["level"]) == (run_id, "warn")
    assert x_1["value"] == pytest.approx(expected_input_psi(trained_repo, "x_1"), abs=1e-6)
    metric_rows = warehouse(
        trained_repo, "SELECT metric, value, labelled_rows FROM monitoring.model_linear_regression_metrics"
    )
    assert sorted(metric_rows["metric"]) == ["mean_squared_error", "r2"]
    report = trained_repo / ".modelyard" / "reports" / "score__model_linear_regression.html"
    assert Path(state["report"]) == report and "PSI of inputs column x_1" in report.read_text()

    text = cli("score", MODEL, cwd=trained_repo)
    assert text.returncode == 0, text
    assert "inputs column x_1 drifted (PSI 0.133, warn at 0.1)" in text.stdout
    twice = warehouse(
        trained_repo, "SELECT scoring_run_id, count(*) AS n FROM predictions.linear_regression GROUP BY 1"
    )
    assert sorted(twice["n"]) == [300, 300]  # appended per run


def test_score_uses_the_version_asked_for(trained_repo: Path):
    edit_file(trained_repo / MODEL, "fit_intercept: False", "fit_intercept: True")
    train(trained_repo)
    assert score(trained_repo)["score"]["version"] == 2
    assert score(trained_repo, "--version", "1")["score"]["version"] == 1
    rows = warehouse(
        trained_repo, "SELECT model_version, count(*) AS n FROM predictions.linear_regression GROUP BY 1 ORDER BY 1"
    )
    assert rows.values.tolist() == [[1, 300], [2, 300]]
    missing = cli("score", MODEL, "--version", "7", cwd=trained_repo)
    assert missing.returncode == 1 and "has no version 7 (versions: 1, 2)" in missing.stderr


@pytest.mark.parametrize(
    ("select", "message"),
    [
        (
            "SELECT row_id, date, x_0, x_2",
            "the rows to score have no column 'x_1', which model sample_regression_model_v1 version 1 takes as "
            "input (it was trained on float64); the rows have: row_id, date, x_0, x_2",
        ),
        (
            "SELECT row_id, date, x_0, x_1::VARCHAR AS x_1, x_2",
            "column 'x_1' of the rows to score is str (text), but model sample_regression_model_v1 version 1 was "
            "trained on float64 (numeric)",
        ),
    ],
    ids=["missing-column", "wrong-type"],
)
def test_rows_not_matching_the_signature_are_refused(trained_repo: Path, select: str, message: str):
    edit_file(trained_repo / SCORING_SQL, "SELECT row_id, date, x_0, x_1, x_2", select)
    result = cli("score", MODEL, cwd=trained_repo)
    assert result.returncode == 1, result
    assert "Traceback" not in result.stderr
    assert f"extracts/scoring.yaml:5: {message}" in " ".join(result.stderr.split()), result.stderr
    assert (
        "predictions" not in warehouse(trained_repo, "SELECT schema_name FROM duckdb_schemas()")["schema_name"].tolist()
    )


def test_drift_past_psi_fail_fails_the_run_after_recording_it(trained_repo: Path):
    rows = pd.read_csv(trained_repo / "data" / "new_rows.csv")
    rows["x_1"] = (rows["x_1"] + 0.6).round(6)
    rows.to_csv(trained_repo / "data" / "new_rows.csv", index=False)
    expected = expected_input_psi(trained_repo, "x_1")
    assert expected > 0.25, expected
    result = cli("score", MODEL, cwd=trained_repo)
    assert result.returncode == 1, result
    assert "Traceback" not in result.stderr
    assert f"inputs column x_1 drifted (PSI {expected:.3f}, fail at 0.25)" in result.stderr
    # the predictions and the failing figures are kept: the alert has something to show
    assert len(warehouse(trained_repo, "SELECT * FROM predictions.linear_regression")) == 300
    recorded = warehouse(
        trained_repo,
        "SELECT level, value FROM monitoring.model_linear_regression_drift "
        "WHERE dataset = 'inputs' AND column_name = 'x_1'",
    )
    assert recorded["level"].tolist() == ["fail"]
    assert recorded["value"].iloc[0] == pytest.approx(expected, abs=1e-6)


def test_metric_thresholds_warn_and_fail(trained_repo: Path):
    from sklearn.metrics import r2_score

    rows = pd.read_csv(trained_repo / "data" / "new_rows.csv")
    noise = np.random.default_rng(1).normal(scale=0.8, size=len(rows))
    rows["y"] = (rows["y"] + noise).round(6)  # labels the model no longer explains as well
    rows.to_csv(trained_repo / "data" / "new_rows.csv", index=False)
    expected = r2_score(rows["y"], expected_predictions(trained_repo).loc[rows["row_id"]])
    assert 0.8 < expected < 0.95, expected
    out = score(trained_repo)
    assert out["monitor"]["metrics"]["r2"]["value"] == pytest.approx(expected)
    assert out["monitor"]["metrics"]["r2"]["level"] == "warn"

    edit_file(trained_repo / MODEL, "      fail: 0.8", "      fail: 0.94")
    result = cli("score", MODEL, cwd=trained_repo)
    assert result.returncode == 1, result
    assert f"metric r2 = {expected:.4g} (fail: higher is better, threshold 0.94)" in result.stderr


def test_monitor_prints_the_latest_state(trained_repo: Path):
    assert cli("monitor", MODEL, cwd=trained_repo).returncode == 0  # before any scoring run: says so
    score(trained_repo)
    out = cli("monitor", MODEL, "--format", "json", cwd=trained_repo)
    assert out.returncode == 0, out
    state = out.json()
    assert state["latest_run"]["status"] == "warn" and state["runs"] == 1
    assert state["crossed"] == [
        f"inputs column x_1 drifted (PSI {expected_input_psi(trained_repo, 'x_1'):.3f}, warn at 0.1)"
    ]
    assert state["training"]["version"] == 1 and state["training"]["drift"] is None
    text = cli("monitor", MODEL, cwd=trained_repo)
    assert "inputs column x_1 drifted" in text.stdout and "r2" in text.stdout


@pytest.fixture(scope="module")
def scoring_dag_runs(trained_once: Path, tmp_path_factory, airflow_env) -> dict[str, tuple[Path, DagTestRun]]:
    """The scoring DAG run by Airflow on two copies of the trained repo, in one Python: as the
    template has it ("as-is"), and with a drift threshold the template's x_1 crosses ("failing")."""
    root = tmp_path_factory.mktemp("scoring_dags")
    repos = {name: root / name for name in ("as-is", "failing")}
    for repo in repos.values():
        shutil.copytree(trained_once, repo)
    failing = repos["failing"]
    edit_file(failing / MODEL, "psi_fail: 0.25", "psi_fail: 0.12")  # the template's x_1 (PSI 0.133) now fails
    edit_file(failing / MODEL, "evaluation:\n", "retries: 0  # Airflow would wait 5 minutes to retry\nevaluation:\n")
    runs = dag_test_runs([(repo, SCORING_DAG) for repo in repos.values()], root / "dags", airflow_env)
    return {name: (repo, run) for (name, repo), run in zip(repos.items(), runs, strict=True)}


def test_scoring_dag_runs_in_airflow(scoring_dag_runs, airflow_env):
    from sklearn.metrics import r2_score

    repo, run = scoring_dag_runs["as-is"]
    run_dir, instances = recorded_run(repo, airflow_env, SCORING_DAG, run.run_id)
    assert {task: states[0][1] for task, states in instances.items()} == {
        "extract__scoring__new_rows": "success",
        "extract__scoring__labels": "success",
        "score": "success",
        "monitor": "success",
    }
    rows = warehouse(repo, "SELECT row_key, predicted_y, scoring_run_id FROM predictions.linear_regression")
    assert set(rows["scoring_run_id"]) == {run_dir.name}
    expected = expected_predictions(repo)
    np.testing.assert_allclose(rows.set_index("row_key")["predicted_y"].loc[expected.index], expected, rtol=1e-9)
    monitor = json.loads((run_dir / "monitor" / "result.json").read_text())
    labels = pd.read_csv(repo / "data" / "new_rows.csv").set_index("row_id")["y"]
    assert monitor["metrics"]["r2"]["value"] == pytest.approx(r2_score(labels, expected.loc[labels.index]))
    assert monitor["status"] == "warn"


def test_a_failing_threshold_fails_the_airflow_task(scoring_dag_runs, airflow_env):
    repo, run = scoring_dag_runs["failing"]
    assert "inputs column x_1 drifted (PSI 0.133, fail at 0.12)" in run.output
    with contextlib.closing(sqlite3.connect(Path(airflow_env["AIRFLOW_HOME"]) / "airflow.db")) as db:
        [state] = db.execute(
            "SELECT state FROM dag_run WHERE dag_id = ? AND run_id = ?", [SCORING_DAG, run.run_id]
        ).fetchone()
        tasks = dict(
            db.execute(
                "SELECT task_id, state FROM task_instance WHERE dag_id = ? AND run_id = ?", [SCORING_DAG, run.run_id]
            )
        )
    assert state == "failed" == run.state
    assert tasks["score"] == "success" and tasks["monitor"] == "failed"
    assert len(warehouse(repo, "SELECT * FROM predictions.linear_regression")) == 300
