"""The specs of the backtest workflow's node kinds."""

from __future__ import annotations

import dataclasses
from typing import Any

from modelyard.ir import FanOut, NodeSpec
from modelyard.workflows.train.specs import Trainer


@dataclasses.dataclass(frozen=True, kw_only=True)
class SplitDataset(NodeSpec):
    """The dataset split into windows: its train() parameter, its table and time column."""

    param: str
    table: str
    time_column: str


@dataclasses.dataclass(frozen=True, kw_only=True)
class Split(SplitDataset):
    kind = "split"
    strategy: str
    as_of: str | None
    sizes: dict[str, Any]  # WindowSizes.to_json()
    model_file: str
    lines: dict[str, int]  # split_config key -> its line in the model file, for errors found at run time


@dataclasses.dataclass(frozen=True, kw_only=True)
class Windows(Trainer, SplitDataset, FanOut):
    kind = "windows"
    inputs: dict[str, dict[str, str]]


@dataclasses.dataclass(frozen=True, kw_only=True)
class Summary(NodeSpec):
    kind = "summary"
    windows_node: str
    table: str
    summary_table: str
    report: str  # the HTML file in the reports folder
