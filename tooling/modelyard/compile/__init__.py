"""Compile checked records into the IR: one workflow per model file (train), per tuning file
(tune), per model with a ``split_config`` (backtest) and per model with ``scoring:`` (score).

``BUILDERS`` sits above the workflow packages that define them; a new workflow kind adds its
``build`` here. Compiling never touches the warehouse or imports trainer code.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from modelyard import ir
from modelyard.repo.project import Project
from modelyard.workflows.backtest import build as backtest
from modelyard.workflows.score import build as score
from modelyard.workflows.train import build as train
from modelyard.workflows.tune import build as tune

WorkflowBuilder = Callable[[Project], list[ir.Workflow]]

BUILDERS: list[WorkflowBuilder] = [train.build, tune.build, backtest.build, score.build]


def compile_project(project: Project, source: dict[str, Any] | None = None) -> ir.Document:
    workflows = [w for builder in BUILDERS for w in builder(project)]
    workflows.sort(key=lambda w: w.id)
    return ir.Document(tuple(workflows), source or {})
