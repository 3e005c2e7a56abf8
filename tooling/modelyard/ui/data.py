"""What the UI reads: the repo (validated, compiled), node statuses, cached datasets, run folder
results, stored envelopes and reports. Nothing here knows Dash; nothing here writes.

The UI never holds the warehouse open: each read opens it read-only with a short lock timeout and
closes it at once, so a run (which needs the write lock) is never starved, and a warehouse locked
by another process becomes a message instead of a hung page.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from modelyard import ir
from modelyard.engine import runfolder
from modelyard.engine.runfolder import latest_run_dir
from modelyard.errors import Diagnostic, ModelyardError, WarehouseError
from modelyard.repo.project import Settings
from modelyard.ui.status import read_record
from modelyard.validate.project import collect_project
from modelyard.warehouse.duckdb_warehouse import DuckDBWarehouse
from modelyard.workflows.train.extract import cache_key as extract_cache_key
from modelyard.workflows.train.specs import Extract

LOCK_TIMEOUT = 1.0
STATUSES = ("never run", "cached", "running", "succeeded", "stale", "failed")


@dataclasses.dataclass(frozen=True)
class RepoView:
    settings: Settings
    diagnostics: tuple[Diagnostic, ...]
    document: ir.Document | None  # None when the repo does not validate or compile
    compile_error: str | None = None

    @property
    def errors(self) -> list[Diagnostic]:
        return [d for d in self.diagnostics if d.severity == "error"]

    def workflow(self, workflow_id: str | None) -> ir.Workflow | None:
        if self.document is None or not workflow_id:
            return None
        try:
            return self.document.workflow(workflow_id)
        except KeyError:
            return None


def load_repo(root: Path) -> RepoView:
    """Read, check and compile the repo as it is on disk now (never raises for the user's mistakes)."""
    from modelyard.compile import compile_project

    project, diagnostics = collect_project(root)
    view = RepoView(project.settings, tuple(diagnostics), None)
    if view.errors:
        return view
    try:
        return dataclasses.replace(view, document=compile_project(project))
    except ModelyardError as exc:
        return dataclasses.replace(view, compile_error=str(exc))


@dataclasses.dataclass(frozen=True)
class NodeState:
    status: str  # one of STATUSES
    run_dir: Path | None = None  # where its latest results are
    error: str | None = None
    progress: str = ""  # "3/12" while a fan-out node runs


def _warehouse(settings: Settings) -> DuckDBWarehouse:
    return DuckDBWarehouse(settings.warehouse_path, read_only=True, lock_timeout=LOCK_TIMEOUT)


def cached_extracts(settings: Settings, workflow: ir.Workflow) -> tuple[set[str], str | None]:
    """Extract nodes whose table is in the warehouse with their current cache key; or why unknown."""
    extracts = [n for n in workflow.nodes if n.kind == Extract.kind]
    if not extracts or not settings.warehouse_path.exists():
        return set(), None
    try:
        with _warehouse(settings) as wh:
            return {
                n.id for n in extracts if wh.cached_rows(Extract.of(n).table, extract_cache_key(wh, n)) is not None
            }, None
    except WarehouseError as exc:
        return set(), str(exc)


def has_result(run_dir: Path | None, node_id: str) -> bool:
    return run_dir is not None and (runfolder.has_result(run_dir, node_id) or runfolder.has_result(run_dir, node_id, 0))


def node_states(settings: Settings, workflow: ir.Workflow, *, alive: bool) -> tuple[dict[str, NodeState], list[str]]:
    """Each node's last status, from the UI's status record, else the latest (CLI) run folder;
    plus messages worth showing (a locked warehouse)."""
    record = read_record(settings.state_dir, workflow.id).get("nodes", {})
    latest = latest_run_dir(settings.runs_dir, workflow.id)
    cached, problem = (set(), None) if alive else cached_extracts(settings, workflow)
    states, messages = {}, [problem] if problem else []
    for node in workflow.nodes:
        entry = record.get(node.id)
        if entry:
            status, error = entry["status"], entry.get("error")
            if status == "running" and not alive:
                status, error = "failed", "the run stopped before this node finished (see the log)"
            elif status == "succeeded" and entry.get("hash") != node.hash:
                status = "stale"  # its inputs or code changed since
            progress = f"{entry['done']}/{entry['total']}" if status == "running" and "total" in entry else ""
            state = NodeState(status, Path(entry["run_dir"]) if entry.get("run_dir") else None, error, progress)
        elif has_result(latest, node.id):
            state = NodeState("succeeded", latest)
        else:
            state = NodeState("never run")
        if node.id in cached and state.status in ("never run", "stale"):
            state = dataclasses.replace(state, status="cached")
        states[node.id] = state
    return states, messages


def job_state(settings: Settings, workflow_id: str) -> dict:
    """The last UI run of the workflow: state, error, log path (empty when it never ran here)."""
    return read_record(settings.state_dir, workflow_id).get("job") or {}


def node_result(run_dir: Path | None, node_id: str, index: int | None = None) -> dict | None:
    if run_dir is None:
        return None
    path = runfolder.node_dir(run_dir, node_id, index) / runfolder.RESULT
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError):
        return None


