"""The specs of the tune workflow's node kinds (its ``train`` and ``register`` are the train workflow's)."""

from __future__ import annotations

import dataclasses
from typing import Any

from modelyard.ir import FanOut, NodeSpec
from modelyard.workflows.train.specs import Trainer


@dataclasses.dataclass(frozen=True, kw_only=True)
class Trials(Trainer, FanOut):
    """One item per point of the search space; the first round's items are fixed, later rounds'
    come from a ``propose`` node (``items_from``)."""

    kind = "trials"
    inputs: dict[str, dict[str, str]]
    validation: dict[str, Any]
    objective: dict[str, Any]  # metric, direction, and the file and line that chose them
    first_trial: int  # the number of this round's first trial, counted over the study
    round: int


@dataclasses.dataclass(frozen=True, kw_only=True)
class Propose(NodeSpec):
    kind = "propose"
    strategy: str
    space: list[dict[str, Any]]
    size: int
    seed: int
    objective: dict[str, Any]
    trial_nodes: list[str]


@dataclasses.dataclass(frozen=True, kw_only=True)
class Select(NodeSpec):
    kind = "select"
    trial_nodes: list[str]
    objective: dict[str, Any]
    tuning_file: str
    n_trials: int
    table: str
    constructor_args: dict[str, Any]
    lineage: dict[str, Any]
    log_params: list[str]
    metrics_source: dict[str, Any]
    note: str | None
