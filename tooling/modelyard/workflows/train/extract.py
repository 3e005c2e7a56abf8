"""The ``extract`` node: render-time SQL (in the IR) -> a warehouse table, reused while its cache
key holds. The cache key is computed here only: the UI asks the same function."""

from __future__ import annotations

from modelyard.engine.context import RunContext
from modelyard.errors import ModelyardError, Position
from modelyard.ir import Node, Workflow


def cache_key(wh, node: Node) -> str:
    """The extract's rendered SQL hash plus fingerprints of what the SQL reads (see Warehouse)."""
    return wh.cache_key(node.hash_parts["sql"], node.spec["sql"])


def run_extract(workflow: Workflow, node: Node, ctx: RunContext, index: int | None) -> dict:
    spec = node.spec
    where = Position(spec["extract_file"], spec["line"])
    compiled_for, here = spec.get("target"), ctx.target.name if ctx.target else "local"
    if compiled_for and (compiled_for["name"], compiled_for["type"]) != (here, ctx.warehouse_type):
        raise ModelyardError(
            f"extract {spec['dataset']!r}: {spec['sql_file']} uses `target` and was compiled for target "
            f"{compiled_for['name']!r} ({compiled_for['type']}), but this run is on target {here!r} "
            f"({ctx.warehouse_type})",
            where,
            hint=f"compile or publish with `--target {here}`, or run with the target it was compiled for",
        )
    with ctx.warehouse() as wh:
        wh.sync_seeds(ctx.data_dir)
        key = cache_key(wh, node)
        rows = None if ctx.refresh else wh.cached_rows(spec["table"], key)
        if rows is not None:
            return {"table": spec["table"], "rows": rows, "reused": True}
        try:
            rows = wh.materialize(spec["table"], spec["sql"], key, where=where)
        except ModelyardError as exc:
            exc.message = f"extract {spec['dataset']!r} ({spec['sql_file']}): {exc.message}"
            raise
    return {"table": spec["table"], "rows": rows, "reused": False}
