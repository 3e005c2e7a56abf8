"""Dataset profiles computed in the warehouse (DuckDB SQL aggregates, no rows leave it), and the
counts drift tests need: a table's rows counted in another profile's bins or top values.

A profile is JSON: ``{"rows": n, "columns": {name: column profile}}``. Every column has ``type``
(the warehouse type), ``family`` (``numeric``, ``categorical`` or ``other``), ``count`` (non-null
values), ``nulls`` and ``approx_distinct`` (a HyperLogLog estimate, within a few percent: an exact count would cost more than the rest of the profile). A numeric column adds ``min``, ``max``, ``mean``, ``std``,
``quantiles`` (deciles) and ``bins``: ``edges`` (the distinct deciles; the outer bins are open,
so a later value below the first inner edge or above the last one still lands in a bin) and
``counts``. A categorical column adds ``top``: the most frequent values with their counts, and
``other`` (the rest). Other types (dates, timestamps, lists) keep only the shared figures: a
time column moves by design, a drift test on it would always fire.

The profiles of extract tables live in ``_modelyard.extract_profiles``, keyed by table and the
cache key the table was built with: a reused extract reuses its profile. An extract is profiled
when a step first reads its profile (``extract_profile``), not when it is built.
"""

from __future__ import annotations

import json

from modelyard.errors import WarehouseError
from modelyard.warehouse.duckdb_warehouse import qualified, quote

QUANTILES = [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9]
TOP_VALUES = 10
SAMPLE_ABOVE = 200_000
SAMPLE_ROWS = 100_000
NUMERIC_TYPES = ("TINYINT", "SMALLINT", "INTEGER", "BIGINT", "HUGEINT", "UTINYINT", "USMALLINT", "UINTEGER",
                 "UBIGINT", "FLOAT", "DOUBLE", "REAL")  # fmt: skip
CATEGORICAL_TYPES = ("VARCHAR", "BOOLEAN")
_PROFILES = """
CREATE SCHEMA IF NOT EXISTS _modelyard;
CREATE TABLE IF NOT EXISTS _modelyard.extract_profiles (
    table_name VARCHAR PRIMARY KEY, cache_key VARCHAR, profile VARCHAR);
"""


def duckdb_connection(wh):
    """The DuckDB connection of a warehouse whose tables these queries can profile; None for
    another engine (a PostgreSQL warehouse stores no profiles yet: its versions say so by having none)."""
    from modelyard.warehouse.duckdb_warehouse import DuckDBWarehouse

    return wh.con if isinstance(wh, DuckDBWarehouse) else None


def family(column_type: str) -> str:
    if column_type in NUMERIC_TYPES or column_type.startswith("DECIMAL"):
        return "numeric"
    if column_type in CATEGORICAL_TYPES or column_type.startswith("ENUM"):
        return "categorical"
    return "other"


def column_types(con, table: str) -> dict[str, str]:
    rows = con.execute(f"DESCRIBE SELECT * FROM {qualified(table)}").fetchall()
    return {row[0]: row[1] for row in rows}


def _histograms(con, table: str, bins: dict[str, list[float]]) -> dict[str, list[int]]:
    """Per column, the rows in each of its bins, in one pass over the table for every column:
    the values below each inner edge (a running count; nulls compare to nothing), then the
    differences. Bin i holds edges[i] <= x < edges[i + 1]; the outer bins are open."""
    if not bins:
        return {}
    selects = []
    for column, edges in bins.items():
        selects.append(f"count({quote(column)})")
        selects += [f"count_if({quote(column)} < {float(edge)!r})" for edge in edges[1:-1]]
    row = list(con.execute(f"SELECT {', '.join(selects)} FROM {qualified(table)}").fetchone())
    out = {}
    for column, edges in bins.items():
        total = int(row.pop(0))
        below = [int(row.pop(0)) for _ in edges[1:-1]]
        cumulative = [0, *below, total]
        out[column] = [cumulative[i + 1] - cumulative[i] for i in range(len(cumulative) - 1)]
    return out


def _top_values(con, table: str, column: str, limit: int) -> list[list]:
    rows = con.execute(
        f"SELECT {quote(column)}::VARCHAR AS v, count(*) AS n FROM {qualified(table)} "
        f"WHERE {quote(column)} IS NOT NULL GROUP BY 1 ORDER BY n DESC, v LIMIT {int(limit)}"
    ).fetchall()
    return [[value, int(n)] for value, n in rows]


def _number(value):
    return None if value is None else float(value)


