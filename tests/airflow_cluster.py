"""A real multi-worker Airflow 3 on 127.0.0.1 for tests: api-server, scheduler, dag-processor and
edge workers (``apache-airflow-providers-edge3``) as separate processes on a PostgreSQL metadata DB.

Why edge workers: they talk to the central site only over HTTP (the Edge API on the api-server) and
never to the database, so each worker gets its own AIRFLOW_HOME, HOME, TMPDIR, working directory
and DAGs-folder copy, and nothing else: two of them on one machine behave like two machines.

Usage::

    with AirflowCluster(db_dsn=..., dags_folder=..., home=..., workers=[WorkerSpec(...), ...]) as c:
        result = c.run_dag("my_dag", timeout=120)
        result.assert_success()           # raises with the failed tasks' log text
        result.tasks[0].worker            # the edge worker name that ran it

Every process is started in its own session and tagged with an environment variable carrying this
cluster's id; ``stop()`` signals workers first (they hang on SIGTERM once the API server is gone),
then the central processes, then kills whatever still carries the tag (task processes that the
worker detached with ``setpgrp``, uvicorn children...), so a test that fails midway leaves nothing.
"""

from __future__ import annotations

import atexit
import contextlib
import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Self

import psutil  # an Airflow dependency; finds descendants and tagged leftovers

# Environment variable whose value marks every process of one cluster (see `_reap_tagged`).
TAG_VAR = "MODELYARD_AIRFLOW_CLUSTER_ID"

# Speed knobs. Defaults are tuned for long-lived deployments (DAG folder listed every 300 s, jobs
# polled every 5 s, heartbeats every 5-30 s); a test waits on each of them, so shrink them. Each was
# measured to matter on 2 cores; callers may override any of them through `env`.
FAST_CONFIG = {
    # dag-processor: list the bundle for new files every 2 s instead of 300 s, one parsing process
    # (2 cores are shared by six processes). A new or changed file is parsed on the next pass
    # whatever the interval (file_parsing_sort_mode modified_time); re-parsing the unchanged ones
    # every 5 s cost about 15 s of CPU in cluster_e2e_test.py, so they are left alone for 300 s.
    "AIRFLOW__DAG_PROCESSOR__REFRESH_INTERVAL": "2",
    "AIRFLOW__DAG_PROCESSOR__MIN_FILE_PROCESS_INTERVAL": "300",
    "AIRFLOW__DAG_PROCESSOR__PARSING_PROCESSES": "1",
    "AIRFLOW__DAG_PROCESSOR__BUNDLE_REFRESH_CHECK_INTERVAL": "1",
    "AIRFLOW__DAG_PROCESSOR__PRINT_STATS_INTERVAL": "600",
    # scheduler: its loop already runs every second when idle; heartbeats every second keep the
    # executor (EdgeExecutor.sync) and the job's liveness fresh.
    "AIRFLOW__SCHEDULER__SCHEDULER_HEARTBEAT_SEC": "1",
    "AIRFLOW__SCHEDULER__JOB_HEARTBEAT_SEC": "1",
    "AIRFLOW__SCHEDULER__SCHEDULER_IDLE_SLEEP_TIME": "0.5",
    # edge workers: poll for jobs every second (an int option: 1 is the floor), heartbeat often so
    # the registration shows up as healthy quickly.
    "AIRFLOW__EDGE__JOB_POLL_INTERVAL": "1",
    "AIRFLOW__EDGE__HEARTBEAT_INTERVAL": "2",
    # Workers start together with the API server and retry their registration until it answers;
    # the default backoff grows to 90 s between tries, so a worker could idle long after the API
    # is up. These two are read from the environment only (edge3's api_client), not airflow.cfg.
    "AIRFLOW__EDGE__API_RETRY_WAIT_MAX": "2",
    "AIRFLOW__EDGE__API_RETRIES": "60",
    # task supervisor (on the worker): it sleeps in select() up to this many seconds between looks
    # at its task process, so a task that returned in 0.3 s was reported done 5 s later (default 5).
    "AIRFLOW__WORKERS__MIN_HEARTBEAT_INTERVAL": "1",
    # fork tasks from the worker (the default, stated so nobody flips it: a fresh interpreter per
    # task costs ~3 s each on these machines).
    "AIRFLOW__CORE__EXECUTE_TASKS_NEW_PYTHON_INTERPRETER": "False",
}


