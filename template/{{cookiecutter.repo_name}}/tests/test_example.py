"""This repo's own tests, run by CI on every pull request: the example model trains on the sample
data, scores well enough, and the stored model predicts. Add a test like this for every model."""
from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pandas as pd
import pytest

import modelyard

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    """A copy of this repo, so a test never touches the checkout's warehouse or model store."""
    copy = tmp_path / REPO.name
    shutil.copytree(REPO, copy, ignore=shutil.ignore_patterns(".git", ".modelyard", ".pytest_cache", "__pycache__"))
    return copy


def test_the_example_model_trains_on_the_sample_data(repo: Path) -> None:
    run = subprocess.run(["modelyard", "run", "models/model_linear_regression.yaml", "--format", "json"],
                         cwd=repo, capture_output=True, text=True)
    assert run.returncode == 0, run.stderr
    stored = json.loads(run.stdout)
    assert stored["canonical_name"] == "{{ cookiecutter.canonical_name }}"
    assert stored["metrics"]["r2"] > 0.5

    model = modelyard.load_model("{{ cookiecutter.canonical_name }}", repo=repo)
    sample = pd.read_csv(repo / "data" / "sample_data.csv").head(10)
    assert len(model.predict(sample)) == 10
