"""The multi-worker Airflow harness against real processes: two edge workers, each with its own
folders, both take tasks; a failing task's log reaches the test; stopping leaves no process behind."""

from __future__ import annotations

import shutil
import textwrap
import time
from pathlib import Path

import pytest
from airflow_cluster import (
    AirflowCluster,
    ClusterError,
    WorkerSpec,
    tagged_processes,
)

# ---------------------------------------------------------------- the DAGs under test
DAG_FILE = textwrap.dedent('''
    import os

    from airflow.sdk import dag, task


    @task
    def where(i: int) -> dict:
        """Report where this task ran: the harness sets WORKER_NAME, HOME and the cwd per worker."""
        return {"i": i, "worker": os.environ.get("WORKER_NAME"), "cwd": os.getcwd(),
                "home": os.environ.get("HOME"), "mark": os.environ.get("PROBE_MARK")}


    @dag(schedule=None, catchup=False)
    def cluster_probe():
        # Pinned: one task per worker-only queue, so each worker must run at least one task.
        where.override(task_id="on_alpha", queue="alpha")(i=-1)
        where.override(task_id="on_beta", queue="beta")(i=-2)
        # Free: the shared default queue, whichever worker polls first.
        where.expand(i=list(range(4)))


    @dag(schedule=None, catchup=False)
    def cluster_boom():
        @task
        def boom():
            raise ValueError("boom-marker-4711: the harness must show this")

        boom()


    cluster_probe()
    cluster_boom()
''')


def test_two_edge_workers_run_tasks_and_failures_show_their_log(airflow_database, tmp_path):
    root = tmp_path
    central_dags = root / "central" / "dags"
    central_dags.mkdir(parents=True)
    (central_dags / "probe.py").write_text(DAG_FILE)
    workers = []
    for name in ("alpha", "beta"):
        base = root / f"machine-{name}"
        dags = base / "dags"
        shutil.copytree(central_dags, dags)  # each "machine" has its own copy of the DAG files
        workers.append(
            WorkerSpec(
                name=name,
                dags_folder=dags,
                workdir=base / "work",
                home=base / "home",
                queues=("default", name),
                env={"PROBE_MARK": f"mark-{name}"},
                concurrency=2,
            )
        )
    dsn = airflow_database("airflow_cluster_test")

    t0 = time.monotonic()
    cluster = AirflowCluster(
        db_dsn=dsn, dags_folder=central_dags, home=root / "central" / "home", workers=workers, migrate=False
    )
    with cluster:
        startup = time.monotonic() - t0
        assert {w["worker_name"] for w in cluster.edge_workers()} == {"alpha", "beta"}

        # Both runs at once: the scheduler handles them in the same loops, which saves a run's latency.
        cluster.wait_for_dag("cluster_probe")
        cluster.wait_for_dag("cluster_boom")
        probe_run = cluster.trigger("cluster_probe")
        boom_run = cluster.trigger("cluster_boom")
        probe = cluster.wait_for_run("cluster_probe", probe_run, timeout=120)
        boom = cluster.wait_for_run("cluster_boom", boom_run, timeout=120)
        print(
            f"\nstart-up {startup:.1f}s ({cluster.timings}); probe run {probe.seconds:.1f}s; "
            f"then boom's wait {boom.seconds:.1f}s (it ran alongside)\n{probe.report()}"
        )

        probe.assert_success()
        assert len(probe.tasks) == 6
        assert [t.worker for t in probe.by_task("on_alpha")] == ["alpha"]
        assert [t.worker for t in probe.by_task("on_beta")] == ["beta"]
        assert {t.worker for t in probe.tasks} == {"alpha", "beta"}
        # What the task saw agrees with what the central site recorded, and the worker's own
        # folders and environment are the ones the task ran in.
        by_name = {w.name: w for w in workers}
        for t in probe.tasks:
            seen = cluster.xcom("cluster_probe", probe_run, t.task_id, t.map_index)
            spec = by_name[t.worker]
            assert seen["worker"] == t.worker, (t, seen)
            assert Path(seen["cwd"]).resolve() == spec.workdir.resolve(), (t, seen)
            assert Path(seen["home"]).resolve() == spec.home.resolve(), (t, seen)
            assert seen["mark"] == f"mark-{t.worker}"

        assert boom.state == "failed"
        [failed] = boom.failed()
        assert failed.task_id == "boom" and failed.state == "failed"
        assert "ValueError: boom-marker-4711" in failed.log, failed.log  # rendered as a traceback
        assert "boom-marker-4711" in boom.report()
        with pytest.raises(AssertionError, match="boom-marker-4711"):
            boom.assert_success()

    print(f"timings: {cluster.timings}")
    assert tagged_processes(cluster.cluster_id) == []


def test_a_worker_dying_at_start_up_fails_readably_and_leaves_no_process(airflow_database, tmp_path):
    """Start-up fails midway, with the API server, scheduler and dag-processor already running:
    the error carries the dead worker's log and every process of the cluster is gone after it."""
    dags = tmp_path / "dags"
    dags.mkdir()
    broken = WorkerSpec(
        name="broken",
        dags_folder=dags,
        workdir=tmp_path / "work",
        home=tmp_path / "home",
        # an empty API URL makes `airflow edge worker` exit at once, by design
        env={"AIRFLOW__EDGE__API_URL": ""},
    )
    cluster = AirflowCluster(
        db_dsn=airflow_database("airflow_cluster_broken"),
        dags_folder=dags,
        home=tmp_path / "central",
        workers=[broken],
        migrate=False,
    )
    with pytest.raises(ClusterError, match="worker-broken exited") as failure, cluster:
        pytest.fail("start-up should have failed")
    assert "API URL is not configured" in str(failure.value)
    assert cluster.timings.get("stop_total") is not None
    assert tagged_processes(cluster.cluster_id) == []