@dataclass
class WorkerSpec:
    """One edge worker: its name (the edge hostname tasks report), the queues it serves and the
    folders it owns. ``dags_folder`` must be the worker's own copy of the DAG files: the worker
    resolves the task's file relative to its own DAGs folder, like a separate machine would."""

    name: str
    dags_folder: Path
    workdir: Path  # cwd and AIRFLOW_HOME (pid file, task logs)
    home: Path  # HOME
    queues: Sequence[str] = ("default",)
    env: Mapping[str, str] = field(default_factory=dict)  # e.g. AWS_*, AIRFLOW_CONN_*
    concurrency: int = 4


@dataclass
class TaskResult:
    task_id: str
    map_index: int
    state: str | None
    worker: str | None  # the edge worker's name (TaskInstance.hostname)
    pid: int | None
    queue: str | None
    try_number: int
    log: str | None = None  # filled for tasks that did not succeed

    @property
    def key(self) -> str:
        return self.task_id if self.map_index < 0 else f"{self.task_id}[{self.map_index}]"


@dataclass
class DagRunResult:
    dag_id: str
    run_id: str
    state: str
    seconds: float  # from trigger to final state
    tasks: list[TaskResult]

    def by_task(self, task_id: str) -> list[TaskResult]:
        return sorted((t for t in self.tasks if t.task_id == task_id), key=lambda t: t.map_index)

    def failed(self) -> list[TaskResult]:
        return [t for t in self.tasks if t.state not in ("success", "skipped")]

    def report(self) -> str:
        lines = [f"DAG run {self.dag_id}/{self.run_id}: {self.state} in {self.seconds:.1f}s"]
        for t in sorted(self.tasks, key=lambda t: (t.task_id, t.map_index)):
            lines.append(f"  {t.key}: {t.state} on {t.worker} (queue {t.queue}, pid {t.pid})")
        for t in self.failed():
            if t.log:
                lines.append(f"--- log of {t.key} (try {t.try_number}) ---\n{t.log.rstrip()}")
        return "\n".join(lines)

    def assert_success(self) -> None:
        if self.state != "success":
            raise AssertionError(self.report())


class ClusterError(RuntimeError):
    pass


def free_port() -> int:
    # Bind-and-release on loopback; the short race with another process is acceptable in tests.
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def sqlalchemy_url(dsn: str) -> str:
    """``postgresql://...`` (libpq URL) -> the psycopg2 driver URL Airflow's sync engine wants.
    Airflow derives the asyncpg URL from it itself (which is why asyncpg must be installed)."""
    scheme, rest = dsn.split("://", 1)
    if scheme in ("postgresql", "postgres"):
        scheme = "postgresql+psycopg2"
    return f"{scheme}://{rest}"


def _airflow_db_migrate(airflow: str, env: Mapping[str, str], cwd: Path) -> None:
    migrate = subprocess.run(
        [airflow, "db", "migrate"], check=False, env=env, cwd=cwd, capture_output=True, text=True, timeout=300
    )
    if migrate.returncode:
        raise ClusterError(f"airflow db migrate failed:\n{migrate.stdout[-3000:]}\n{migrate.stderr[-3000:]}")


def migrate_database(db_dsn: str, home: Path, python: str = sys.executable) -> None:
    """``airflow db migrate`` on ``db_dsn`` alone, no cluster: migrate one database once, then start
    each cluster on a copy of it with ``migrate=False`` (PostgreSQL copies a database in well under
    a second, the migration takes ten or more on 2 cores)."""
    home.mkdir(parents=True, exist_ok=True)
    env = {k: v for k, v in os.environ.items() if not k.startswith("AIRFLOW")}
    env.update(
        {
            "AIRFLOW_HOME": str(home),
            "HOME": str(home),
            "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
            "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": sqlalchemy_url(db_dsn),
        }
    )
    _airflow_db_migrate(str(Path(python).with_name("airflow")), env, home)


