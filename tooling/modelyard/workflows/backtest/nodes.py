"""Backtest nodes: split a dataset into time windows, train and evaluate once per window, gather.

- ``split`` reads only the time column, finds the last day (or ``as_of``), computes the windows
  with the configured strategy and counts rows per window. Every run-time problem (no such
  column, not a date/time, data shorter than ``days_backward``, a window without rows) is found
  here, before the first fit, and nothing is written.
- ``windows`` (fan-out, one item per window) trains on the training rows and evaluates on the
  test rows with the unchanged trainer; other datasets are passed whole.
- ``summary`` gathers the items: a per-window table and a per-metric summary in the warehouse
  (schema ``backtest``), and a plotly HTML of every metric over time.
"""

from __future__ import annotations

import datetime as dt
import statistics
import time
from typing import Any

from modelyard.engine import runfolder
from modelyard.engine.context import RunContext
from modelyard.engine.inputs import private_copy, snapshot
from modelyard.engine.plots import write_figure
from modelyard.errors import Position
from modelyard.ir import Node, NodeKind, Workflow
from modelyard.suggest import did_you_mean
from modelyard.warehouse.duckdb_warehouse import quote
from modelyard.workflows.backtest import splits
from modelyard.workflows.backtest.report import figure
from modelyard.workflows.backtest.specs import Split, Summary, Windows
from modelyard.workflows.backtest.splits import SplitError, Window, WindowSizes
from modelyard.workflows.train.fitting import fit, score

TEMPORAL_TYPES = ("DATE", "TIMESTAMP", "TIMESTAMP_S", "TIMESTAMP_MS", "TIMESTAMP_NS")


def _at(spec: Split, key: str) -> Position:
    return Position(spec.model_file, spec.lines[key])


def _day(value: Any) -> str:
    return value.strftime("%Y-%m-%d")


def _check_time_column(wh, spec: Split) -> None:
    types = wh.column_types(spec.table)
    column = spec.time_column
    if column not in types:
        raise SplitError(
            f"split_config.time_column: dataset {spec.param!r} ({spec.table}) has no column {column!r}"
            + did_you_mean(column, types),
            _at(spec, "time_column"),
            hint=f"name one of its date/time columns with split_config.time_column (columns: {', '.join(types)})",
        )
    if types[column] not in TEMPORAL_TYPES:
        raise SplitError(
            f"split_config.time_column: column {column!r} of {spec.table} has type {types[column]}, "
            "not a date or a time zone-naive timestamp",
            _at(spec, "time_column"),
            hint=f"cast it in the extract's SQL, e.g. CAST({column} AS DATE) AS {column}",
        )


def _last_day(spec: Split, latest: dt.datetime) -> dt.date:
    if spec.as_of is None:
        return latest.date()
    try:
        return dt.date.fromisoformat(spec.as_of)
    except ValueError:
        raise SplitError(
            f"split_config.as_of: {spec.as_of!r} is not a date",
            _at(spec, "as_of"),
            hint="write an ISO date, e.g. 2024-03-31",
        ) from None


def _count(times, start: dt.datetime, end: dt.datetime) -> int:
    import numpy as np

    lo, hi = np.searchsorted(times, [np.datetime64(start, "us"), np.datetime64(end, "us")])
    return int(hi - lo)


def plan(spec: Split, times) -> list[dict]:
    """The window items for sorted ``times`` (numpy datetime64[us]); raises on unusable data."""
    if len(times) == 0:
        raise SplitError(
            f"dataset {spec.param!r} ({spec.table}) has no rows with a {spec.time_column!r} value",
            _at(spec, "time_column"),
        )
    first, latest = (t.astype("datetime64[us]").item() for t in (times[0], times[-1]))
    sizes = WindowSizes.from_json(spec.sizes)
    last_day = _last_day(spec, latest)
    try:
        range_start, _ = splits.day_range(last_day, sizes.days_backward)
        if first > range_start:
            raise SplitError(
                f"split_config.days_backward: the {sizes.days_backward:g} days ending with {last_day} start on "
                f"{_day(range_start)}, but the data in {spec.table} starts on {_day(first)}",
                _at(spec, "days_backward"),
                hint="lower days_backward, set an earlier as_of, or extract more history",
            )
        windows = splits.compute_windows(spec.strategy, last_day, sizes)
    except SplitError as exc:
        exc.position = exc.position or _at(spec, "split_config")
        raise
    except OverflowError:
        raise SplitError(
            f"split_config: days_backward or a window size reaches before year 1 from {last_day}",
            _at(spec, "split_config"),
            hint="use sizes that fit the data's time span",
        ) from None
    if not windows:
        raise SplitError(
            f"split_config: no window fits in {sizes.days_backward:g} days (train_size + test_size is longer)",
            _at(spec, "split_config"),
        )
    items = [
        {
            "window": i,
            **w.to_json(),
            "train_rows": _count(times, w.train_start, w.train_end),
            "test_rows": _count(times, w.test_start, w.test_end),
        }
        for i, w in enumerate(windows)
    ]
    empty = [item for item in items if not item["train_rows"] or not item["test_rows"]]
    if empty:
        lines = [
            f"  window {item['window']}: train [{item['train_start']}, {item['train_end']}) "
            f"{item['train_rows']} rows, test [{item['test_start']}, {item['test_end']}) {item['test_rows']} rows"
            for item in empty
        ]
        raise SplitError(
            f"split_config: {len(empty)} of {len(items)} windows have no rows in {spec.table}:\n" + "\n".join(lines),
            _at(spec, "split_config"),
            hint="the data has no rows there (a gap, or as_of after its last day): widen train_size or "
            "test_size, or change days_backward or as_of",
        )
    return items


