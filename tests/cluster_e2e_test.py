"""The template repo's workflows on a real two-worker Airflow that shares nothing but a
PostgreSQL warehouse and an object store: ``modelyard publish`` writes the set, each edge worker
gets its own copy in its own DAGs folder (own cwd, HOME, TMPDIR; no checkout of the repo, no
warehouse file), the model store and the run folders are on SeaweedFS S3 with authentication on,
and the PostgreSQL password and S3 keys reach the tasks only through Airflow connections. Train,
tune and backtest give a local (DuckDB) run's metrics, trials and windows; a deployment mistake
(S3 keys refused, warehouse unreachable) fails at once with what to set; an extract table dropped
behind modelyard's back is rebuilt; a worker killed mid-task leaves no partial version and a rerun
succeeds.

One cluster for the module (start-up is the expensive part); runs are triggered one after another.
"""

from __future__ import annotations

import json
import shutil
import time
from pathlib import Path

import psutil
import psycopg2
import pytest
from airflow_cluster import AirflowCluster, WorkerSpec
from conftest import cli, commit_repo, edit_file
from helpers.airflow import run_folder_name
from helpers.cluster import (
    PG_CONN,
    PREFIX,
    TARGET,
    TRAIN,
    WAREHOUSE_DB,
    fresh_database,
    pg_connection,
    set_connection,
    set_s3_connection,
    settings_for_cluster,
)
from servers import free_ports

TRAINING_EXTRACT = "extracts.extract_inputs__training_data"
TUNE, BACKTEST = "tune__tune_elastic_net", "backtest__model_linear_regression"
SLOW = "model_slow"


SLOW_TRAINER = '''
import os
import time
from pathlib import Path

from modelyard_user_trainers.sklearn.sklearn_linear import SKLearnLinearRegressionTrainer


class SlowTrainer(SKLearnLinearRegressionTrainer):
    """Trains like the example; while the test's flag file exists, it first waits (to be killed)."""

    def train(self, df):
        deadline = time.monotonic() + 60
        while Path(os.environ["SLOW_TRAINER_FLAG"]).exists() and time.monotonic() < deadline:
            time.sleep(0.2)
        return super().train(df)
'''


def small_repo(repo: Path) -> None:
    """The template, with a 2 x 2 tuning grid and a short backtest (fewer mapped tasks), and one
    model whose trainer waits when told to (to be killed mid-task)."""
    tuning = repo / "tuning" / "tune_elastic_net.yaml"
    edit_file(tuning, "- 0.8", "- 0.2")
    edit_file(tuning, "- 50", "- 20")
    edit_file(repo / "models" / "model_linear_regression.yaml", "days_backward: 60", "days_backward: 20")
    (repo / "trainers" / "sklearn" / "slow.py").write_text(SLOW_TRAINER)
    slow = (repo / "models" / "model_linear_regression.yaml").read_text()
    slow = slow.replace("sklearn.sklearn_linear.SKLearnLinearRegressionTrainer", "sklearn.slow.SlowTrainer")
    slow = slow.replace("canonical_name: sample_regression_model_v1", "canonical_name: slow_model")
    (repo / "models" / f"{SLOW}.yaml").write_text(slow.split("split_config:")[0])


@pytest.fixture(scope="module")
def deployment(template_repo, postgres_server, s3_server, airflow_database, tmp_path_factory):
    root = tmp_path_factory.mktemp("e2e")
    repo = root / "repo"
    shutil.copytree(template_repo, repo)
    small_repo(repo)
    fresh_database(postgres_server, WAREHOUSE_DB)
    settings_for_cluster(repo, s3_server, postgres_server)
    commit_repo(repo)
    published = cli("publish", "--target", str(root / "published"), cwd=repo)
    assert published.returncode == 0, published

    central = root / "central"
    shutil.copytree(root / "published" / "current", central / "dags")
    workers = []
    for name in ("alpha", "beta"):
        machine = root / f"machine-{name}"
        shutil.copytree(root / "published" / "current", machine / "dags")  # its own copy, no checkout
        env = {"MODELYARD_TARGET": TARGET}
        workers.append(WorkerSpec(name, machine / "dags", machine / "work", machine / "home", env=env, concurrency=2))
    started = time.monotonic()
    cluster = AirflowCluster(
        db_dsn=airflow_database("airflow_e2e"),
        migrate=False,
        dags_folder=central / "dags",
        home=central / "home",
        workers=workers,
        env={"SLOW_TRAINER_FLAG": str(root / "slow.flag")},  # the test's instrument, not the product's
    )
    with cluster:
        set_s3_connection(cluster, s3_server, s3_server.secret_key)
        set_connection(cluster, pg_connection(postgres_server, postgres_server.port))
        cluster.timings["fixture_start"] = time.monotonic() - started
        yield {
            "repo": repo,
            "cluster": cluster,
            "s3": s3_server,
            "pg": postgres_server,
            "flag": root / "slow.flag",
            "machines": [root / "central", *(root / f"machine-{n}" for n in ("alpha", "beta"))],
        }
    print(f"\ncluster timings: {cluster.timings}")


