"""Targets (like dbt's profiles): each names where the warehouse, the model store and the run
folders are. ``local`` is the top-level settings (a DuckDB file and ``.modelyard/``); a repo adds
others under ``targets:``, e.g. ``prod`` with PostgreSQL and ``s3://`` URLs. One is chosen by
``--target NAME`` (the CLI sets ``MODELYARD_TARGET``), else ``MODELYARD_TARGET``, else the
settings' ``target:``, else ``local``.

Here the records, as the repo states them; credentials and URLs are resolved at run time on the
machine that runs (``engine.target``), so the IR never holds a path or a secret.
"""

from __future__ import annotations

import dataclasses
import os
from pathlib import Path
from typing import Any

from modelyard.errors import DeploymentError, Diagnostic, Position
from modelyard.repo.layout import SETTINGS_FILE
from modelyard.suggest import did_you_mean

TARGET_ENV = "MODELYARD_TARGET"
LOCAL = "local"


@dataclasses.dataclass(frozen=True)
class TargetSpec:
    name: str
    warehouse: dict[str, Any]  # "type" (duckdb or postgres) and its keys; duckdb's "path" absolute
    store: str | Path  # a folder or a URL
    runs: str | Path
    s3: dict[str, Any]  # endpoint_url, region, conn_id, *_env: how to reach s3:// URLs

    @property
    def warehouse_type(self) -> str:
        return self.warehouse.get("type", "duckdb")

    def jinja(self) -> dict[str, str]:
        """What SQL templates see as ``target``: ``{{ target.name }}``, ``{{ target.type }}``."""
        return {"name": self.name, "type": self.warehouse_type}


def parse_targets(root: Path, data: dict, local: TargetSpec) -> dict[str, TargetSpec]:
    """Every target of the settings; keys a target leaves out keep the local target's value."""
    out = {LOCAL: local}
    for name, body in (data.get("targets") or {}).items():
        body = body or {}
        warehouse = dict(body.get("warehouse") or local.warehouse)
        if warehouse.get("type", "duckdb") == "duckdb":
            warehouse = {
                "type": "duckdb",
                "lock_timeout_seconds": local.warehouse["lock_timeout_seconds"],
                **warehouse,
                "path": root / warehouse["path"] if "path" in warehouse else local.warehouse["path"],
            }
        out[name] = TargetSpec(
            name=name,
            warehouse=warehouse,
            store=body.get("store", local.store),
            runs=body.get("runs", local.runs),
            s3=dict(body.get("s3") or {}),
        )
    return out


def target_diagnostics(data: dict, where) -> list[Diagnostic]:
    """A settings ``target:`` that names no target (``where(path)`` gives a key's position)."""
    name = data.get("target")
    names = [LOCAL, *(data.get("targets") or {})]
    if name is None or name in names:
        return []
    return [
        Diagnostic.error(
            where(("target",)),
            "unknown-target",
            f"target: {name!r} is not a target{did_you_mean(name, names)} (targets: {', '.join(names)})",
        )
    ]


def choose(targets: dict[str, TargetSpec], default: str, name: str | None = None) -> TargetSpec:
    """The target named by ``name``, else ``MODELYARD_TARGET``, else the settings' default."""
    source = "the caller" if name else None
    if not name and os.environ.get(TARGET_ENV):  # --target sets it too (see cli)
        name, source = os.environ[TARGET_ENV], f"--target or {TARGET_ENV}"
    name = name or default
    if name in targets:
        return targets[name]
    named_by = f" (from {source})" if source else f" (from `target:` in {SETTINGS_FILE})"
    raise DeploymentError(
        f"unknown target {name!r}{named_by}{did_you_mean(name, targets)}",
        Position(SETTINGS_FILE),
        hint=f"the targets of {SETTINGS_FILE} are: {', '.join(targets)}; add one under `targets:`",
    )