def _load_prctl():
    try:
        import ctypes

        return ctypes.CDLL(None, use_errno=True).prctl
    except (OSError, AttributeError):
        return None


# Resolved here, in the parent: the child between fork and exec should only call into C, not
# import (another thread of the test process could hold the import lock at fork time).
_PRCTL = _load_prctl() if sys.platform == "linux" else None


def _die_with_parent() -> None:
    """Runs in the child before exec: ask Linux to SIGKILL it when the test process dies (pytest
    killed with SIGKILL never reaches `stop`). Best effort; a no-op where prctl is missing."""
    if _PRCTL is not None:
        _PRCTL(1, signal.SIGKILL)  # 1 = PR_SET_PDEATHSIG


class _Proc:
    def __init__(self, name: str, popen: subprocess.Popen, log: Path, done_marker: str | None = None):
        self.name, self.popen, self.log = name, popen, log
        # A log line after which the process has nothing left to do but exit; see `_terminate`.
        self.done_marker = done_marker

    def says_done(self) -> bool:
        if not self.done_marker:
            return False
        try:
            with self.log.open("rb") as f:
                f.seek(max(0, self.log.stat().st_size - 4096))
                return self.done_marker.encode() in f.read()
        except OSError:
            return False

    def tail(self, chars: int = 4000) -> str:
        try:
            return self.log.read_text(errors="replace")[-chars:]
        except FileNotFoundError:
            return ""


