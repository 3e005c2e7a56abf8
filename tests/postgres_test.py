"""The PostgreSQL warehouse against a real server: the template repo's run, tune and backtest give
the same metrics, trials and windows as on DuckDB, from equal DataFrames; concurrent runs; clear
errors for a wrong password, an unreachable server and a typo in an extract's SQL."""

from __future__ import annotations

import json
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
from conftest import cli

MODEL = "models/model_linear_regression.yaml"
TUNING = "tuning/tune_elastic_net.yaml"
EXTRACT = "extracts.extract_inputs__training_data"


def fresh_database(server) -> str:
    """A new database of the test user's: tests never see each other's tables."""
    import psycopg

    name = "t_" + uuid.uuid4().hex[:12]
    with psycopg.connect(server.dsn, autocommit=True) as con:
        con.execute(f"CREATE DATABASE {name}")
    return name


def add_target(repo: Path, server, dbname: str, *, name: str = "pg", port: int | None = None) -> None:
    with open(repo / "modelyard.yaml", "a") as handle:
        handle.write(
            f"\ntargets:\n  {name}:\n    warehouse:\n      type: postgres\n      host: {server.host}\n"
            f"      port: {port or server.port}\n      dbname: {dbname}\n      user: {server.user}\n"
        )


@pytest.fixture
def pg_repo(model_repo: Path, postgres_server):
    """The template repo with target `pg` on a fresh database; the password only in the env."""
    dbname = fresh_database(postgres_server)
    add_target(model_repo, postgres_server, dbname)
    return model_repo, {"PGPASSWORD": postgres_server.password}, dbname


def query(server, dbname: str, sql: str) -> list[tuple]:
    import psycopg

    with psycopg.connect(server.dsn.replace(f"dbname={server.dbname}", f"dbname={dbname}")) as con:
        return con.execute(sql).fetchall()


def duck(repo: Path, sql: str) -> list[tuple]:
    import duckdb

    with duckdb.connect(str(repo / ".modelyard" / "warehouse.duckdb"), read_only=True) as con:
        return con.execute(sql).fetchall()


def same_rows(left: list[tuple], right: list[tuple]) -> None:
    assert len(left) == len(right) and left
    for a, b in zip(left, right, strict=True):
        assert len(a) == len(b)
        for x, y in zip(a, b, strict=True):
            assert x == pytest.approx(y, rel=1e-9, abs=1e-12) if isinstance(x, float) else x == y, (a, b)


def test_run_tune_and_backtest_give_the_same_results_as_duckdb(pg_repo, postgres_server):
    repo, env, dbname = pg_repo
    results = {}
    for target in ("local", "pg"):
        run = cli("--target", target, "run", MODEL, "--format", "json", cwd=repo, env=env)
        tune = cli("--target", target, "tune", TUNING, "--format", "json", cwd=repo, env=env)
        backtest = cli("--target", target, "backtest", MODEL, "--format", "json", cwd=repo, env=env)
        for result in (run, tune, backtest):
            assert result.returncode == 0, result
        results[target] = (run.json(), tune.json(), backtest.json())
    (run_d, tune_d, back_d), (run_p, tune_p, back_p) = results["local"], results["pg"]

    assert set(run_p["metrics"]) == {"mean_squared_error", "r2"}
    assert run_p["metrics"] == pytest.approx(run_d["metrics"], rel=1e-9)
    trials = {t["trial"]: t for t in tune_d["trials"]}
    assert len(tune_p["trials"]) == len(trials) == 40
    for trial in tune_p["trials"]:
        assert trial["params"] == trials[trial["trial"]]["params"]
        assert trial["metrics"] == pytest.approx(trials[trial["trial"]]["metrics"], rel=1e-9)
    assert tune_p["best_params"] == tune_d["best_params"]
    assert len(back_p["windows"]) == len(back_d["windows"]) == 23
    for mine, theirs in zip(back_p["windows"], back_d["windows"], strict=True):
        assert {k: v for k, v in mine.items() if k != "metrics" and k != "seconds"} == {
            k: v for k, v in theirs.items() if k != "metrics" and k != "seconds"
        }
        assert mine["metrics"] == pytest.approx(theirs["metrics"], rel=1e-9)

    # the tables, read with each database's own client
    columns = "trial, round, status, objective, param_alpha, param_max_iter, metric_r2, metric_mean_squared_error"
    trials_sql = f"SELECT {columns} FROM tuning.tune__tune_elastic_net_trials ORDER BY trial"
    same_rows(query(postgres_server, dbname, trials_sql), duck(repo, trials_sql))
    windows_sql = (
        "SELECT window_index, train_start, train_end, test_start, test_end, train_rows, test_rows, r2, "
        "mean_squared_error FROM backtest.model_linear_regression_windows ORDER BY window_index"
    )
    same_rows(query(postgres_server, dbname, windows_sql), duck(repo, windows_sql))
    summary_sql = (
        'SELECT metric, "count", mean, std, "min", "max" FROM backtest.model_linear_regression_summary ORDER BY metric'
    )
    same_rows(query(postgres_server, dbname, summary_sql), duck(repo, summary_sql))

    # tuning again appends a run's trials (replace_rows on an existing table)
    again = cli("--target", "pg", "tune", TUNING, "--format", "json", cwd=repo, env=env)
    assert again.returncode == 0, again
    assert query(
        postgres_server, dbname, "SELECT count(*), count(DISTINCT run_id) FROM tuning.tune__tune_elastic_net_trials"
    ) == [(80, 2)]


