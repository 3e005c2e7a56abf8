"""The multi-worker Airflow harness against real processes: two edge workers, each with its own
folders, both take tasks; a failing task's log reaches the test; stopping leaves no process behind."""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import tempfile
import textwrap
import time
from pathlib import Path

import psycopg2
import pytest
from airflow_cluster import (
    AirflowCluster,
    ClusterError,
    WorkerSpec,
    _die_with_parent,
    free_port,
    tagged_processes,
)

# ---------------------------------------------------------------- throwaway PostgreSQL
# Minimal and self-contained on purpose. When tests/servers.py's `postgres_server` fixture lands,
# swap `postgres_dsn` below for it: the harness only needs a libpq DSN of a fresh, empty database.


def _pg_bindir() -> Path:
    """Debian keeps the server binaries off PATH; pg_config (libpq-dev / postgresql) knows where."""
    with contextlib.suppress(OSError, subprocess.CalledProcessError):
        out = subprocess.run(["pg_config", "--bindir"], capture_output=True, text=True, check=True).stdout.strip()
        if (Path(out) / "postgres").exists():
            return Path(out)
    for candidate in sorted(Path("/usr/lib/postgresql").glob("*/bin"), reverse=True):
        if (candidate / "postgres").exists():
            return candidate
    pytest.skip("PostgreSQL server binaries not found (apt-get install postgresql)")


@contextlib.contextmanager
def throwaway_postgres():
    """initdb + postgres on a free loopback port, trust auth, no fsync; yields an admin DSN.
    As root, the server runs as the `postgres` OS user: initdb refuses to run as root."""
    bindir = _pg_bindir()
    user = {}
    if os.geteuid() == 0:
        user = {"user": "postgres", "group": "postgres", "extra_groups": []}
    # Not under pytest's tmp_path: that tree is mode 0700 root, unreachable for the postgres user.
    root = Path(tempfile.mkdtemp(prefix="modelyard-pg-"))
    data = root / "data"
    if user:
        shutil.chown(root, "postgres", "postgres")
    port = free_port()
    server = None
    try:
        subprocess.run(
            [
                str(bindir / "initdb"),
                "-D",
                str(data),
                "-U",
                "postgres",
                "-A",
                "trust",
                "-E",
                "UTF8",
                "--no-sync",
                "--no-instructions",
            ],
            check=True,
            capture_output=True,
            cwd=root,
            **user,
        )
        log = (root / "server.log").open("wb")
        server = subprocess.Popen(
            [
                str(bindir / "postgres"),
                "-D",
                str(data),
                "-h",
                "127.0.0.1",
                "-p",
                str(port),
                "-k",
                str(root),
                # A test database: durability buys nothing and costs seconds in `airflow db migrate`.
                "-c",
                "fsync=off",
                "-c",
                "synchronous_commit=off",
                "-c",
                "full_page_writes=off",
                "-c",
                "max_connections=200",
            ],
            stdout=log,
            stderr=subprocess.STDOUT,
            cwd=root,
            start_new_session=True,
            # runs after the switch to the postgres user (a credential change would reset it)
            preexec_fn=_die_with_parent,
            **user,
        )  # noqa: PLW1509 -- a C call only
        dsn = f"postgresql://postgres@127.0.0.1:{port}/postgres"
        deadline = time.monotonic() + 30
        while True:
            try:
                psycopg2.connect(dsn).close()
                break
            except psycopg2.OperationalError:
                if server.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError((root / "server.log").read_text(errors="replace")) from None
                time.sleep(0.1)
        yield dsn
    finally:
        if server is not None and server.poll() is None:
            # "Immediate" shutdown: no checkpoint, the data directory is deleted next anyway.
            server.send_signal(signal.SIGQUIT)
            try:
                server.wait(timeout=20)
            except subprocess.TimeoutExpired:
                server.kill()
                server.wait()
        shutil.rmtree(root, ignore_errors=True)


def fresh_database(admin_dsn: str, name: str) -> str:
    conn = psycopg2.connect(admin_dsn)
    conn.autocommit = True  # CREATE DATABASE cannot run inside a transaction
    with conn.cursor() as cur:
        cur.execute(f'CREATE DATABASE "{name}"')
    conn.close()
    return admin_dsn.rsplit("/", 1)[0] + f"/{name}"


@pytest.fixture(scope="module")
def postgres_dsn():
    with throwaway_postgres() as dsn:
        yield dsn


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


def test_two_edge_workers_run_tasks_and_failures_show_their_log(postgres_dsn, tmp_path):
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
    dsn = fresh_database(postgres_dsn, "airflow_cluster_test")

    t0 = time.monotonic()
    cluster = AirflowCluster(db_dsn=dsn, dags_folder=central_dags, home=root / "central" / "home", workers=workers)
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


def test_a_worker_dying_at_start_up_fails_readably_and_leaves_no_process(postgres_dsn, tmp_path):
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
        db_dsn=fresh_database(postgres_dsn, "airflow_cluster_broken"),
        dags_folder=dags,
        home=tmp_path / "central",
        workers=[broken],
    )
    with pytest.raises(ClusterError, match="worker-broken exited") as failure, cluster:
        pytest.fail("start-up should have failed")
    assert "API URL is not configured" in str(failure.value)
    assert cluster.timings.get("stop_total") is not None
    assert tagged_processes(cluster.cluster_id) == []
