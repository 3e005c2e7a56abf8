"""Where a run's things are: the model repo, the warehouse, the model store, the run folder.

One source for the mapping from settings to a run: a local run (``for_settings``) and an
orchestrator's task (``execute.task``, which first reads the workers' environment) both build the
context here. It is never built from the IR, which holds no machine paths.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
import uuid
from pathlib import Path

from modelyard.engine import runfolder
from modelyard.warehouse.duckdb_warehouse import Warehouse


@dataclasses.dataclass(frozen=True)
class RunContext:
    root: Path  # the model repo: trainers/ and lineage
    warehouse_path: Path
    store_path: Path
    data_dir: Path
    run_dir: Path  # this run's scratch folder: trained models, metrics
    lock_timeout: float = 60.0
    refresh: bool = False
    source: dict = dataclasses.field(default_factory=dict)  # commit of the model repo
    reports_dir: Path | None = None  # HTML reports people open (default: the run folder)
    seed_options: dict = dataclasses.field(default_factory=dict)  # per seed: how to read its file

    def node_dir(self, node_id: str, index: int | None = None) -> Path:
        return runfolder.node_dir(self.run_dir, node_id, index)

    def warehouse(self, *, read_only: bool = False) -> Warehouse:
        return Warehouse(self.warehouse_path, read_only=read_only, lock_timeout=self.lock_timeout)


def new_run_id() -> str:
    return dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%S") + "-" + uuid.uuid4().hex[:6]


def safe_run_id(run_id: str | None) -> str:
    """Orchestrator run ids hold ``:`` and ``+`` (timestamps); keep folder names portable."""
    return re.sub(r"[^A-Za-z0-9_.-]", "_", run_id or "manual")


def run_dir(runs_dir: Path, workflow_id: str, run_id: str) -> Path:
    return runs_dir / workflow_id / run_id


def for_settings(
    settings,
    workflow_id: str,
    *,
    run_id: str | None = None,
    refresh: bool = False,
    source: dict | None = None,
    warehouse_path: Path | None = None,
    store_path: Path | None = None,
    runs_dir: Path | None = None,
    root: Path | None = None,
) -> RunContext:
    """The context of a run of ``workflow_id`` with the repo's settings; an orchestrator's workers
    may override where the warehouse, the store and the run folders are."""
    return RunContext(
        root=root or settings.root,
        warehouse_path=warehouse_path or settings.warehouse_path,
        store_path=store_path or settings.store_path,
        data_dir=settings.data_dir,
        run_dir=run_dir(runs_dir or settings.runs_dir, workflow_id, run_id or new_run_id()),
        lock_timeout=settings.lock_timeout_seconds,
        refresh=refresh,
        source=source or {},
        reports_dir=settings.reports_dir,
        seed_options=settings.seed_options(),
    )
