"""Real Airflow 3 in subprocesses: its executables beside this Python, and `airflow dags test` of
a compiled repo with what Airflow recorded (the ``airflow_env`` fixture in conftest gives the
migrated AIRFLOW_HOME)."""

from __future__ import annotations

import contextlib
import json
import sqlite3
import subprocess
import sys
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


def recorded_run(repo: Path, airflow_env: dict, dag_id: str) -> tuple[Path, dict[str, list]]:
    """The latest run of ``dag_id``, which must have succeeded: its run folder in ``repo`` and what
    Airflow recorded, per task id its instances' ``(map_index, state, pool_slots)``."""
    with contextlib.closing(sqlite3.connect(Path(airflow_env["AIRFLOW_HOME"]) / "airflow.db")) as db:
        run_id, state = db.execute(
            "SELECT run_id, state FROM dag_run WHERE dag_id = ? ORDER BY id DESC LIMIT 1", [dag_id]
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


# What `airflow dags test` does (DAG.test()), for several DAGs of one folder, each on its own repo
DAGS_TEST = """
import json, os, sys
from airflow.dag_processing.dagbag import DagBag

bag = DagBag(dag_folder=sys.argv[1])
for dag_id, repo in json.loads(sys.argv[2]):
    os.environ["MODELYARD_PROJECT_DIR"] = repo
    bag.get_dag(dag_id).test()
"""


def dags_tests(runs: list[tuple[Path, str]], dags: Path, airflow_env: dict) -> list[tuple[Path, dict[str, list]]]:
    """Like ``dags_test`` for each ``(repo, dag id)``, all in one Python process: Airflow's start-up
    in a process (its in-process execution API alone takes seconds) is paid once. Each DAG (its
    file and IR) goes into the one DAGs folder ``dags``, so the dag ids must differ."""
    dags.mkdir(parents=True)
    for repo, dag_id in runs:
        compiled = dags.parent / f"{dag_id}-compiled"
        compile_dags(repo, compiled)
        for name in (f"{dag_id}.py", f"{dag_id}.ir.json"):
            (compiled / name).rename(dags / name)
    order = json.dumps([[dag_id, str(repo)] for repo, dag_id in runs])
    proc = subprocess.run(
        [sys.executable, "-c", DAGS_TEST, str(dags), order],
        env={**airflow_env, "AIRFLOW__CORE__DAGS_FOLDER": str(dags)},
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert proc.returncode == 0, (proc.stdout + proc.stderr)[-5000:]
    return [recorded_run(repo, airflow_env, dag_id) for repo, dag_id in runs]