def _deciles(con, table: str, columns: list[str], rows: int) -> dict[str, list[float]]:
    """The deciles of numeric ``columns``: exact up to ``SAMPLE_ABOVE`` rows, else from a seeded
    row sample of about ``SAMPLE_ROWS`` (sorting every row costs more than the rest of the profile;
    the bins' counts stay exact, only where their edges fall is estimated)."""
    if not columns:
        return {}
    source = qualified(table)
    if rows > SAMPLE_ABOVE:
        percent = 100.0 * SAMPLE_ROWS / rows
        source = f"(SELECT * FROM {source} USING SAMPLE {percent!r}% (bernoulli, 0))"
    selects = ", ".join(f"quantile_cont({quote(c)}::DOUBLE, {QUANTILES})" for c in columns)
    row = con.execute(f"SELECT {selects} FROM {source}").fetchone()
    return {c: [float(q) for q in found] if found else [] for c, found in zip(columns, row, strict=True)}


def profile_table(con, table: str) -> dict:
    """The profile of ``table`` (see the module's docstring): a pass for the aggregates, deciles
    (on a sample of a large table), a pass for the numeric bins' counts, and one grouped query
    per categorical column."""
    types = column_types(con, table)
    aggregates = ["count(*)"]
    for column, column_type in types.items():
        q = quote(column)
        aggregates += [f"count({q})", f"approx_count_distinct({q})"]
        if family(column_type) == "numeric":
            d = f"{q}::DOUBLE"
            aggregates += [f"min({d})", f"max({d})", f"avg({d})", f"stddev_samp({d})"]
        elif family(column_type) == "other":
            aggregates += [f"min({q})::VARCHAR", f"max({q})::VARCHAR"]
    row = list(con.execute(f"SELECT {', '.join(aggregates)} FROM {qualified(table)}").fetchone())
    rows = int(row.pop(0))
    columns: dict[str, dict] = {}
    bins: dict[str, list[float]] = {}
    for column, column_type in types.items():
        count, distinct = int(row.pop(0)), int(row.pop(0))
        kind = family(column_type)
        entry = {
            "type": column_type,
            "family": kind,
            "count": count,
            "nulls": rows - count,
            "approx_distinct": distinct,
        }
        if kind == "numeric":
            low, high, mean, std = (row.pop(0) for _ in range(4))
            entry.update(min=_number(low), max=_number(high), mean=_number(mean), std=_number(std))
        elif kind == "other":
            entry.update(min=row.pop(0), max=row.pop(0))
        columns[column] = entry
    numeric = [c for c, entry in columns.items() if entry["family"] == "numeric"]
    for column, quantiles in _deciles(con, table, numeric, rows).items():
        entry = columns[column]
        entry["quantiles"] = quantiles
        if entry["count"]:
            bins[column] = sorted({entry["min"], *quantiles, entry["max"]})
    for column, counts in _histograms(con, table, bins).items():
        columns[column]["bins"] = {"edges": bins[column], "counts": counts}
    for column, entry in columns.items():
        if entry["family"] == "categorical":
            top = _top_values(con, table, column, TOP_VALUES)
            entry["top"] = top
            entry["other"] = entry["count"] - sum(n for _, n in top)
    return {"rows": rows, "columns": columns}


def counts_in_reference(con, table: str, reference: dict) -> dict[str, list[int]]:
    """``table``'s rows counted the way ``reference`` (a profile) counted its own: per numeric
    column in its bins, per categorical column in its top values then ``other``. Only columns
    both have, in the same family, are counted."""
    types = column_types(con, table)
    bins, categories = {}, {}
    for column, entry in reference["columns"].items():
        if column not in types or family(types[column]) != entry["family"]:
            continue
        if entry["family"] == "numeric" and "bins" in entry:
            bins[column] = entry["bins"]["edges"]
        elif entry["family"] == "categorical":
            categories[column] = [value for value, _ in entry["top"]]
    out = _histograms(con, table, bins)
    for column, values in categories.items():
        found = dict(
            con.execute(
                f"SELECT {quote(column)}::VARCHAR, count(*) FROM {qualified(table)} "
                f"WHERE {quote(column)} IS NOT NULL GROUP BY 1"
            ).fetchall()
        )
        listed = [int(found.pop(value, 0)) for value in values]
        out[column] = [*listed, int(sum(found.values()))]
    return out


def saved_profile(con, table: str, cache_key: str) -> dict | None:
    """The stored profile of extract ``table`` when it was built with ``cache_key``."""
    if not con.execute(
        "SELECT count(*) FROM information_schema.tables "
        "WHERE table_schema = '_modelyard' AND table_name = 'extract_profiles'"
    ).fetchone()[0]:
        return None
    row = con.execute(
        "SELECT profile FROM _modelyard.extract_profiles WHERE table_name = ? AND cache_key = ?", [table, cache_key]
    ).fetchone()
    return json.loads(row[0]) if row else None