def s3fs(s3):
    import s3fs as s3fs_module

    return s3fs_module.S3FileSystem(**s3.storage_options())


def node_result(s3, workflow: str, run_id: str, node: str) -> dict:
    path = f"{s3.bucket}/{PREFIX}/runs/{workflow}/{run_folder_name(run_id)}/{node}/result.json"
    return json.loads(s3fs(s3).cat_file(path))


def local(repo: Path, *args: str) -> dict:
    result = cli(*args, "--format", "json", cwd=repo, env={"MODELYARD_TARGET": "local"})
    assert result.returncode == 0, result
    return result.json()


def approx(value):
    """Equal value by value; floats to 1e-9 (another warehouse may hand rows in another order)."""
    if isinstance(value, dict):
        return {k: approx(v) for k, v in value.items()}
    if isinstance(value, list):
        return [approx(v) for v in value]
    return pytest.approx(value, rel=1e-9, abs=1e-12) if isinstance(value, float) else value


def warehouse_query(pg, sql: str) -> list[tuple]:
    """``sql`` on the cluster's warehouse database, as another client would run it."""
    conn = psycopg2.connect(host=pg.host, port=pg.port, user=pg.user, password=pg.password, dbname=WAREHOUSE_DB)
    conn.autocommit = True
    try:
        with conn.cursor() as cur:
            cur.execute(sql)
            return cur.fetchall() if cur.description else []
    finally:
        conn.close()


def test_train_tune_and_backtest_on_two_workers_equal_a_local_run(deployment):
    cluster, s3, repo = deployment["cluster"], deployment["s3"], deployment["repo"]
    runs = {}
    for dag_id in (TRAIN, TUNE, BACKTEST):
        cluster.wait_for_dag(dag_id, timeout=120)
        runs[dag_id] = cluster.trigger(dag_id)  # all three at once: the scheduler interleaves them
    results = {dag_id: cluster.wait_for_run(dag_id, run_id, timeout=300) for dag_id, run_id in runs.items()}
    for result in results.values():
        print(result.report())
        result.assert_success()
    assert {t.worker for r in results.values() for t in r.tasks} == {"alpha", "beta"}
    # the workers shared the warehouse through PostgreSQL only: no database file on any machine
    [built] = warehouse_query(deployment["pg"], f"SELECT count(*) FROM {TRAINING_EXTRACT}")
    assert built[0] == 2730  # every row of the template's seed (the extract's LIMIT is 10000)
    assert [f for m in deployment["machines"] for f in m.rglob("*.duckdb*")] == []

    trained = node_result(s3, TRAIN, runs[TRAIN], "register")
    assert trained["model_path"].startswith(f"s3://{s3.bucket}/{PREFIX}/models/")  # a URI, not a worker's path
    expected = local(repo, "run", "models/model_linear_regression.yaml")
    assert trained["metrics"] == approx(expected["metrics"])

    selected = node_result(s3, TUNE, runs[TUNE], "select")
    expected = local(repo, "tune", "tuning/tune_elastic_net.yaml")
    keys = ("trial", "params", "metrics", "objective", "status", "error")
    assert len(selected["trials"]) == len(expected["trials"]) == 4
    assert [{k: t[k] for k in keys} for t in selected["trials"]] == approx(
        [{k: t[k] for k in keys} for t in expected["trials"]]
    )
    assert selected["best_params"] == expected["best_params"]

    summary = node_result(s3, BACKTEST, runs[BACKTEST], "summary")
    expected = local(repo, "backtest", "models/model_linear_regression.yaml")
    # 20 days back, 10 days of training and 5 of test slid by 2 (small_repo): 3 windows
    assert len(summary["windows"]) == len(expected["windows"]) == 3
    assert summary["windows"] == approx(expected["windows"])
    assert summary["summary"] == approx(expected["summary"])
    assert summary["report"].startswith(f"s3://{s3.bucket}/{PREFIX}/runs/")


