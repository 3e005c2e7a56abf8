"""A published set is all a worker needs besides installed packages: the backend files, the IR and
the repo files (``project/``), with no path of the machine that published it. Tasks run from it
with the repo deleted; deployment mistakes are not retryable and name what to set."""

from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path

import pytest
from conftest import ROOT, cli, edit_file, git
from helpers.published_set import TEMPLATE_PROJECT

WORKFLOW = "model_linear_regression"
TRAIN_NODES = ["extract__extract_inputs__training_data", "train", "evaluate", "refit", "register"]


def publish_copy(repo: Path, worker: Path) -> Path:
    """Publish ``repo`` and copy the live set (symlinks followed) to ``worker``: a worker's DAGs folder."""
    published = cli("publish", "--target", str(repo.parent / "published"), cwd=repo)
    assert published.returncode == 0, published
    shutil.copytree(repo.parent / "published" / "current", worker)
    return worker


def test_the_set_carries_the_repo_files_workers_run_and_no_path_of_this_machine(git_repo: Path, tmp_path: Path):
    dags = publish_copy(git_repo, tmp_path / "worker" / "dags")
    files = {p.relative_to(dags).as_posix(): p.read_bytes() for p in dags.rglob("*") if p.is_file()}
    project = {name for name in files if name.startswith("project/")}
    assert project | {".airflowignore"} == TEMPLATE_PROJECT
    for name in project:
        assert files[name] == (git_repo / name.removeprefix("project/")).read_bytes(), name
    assert files[".airflowignore"] == b"project/\n"

    machine = {git_repo, git_repo.resolve(), tmp_path, ROOT, Path.home(), Path(sys.prefix), Path.cwd()}
    for name, data in files.items():
        text = data.decode("utf-8", errors="replace")
        leaked = sorted(str(p) for p in machine if str(p) in text)
        assert not leaked, f"{name} holds {leaked}"


def run_published(dags: Path, nodes: list[str], run_id: str) -> list[dict]:
    from modelyard.execute.task import run_node

    return [run_node(dags / f"{WORKFLOW}.ir.json", WORKFLOW, node, run_id=run_id) for node in nodes]


def test_tasks_run_from_the_set_with_the_repo_gone_and_match_a_local_run(git_repo: Path, tmp_path: Path, monkeypatch):
    local = cli("run", "models/model_linear_regression.yaml", "--format", "json", cwd=git_repo)
    assert local.returncode == 0, local
    dags = publish_copy(git_repo, tmp_path / "worker" / "dags")
    shutil.rmtree(git_repo)  # no checkout anywhere: the set alone

    state = tmp_path / "worker-state"
    monkeypatch.delenv("MODELYARD_PROJECT_DIR", raising=False)
    monkeypatch.setenv("MODELYARD_WAREHOUSE", str(state / "warehouse.duckdb"))
    monkeypatch.setenv("MODELYARD_STORE", str(state / "models"))
    monkeypatch.setenv("MODELYARD_RUNS_DIR", str(state / "runs"))
    results = run_published(dags, TRAIN_NODES, "published-1")
    stored = results[-1]
    assert stored["version"] == 1
    assert stored["metrics"] == local.json()["metrics"]
    envelope = json.loads((Path(stored["model_path"]) / "envelope.json").read_text())
    assert envelope["metrics"] == local.json()["metrics"]
    assert not list(dags.rglob(".modelyard"))  # nothing written into the published set


def test_a_local_target_would_keep_state_inside_the_set_and_is_refused(git_repo: Path, tmp_path: Path, monkeypatch):
    from modelyard.errors import NodeError

    dags = publish_copy(git_repo, tmp_path / "worker" / "dags")
    for name in ("MODELYARD_PROJECT_DIR", "MODELYARD_WAREHOUSE", "MODELYARD_STORE", "MODELYARD_RUNS_DIR"):
        monkeypatch.delenv(name, raising=False)
    with pytest.raises(NodeError) as failure:
        run_published(dags, TRAIN_NODES[:1], "published-1")
    message = str(failure.value)
    assert "target 'local' keeps its warehouse and model store and run folders inside the published set" in message
    assert "MODELYARD_TARGET" in message and "docs/deploying.md" in message
    assert failure.value.retryable is False
    assert not list(dags.rglob(".modelyard"))


def test_deployment_mistakes_are_not_retryable_and_name_what_to_set(git_repo: Path, tmp_path: Path, monkeypatch):
    from modelyard.errors import NodeError

    dags = publish_copy(git_repo, tmp_path / "worker" / "dags")
    monkeypatch.setenv("MODELYARD_PROJECT_DIR", str(git_repo))
    monkeypatch.setenv("MODELYARD_TARGET", "prdo")
    with pytest.raises(NodeError) as failure:
        run_published(dags, TRAIN_NODES[:1], "r1")
    assert "unknown target 'prdo' (from --target or MODELYARD_TARGET)" in str(failure.value)
    assert failure.value.retryable is False

    # a checkout at another commit: its trainer is not the one compiled into the workflow
    monkeypatch.delenv("MODELYARD_TARGET")
    edit_file(git_repo / "trainers" / "sklearn" / "sklearn_linear.py", "class ", "# changed after publishing\nclass ")
    # the extract runs no trainer: all 2730 rows of the seed (its LIMIT is 10000)
    assert run_published(dags, TRAIN_NODES[:1], "r2")[0]["rows"] == 2730
    with pytest.raises(NodeError) as failure:
        run_published(dags, TRAIN_NODES[1:2], "r2")
    message = str(failure.value)
    assert "trainers/sklearn/sklearn_linear.py) is not the code this workflow was compiled with" in message
    assert f"point MODELYARD_PROJECT_DIR at a checkout of {git(git_repo, 'rev-parse', 'HEAD')}" in message
    assert failure.value.retryable is False

    # a failure of the run itself (here: no extract table in this warehouse) keeps the orchestrator's retries
    git(git_repo, "checkout", "-q", "--", ".")
    monkeypatch.setenv("MODELYARD_PROJECT_DIR", str(dags / "project"))
    monkeypatch.setenv("MODELYARD_WAREHOUSE", str(tmp_path / "elsewhere.duckdb"))  # no extract table there
    with pytest.raises(NodeError) as failure:
        run_published(dags, TRAIN_NODES[1:2], "r3")
    assert failure.value.retryable is True
