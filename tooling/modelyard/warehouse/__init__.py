"""Warehouses: seeds, extract tables with cache keys, result tables, locking. ``Warehouse`` (in
``protocol``) is what callers use; ``WAREHOUSES`` maps a target's ``warehouse.type`` to the module
of its implementation, imported only when a run needs it (DuckDB and PostgreSQL clients are heavy).
Each implementation module has ``open_warehouse(config, read_only=, lock_timeout=)`` and
``held(config)``, a context manager within which its warehouses share one connection."""

from __future__ import annotations

import importlib
from contextlib import AbstractContextManager

from modelyard.warehouse.protocol import Warehouse

WAREHOUSES = {
    "duckdb": "modelyard.warehouse.duckdb_warehouse",
    "postgres": "modelyard.warehouse.postgres_warehouse",
}


def open_warehouse(kind: str, config: dict, *, read_only: bool = False, lock_timeout: float = 60.0) -> Warehouse:
    """A (not yet entered) warehouse of type ``kind`` with the target's resolved ``config``."""
    module = importlib.import_module(WAREHOUSES[kind])
    return module.open_warehouse(config, read_only=read_only, lock_timeout=lock_timeout)


def holding(kind: str, config: dict) -> AbstractContextManager[None]:
    """Within the block, every warehouse of type ``kind`` opened with ``config`` in this process
    shares one connection, opened at the first use (nothing is opened when none is used)."""
    return importlib.import_module(WAREHOUSES[kind]).held(config)
