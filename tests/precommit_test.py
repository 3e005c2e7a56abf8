"""pre-commit: the generated repo's local hook runs `modelyard validate` (no clone, no download)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from conftest import ROOT
from pre_commit.clientlib import load_config, load_manifest

from modelyard.validate.precommit import hooks_manifest, local_config

TEMPLATE_CONFIG = ROOT / "template" / "{{cookiecutter.repo_name}}" / ".pre-commit-config.yaml"


def test_hook_files_are_generated_from_one_source():
    assert (ROOT / ".pre-commit-hooks.yaml").read_text() == hooks_manifest(), "run: python scripts/generate_files.py"
    assert TEMPLATE_CONFIG.read_text() == local_config(), "run: python scripts/generate_files.py"
    manifest = load_manifest(str(ROOT / ".pre-commit-hooks.yaml"))  # pre-commit's own schema check
    local = load_config(str(TEMPLATE_CONFIG))["repos"][0]["hooks"][0]
    assert manifest[0]["id"] == local["id"] == "modelyard-validate"  # the id docs/validation.md gives users
    assert manifest[0]["files"] == local["files"] and manifest[0]["entry"] == local["entry"]


def _run(args: list[str], repo: Path, home: Path) -> subprocess.CompletedProcess:
    env = {
        **os.environ,
        "PRE_COMMIT_HOME": str(home),
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}",
        "GIT_AUTHOR_NAME": "t",
        "GIT_AUTHOR_EMAIL": "t@example.com",
        "GIT_COMMITTER_NAME": "t",
        "GIT_COMMITTER_EMAIL": "t@example.com",
    }
    return subprocess.run(args, cwd=repo, env=env, capture_output=True, text=True, timeout=300)


def test_pre_commit_passes_then_fails_on_a_broken_file(model_repo, tmp_path):
    home = tmp_path / "pre-commit-home"
    assert _run(["git", "init", "-q"], model_repo, home).returncode == 0
    assert _run(["git", "add", "-A"], model_repo, home).returncode == 0
    pre_commit = [sys.executable, "-m", "pre_commit"]
    clean = _run([*pre_commit, "run", "--all-files"], model_repo, home)
    assert clean.returncode == 0, clean.stdout + clean.stderr
    assert "modelyard validate" in clean.stdout and "Passed" in clean.stdout

    model = model_repo / "models" / "model_linear_regression.yaml"
    model.write_text(model.read_text().replace("file_param_name: training_data", "file_param_name: trainig_data"))
    _run(["git", "add", "-A"], model_repo, home)
    broken = _run([*pre_commit, "run", "--all-files"], model_repo, home)
    assert broken.returncode == 1, broken.stdout
    assert "Failed" in broken.stdout
    assert (
        "models/model_linear_regression.yaml:20:24: error[unknown-dataset]: dependencies.data[0].file_param_name: "
        "extracts/extract_inputs.yaml has no dataset 'trainig_data'; did you mean 'training_data'?"
    ) in broken.stdout

    # as a real commit hook: only the staged files (and what they touch) are checked, and the commit is refused
    assert _run([*pre_commit, "install"], model_repo, home).returncode == 0
    commit = _run(["git", "commit", "-qm", "break"], model_repo, home)
    assert commit.returncode != 0 and "error[unknown-dataset]" in commit.stdout + commit.stderr