class AirflowCluster:
    """Context manager running api-server, scheduler, dag-processor and one edge worker per
    `WorkerSpec`. ``home`` is the central site's AIRFLOW_HOME (config, central task logs, process
    logs under ``home/proc-logs``). ``env`` goes to every process; ``WorkerSpec.env`` to one worker."""

    def __init__(
        self,
        *,
        db_dsn: str,
        dags_folder: Path,
        home: Path,
        workers: Sequence[WorkerSpec],
        env: Mapping[str, str] | None = None,
        startup_timeout: float = 180,
        python: str = sys.executable,
        migrate: bool = True,
    ):
        names = [w.name for w in workers]
        if len(set(names)) != len(names):
            raise ValueError(f"worker names must be unique: {names}")
        self.db_dsn, self.dags_folder, self.home = db_dsn, Path(dags_folder), Path(home)
        self.workers, self.extra_env = list(workers), dict(env or {})
        self.startup_timeout = startup_timeout
        # False when ``db_dsn`` is a copy of an already migrated database (see `migrate_database`).
        self.migrate = migrate
        # The `airflow` console script next to the interpreter running the tests (same venv).
        self.airflow = str(Path(python).with_name("airflow"))
        self.cluster_id = secrets.token_hex(8)
        self.port = 0
        self.api_url = ""
        self.timings: dict[str, float] = {}
        self._procs: list[_Proc] = []
        self._token: str | None = None
        self._jwt_secret = secrets.token_urlsafe(32)

    # ---------------------------------------------------------------- environment
    def _base_env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("AIRFLOW")}
        env.update(FAST_CONFIG)
        env.update(
            {
                TAG_VAR: self.cluster_id,
                "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
                "AIRFLOW__CORE__EXECUTOR": "airflow.providers.edge3.executors.EdgeExecutor",
                # Every process signs and checks the JWTs (task tokens, worker tokens) with this key.
                "AIRFLOW__API_AUTH__JWT_SECRET": self._jwt_secret,
                "AIRFLOW__API__BASE_URL": self.api_url,
                "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": f"{self.api_url}/execution/",
                "AIRFLOW__EDGE__API_ENABLED": "True",
                "AIRFLOW__EDGE__API_URL": f"{self.api_url}/edge_worker/v1/rpcapi",
                # Tests talk to the REST API without a password: GET /auth/token hands out an admin token.
                "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_ALL_ADMINS": "True",
                "AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION": "True",
                "PYTHONUNBUFFERED": "1",
            }
        )
        env.update(self.extra_env)
        return env

    def _central_env(self) -> dict[str, str]:
        env = self._base_env()
        env.update(
            {
                "AIRFLOW_HOME": str(self.home),
                "HOME": str(self.home),  # nothing of the central site lands in the caller's home
                "AIRFLOW__CORE__DAGS_FOLDER": str(self.dags_folder),
                "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": sqlalchemy_url(self.db_dsn),
            }
        )
        return env

    def _worker_env(self, w: WorkerSpec) -> dict[str, str]:
        # No database URL here on purpose: a worker reaches the central site only over HTTP.
        env = self._base_env()
        tmp = Path(w.workdir) / "tmp"
        tmp.mkdir(parents=True, exist_ok=True)
        env.update(
            {
                "AIRFLOW_HOME": str(w.workdir),
                "AIRFLOW__CORE__DAGS_FOLDER": str(w.dags_folder),
                "HOME": str(w.home),
                "TMPDIR": str(tmp),
                "WORKER_NAME": w.name,
            }
        )
        env.update(w.env)
        return env

    # ---------------------------------------------------------------- processes
    def _spawn(
        self, name: str, args: list[str], env: dict[str, str], cwd: Path, done_marker: str | None = None
    ) -> _Proc:
        logs = self.home / "proc-logs"
        logs.mkdir(parents=True, exist_ok=True)
        log = logs / f"{name}.log"
        with log.open("ab") as out:
            popen = subprocess.Popen(
                [self.airflow, *args],
                env=env,
                cwd=cwd,
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # own process group to signal
                preexec_fn=_die_with_parent,  # noqa: PLW1509 -- only a C call, see _PRCTL
            )
        proc = _Proc(name, popen, log, done_marker)
        self._procs.append(proc)
        return proc

    def _check_alive(self) -> None:
        for p in self._procs:
            if p.popen.poll() is not None:
                raise ClusterError(f"{p.name} exited with {p.popen.returncode}:\n{p.tail()}")

    def _wait(self, what: str, predicate, timeout: float, interval: float = 0.25):
        deadline = time.monotonic() + timeout
        last_error: Exception | None = None
        while time.monotonic() < deadline:
            self._check_alive()
            try:
                value = predicate()
                if value:
                    return value
            except (OSError, urllib.error.URLError, ValueError, KeyError) as e:
                last_error = e
            time.sleep(interval)
        logs = "\n".join(f"==== {p.name}\n{p.tail(2500)}" for p in self._procs)
        raise ClusterError(f"timed out after {timeout:.0f}s waiting for {what} (last error: {last_error})\n{logs}")

    def start(self) -> AirflowCluster:
        atexit.register(self.stop)  # last resort if the caller never reaches __exit__
        try:
            self._start()
        except BaseException:
            self.stop()
            raise
        return self

    def _start(self) -> None:
        t0 = time.monotonic()
        self.home.mkdir(parents=True, exist_ok=True)
        self.port = free_port()
        self.api_url = f"http://127.0.0.1:{self.port}"
        central = self._central_env()
        if self.migrate:
            _airflow_db_migrate(self.airflow, central, self.home)
            self.timings["db_migrate"] = time.monotonic() - t0

        t1 = time.monotonic()
        self._spawn(
            "api-server",
            ["api-server", "--host", "127.0.0.1", "--port", str(self.port), "--workers", "1"],
            central,
            self.home,
            # uvicorn logs this once it has closed every connection; the interpreter then
            # spends 3-6 s in a final garbage collection of the app's heap before exiting.
            done_marker="Finished server process",
        )
        self._spawn("scheduler", ["scheduler"], central, self.home)
        self._spawn("dag-processor", ["dag-processor"], central, self.home)
        # Workers start now too, not after the API answers: importing Airflow takes each process
        # seconds of CPU, and overlapping that with the API server's start-up uses both cores.
        for w in self.workers:
            for folder in (w.workdir, w.home):
                Path(folder).mkdir(parents=True, exist_ok=True)
            args = ["edge", "worker", "--edge-hostname", w.name, "--concurrency", str(w.concurrency)]
            if w.queues:
                args += ["--queues", ",".join(w.queues)]
            self._spawn(f"worker-{w.name}", args, self._worker_env(w), Path(w.workdir))
        self._wait("the API server", lambda: self._get("/api/v2/version"), self.startup_timeout)
        self.timings["api_server_up"] = time.monotonic() - t1
        self._wait("all edge workers to register and report idle", self._workers_healthy, self.startup_timeout)
        self.timings["startup_total"] = time.monotonic() - t0

    def _workers_healthy(self) -> bool:
        states = {w["worker_name"]: w["state"] for w in self.edge_workers()}
        return all(states.get(w.name) in ("idle", "running") for w in self.workers)

    def stop(self) -> None:
        """Workers first (with the API server gone they ignore SIGTERM), then everything else."""
        atexit.unregister(self.stop)
        workers = [p for p in self._procs if p.name.startswith("worker-")]
        central = [p for p in self._procs if p not in workers]
        # Order matters for a clean shutdown: the scheduler and dag-processor can go with the
        # API server, but only after the workers have deregistered through it.
        t0 = time.monotonic()
        _terminate(workers, grace=20)
        self.timings["stop_workers"] = time.monotonic() - t0
        _terminate(central, grace=20)
        _reap_tagged(self.cluster_id)
        self.timings["stop_total"] = time.monotonic() - t0
        self._procs.clear()

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    # ---------------------------------------------------------------- REST API
    def token(self) -> str:
        if self._token is None:
            self._token = self._request("GET", "/auth/token", auth=False)["access_token"]
        return self._token

    def _request(
        self,
        method: str,
        path: str,
        body: Any = None,
        *,
        auth: bool = True,
        accept: str = "application/json",
        params: Mapping[str, Any] | None = None,
    ) -> Any:
        url = self.api_url + path + ("?" + urllib.parse.urlencode(params) if params else "")
        data = json.dumps(body).encode() if body is not None else None
        headers = {"Accept": accept}
        if data is not None:
            headers["Content-Type"] = "application/json"
        if auth:
            headers["Authorization"] = f"Bearer {self.token()}"
        req = urllib.request.Request(url, data=data, method=method, headers=headers)
        try:
            with urllib.request.urlopen(req, timeout=30) as resp:
                raw = resp.read()
        except urllib.error.HTTPError as e:
            detail = e.read().decode(errors="replace")[:2000]
            raise ClusterError(f"{method} {path} -> HTTP {e.code}: {detail}") from None
        return json.loads(raw) if accept == "application/json" and raw else raw.decode(errors="replace")

    def _get(self, path: str, **params) -> Any:
        return self._request("GET", path, params=params or None)

    def edge_workers(self) -> list[dict]:
        """The workers the central site knows, with ``worker_name``, ``state``, ``queues``, ``sysinfo``."""
        return self._get("/edge_worker/ui/worker")["workers"]

    def import_errors(self) -> dict[str, str]:
        errors = self._get("/api/v2/importErrors")["import_errors"]
        return {e["filename"]: e["stack_trace"] for e in errors}

    def wait_for_dag(self, dag_id: str, timeout: float = 60) -> None:
        """Until the dag-processor has serialized ``dag_id``; an import error fails at once with its trace."""

        def parsed() -> bool:
            try:
                self._get(f"/api/v2/dags/{dag_id}")
                # The DAG row can exist before its serialized form; the details endpoint needs both.
                self._get(f"/api/v2/dags/{dag_id}/details")
                return True
            except ClusterError as e:
                if "HTTP 404" not in str(e):
                    raise
            errors = self.import_errors()
            if errors:
                raise ClusterError(
                    f"DAG {dag_id} not parsed; import errors:\n" + "\n".join(f"{f}:\n{t}" for f, t in errors.items())
                )
            return False

        self._wait(f"DAG {dag_id} to be parsed", parsed, timeout, interval=0.5)

    def trigger(self, dag_id: str, conf: Mapping[str, Any] | None = None) -> str:
        """Unpause and trigger ``dag_id``; returns the run id."""
        self._request("PATCH", f"/api/v2/dags/{dag_id}", {"is_paused": False})
        run = self._request("POST", f"/api/v2/dags/{dag_id}/dagRuns", {"logical_date": None, "conf": dict(conf or {})})
        return run["dag_run_id"]

    def wait_for_run(self, dag_id: str, run_id: str, timeout: float = 120) -> DagRunResult:
        t0 = time.monotonic()

        def finished():
            state = self._get(f"/api/v2/dags/{dag_id}/dagRuns/{run_id}")["state"]
            return state if state in ("success", "failed") else None

        try:
            state = self._wait(f"run {dag_id}/{run_id} to finish", finished, timeout, interval=0.5)
        except ClusterError as e:
            # Say where it was stuck: the task states are the useful part of a timeout.
            partial = self.task_results(dag_id, run_id)
            raise ClusterError(
                f"{e}\n\ntask states at timeout:\n" + "\n".join(f"  {t.key}: {t.state} on {t.worker}" for t in partial)
            ) from None
        result = DagRunResult(dag_id, run_id, state, time.monotonic() - t0, self.task_results(dag_id, run_id))
        for t in result.failed():
            t.log = self.task_log(dag_id, run_id, t.task_id, t.map_index, max(t.try_number, 1))
        return result

    def run_dag(self, dag_id: str, conf: Mapping[str, Any] | None = None, timeout: float = 120) -> DagRunResult:
        """Wait until parsed, unpause, trigger, wait for the end; failed tasks carry their log."""
        self.wait_for_dag(dag_id, timeout=timeout)
        return self.wait_for_run(dag_id, self.trigger(dag_id, conf), timeout=timeout)

    def task_results(self, dag_id: str, run_id: str) -> list[TaskResult]:
        tis: list[dict] = []
        while True:  # paged: the API caps a page at [api] maximum_page_limit (100)
            page = self._get(f"/api/v2/dags/{dag_id}/dagRuns/{run_id}/taskInstances", limit=100, offset=len(tis))
            tis += page["task_instances"]
            if not page["task_instances"] or len(tis) >= page["total_entries"]:
                break
        return [
            TaskResult(
                task_id=t["task_id"],
                map_index=t["map_index"],
                state=t["state"],
                worker=t.get("hostname") or None,
                pid=t.get("pid"),
                queue=t.get("queue"),
                try_number=t.get("try_number") or 0,
            )
            for t in tis
        ]

    def xcom(self, dag_id: str, run_id: str, task_id: str, map_index: int = -1, key: str = "return_value") -> Any:
        """The XCom value as stored in the metadata DB (JSON-native values come back as such)."""
        entry = self._get(
            f"/api/v2/dags/{dag_id}/dagRuns/{run_id}/taskInstances/{task_id}/xcomEntries/{key}", map_index=map_index
        )
        return entry["value"]

    def task_log(self, dag_id: str, run_id: str, task_id: str, map_index: int = -1, try_number: int = 1) -> str:
        """The task's log as text (pushed by the edge worker to the central site)."""
        try:
            raw = self._request(
                "GET",
                f"/api/v2/dags/{dag_id}/dagRuns/{run_id}/taskInstances/{task_id}/logs/{try_number}",
                params={"map_index": map_index, "full_content": "true"},
                accept="application/json",
            )
        except ClusterError as e:
            return f"(log unavailable: {e})"
        return _log_text(raw)