def split_node(workflow: Workflow, node: Node, ctx: RunContext, index: int | None) -> dict:
    spec = Split.of(node)
    with ctx.warehouse(read_only=True) as wh:
        _check_time_column(wh, spec)
        times = wh.sorted_times(spec.table, spec.time_column)
    return {"items": plan(spec, times), "rows": len(times)}


def _window_frames(ctx: RunContext, node: Node, items: list[dict], window: Window) -> tuple[dict, dict]:

    spec = Windows.of(node)
    column = quote(spec.time_column)
    # other datasets are passed whole; of the split one, only the rows some window reads are read
    copies = {item["table"]: ("true", []) for param, item in spec.inputs.items() if param != spec.param}
    bounds = [dt.datetime.fromisoformat(item[name]) for item in items for name in splits.BOUNDS]
    copies.setdefault(spec.table, (f"{column} >= ? AND {column} < ?", [min(bounds), max(bounds)]))
    frames = snapshot(ctx, node.id, copies)
    train, test = {}, {}
    for param, item in spec.inputs.items():
        frame = frames[item["table"]]
        if param != spec.param:
            train[param] = test[param] = private_copy(frame)
            continue
        times = frame[spec.time_column]
        # the rows, in table order, that `time >= start AND time < end` selects in SQL (NULL: none)
        train[param] = frame[(times >= window.train_start) & (times < window.train_end)].reset_index(drop=True)
        test[param] = frame[(times >= window.test_start) & (times < window.test_end)].reset_index(drop=True)
    return train, test


def window_node(workflow: Workflow, node: Node, ctx: RunContext, index: int | None) -> dict:

    items = runfolder.fan_out_items(workflow, node, ctx)
    train, test = _window_frames(ctx, node, items, Window.from_json(items[index]))
    started = time.perf_counter()
    spec = Windows.of(node)
    trained = fit(ctx, spec, train)
    metrics = score(ctx, spec, trained.model, test)
    return {
        **items[index],
        "train_rows": len(train[spec.param]),
        "test_rows": len(test[spec.param]),
        "metrics": metrics,
        "seconds": round(time.perf_counter() - started, 3),
    }


def summarize(windows: list[dict]) -> dict[str, dict]:
    """Per metric: mean, sample std, min and max over the windows where it is a number."""
    names = sorted({name for w in windows for name in w["metrics"]})
    summary = {}
    for name in names:
        values = [w["metrics"][name] for w in windows if w["metrics"].get(name) is not None]
        summary[name] = {
            "count": len(values),
            "mean": statistics.fmean(values) if values else None,
            "std": statistics.stdev(values) if len(values) > 1 else None,
            "min": min(values, default=None),
            "max": max(values, default=None),
        }
    return summary


def _tables(windows: list[dict], summary: dict[str, dict]):
    import pandas as pd

    bounds = {name: pd.to_datetime([w[name] for w in windows]) for name in splits.BOUNDS}
    # "window" is an SQL keyword: the table calls the index window_index
    per_window = pd.DataFrame(
        {
            "window_index": [w["window"] for w in windows],
            **bounds,
            "train_rows": [w["train_rows"] for w in windows],
            "test_rows": [w["test_rows"] for w in windows],
            **{name: [w["metrics"].get(name) for w in windows] for name in summary},
        }
    )
    per_metric = pd.DataFrame([{"metric": name, **stats} for name, stats in summary.items()])
    return per_window.astype({name: "float64" for name in summary}), per_metric


def summary_node(workflow: Workflow, node: Node, ctx: RunContext, index: int | None) -> dict:

    spec = Summary.of(node)
    windows = [
        {key: w[key] for key in ("window", *splits.BOUNDS, "train_rows", "test_rows", "metrics")}
        for w in runfolder.item_results(workflow, spec.windows_node, ctx)
    ]
    summary = summarize(windows)
    plot = figure(workflow.id, windows, summary)
    per_window, per_metric = _tables(windows, summary)
    with ctx.warehouse() as wh:
        with wh.transaction():
            wh.write_dataframe(spec.table, per_window)
            wh.write_dataframe(spec.summary_table, per_metric)
    folder = ctx.reports_dir or ctx.run_dir
    report = write_figure(plot, folder / spec.report, folder)
    return {
        "windows": windows,
        "summary": summary,
        "table": spec.table,
        "summary_table": spec.summary_table,
        "report": str(report),
    }


KINDS = [NodeKind(Split, split_node), NodeKind(Windows, window_node), NodeKind(Summary, summary_node)]
