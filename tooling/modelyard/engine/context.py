"""Where a run's things are: the model repo, the warehouse, the model store, the run folder.

One source for the mapping from settings and the chosen target to a run: a local run
(``for_settings``) and an orchestrator's task (``execute.task``, which first reads the workers'
environment) both build the context here. It is never built from the IR, which holds no machine
paths and no secrets. The model store and the run folder are a ``Path`` or, on an object store, a
``UPath`` (see ``fsio``): the nodes use the same operations on both.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
import uuid
from contextlib import AbstractContextManager
from pathlib import Path
from typing import Any

from modelyard.engine import runfolder
from modelyard.engine.target import Connection, Target, resolve
from modelyard.fsio import is_remote
from modelyard.warehouse import Warehouse, holding, open_warehouse


@dataclasses.dataclass(frozen=True)
class RunContext:
    root: Path  # the model repo: trainers/ and lineage
    warehouse_path: Path | None  # the DuckDB file (a duckdb target)
    store_path: Any  # the model store: a Path or a UPath
    data_dir: Path
    run_dir: Any  # this run's folder (trained models, metrics): a Path or a UPath
    lock_timeout: float = 60.0
    refresh: bool = False
    source: dict = dataclasses.field(default_factory=dict)  # commit of the model repo
    reports_dir: Path | None = None  # HTML reports people open (default: the run folder)
    seed_options: dict = dataclasses.field(default_factory=dict)  # per seed: how to read its file
    target: Target | None = None  # where it all is; its warehouse connection (secrets) stays out of reprs
    warehouse_type: str = "duckdb"

    def node_dir(self, node_id: str, index: int | None = None):
        return runfolder.node_dir(self.run_dir, node_id, index)

    def _warehouse_config(self) -> dict:
        if self.warehouse_type == "duckdb":
            return {"path": self.warehouse_path}
        return {"target": self.target.name, **self.target.warehouse}

    def warehouse(self, *, read_only: bool = False) -> Warehouse:
        """The target's warehouse (not yet entered): DuckDB at ``warehouse_path``, or a server."""
        config = self._warehouse_config()
        return open_warehouse(self.warehouse_type, config, read_only=read_only, lock_timeout=self.lock_timeout)

    def holding_warehouse(self) -> AbstractContextManager[None]:
        """Within the block, this process's uses of the warehouse share one connection (``warehouse.holding``)."""
        return holding(self.warehouse_type, self._warehouse_config())

    def prepare(self) -> None:
        """Before the first node: the run folder exists, and an object store takes our credentials."""
        if self.target is not None:
            self.target.check_access()
        if not is_remote(self.run_dir):  # an object store has no folders to make
            self.run_dir.mkdir(parents=True, exist_ok=True)


def new_run_id() -> str:
    return dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%S") + "-" + uuid.uuid4().hex[:6]


def safe_run_id(run_id: str | None) -> str:
    """Orchestrator run ids hold ``:`` and ``+`` (timestamps); keep folder names portable."""
    return re.sub(r"[^A-Za-z0-9_.-]", "_", run_id or "manual")


def run_dir(runs_dir, workflow_id: str, run_id: str):
    return runs_dir / workflow_id / run_id


def for_settings(
    settings,
    workflow_id: str,
    *,
    run_id: str | None = None,
    refresh: bool = False,
    source: dict | None = None,
    target: str | None = None,
    warehouse_path: Path | None = None,
    store: str | None = None,
    runs: str | None = None,
    root: Path | None = None,
    connection: Connection | None = None,
) -> RunContext:
    """The context of a run of ``workflow_id`` with the repo's settings on the chosen target
    (``target``, else MODELYARD_TARGET, else the settings' default); an orchestrator's workers
    may override where the warehouse, the store and the run folders are."""
    spec = settings.target(target)
    resolved = resolve(spec, settings.root, store=store, runs=runs, connection=connection)
    duckdb_file = resolved.warehouse.get("path") if resolved.warehouse_type == "duckdb" else None
    return RunContext(
        root=root or settings.root,
        warehouse_path=warehouse_path or duckdb_file,
        store_path=resolved.store,
        data_dir=settings.data_dir,
        run_dir=run_dir(resolved.runs, workflow_id, run_id or new_run_id()),
        lock_timeout=float(resolved.warehouse.get("lock_timeout_seconds", settings.lock_timeout_seconds)),
        refresh=refresh,
        source=source or {},
        seed_options=settings.seed_options(),
        # reports stay in the run folder when that is shared: a worker's own disk is nobody's to open
        reports_dir=None if is_remote(resolved.runs) else settings.reports_dir,
        target=resolved,
        warehouse_type=resolved.warehouse_type,
    )
