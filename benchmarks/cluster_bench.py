"""The train workflow on a two-worker Airflow vs ``airflow dags test`` of the same published DAG.

Both run the template's ``model_linear_regression`` from the same published set, on the same
target (warehouse on PostgreSQL, model store and run folders on SeaweedFS S3, password and keys
from Airflow connections). The cluster side is the time from trigger to the run's end on the
multi-worker set-up of the tests (``tests/airflow_cluster.py``: scheduler, API server, two edge
workers, PostgreSQL metadata), the cluster already up; the other side is the ``airflow dags test``
command a user runs, start-up included. Nothing to reach: the figure says what scheduling five
tasks across machines costs.

    PYTHONPATH=tooling:tests python benchmarks/cluster_bench.py [--repeat 3]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()

    import servers
    from airflow_cluster import AirflowCluster, WorkerSpec
    from conftest import cli, commit_repo, generate_repo
    from helpers.cluster import (
        PG_CONN,
        S3_CONN,
        TARGET,
        TRAIN,
        WAREHOUSE_DB,
        fresh_database,
        pg_connection,
        s3_connection,
        set_connection,
        set_s3_connection,
    )
    from helpers.cluster import settings_for_cluster as cluster_settings

    with servers.postgres() as pg, servers.seaweedfs_s3() as s3, tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        repo = generate_repo(root / "gen")
        fresh_database(pg, WAREHOUSE_DB)
        cluster_settings(repo, s3, pg)
        commit_repo(repo)
        assert cli("publish", "--target", str(root / "published"), cwd=repo).returncode == 0
        published = root / "published" / "current"

        home = root / "dags-test"
        shutil.copytree(published, home / "dags")
        env = {
            **{k: v for k, v in os.environ.items() if not k.startswith("AIRFLOW")},
            "AIRFLOW_HOME": str(home),
            "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
            "AIRFLOW__CORE__DAGS_FOLDER": str(home / "dags"),
            "MODELYARD_TARGET": TARGET,
            **{
                f"AIRFLOW_CONN_{name.upper()}": json.dumps({k: v for k, v in body.items() if k != "connection_id"})
                for name, body in [(S3_CONN, s3_connection(s3, s3.secret_key)), (PG_CONN, pg_connection(pg, pg.port))]
            },
        }
        airflow = str(Path(sys.executable).with_name("airflow"))
        subprocess.run([airflow, "db", "migrate"], env=env, check=True, capture_output=True)
        local = []
        for _ in range(args.repeat):
            started = time.perf_counter()
            proc = subprocess.run([airflow, "dags", "test", TRAIN], env=env, capture_output=True, text=True)
            local.append(time.perf_counter() - started)
            assert proc.returncode == 0, proc.stderr[-3000:]

        workers = []
        for name in ("alpha", "beta"):
            machine = root / f"machine-{name}"
            shutil.copytree(published, machine / "dags")
            workers.append(
                WorkerSpec(name, machine / "dags", machine / "work", machine / "home", env={"MODELYARD_TARGET": TARGET})
            )
        shutil.copytree(published, root / "central" / "dags")
        cluster = AirflowCluster(
            db_dsn=fresh_database(pg, "airflow_bench"),
            dags_folder=root / "central" / "dags",
            home=root / "central" / "home",
            workers=workers,
        )
        remote = []
        with cluster:
            set_s3_connection(cluster, s3, s3.secret_key)
            set_connection(cluster, pg_connection(pg, pg.port))
            cluster.wait_for_dag(TRAIN, timeout=120)
            for _ in range(args.repeat):
                result = cluster.wait_for_run(TRAIN, cluster.trigger(TRAIN), timeout=300)
                result.assert_success()
                remote.append(result.seconds)
            startup = cluster.timings["startup_total"]

    cluster_s, dags_test_s = statistics.median(remote), statistics.median(local)
    print(f"two-worker Airflow, trigger to end: median {cluster_s:.1f} s of {[round(s, 1) for s in remote]}")
    print(f"airflow dags test, whole command:   median {dags_test_s:.1f} s of {[round(s, 1) for s in local]}")
    print(f"ratio cluster / dags test: {cluster_s / dags_test_s:.2f}x (cluster start-up, not counted: {startup:.0f} s)")


if __name__ == "__main__":
    main()