def test_wrong_s3_credentials_fail_the_first_task_at_once_naming_the_connection(deployment):
    cluster, s3 = deployment["cluster"], deployment["s3"]
    set_s3_connection(cluster, s3, "not-the-secret")
    try:
        result = cluster.run_dag(TRAIN, timeout=120)
    finally:
        set_s3_connection(cluster, s3, s3.secret_key)
    assert result.state == "failed"
    [failed] = result.failed()[:1]
    assert failed.task_id == "extract__extract_inputs__training_data"
    assert failed.state == "failed" and failed.try_number == 1  # not up_for_retry: retries: 1 was skipped
    assert "object store refused the credentials" in failed.log, failed.log
    assert "fix the s3.conn_id connection" in failed.log
    assert "AirflowFailException" in failed.log


def test_an_unreachable_warehouse_fails_the_first_task_at_once_naming_the_connection(deployment):
    cluster, pg = deployment["cluster"], deployment["pg"]
    [closed] = free_ports(1)  # nothing listens there
    set_connection(cluster, pg_connection(pg, closed))
    try:
        result = cluster.run_dag(TRAIN, timeout=120)
    finally:
        set_connection(cluster, pg_connection(pg, pg.port))
    assert result.state == "failed"
    [failed] = result.failed()[:1]
    assert failed.task_id == "extract__extract_inputs__training_data"
    assert failed.state == "failed" and failed.try_number == 1  # not up_for_retry: retries: 1 was skipped
    assert f"cannot connect to PostgreSQL {pg.user}@{pg.host}:{closed}/{WAREHOUSE_DB}" in failed.log, failed.log
    assert f"correct host, port and dbname under targets.{TARGET}.warehouse" in failed.log
    assert f"(in Airflow: connection {PG_CONN!r})" in failed.log
    assert "AirflowFailException" in failed.log


def test_an_extract_table_dropped_behind_modelyards_back_is_rebuilt_by_the_next_run(deployment):
    cluster, s3, pg, repo = deployment["cluster"], deployment["s3"], deployment["pg"], deployment["repo"]
    if warehouse_query(pg, f"SELECT to_regclass('{TRAINING_EXTRACT}')") == [(None,)]:
        cluster.run_dag(TRAIN, timeout=180).assert_success()  # this test alone: build the cached extract first
    assert warehouse_query(pg, f"SELECT 1 FROM _modelyard.extracts WHERE table_name = '{TRAINING_EXTRACT}'")

    warehouse_query(pg, f"DROP TABLE {TRAINING_EXTRACT}")  # its cache record stays
    rerun = cluster.run_dag(TRAIN, timeout=180)
    rerun.assert_success()
    rebuilt = node_result(s3, TRAIN, rerun.run_id, "extract__extract_inputs__training_data")
    assert rebuilt["reused"] is False
    [(rows,)] = warehouse_query(pg, f"SELECT count(*) FROM {TRAINING_EXTRACT}")
    assert rebuilt["rows"] == rows == 2730
    expected = local(repo, "run", "models/model_linear_regression.yaml")
    assert node_result(s3, TRAIN, rerun.run_id, "register")["metrics"] == approx(expected["metrics"])


def store_versions(s3, name: str) -> dict[str, list[str]]:
    """Per version folder of ``name`` in the S3 store: the files in it."""
    fs = s3fs(s3)
    base = f"{s3.bucket}/{PREFIX}/models/{name}"
    if not fs.exists(base):
        return {}
    fs.invalidate_cache()
    return {
        Path(v).name: sorted(Path(f).name for f in fs.ls(v, detail=False))
        for v in fs.ls(base, detail=False)
        if fs.isdir(v)
    }


def test_a_worker_killed_mid_task_leaves_no_partial_version_and_a_rerun_succeeds(deployment):
    cluster, s3, flag = deployment["cluster"], deployment["s3"], deployment["flag"]
    cluster.wait_for_dag(SLOW, timeout=120)
    flag.touch()
    run_id = cluster.trigger(SLOW)
    deadline = time.monotonic() + 120
    victim = None
    while time.monotonic() < deadline and victim is None:
        for task in cluster.task_results(SLOW, run_id):
            if task.task_id == "train" and task.state == "running" and task.pid:
                victim = task
        time.sleep(0.3)
    assert victim is not None, "the train task never ran"
    psutil.Process(victim.pid).kill()
    time.sleep(3)
    assert store_versions(s3, "slow_model") == {}
    flag.unlink()
    cluster._request("PATCH", f"/api/v2/dags/{SLOW}/dagRuns/{run_id}", {"state": "failed"})

    rerun = cluster.run_dag(SLOW, timeout=180)
    rerun.assert_success()
    versions = store_versions(s3, "slow_model")
    assert list(versions) == ["1"]
    assert {"envelope.json", "model.pkl"} <= set(versions["1"])