def extract_profile(con, table: str, *, writable: bool) -> dict | None:
    """The profile of extract ``table`` as it is now (built with the cache key it was last built
    with). Computed the first time a step reads it (registering a version, monitoring), not when
    the extract is built: tune trials and backtest windows never read it. Kept with the cache
    entry when ``con`` may write, so a reused extract reuses it."""
    row = con.execute("SELECT cache_key FROM _modelyard.extracts WHERE table_name = ?", [table]).fetchone()
    if row is None or not row[0]:  # untracked sources: no cache key to keep a profile under
        return None
    saved = saved_profile(con, table, row[0])
    if saved is None:
        # as stored and read back, so a first read and a later one give the same value
        saved = json.loads(json.dumps(profile_table(con, table), sort_keys=True))
        if writable:
            save_profile(con, table, row[0], saved)
    return saved


def save_profile(con, table: str, cache_key: str, profile: dict) -> None:
    con.execute(_PROFILES)
    con.execute(
        "INSERT OR REPLACE INTO _modelyard.extract_profiles VALUES (?, ?, ?)",
        [table, cache_key, json.dumps(profile, sort_keys=True)],
    )


def append_rows(con, table: str, frame) -> None:
    """Add ``frame``'s rows to ``table``, creating it (and its schema) from the frame the first time."""
    schema = table.split(".")[0] if "." in table else None
    if schema:
        con.execute(f"CREATE SCHEMA IF NOT EXISTS {quote(schema)}")
    import duckdb

    con.register("_modelyard_rows", frame)
    try:
        con.execute(f"CREATE TABLE IF NOT EXISTS {qualified(table)} AS SELECT * FROM _modelyard_rows LIMIT 0")
        con.execute(f"INSERT INTO {qualified(table)} BY NAME SELECT * FROM _modelyard_rows")
    except duckdb.Error as exc:
        raise WarehouseError(
            f"cannot append rows to {table}: {str(exc).splitlines()[0]}",
            hint="its columns no longer match what is written (a model with other outputs?): "
            "write to a new table, or drop the old one",
        ) from None
    finally:
        con.unregister("_modelyard_rows")


def replace_run_rows(con, table: str, run_id: str, frame) -> None:
    """``frame`` as the rows of scoring run ``run_id`` in ``table``: a retried run's earlier rows
    are replaced, never doubled (one transaction)."""
    con.execute("BEGIN")
    try:
        exists = con.execute(
            "SELECT count(*) FROM information_schema.tables WHERE table_schema = ? AND table_name = ?",
            list(table.split(".", 1)) if "." in table else ["main", table],
        ).fetchone()[0]
        if exists:
            con.execute(f"DELETE FROM {qualified(table)} WHERE scoring_run_id = ?", [run_id])
        if len(frame):
            append_rows(con, table, frame)
    except BaseException:
        con.execute("ROLLBACK")
        raise
    con.execute("COMMIT")


def run_view(con, view: str, table: str, columns: dict[str, str], run_id: str) -> None:
    """A temporary view of one scoring run's rows of ``table``, its ``columns`` renamed (old -> new)."""
    select = ", ".join(f"{quote(old)} AS {quote(new)}" for old, new in columns.items())
    run = run_id.replace("'", "''")
    con.execute(
        f"CREATE OR REPLACE TEMP VIEW {quote(view)} AS SELECT {select} FROM {qualified(table)} WHERE scoring_run_id = '{run}'"
    )


def joined_on_key(con, rows: str, labels: str, key: str):
    """The rows of ``rows`` that have a label, with the label columns of ``labels`` (which win over
    columns of the same name), as a DataFrame."""
    replaced = [c for c in column_types(con, labels) if c in column_types(con, rows) and c != key]
    exclude = f" EXCLUDE ({', '.join(quote(c) for c in replaced)})" if replaced else ""
    return con.execute(
        f"SELECT d.*{exclude}, l.* EXCLUDE ({quote(key)}) FROM {qualified(rows)} d "
        f"JOIN {qualified(labels)} l USING ({quote(key)})"
    ).df()


def read_rows(con, table: str, where: str = "", params: list | None = None):
    """Rows of a monitoring table as a DataFrame; None when the table does not exist yet."""
    schema, _, name = table.rpartition(".")
    exists = con.execute(
        "SELECT count(*) FROM information_schema.tables WHERE table_schema = ? AND table_name = ?",
        [schema or "main", name],
    ).fetchone()[0]
    if not exists:
        return None
    return con.execute(f"SELECT * FROM {qualified(table)} {where}", params or []).df()
