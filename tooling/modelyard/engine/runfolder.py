"""The run folder's layout: ``<runs>/<workflow>/<run_id>/<node>[.<index>]/`` holding each node's
``result.json`` and its artifacts. Nodes of one run hand things to each other only through here
(and the warehouse), so each can run in its own process. The UI reads the same layout."""

from __future__ import annotations

import json
from pathlib import Path

from modelyard.errors import full_traceback
from modelyard.fsio import write_atomic
from modelyard.ir import Node, Workflow

RESULT = "result.json"
TRAINED = "trained.pkl"  # a pickled TrainedObject, from a train node to evaluate and register
METRICS = "metrics.json"
TRAINING_LOG = "training_log.json"  # metrics a trainer logged while training (Lightning: per step and epoch)
ERROR = "error.txt"  # a failed node's full traceback: the cause behind the one-line message


def node_dir(run_dir: Path, node_id: str, index: int | None = None) -> Path:
    return run_dir / (node_id if index is None else f"{node_id}.{index}")


def read_result(ctx, node_id: str, index: int | None = None) -> dict:
    return json.loads((ctx.node_dir(node_id, index) / RESULT).read_text())


def write_result(ctx, node_id: str, index: int | None, result: dict) -> None:
    write_result_at(ctx.node_dir(node_id, index), result)


def write_result_at(folder: Path, result: dict) -> None:
    # not fsynced: the run's next nodes read it at once, and a machine that loses power loses the
    # run anyway; a fan-out node writes one per item (a backtest window, a tuning trial)
    write_atomic(folder / RESULT, json.dumps(result, default=str).encode(), durable=False)


def write_error(ctx, node_id: str, index: int | None, exc: BaseException) -> Path:
    path = ctx.node_dir(node_id, index) / ERROR
    write_atomic(path, full_traceback(exc).encode())
    return path


def read_training_log(ctx, node_id: str) -> dict | None:
    path = ctx.node_dir(node_id) / TRAINING_LOG
    return json.loads(path.read_text()) if path.is_file() else None


def has_result(run_dir: Path, node_id: str, index: int | None = None) -> bool:
    return (node_dir(run_dir, node_id, index) / RESULT).is_file()


def fan_out_items(workflow: Workflow, node: Node, ctx) -> list:
    """A fan-out node runs once per item: fixed at compile time (``spec.items``) or listed at run
    time by the upstream node named in ``spec.items_from`` (e.g. windows computed from the data)."""
    if node.fixed_items is not None:
        return list(node.fixed_items)
    return list(read_result(ctx, node.items_from)["items"])


def item_results(workflow: Workflow, node_id: str, ctx) -> list[dict]:
    """Every item's result of a fan-out node, in item order (what a gather node reads)."""
    count = len(fan_out_items(workflow, workflow.node(node_id), ctx))
    return [read_result(ctx, node_id, i) for i in range(count)]


def latest_run_dir(runs_dir: Path, workflow_id: str) -> Path | None:
    """The newest run folder of a workflow (run ids start with a UTC timestamp, so they sort)."""
    folder = runs_dir / workflow_id
    runs = sorted(p for p in folder.iterdir() if p.is_dir()) if folder.is_dir() else []
    return runs[-1] if runs else None
