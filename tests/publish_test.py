"""modelyard publish: a real git repo, the real CLI, a real target folder (and Airflow's own file
discovery reading it)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from conftest import cli, git, publish_backend
from helpers.published_set import TEMPLATE_PROJECT


def snapshot(folder: Path) -> dict[str, object]:
    """Every entry under ``folder``: file bytes, symlink targets and modification times."""
    state: dict[str, object] = {}
    for path in sorted(folder.rglob("*")):
        rel = path.relative_to(folder).as_posix()
        if path.is_symlink():
            state[rel] = ("link", os.readlink(path))
        elif path.is_file():
            state[rel] = ("file", path.read_bytes(), path.stat().st_mtime_ns)
    return state


def live(target: Path) -> dict[str, bytes]:
    current = target / "current"
    return {p.relative_to(current).as_posix(): p.read_bytes() for p in current.rglob("*") if p.is_file()}


def manifest(target: Path) -> dict:
    return json.loads((target / "current" / "manifest.json").read_text())


def test_publish_writes_backend_files_ir_and_manifest(git_repo: Path) -> None:
    result = cli("publish", "--format", "json", cwd=git_repo)
    assert result.returncode == 0, result
    target = git_repo / ".modelyard" / "published"
    assert result.json()["current"] == str(target / "current")
    assert (target / "current").is_symlink()

    published = manifest(target)
    head = git(git_repo, "rev-parse", "HEAD")
    assert published["source"] == {"commit": head, "dirty": False}
    assert published["backend"] == publish_backend()
    assert {"model_elastic_net", "model_linear_regression"} <= set(published["workflows"])
    workflow = published["workflows"]["model_linear_regression"]
    assert workflow["commit"] == head and workflow["published_at"] == published["published_at"]
    assert set(workflow["nodes"]["extract__extract_inputs__training_data"]["hash_parts"]) == {"config", "sql"}
    assert "models/model_linear_regression.yaml" in workflow["source_files"]
    # the airflow backend writes a DAG file and the workflow's own IR beside it
    assert workflow["files"] == ["model_linear_regression.ir.json", "model_linear_regression.py"]
    files = live(target)
    assert set(workflow["files"]) <= set(files)
    ir_document = json.loads(files["ir.json"])
    assert {w["id"]: w["hash"] for w in ir_document["workflows"]} == {
        wid: w["hash"] for wid, w in published["workflows"].items()
    }


def test_publishing_the_same_commit_twice_changes_no_byte(git_repo: Path) -> None:
    assert cli("publish", cwd=git_repo).returncode == 0
    target = git_repo / ".modelyard" / "published"
    before = snapshot(target)

    again = cli("publish", cwd=git_repo)
    assert again.returncode == 0, again
    assert "nothing to publish" in again.stderr
    assert f"No changes: {len(manifest(target)['workflows'])} workflow(s) up to date." in again.stdout
    assert snapshot(target) == before


def test_an_unchanged_workflow_keeps_the_commit_and_time_it_was_published(git_repo: Path) -> None:
    from modelyard.compile import compile_project
    from modelyard.gitinfo import source_info
    from modelyard.publish.target import publish
    from modelyard.validate.project import load_project

    target = git_repo / "target"

    def publish_at(now: str):
        return publish(compile_project(load_project(git_repo), source_info(git_repo)), publish_backend(), target, now)

    first_commit = git(git_repo, "rev-parse", "HEAD")
    publish_at("2030-01-01T00:00:00Z")
    model = git_repo / "models" / "model_elastic_net.yaml"
    model.write_text(model.read_text().replace("alpha: 0.5", "alpha: 0.25"))
    git(git_repo, "commit", "-q", "-am", "elastic net: alpha 0.25")
    second = publish_at("2030-01-02T00:00:00Z")

    published = manifest(target)
    assert published["published_at"] == "2030-01-02T00:00:00Z"
    assert published["workflows"]["model_linear_regression"]["published_at"] == "2030-01-01T00:00:00Z"
    assert published["workflows"]["model_linear_regression"]["commit"] == first_commit
    assert published["workflows"]["model_elastic_net"]["published_at"] == "2030-01-02T00:00:00Z"
    assert published["workflows"]["model_elastic_net"]["commit"] == git(git_repo, "rev-parse", "HEAD")
    changes = {w.id: w.change for w in second.plan.workflows}
    assert (changes["model_elastic_net"], changes["model_linear_regression"]) == ("changed", "unchanged")


def test_a_deleted_model_file_removes_its_workflow(git_repo: Path) -> None:
    assert cli("publish", cwd=git_repo).returncode == 0
    target = git_repo / ".modelyard" / "published"
    # the tuning file points at the model: both go, and every workflow made from them
    deleted = {"models/model_elastic_net.yaml", "tuning/tune_elastic_net.yaml"}
    before = manifest(target)["workflows"]
    gone = {wid for wid, w in before.items() if deleted & set(w["source_files"])}
    git(git_repo, "rm", "-q", *deleted)
    git(git_repo, "commit", "-q", "-m", "drop the elastic net")

    result = cli("publish", cwd=git_repo)
    assert result.returncode == 0, result
    assert "- model_elastic_net [train]" in result.stdout
    assert f"0 added, 0 changed, {len(gone)} removed, {len(before) - len(gone)} unchanged." in result.stdout
    after = manifest(target)["workflows"]
    assert "model_linear_regression" in after and not gone & set(after)
    kept_files = {f for w in after.values() for f in w["files"]} | {"ir.json", "manifest.json", *TEMPLATE_PROJECT}
    assert set(live(target)) == kept_files
    assert "model_elastic_net" not in (target / "current" / "ir.json").read_text()


def test_refuses_a_dirty_working_tree_unless_allowed(git_repo: Path) -> None:
    sql = git_repo / "extracts" / "training_data.sql"
    sql.write_text(sql.read_text().replace("LIMIT", "\nLIMIT"))
    result = cli("publish", cwd=git_repo)
    assert result.returncode == 1
    assert "refusing to publish: the working tree has uncommitted changes" in result.stderr
    assert "extracts/training_data.sql" in result.stderr and "--allow-dirty" in result.stderr
    assert "Traceback" not in result.stderr
    assert not (git_repo / ".modelyard" / "published").exists()

    allowed = cli("publish", "--allow-dirty", cwd=git_repo)
    assert allowed.returncode == 0, allowed
    assert manifest(git_repo / ".modelyard" / "published")["source"]["dirty"] is True


def test_refuses_a_folder_that_is_not_a_git_repo(model_repo: Path) -> None:
    settings = model_repo / "modelyard.yaml"
    settings.write_text(settings.read_text().replace("backend: airflow", f"backend: {publish_backend()}"))
    result = cli("publish", cwd=model_repo)
    assert result.returncode == 1
    assert "is not a git repository with a commit" in result.stderr and "--allow-dirty" in result.stderr
    assert cli("publish", "--allow-dirty", "--target", "out", cwd=model_repo).returncode == 0
    assert manifest(model_repo / "out")["source"] == {"commit": None, "dirty": False}


def test_refuses_a_target_holding_other_files(git_repo: Path, tmp_path: Path) -> None:
    target = tmp_path / "dags"
    target.mkdir()
    (target / "someone_elses_dag.py").write_text("# not ours\n")
    result = cli("publish", "--target", str(target), cwd=git_repo)
    assert result.returncode == 1
    assert "holds files modelyard did not write: someone_elses_dag.py" in result.stderr
    assert sorted(p.name for p in target.iterdir()) == ["someone_elses_dag.py"]


BROKEN_BACKEND = """
NAME = "broken"


