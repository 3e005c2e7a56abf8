"""Compile checked records into the IR: one workflow per model file (train), per tuning file
(tune), per model with a ``split_config`` (backtest) and per model with ``scoring:`` (score).

``BUILDERS`` derives from ``workflows.registry``, where a workflow kind registers its ``build``.
Compiling never touches the warehouse or imports trainer code.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from modelyard import ir
from modelyard.repo.project import Project
from modelyard.workflows.registry import WORKFLOW_KINDS

WorkflowBuilder = Callable[[Project], list[ir.Workflow]]

BUILDERS: list[WorkflowBuilder] = [kind.build for kind in WORKFLOW_KINDS]


def compile_project(project: Project, source: dict[str, Any] | None = None) -> ir.Document:
    workflows = [w for builder in BUILDERS for w in builder(project)]
    workflows.sort(key=lambda w: w.id)
    return ir.Document(tuple(workflows), source or {})
