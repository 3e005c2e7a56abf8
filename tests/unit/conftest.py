"""A model repo written file by file into tmp_path and read in process (no template, no CLI):
for the cross-file checks, which take a loaded ``Project``."""

from __future__ import annotations

from pathlib import Path

import pytest

MODEL = """\
model_name: m
model_description: d
tags:
  canonical_name: {canonical}
model_trainer: linear.Trainer
constructor_args: {{}}
dependencies:
  data:
    - train_param_name: df
      file: inputs.yaml
      file_param_name: rows
"""
SPLIT = """\
split_config:
  train_param_name: df
  strategy: sliding_time_window
  time_column: day
  days_backward: 10
  train_size: {days: 3}
  test_size: {days: 2}
"""
SCORING = """\
scoring:
  data:
    file: inputs.yaml
    file_param_name: rows
  output: predictions.out
"""


@pytest.fixture
def model_yaml():
    """``model_yaml(canonical, split=False, scoring=False)``: a model file's text reading dataset
    ``rows`` of ``extracts/inputs.yaml``, with a ``split_config`` and a ``scoring`` block if asked."""

    def text(canonical: str = "m", split: bool = False, scoring: bool = False) -> str:
        return MODEL.format(canonical=canonical) + (SPLIT if split else "") + (SCORING if scoring else "")

    return text


@pytest.fixture
def load_repo(tmp_path: Path):
    """``load_repo({path: text})`` writes the files (with ``modelyard.yaml`` and
    ``extracts/inputs.yaml`` unless given) and returns the project, which must load cleanly."""
    from modelyard.repo.project import read_project

    def load(files: dict[str, str]):
        defaults = {
            "modelyard.yaml": "state_dir: .modelyard\n",
            "extracts/inputs.yaml": "rows:\n  operator: sql\n  sql_file: rows.sql\n",
            "extracts/rows.sql": "select 1 as x\n",
        }
        for path, text in {**defaults, **files}.items():
            (tmp_path / path).parent.mkdir(parents=True, exist_ok=True)
            (tmp_path / path).write_text(text, encoding="utf-8")
        project, problems = read_project(tmp_path)
        assert problems == []
        return project

    return load


@pytest.fixture
def model_json() -> str:
    """The data of ``model_yaml()`` as canonical JSON typed by hand (keys sorted, no spaces): what
    config hashes cover."""
    return (
        '{"constructor_args":{},"dependencies":{"data":[{"file":"inputs.yaml","file_param_name":"rows",'
        '"train_param_name":"df"}]},"model_description":"d","model_name":"m","model_trainer":"linear.Trainer",'
        '"tags":{"canonical_name":"m"}}'
    )


TRAINER = "class Trainer:\n    pass\n"


@pytest.fixture
def compile_repo(load_repo, model_yaml):
    """``compile_repo(files, **model)``: the IR compiled from ``load_repo`` of a trainer
    ``trainers/linear.py`` and ``models/m.yaml`` (``model_yaml(**model)``), ``files`` written over them."""
    from modelyard.compile import compile_project

    def compile_(files: dict[str, str] | None = None, **model):
        defaults = {"trainers/linear.py": TRAINER, "models/m.yaml": model_yaml(**model)}
        return compile_project(load_repo({**defaults, **(files or {})}))

    return compile_