DUMPING_TRAINER = """
import os, pathlib, pickle
from .sklearn_linear import SKLearnLinearRegressionTrainer


class DumpingTrainer(SKLearnLinearRegressionTrainer):
    def train(self, df):
        folder = pathlib.Path(os.environ["DUMP_DIR"])
        folder.mkdir(parents=True, exist_ok=True)
        (folder / f"{len(list(folder.iterdir()))}.pkl").write_bytes(pickle.dumps(df))
        return super().train(df)
"""


def test_the_frames_reaching_train_are_equal(pg_repo, tmp_path: Path):
    import pandas as pd

    repo, env, _ = pg_repo
    (repo / "trainers" / "sklearn" / "dumping.py").write_text(DUMPING_TRAINER)
    model = repo / MODEL
    model.write_text(
        model.read_text().replace("sklearn_linear.SKLearnLinearRegressionTrainer", "dumping.DumpingTrainer")
    )
    frames = {}
    for target in ("local", "pg"):
        dump = tmp_path / target
        result = cli("--target", target, "run", MODEL, "--force", cwd=repo, env={**env, "DUMP_DIR": str(dump)})
        assert result.returncode == 0, result
        frames[target] = [pd.read_pickle(dump / f"{i}.pkl") for i in range(len(list(dump.iterdir())))]
    assert len(frames["pg"]) == len(frames["local"]) == 2  # the held-out fit, then the refit on all rows
    for local, pg in zip(frames["local"], frames["pg"], strict=True):
        pd.testing.assert_frame_equal(pg, local, check_exact=True)
    full = frames["pg"][1]
    assert list(full.columns) == ["date", "x_0", "x_1", "x_2", "y"]
    assert str(full["date"].dtype) == "datetime64[us]" and all(full[c].dtype == "float64" for c in full.columns[1:])
    # and the rows are the seed file's, read independently
    csv = pd.read_csv(repo / "data" / "sample_data.csv", parse_dates=["date"]).sort_values(["date", "x_0"])
    assert full[["x_0", "y"]].to_numpy().tolist() == csv[["x_0", "y"]].to_numpy().tolist()