def render(document):
    raise RuntimeError("the orchestrator template is missing")
"""


def test_a_failing_backend_leaves_the_previous_set_live(git_repo: Path, tmp_path: Path, monkeypatch) -> None:
    from modelyard import backends
    from modelyard.compile import compile_project
    from modelyard.errors import PublishError
    from modelyard.gitinfo import source_info
    from modelyard.publish.target import publish
    from modelyard.validate.project import load_project

    assert cli("publish", cwd=git_repo).returncode == 0
    target = git_repo / ".modelyard" / "published"
    before = snapshot(target)
    (tmp_path / "broken_backend.py").write_text(BROKEN_BACKEND)
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.setitem(backends.BACKENDS, "broken", "broken_backend")

    document = compile_project(load_project(git_repo), source_info(git_repo))
    with pytest.raises(PublishError, match="backend 'broken' failed: RuntimeError: the orchestrator template"):
        publish(document, "broken", target)
    assert snapshot(target) == before


# A publish process killed at a chosen moment: while writing the staged files, or at the swap.
KILLED_PUBLISH = textwrap.dedent("""
    import os, signal, sys
    from pathlib import Path

    from modelyard.compile import compile_project
    from modelyard.validate.project import load_project
    from modelyard.gitinfo import source_info
    from modelyard.publish.target import publish

    repo, target, moment, backend = Path(sys.argv[1]), Path(sys.argv[2]), sys.argv[3], sys.argv[4]
    document = compile_project(load_project(repo), source_info(repo))
    real = getattr(os, moment)

    def die(*args):
        real(*args)
        os.kill(os.getpid(), signal.SIGKILL)

    setattr(os, moment, die)
    publish(document, backend, target)
