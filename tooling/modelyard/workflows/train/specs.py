"""The specs of the train workflow's node kinds, and the trainer keys other kinds carry too."""

from __future__ import annotations

import dataclasses
from typing import Any

from modelyard.ir import NodeSpec, optional


@dataclasses.dataclass(frozen=True, kw_only=True)
class Trainer(NodeSpec):
    """What every node that constructs the user's trainer carries."""

    trainer: str  # module.Class
    trainer_file: str
    trainer_files: list[str]  # the trainer's module and the repo modules it imports: its code hash
    constructor_args: dict[str, Any]


@dataclasses.dataclass(frozen=True, kw_only=True)
class Extract(NodeSpec):
    kind = "extract"
    table: str
    sql: str  # rendered
    extract_file: str
    dataset: str
    sql_file: str
    line: int
    allow_empty: bool = optional(False)
    target: dict[str, Any] | None = optional()  # the target the SQL was rendered for, when it reads one


@dataclasses.dataclass(frozen=True, kw_only=True)
class Train(Trainer):
    kind = "train"
    inputs: dict[str, dict[str, str]]  # train() parameter -> {node, table}
    validation: dict[str, Any] | None = optional()  # held-out split: fit the training rows only
    params_from: str | None = optional()  # a node whose result's best_params override constructor_args


@dataclasses.dataclass(frozen=True, kw_only=True)
class Evaluate(Trainer):
    kind = "evaluate"
    inputs: dict[str, dict[str, str]]
    model_node: str
    validation: dict[str, Any] | None = optional()
    metrics_source: dict[str, Any]


@dataclasses.dataclass(frozen=True, kw_only=True)
class Register(NodeSpec):
    kind = "register"
    canonical_name: str
    model_name: str
    model_description: str | None
    tags: Any
    model_file: str
    drift_thresholds: dict[str, Any]
    lineage: dict[str, Any]
    model_node: str
    metrics_node: str
    lineage_from: str | None = optional()  # a node whose result's lineage joins the envelope's
    constructor_args: dict[str, Any]
    row_count_inputs: dict[str, dict[str, str]]