def _log_text(payload: Any) -> str:
    """The logs endpoint returns structured records (Airflow 3 task logs are JSON lines): render
    them as ``[level] event`` lines, exceptions as a Python-style traceback."""
    content = payload.get("content", payload) if isinstance(payload, dict) else payload
    if isinstance(content, str):
        return content
    lines = []
    for item in content or []:
        if not isinstance(item, dict):
            lines.append(str(item))
            continue
        prefix = f"[{item['level']}] " if item.get("level") else ""
        lines.append(f"{prefix}{item.get('event', '')}")
        for error in item.get("error_detail") or []:
            lines.append("Traceback (most recent call last):")
            lines += [
                f'  File "{f.get("filename")}", line {f.get("lineno")}, in {f.get("name")}'
                for f in error.get("frames", [])
            ]
            lines.append(f"{error.get('exc_type')}: {error.get('exc_value')}")
    return "\n".join(lines)


def _gone(proc: psutil.Process) -> bool:
    # A zombie counts as gone. This machine's PID 1 does not reap orphans, so a grandchild that
    # exited after its parent stays a zombie for good and psutil.wait_procs would wait it out.
    try:
        return proc.status() == psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return True


def _wait_gone(procs: list[psutil.Process], timeout: float) -> list[psutil.Process]:
    deadline = time.monotonic() + timeout
    alive = [p for p in procs if not _gone(p)]
    while alive and time.monotonic() < deadline:
        time.sleep(0.1)
        alive = [p for p in alive if not _gone(p)]
    return alive


