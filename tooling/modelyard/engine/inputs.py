"""How a node reads its datasets from the warehouse, with per-process caches: train and evaluate
of a local run read the same extract, and a backtest worker reads many windows of one table."""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Any

from modelyard.engine.context import RunContext
from modelyard.warehouse.duckdb_warehouse import qualified

# Frames already read in this process, per run: train and evaluate of a local run read the same
# extract; reading 1M rows into pandas twice costs more than copying the frame.
_FRAMES: dict[tuple[Path, str], tuple[tuple, Any]] = {}

# Frames of what a fan-out node reads, per process, run and node (see ``snapshot``).
_SNAPSHOTS: dict[tuple[Path, str], dict[str, Any]] = {}


def forget_frames() -> None:
    _FRAMES.clear()
    _SNAPSHOTS.clear()


def snapshot(ctx: RunContext, node_id: str, copies: dict[str, tuple[str, list]]) -> dict[str, Any]:
    """Per table, a DataFrame of the rows node ``node_id`` reads (``Warehouse.snapshot``), read
    when a process runs its first item of that node in a run: a backtest window reads a few
    thousand rows, and opening the warehouse file and querying it for them costs more than the fit.
    Keyed by the run folder: a later run, which may have rebuilt the extract, never reads it."""
    key = (ctx.run_dir, node_id)
    if key not in _SNAPSHOTS:
        _SNAPSHOTS.clear()  # one node's rows at a time: a process runs one fan-out node after another
        con = ctx.warehouse(read_only=True).snapshot(copies)
        try:
            _SNAPSHOTS[key] = {table: con.execute(f"SELECT * FROM {qualified(table)}").df() for table in copies}
        finally:
            con.close()
    return _SNAPSHOTS[key]


def read_inputs(ctx: RunContext, inputs: dict[str, dict[str, str]]) -> dict[str, Any]:
    frames = {}
    with ctx.warehouse(read_only=True) as wh:
        for param, item in inputs.items():
            version = wh.table_version(item["table"])
            key = (ctx.run_dir, item["table"])
            if version is None or _FRAMES.get(key, (None,))[0] != version:
                frame = wh.read_table(item["table"])
                if version is not None:
                    _FRAMES[key] = (version, frame)
            else:
                frame = _FRAMES[key][1]
            frames[param] = private_copy(frame) if version is not None else frame
    return frames


def private_copy(frame):
    """A copy a trainer may change in place without changing the next node's input. Under
    copy-on-write (always on since pandas 3) a shallow copy is one, and costs nothing where a
    deep copy of 1M rows takes 0.1-0.2 s."""
    return frame.copy(deep=not _copy_on_write())


@functools.cache
def _copy_on_write() -> bool:
    import pandas as pd

    return int(pd.__version__.split(".")[0]) >= 3
