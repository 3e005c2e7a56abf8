"""The ``extract`` node: render-time SQL (in the IR) -> a warehouse table, reused while its cache
key holds. The cache key is computed here only: the UI asks the same function."""

from __future__ import annotations

from modelyard.engine.context import RunContext
from modelyard.errors import DeploymentError, ModelyardError, Position
from modelyard.ir import Node, Workflow
from modelyard.repo.sqltemplate import read_sql, template_position
from modelyard.warehouse.duckdb_warehouse import SqlError
from modelyard.workflows.train.specs import Extract


def cache_key(wh, node: Node) -> str:
    """The extract's rendered SQL hash plus fingerprints of what the SQL reads (see Warehouse)."""
    return wh.cache_key(node.hash_parts["sql"], Extract.of(node).sql)


def run_extract(workflow: Workflow, node: Node, ctx: RunContext, index: int | None) -> dict:
    spec = Extract.of(node)
    where = Position(spec.extract_file, spec.line)
    compiled_for, here = spec.target, ctx.target.name if ctx.target else "local"
    if compiled_for and (compiled_for["name"], compiled_for["type"]) != (here, ctx.warehouse_type):
        raise DeploymentError(
            f"extract {spec.dataset!r}: {spec.sql_file} uses `target` and was compiled for target "
            f"{compiled_for['name']!r} ({compiled_for['type']}), but this run is on target {here!r} "
            f"({ctx.warehouse_type})",
            where,
            hint=f"compile or publish with `--target {here}`, or run with the target it was compiled for",
        )
    with ctx.warehouse() as wh:
        # only the seeds this query reads: a broken file elsewhere in data/ must not stop it
        wh.sync_seeds(ctx.data_dir, ctx.seed_options, only=wh.seeds_read(spec.sql))
        with wh.building(spec.table):  # a concurrent run of this extract waits here, then reuses it
            key = cache_key(wh, node)
            rows = None if ctx.refresh else wh.cached_rows(spec.table, key)
            reused = rows is not None
            if not reused:
                try:
                    rows = wh.materialize(spec.table, spec.sql, key)
                except SqlError as exc:
                    raise ModelyardError(
                        f"extract {spec.dataset!r} ({where}): {exc.message}",
                        _sql_position(ctx, spec, exc),
                        hint="fix the query; `modelyard validate` checks it against the seeds' and extracts' columns",
                    ) from None
    if rows == 0 and not spec.allow_empty:
        raise ModelyardError(
            f"extract {spec.dataset!r} returned 0 rows ({spec.sql_file}); a model would train on nothing",
            where,
            hint="check the query's filters and the seed files it reads; "
            f"if no rows is expected, set `allow_empty: true` on {spec.dataset!r}",
        )
    return {"table": spec.table, "rows": rows, "reused": reused}


def _sql_position(ctx: RunContext, spec: Extract, exc: SqlError) -> Position:
    """The error's place in the SQL file (the IR holds the rendered SQL: map it back)."""
    if not exc.line:
        return Position(spec.sql_file)
    try:
        template = read_sql(ctx.root, spec.sql_file)
    except (OSError, UnicodeDecodeError):
        return Position(spec.sql_file)
    return Position(spec.sql_file, *template_position(template, spec.sql, exc.line, exc.col))
