"""Every workflow kind, registered once: its builder (records -> IR workflows, run by
``compile``) and its node kinds (spec type + executor, run by ``execute.node``, drawn by the UI).

It sits above the workflow packages, which never import it back. The node kinds are named by
module and imported on first use: ``validate`` and ``compile`` need only the builders, and the
executors pull in the run-time half of the package (stores, warehouse, envelopes).
"""

from __future__ import annotations

import dataclasses
import functools
import importlib
from collections.abc import Callable, Sequence

from modelyard import ir
from modelyard.repo.project import Project
from modelyard.workflows.backtest import build as backtest_build
from modelyard.workflows.score import build as score_build
from modelyard.workflows.train import build as train_build
from modelyard.workflows.tune import build as tune_build


@dataclasses.dataclass(frozen=True)
class WorkflowKind:
    build: Callable[[Project], list[ir.Workflow]]
    nodes_module: str  # a module whose ``KINDS`` lists this workflow's node kinds

    @functools.cached_property
    def nodes(self) -> Sequence[ir.NodeKind]:
        return importlib.import_module(self.nodes_module).KINDS


WORKFLOW_KINDS: list[WorkflowKind] = [
    WorkflowKind(train_build.build, "modelyard.workflows.train.nodes"),
    WorkflowKind(tune_build.build, "modelyard.workflows.tune.nodes"),
    WorkflowKind(backtest_build.build, "modelyard.workflows.backtest.nodes"),
    WorkflowKind(score_build.build, "modelyard.workflows.score.nodes"),
]