def _terminate(procs: Iterable[_Proc], grace: float) -> None:
    """SIGTERM each root process once and let it shut its own children down (a second SIGTERM
    through the process group interrupts Airflow's shutdown half-way); SIGKILL the process group and
    every descendant still there after ``grace`` (a second or two for descendants of a root that
    already exited)."""
    procs = [p for p in procs if p.popen.poll() is None]
    family: list[psutil.Process] = []
    for p in procs:
        try:
            root = psutil.Process(p.popen.pid)
            family += [root, *root.children(recursive=True)]
            root.terminate()
        except psutil.NoSuchProcess:
            continue
    deadline = time.monotonic() + grace
    while time.monotonic() < deadline and not all(_gone_pid(p.popen.pid) or p.says_done() for p in procs):
        time.sleep(0.1)
    roots = {p.popen.pid for p in procs}
    for p in procs:
        if p.says_done():
            with contextlib.suppress(ProcessLookupError):
                p.popen.kill()  # finished its work; skip the interpreter's exit-time cleanup
    survivors = _wait_gone([f for f in family if f.pid not in roots], 2)
    for p in procs:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(p.popen.pid, signal.SIGKILL)
    for v in survivors:
        with contextlib.suppress(psutil.NoSuchProcess):
            v.kill()
    _wait_gone(survivors, 5)
    for p in procs:
        try:
            p.popen.wait(timeout=5)  # reap our direct children so they do not linger as zombies
        except subprocess.TimeoutExpired:
            pass