def item_results(run_dir: Path | None, node_id: str) -> list[dict]:
    """Every finished item of a fan-out node, in item order."""
    if run_dir is None:
        return []
    indexes = sorted(
        int(p.name.rsplit(".", 1)[1]) for p in run_dir.glob(f"{node_id}.*") if p.name.rsplit(".", 1)[1].isdigit()
    )
    return [r for r in (node_result(run_dir, node_id, i) for i in indexes) if r is not None]


def training_log(run_dir: Path | None, node_id: str) -> dict | None:
    """What the node's trainer logged while training (a Lightning trainer: metrics per step and epoch)."""
    if run_dir is None:
        return None
    try:
        return json.loads((runfolder.node_dir(run_dir, node_id) / runfolder.TRAINING_LOG).read_text())
    except (OSError, ValueError):
        return None


def envelope(settings: Settings, stored: dict | None) -> dict | None:
    """The envelope of the model a register node stored."""
    from modelyard.store.models import ModelStore

    if not stored or "canonical_name" not in stored:
        return None
    try:
        return ModelStore(settings.store_path).envelope(stored["canonical_name"], stored.get("version"))
    except ModelyardError:
        return None


def reports(settings: Settings, workflow_id: str) -> list[str]:
    """HTML reports (under ``<state_dir>/reports``) that name the workflow, relative to that folder."""
    folder = settings.reports_dir
    stem = workflow_id.split("__", 1)[-1]
    if not folder.is_dir():
        return []
    return sorted(
        p.relative_to(folder).as_posix()
        for p in folder.rglob("*.html")
        if workflow_id in p.as_posix() or stem in p.name
    )


def flatten(value: Any, prefix: str = "") -> dict[str, Any]:
    """Nested JSON as ``{"a.b": scalar}``: one row of a table of items."""
    if isinstance(value, dict):
        out: dict[str, Any] = {}
        for key, item in value.items():
            out.update(flatten(item, f"{prefix}{key}."))
        return out
    if isinstance(value, list):
        # Scalars fit in a cell; nested records (all trials, all windows) have their own table.
        nested = any(isinstance(v, (dict, list)) for v in value)
        text = f"[{len(value)} records]" if nested else json.dumps(value, default=str)
        return {prefix[:-1]: text} if prefix else {}
    return {prefix[:-1]: value} if prefix else {"value": value}


def monitoring(settings: Settings, tables: dict[str, str]) -> tuple[dict, dict | None]:
    """A scoring workflow's monitoring tables (``drift``, ``metrics``: rows as records, oldest
    first) and its latest run's state (None before the first)."""
    from modelyard.workflows.score.monitor import history, latest

    if not settings.warehouse_path.exists():
        return {name: [] for name in tables}, None
    with _warehouse(settings) as wh:
        found = history(wh, tables)
        last = latest(wh, tables)
    return {name: _records(frame) if frame is not None else [] for name, frame in found.items()}, last


def dataset_profile(settings: Settings, table: str) -> list[dict]:
    """Per column: type and summary statistics (DuckDB's SUMMARIZE)."""
    with _dataset(settings, table) as wh:
        return _records(wh.profile(table))


def dataset_page(settings: Settings, table: str, where: str, page: int, size: int) -> tuple[list[str], list[dict], int]:
    """Columns, one page of rows and the row count of ``table`` filtered by the SQL ``where``."""
    with _dataset(settings, table) as wh:
        columns, frame, total = wh.page(table, where, page, size)
    return columns, _records(frame), total


@contextlib.contextmanager
def _dataset(settings: Settings, table: str) -> Iterator[DuckDBWarehouse]:
    missing = WarehouseError(f"{table} is not in the warehouse yet", hint="run this node (or the workflow) first")
    if not settings.warehouse_path.exists():
        raise missing
    with _warehouse(settings) as wh:
        if not wh.has_table(table):
            raise missing
        yield wh


def _records(frame) -> list[dict]:
    """JSON-safe rows: missing values become None."""
    return frame.astype(object).where(frame.notna(), None).to_dict("records")


def repo_token(root: Path, settings: Settings, workflow_id: str | None) -> str:
    """Changes whenever the repo's files, the workflow's status record or its run log change: the
    UI polls it and redraws only then."""
    from modelyard.repo.layout import EXTRACTS_DIR, MODELS_DIR, SETTINGS_FILE, TRAINERS_DIR, TUNING_DIR
    from modelyard.ui.jobs import log_path
    from modelyard.ui.status import record_path

    files = [root / SETTINGS_FILE]
    for folder in (*(root / name for name in (EXTRACTS_DIR, MODELS_DIR, TUNING_DIR, TRAINERS_DIR)), settings.data_dir):
        files.extend(p for p in folder.rglob("*") if "__pycache__" not in p.parts)
    if workflow_id:
        files += [record_path(settings.state_dir, workflow_id), log_path(settings.state_dir, workflow_id)]
    parts = []
    for path in files:
        try:
            stat = path.stat()
        except OSError:
            continue
        parts.append(f"{path}:{stat.st_mtime_ns}:{stat.st_size}")
    return ir.content_hash(parts)
