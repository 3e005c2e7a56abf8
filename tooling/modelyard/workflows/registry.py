"""Every workflow kind, registered once: its builder (records -> IR workflows, run by
``compile``) and its node kinds (spec type + executor, run by ``execute.node``, drawn by the UI).

It sits above the workflow packages, which never import it back.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence

from modelyard import ir
from modelyard.repo.project import Project
from modelyard.workflows.backtest import build as backtest_build
from modelyard.workflows.backtest import nodes as backtest_nodes
from modelyard.workflows.score import build as score_build
from modelyard.workflows.score import nodes as score_nodes
from modelyard.workflows.train import build as train_build
from modelyard.workflows.train import nodes as train_nodes
from modelyard.workflows.tune import build as tune_build
from modelyard.workflows.tune import nodes as tune_nodes


@dataclasses.dataclass(frozen=True)
class WorkflowKind:
    build: Callable[[Project], list[ir.Workflow]]
    nodes: Sequence[ir.NodeKind]


WORKFLOW_KINDS: list[WorkflowKind] = [
    WorkflowKind(train_build.build, train_nodes.KINDS),
    WorkflowKind(tune_build.build, tune_nodes.KINDS),
    WorkflowKind(backtest_build.build, backtest_nodes.KINDS),
    WorkflowKind(score_build.build, score_nodes.KINDS),
]
