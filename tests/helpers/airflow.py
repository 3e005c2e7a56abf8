"""Real Airflow 3 in subprocesses: its executables beside this Python, and `airflow dags test` of
a compiled repo with what Airflow recorded (the ``airflow_env`` fixture in conftest gives the
migrated AIRFLOW_HOME)."""

from __future__ import annotations

import contextlib
import json
import sqlite3
import subprocess
import sys
from collections.abc import Collection
from dataclasses import dataclass
from pathlib import Path

from conftest import cli, git_commit

BIN = Path(sys.executable).parent


def run_folder_name(run_id: str) -> str:
    """The run folder of an Airflow run, by hand: its run ids (``manual__2026-01-01T00:00:00+00:00``)
    hold ':' and '+', which folder names replace with '_'."""
    return run_id.replace(":", "_").replace("+", "_")


def compile_dags(repo: Path, dags: Path) -> None:
    """Commit ``repo`` and compile its DAGs into ``dags``."""
    git_commit(repo)
    assert cli("compile", "--backend", "airflow", "--out", str(dags), cwd=repo).returncode == 0


def recorded_run(repo: Path, airflow_env: dict, dag_id: str, run_id: str | None = None) -> tuple[Path, dict[str, list]]:
    """The run ``run_id`` of ``dag_id`` (by default its latest), which must have succeeded: its run
    folder in ``repo`` and what Airflow recorded, per task id its instances' ``(map_index, state,
    pool_slots)``."""
    with contextlib.closing(sqlite3.connect(Path(airflow_env["AIRFLOW_HOME"]) / "airflow.db")) as db:
        run_id, state = db.execute(
            "SELECT run_id, state FROM dag_run WHERE dag_id = ? AND run_id = coalesce(?, run_id) "
            "ORDER BY id DESC LIMIT 1",
            [dag_id, run_id],
        ).fetchone()
        rows = db.execute(
            "SELECT task_id, map_index, state, pool_slots FROM task_instance "
            "WHERE dag_id = ? AND run_id = ? ORDER BY task_id, map_index",
            [dag_id, run_id],
        ).fetchall()
    assert state == "success", rows
    instances: dict[str, list] = {}
    for task_id, *instance in rows:
        instances.setdefault(task_id, []).append(tuple(instance))
    # every task of the Airflow run shares one run folder, named after the Airflow run id
    run_dir = repo / ".modelyard" / "runs" / dag_id / run_folder_name(run_id)
    assert run_dir.is_dir()
    return run_dir, instances


def dags_test(repo: Path, tmp_path: Path, airflow_env: dict, dag_id: str) -> tuple[Path, dict[str, list]]:
    """Commit and compile ``repo``, run ``airflow dags test DAG_ID``; return ``recorded_run``."""
    dags = tmp_path / "dags"
    compile_dags(repo, dags)
    env = {**airflow_env, "AIRFLOW__CORE__DAGS_FOLDER": str(dags), "MODELYARD_PROJECT_DIR": str(repo)}
    proc = subprocess.run(
        [str(BIN / "airflow"), "dags", "test", dag_id], env=env, capture_output=True, text=True, timeout=300
    )
    assert proc.returncode == 0, (proc.stdout + proc.stderr)[-5000:]
    return recorded_run(repo, airflow_env, dag_id)


# Defines ``report(run)`` in a script that runs DAGs: after each run, a marker line with its run
# id and state on stdout and on stderr, where ``split_runs`` cuts the output into each run's own.
MARKER = "=== modelyard test run: "
REPORT = f"""
import json, sys

def report(run):
    marker = {MARKER!r} + json.dumps({{"run_id": run.run_id, "state": run.state}})
    print(marker, flush=True)
    print(marker, file=sys.stderr, flush=True)
"""

# What `airflow dags test` does (DAG.test()), for several runs one after another in one Python.
# Each run's DAG files go into the DAGs folder just before it runs (a later run of a dag id
# replaces the earlier one's files, as a recompile would).
DAGS_TEST = """
import json, os, shutil, sys
from pathlib import Path
from airflow.dag_processing.dagbag import DagBag

dags = Path(sys.argv[1])
for dag_id, repo, compiled in json.loads(sys.argv[2]):
    for name in (dag_id + ".py", dag_id + ".ir.json"):
        shutil.copyfile(Path(compiled, name), dags / name)
    os.environ.pop("MODELYARD_PROJECT_DIR", None)
    if repo is not None:
        os.environ["MODELYARD_PROJECT_DIR"] = repo
    report(DagBag(dag_folder=str(dags)).get_dag(dag_id).test())
"""


@dataclass(frozen=True)
class DagTestRun:
    run_id: str
    state: str
    output: str  # what the process printed to stdout, then stderr, while this run ran


def dag_test_runs(
    runs: list[tuple[Path, str]], dags: Path, airflow_env: dict, *, undeployed: Collection[str] = ()
) -> list[DagTestRun]:
    """``airflow dags test`` of each ``(repo, dag id)`` in turn, all in one Python process:
    Airflow's start-up in a process (its in-process execution API alone takes seconds) is paid
    once. Each repo is committed and compiled first; MODELYARD_PROJECT_DIR names it while its DAG
    runs, except for the dag ids in ``undeployed``, which run as on a worker the repo never
    reached. Failed runs are returned like the others."""
    dags.mkdir(parents=True)
    order = []
    for index, (repo, dag_id) in enumerate(runs):
        compiled = dags.parent / f"{index}-{dag_id}-compiled"
        compile_dags(repo, compiled)
        order.append([dag_id, None if dag_id in undeployed else str(repo), str(compiled)])
    proc = subprocess.run(
        [sys.executable, "-c", REPORT + DAGS_TEST, str(dags), json.dumps(order)],
        env={**airflow_env, "AIRFLOW__CORE__DAGS_FOLDER": str(dags)},
        capture_output=True,
        text=True,
        timeout=600,
    )
    return split_runs(proc, len(runs))


def split_runs(proc: subprocess.CompletedProcess, count: int) -> list[DagTestRun]:
    """The ``count`` runs a script with ``REPORT`` reported, each with its own output; the script
    must have exited with status 0."""
    assert proc.returncode == 0, (proc.stdout + proc.stderr)[-5000:]
    (stdout, outcomes), (stderr, _) = per_run(proc.stdout), per_run(proc.stderr)
    assert len(outcomes) == count, (proc.stdout + proc.stderr)[-5000:]
    return [
        DagTestRun(outcome["run_id"], outcome["state"], out + err)
        for outcome, out, err in zip(outcomes, stdout, stderr, strict=True)
    ]


def per_run(text: str) -> tuple[list[str], list[dict]]:
    """``text`` cut at ``REPORT``'s marker lines: the text before each marker, and each marker's JSON."""
    parts, outcomes, current = [], [], []
    for line in text.splitlines(keepends=True):
        before, marker, outcome = line.partition(MARKER)
        current.append(before)
        if marker:
            parts.append("".join(current))
            outcomes.append(json.loads(outcome))
            current = []
    return parts, outcomes
