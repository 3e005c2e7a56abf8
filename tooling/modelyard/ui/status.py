"""The status record of a workflow's UI runs: ``<state_dir>/ui/status/<workflow>.json``.

The worker folds the runner's progress events into it as they happen (atomic rewrite per event);
the UI only reads it. Shape::

    {"workflow": id,
     "job": {"state": "running|succeeded|failed", "only": [node] | null, "run_dir", "log",
             "error", "started_at", "finished_at"},
     "nodes": {node_id: {"status": "running|succeeded|failed", "hash", "run_dir", "at",
                         "error", "done", "total"}}}
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

from modelyard.fsio import write_atomic
from modelyard.ir import Workflow


def record_path(state_dir: Path, workflow_id: str) -> Path:
    return state_dir / "ui" / "status" / f"{workflow_id}.json"


def read_record(state_dir: Path, workflow_id: str) -> dict:
    """The record, or an empty one when the workflow never ran from the UI (or it is mid-write)."""
    try:
        return json.loads(record_path(state_dir, workflow_id).read_text())
    except (OSError, ValueError):
        return {}


def _now() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="seconds")


class Recorder:
    """Keeps one run's events in the workflow's status record; nodes not run keep their status."""

    def __init__(self, state_dir: Path, workflow_id: str, log: str | None):
        self.path = record_path(state_dir, workflow_id)
        self.record = read_record(state_dir, workflow_id) or {"workflow": workflow_id, "nodes": {}}
        self.record["job"] = {
            "state": "running",
            "only": None,
            "run_dir": None,
            "log": log,
            "error": None,
            "started_at": _now(),
            "finished_at": None,
        }
        self.workflow: Workflow | None = None
        self._save()

    def begin(self, workflow: Workflow, only: set[str] | None, run_dir: Path) -> None:
        self.workflow = workflow
        self.record["job"].update(only=sorted(only) if only else None, run_dir=str(run_dir))
        self._save()

    def on_event(self, event: dict) -> None:
        node_id = event["node"]
        nodes = self.record["nodes"]
        kind = event["event"]
        if kind == "node_started":
            nodes[node_id] = {
                "status": "running",
                "hash": self.workflow.node(node_id).hash,
                "run_dir": self.record["job"]["run_dir"],
                "at": _now(),
                "error": None,
            }
        elif kind == "fan_out":
            nodes[node_id].update(done=0, total=event["total"])
        elif kind == "item_done":
            nodes[node_id]["done"] = nodes[node_id].get("done", 0) + 1
        elif kind == "node_done":
            nodes[node_id].update(status="succeeded", at=_now())
        elif kind == "node_failed":
            nodes[node_id].update(status="failed", at=_now(), error=event["error"])
        self._save()

    def finish(self, error: str | None = None) -> None:
        self.record["job"].update(state="failed" if error else "succeeded", error=error, finished_at=_now())
        self._save()

    def _save(self) -> None:
        write_atomic(self.path, json.dumps(self.record, indent=1, sort_keys=True, default=str).encode())