""")


@pytest.mark.parametrize("moment", ["fsync", "symlink"])
def test_a_killed_publish_leaves_the_previous_set_live(git_repo: Path, tmp_path: Path, moment: str) -> None:
    assert cli("publish", cwd=git_repo).returncode == 0
    target = git_repo / ".modelyard" / "published"
    before = live(target)
    sql = git_repo / "extracts" / "training_data.sql"
    sql.write_text(sql.read_text().replace("LIMIT {{ limit }}", "LIMIT {{ limit }} - 1"))
    git(git_repo, "commit", "-q", "-am", "one row less")

    script = tmp_path / "killed_publish.py"
    script.write_text(KILLED_PUBLISH)
    proc = subprocess.run(
        [sys.executable, str(script), str(git_repo), str(target), moment, publish_backend()],
        capture_output=True,
        text=True,
    )
    assert proc.returncode == -9, proc.stderr
    assert live(target) == before
    leftovers = [p.name for p in (target / ".versions").iterdir()] + [p.name for p in target.iterdir()]
    assert any(name.startswith((".staging-", ".current-")) for name in leftovers)

    result = cli("publish", cwd=git_repo)
    assert result.returncode == 0, result
    assert "~ model_linear_regression [train] (sql)" in result.stdout
    assert manifest(target)["source"]["commit"] == git(git_repo, "rev-parse", "HEAD")
    names = [p.name for p in (target / ".versions").iterdir()] + [p.name for p in target.iterdir()]
    assert not any(name.startswith((".staging-", ".current-")) for name in names)


def test_airflow_file_discovery_sees_each_published_file_once(git_repo: Path) -> None:
    from airflow._shared.module_loading import find_path_from_directory

    assert cli("publish", cwd=git_repo).returncode == 0
    model = git_repo / "models" / "model_linear_regression.yaml"
    model.write_text(model.read_text().replace("fit_intercept: False", "fit_intercept: True"))
    git(git_repo, "commit", "-q", "-am", "fit the intercept")
    assert cli("publish", cwd=git_repo).returncode == 0
    target = git_repo / ".modelyard" / "published"
    assert len(list((target / ".versions").iterdir())) == 2  # the live set and the one it replaced

    seen = sorted(
        Path(p).relative_to(target).as_posix()
        for p in find_path_from_directory(target, ".airflowignore", "glob")
        if not p.endswith(".lock")
    )
    # the repo files workers run (project/) are the set's, never Airflow's to parse
    parsed = [name for name in live(target) if not name.startswith("project/") and name != ".airflowignore"]
    assert seen == sorted(f"current/{name}" for name in parsed)