def _gone_pid(pid: int) -> bool:
    try:
        return _gone(psutil.Process(pid))
    except psutil.NoSuchProcess:
        return True


def _reap_tagged(cluster_id: str) -> None:
    """Kill any process still carrying this cluster's tag in its environment: task processes the
    edge worker detached into their own sessions, grandchildren re-parented to init."""
    me = os.getpid()
    leftovers = []
    for proc in psutil.process_iter(["pid"]):
        if proc.pid == me:
            continue
        try:
            if proc.environ().get(TAG_VAR) == cluster_id:
                leftovers.append(proc)
        except (psutil.NoSuchProcess, psutil.AccessDenied, psutil.ZombieProcess, OSError):
            continue
    for proc in leftovers:
        try:
            proc.kill()
        except psutil.NoSuchProcess:
            pass
    _wait_gone(leftovers, timeout=5)


def tagged_processes(cluster_id: str) -> list[int]:
    """Pids still carrying the tag (tests assert this is empty after `stop`)."""
    found = []
    for proc in psutil.process_iter(["pid"]):
        try:
            if proc.environ().get(TAG_VAR) == cluster_id and not _gone(proc):
                found.append(proc.pid)
        except (psutil.NoSuchProcess, psutil.AccessDenied, psutil.ZombieProcess, OSError):
            continue
    return found