def test_two_concurrent_runs_of_one_extract_build_it_once(pg_repo, postgres_server):
    import os

    repo, env, dbname = pg_repo
    # the build takes 5 s, so the two runs overlap however their start-up differs
    sql = repo / "extracts" / "training_data.sql"
    sql.write_text(sql.read_text().replace("FROM sample_data", "FROM sample_data, (SELECT pg_sleep(5)) AS pause"))
    full = {**os.environ, **env}
    command = [sys.executable, "-m", "modelyard", "--target", "pg", "run", MODEL, "--format", "json"]
    procs = [
        subprocess.Popen(command, cwd=repo, env=full, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        for _ in range(2)
    ]
    outs = [proc.communicate(timeout=300) for proc in procs]
    assert [proc.returncode for proc in procs] == [0, 0], outs
    logs = [err for _, err in outs]
    assert sum("ok built (2730 rows)" in log for log in logs) == 1, logs
    assert sum("ok reused cached table (2730 rows)" in log for log in logs) == 1, logs
    assert sorted(json.loads(out)["version"] for out, _ in outs) == [1, 2]
    assert query(postgres_server, dbname, f"SELECT count(*), count(DISTINCT date) FROM {EXTRACT}") == [(2730, 91)]
    assert query(postgres_server, dbname, "SELECT table_name, row_count FROM _modelyard.extracts") == [(EXTRACT, 2730)]
    assert query(postgres_server, dbname, "SELECT table_name, file FROM _modelyard.seeds") == [
        ("sample_data", "sample_data.csv")
    ]


def test_a_wrong_password_names_the_variable_to_set(pg_repo):
    repo, _, _ = pg_repo
    result = cli("--target", "pg", "run", MODEL, cwd=repo, env={"PGPASSWORD": "not-the-password"})
    assert result.returncode == 1, result
    assert "target 'pg': cannot connect to PostgreSQL modelyard@127.0.0.1:" in result.stderr
    assert "password authentication failed" in result.stderr
    assert "set the environment variable PGPASSWORD to the password of user 'modelyard'" in result.stderr
    assert "Traceback" not in result.stderr


def test_an_unreachable_server_names_the_settings_to_fix(model_repo, postgres_server):
    import socket

    with socket.socket() as sock:  # a port nobody listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    add_target(model_repo, postgres_server, "modelyard", port=port)
    result = cli("--target", "pg", "run", MODEL, cwd=model_repo, env={"PGPASSWORD": postgres_server.password})
    assert result.returncode == 1, result
    assert f"cannot connect to PostgreSQL modelyard@127.0.0.1:{port}/modelyard" in result.stderr
    assert "Connection refused" in result.stderr
    assert "correct host, port and dbname under targets.pg.warehouse in modelyard.yaml" in result.stderr
    assert "Traceback" not in result.stderr


def test_a_sql_typo_names_the_sql_file_and_line(pg_repo):
    repo, env, _ = pg_repo
    sql = repo / "extracts" / "training_data.sql"
    lines = sql.read_text().splitlines()
    lines[2] = lines[2].replace("x_2", "x_22")
    sql.write_text("\n".join(lines) + "\n")
    result = cli("--target", "pg", "run", MODEL, cwd=repo, env=env)
    assert result.returncode == 1, result
    assert f"extracts/training_data.sql:3:{lines[2].index('x_22') + 1}: extract 'training_data'" in result.stderr
    assert 'PostgreSQL Error: column "x_22" does not exist' in result.stderr
    assert "Traceback" not in result.stderr


def test_browsing_a_table_profiles_and_pages_it(pg_repo, postgres_server):
    """The UI's reads (profile, a filtered page) on PostgreSQL, checked against pandas."""
    import pandas as pd

    from modelyard.warehouse import open_warehouse

    repo, env, dbname = pg_repo
    assert cli("--target", "pg", "run", MODEL, cwd=repo, env=env).returncode == 0
    config = {**postgres_server.as_dict(), "dbname": dbname, "target": "pg"}
    csv = pd.read_csv(repo / "data" / "sample_data.csv")
    with open_warehouse("postgres", config, read_only=True) as wh:
        assert wh.tables() == [EXTRACT, "sample_data"]
        assert wh.column_types(EXTRACT) == {
            "date": "DATE",
            "x_0": "DOUBLE",
            "x_1": "DOUBLE",
            "x_2": "DOUBLE",
            "y": "DOUBLE",
        }
        profile = wh.profile(EXTRACT).set_index("column_name")
        assert float(profile.loc["y", "max"]) == pytest.approx(csv["y"].max())
        assert int(profile.loc["x_0", "count"]) == len(csv)
        columns, frame, total = wh.page(EXTRACT, "x_0 > 0.5 AND date >= '2024-03-01'", 1, 10)
        expected = csv[(csv["x_0"] > 0.5) & (csv["date"] >= "2024-03-01")]
        assert columns == ["date", "x_0", "x_1", "x_2", "y"] and total == len(expected)
        assert len(frame) == 10 and frame["date"].iloc[0].startswith("2024-")
        with pytest.raises(Exception, match="filter 'nosuch > 1'"):
            wh.page(EXTRACT, "nosuch > 1", 0, 10)


def test_seed_options_are_honoured_and_a_changed_seed_rebuilds_the_extract(pg_repo, postgres_server):
    repo, env, dbname = pg_repo
    csv = repo / "data" / "sample_data.csv"
    text = csv.read_text()
    assert text.count("2024-01-02,1.290367,") == 1
    csv.write_text(text.replace("2024-01-02,1.290367,", "2024-01-02,n/a,"))
    with open(repo / "modelyard.yaml", "a") as handle:
        handle.write('seeds:\n  sample_data:\n    null_strings: ["n/a"]\n')
    sql = repo / "extracts" / "training_data.sql"
    sql.write_text(sql.read_text().replace("FROM sample_data", "FROM sample_data WHERE x_0 IS NOT NULL"))
    first = cli("--target", "pg", "run", MODEL, cwd=repo, env=env)
    assert first.returncode == 0, first
    assert "ok built (2729 rows)" in first.stderr
    types = "SELECT column_name, data_type FROM information_schema.columns WHERE table_name = 'sample_data' ORDER BY ordinal_position"
    assert query(postgres_server, dbname, types) == [
        ("date", "date"),
        ("x_0", "double precision"),
        ("x_1", "double precision"),
        ("x_2", "double precision"),
        ("y", "double precision"),
    ]
    assert query(postgres_server, dbname, "SELECT count(*) FROM sample_data WHERE x_0 IS NULL") == [(1,)]

    again = cli("--target", "pg", "run", MODEL, "--force", cwd=repo, env=env)
    assert "ok reused cached table (2729 rows)" in again.stderr, again
    csv.write_text("\n".join(csv.read_text().splitlines()[:-30]) + "\n")  # the last day's 30 rows gone
    changed = cli("--target", "pg", "run", MODEL, cwd=repo, env=env)
    assert changed.returncode == 0, changed
    assert "ok built (2699 rows)" in changed.stderr
