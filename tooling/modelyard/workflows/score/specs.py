"""The specs of the score workflow's node kinds."""

from __future__ import annotations

import dataclasses
from typing import Any

from modelyard.ir import NodeSpec
from modelyard.workflows.train.specs import Trainer


@dataclasses.dataclass(frozen=True, kw_only=True)
class Score(NodeSpec):
    kind = "score"
    canonical_name: str
    version: int | None  # pinned by `modelyard score --version`; None: the latest at run time
    rows: dict[str, Any]  # the rows to score: node, table, extract_file, dataset, line
    output: str
    key: str | None
    model_file: str
    line: int


@dataclasses.dataclass(frozen=True, kw_only=True)
class Monitor(Trainer):
    kind = "monitor"
    score_node: str
    rows: dict[str, Any]
    train_param: str
    drift_thresholds: dict[str, Any]
    labels: dict[str, str] | None  # table, key; None when the model file names no labels
    metrics: dict[str, dict[str, Any]]  # metric -> direction, warn, fail
    tables: dict[str, str]  # drift, metrics
    report: str
    model_file: str
