"""The embedded DuckDB warehouse: seed tables from ``data/``, extract tables, and their cache.

Seeds (like dbt's): every ``data/NAME.csv`` or ``data/NAME.parquet`` is table ``NAME``, loaded when
an extract reads it and reloaded when the file's content (or its options) change. Extracts live in schema ``extracts``; ``_modelyard.extracts``
remembers the cache key each was built with, so an unchanged extract is reused, not recomputed.

DuckDB lets one process write a database file at a time; a second process gets a lock error.
We wait (polling) up to ``lock_timeout`` and then fail with a message that says who to stop.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar

from modelyard.console import debug
from modelyard.errors import Position, WarehouseError

T = TypeVar("T")
SEED_SUFFIXES = {".csv": "read_csv_auto", ".parquet": "read_parquet"}
_META = """
CREATE SCHEMA IF NOT EXISTS _modelyard;
CREATE SCHEMA IF NOT EXISTS extracts;
CREATE TABLE IF NOT EXISTS _modelyard.seeds (
    table_name VARCHAR PRIMARY KEY, file VARCHAR, size BIGINT, mtime_ns BIGINT, sha256 VARCHAR);
CREATE TABLE IF NOT EXISTS _modelyard.extracts (
    table_name VARCHAR PRIMARY KEY, cache_key VARCHAR, row_count BIGINT, built_at TIMESTAMP);
"""


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def quote(identifier: str) -> str:
    return '"' + identifier.replace('"', '""') + '"'


def qualified(table: str) -> str:
    return ".".join(quote(part) for part in table.split(".", 1))


def literal(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def seed_reader(file: Path, options: dict | None = None) -> str:
    """The table function call reading a seed file with its options from ``modelyard.yaml``
    (``column_types``, ``null_strings``, ``delimiter``; CSV only)."""
    options = options or {}
    if file.suffix.lower() != ".csv":
        return f"{SEED_SUFFIXES[file.suffix.lower()]}({literal(str(file))})"
    args = [literal(str(file))]
    if options.get("column_types"):
        types = ", ".join(f"{literal(c)}: {literal(t)}" for c, t in options["column_types"].items())
        args.append(f"types={{{types}}}")
    if options.get("null_strings"):
        args.append("nullstr=[" + ", ".join(literal(v) for v in options["null_strings"]) + "]")
    if options.get("delimiter"):
        args.append(f"delim={literal(options['delimiter'])}")
    return f"read_csv({', '.join(args)})"


def options_digest(options: dict | None) -> str:
    """Stored after a seed's file hash: changing its options reloads it (and changes its fingerprint)."""
    if not options:
        return ""
    return "/" + hashlib.sha256(json.dumps(options, sort_keys=True).encode()).hexdigest()[:16]


def seed_fingerprint(file_sha256: str, options: dict | None) -> str:
    """What ``Warehouse.fingerprint`` says of a seed whose file has this hash and these options,
    computed without the warehouse (``modelyard run`` deciding a model is up to date)."""
    return "seed:" + file_sha256 + options_digest(options)


class SqlError(WarehouseError):
    """DuckDB refused a query; ``line``/``col`` (1-based, 0 when unknown) place it in the query."""

    def __init__(self, message: str, kind: str, line: int = 0, col: int = 0):
        super().__init__(message)
        self.kind, self.line, self.col = kind, line, col


def sql_error(exc: Exception, statement: str, query_start: int) -> SqlError:
    """DuckDB's error for ``statement`` (run with ``errors_as_json``), placed in the query that starts
    at character ``query_start`` of it. The engine's message is kept whole, on one line."""
    text = str(exc)
    kind, _, detail = text.partition(": ")
    try:
        info = json.loads(detail)
    except ValueError:
        info = {"exception_message": detail or text}
    # the first paragraph, on one line: the message and its hints ("Candidate bindings", "Did you
    # mean"); a CSV error's later paragraphs list every reader option, with the file's full path
    paragraph = str(info.get("exception_message", "")).strip().split("\n\n")[0]
    message = " ".join(part.strip() for part in paragraph.splitlines() if part.strip())
    label = f"{info['exception_type']} Error" if info.get("exception_type") else kind
    line = col = 0
    if str(info.get("position", "")).isdigit():
        # DuckDB counts bytes of the UTF-8 statement
        line, col = place(
            statement, query_start, len(statement.encode()[: int(info["position"])].decode(errors="ignore"))
        )
    return SqlError(f"{label}: {message}", label.split()[0].lower(), line, col)


def place(statement: str, query_start: int, position: int) -> tuple[int, int]:
    """(line, column), 1-based, of character ``position`` (0-based) of ``statement`` in the query
    that starts at its character ``query_start``; (0, 0) when it lies before the query."""
    offset = position - query_start
    if offset < 0:
        return 0, 0
    before = statement[query_start : query_start + offset]
    return before.count("\n") + 1, offset - (before.rfind("\n") + 1) + 1


def seed_files(data_dir: Path) -> list[Path]:
    """The seed files in ``data_dir``; two files for one table (DuckDB names ignore case) are an error."""
    if not data_dir.is_dir():
        return []
    files = [f for f in sorted(data_dir.iterdir()) if f.suffix.lower() in SEED_SUFFIXES and f.is_file()]
    by_table: dict[str, list[Path]] = {}
    for file in files:
        by_table.setdefault(file.stem.lower(), []).append(file)
    for clash in by_table.values():
        if len(clash) > 1:
            names = " and ".join(f"{data_dir.name}/{f.name}" for f in clash)
            raise WarehouseError(
                f"{names} would both be warehouse table {clash[0].stem!r}",
                Position(f"{data_dir.name}/{clash[1].name}"),
                hint="keep one of them, or rename one (the file name is the table name)",
            )
    return files


def tables_read(con, sql: str) -> tuple[list[tuple[str, str]], bool] | None:
    """The (schema, table) pairs ``sql`` reads, CTE names left out, and whether it also reads
    something untracked (a file through a table function, another database); None when it does
    not parse."""
    tree = json.loads(con.execute("SELECT json_serialize_sql(?)", [sql]).fetchone()[0])
    if tree.get("error"):
        return None
    ctes: set[str] = set()
    tables: set[tuple[str, str]] = set()
    untracked = False

    def walk(value) -> None:
        nonlocal untracked
        if isinstance(value, list):
            for item in value:
                walk(item)
        elif isinstance(value, dict):
            if value.get("type") == "BASE_TABLE":
                untracked |= bool(value.get("catalog_name"))
                tables.add((value.get("schema_name") or "", value["table_name"]))
            elif value.get("type") == "TABLE_FUNCTION":
                untracked = True
            if isinstance(value.get("cte_map"), dict):
                ctes.update(entry["key"].lower() for entry in value["cte_map"].get("map", []))
            for item in value.values():
                walk(item)

    walk(tree["statements"])
    return sorted((schema, name) for schema, name in tables if schema or name.lower() not in ctes), untracked


def extract_cache_key(node_hash: str, sources: list[tuple[str, str]] | None, fingerprint) -> str | None:
    """The hash of an extract's SQL and the fingerprints (``fingerprint(schema, name)``) of the
    tables it reads; None when some source is untracked: such an extract is never reused."""
    if sources is None:
        return None
    prints = []
    for schema, name in sources:
        fp = fingerprint(schema, name)
        if fp is None:
            return None
        prints.append(f"{schema}.{name}={fp}")
    return hashlib.sha256("\n".join([node_hash, *prints]).encode()).hexdigest()


NUMERIC_TYPES = {
    "TINYINT",
    "SMALLINT",
    "INTEGER",
    "BIGINT",
    "HUGEINT",
    "UTINYINT",
    "USMALLINT",
    "UINTEGER",
    "UBIGINT",
    "UHUGEINT",
    "FLOAT",
    "DOUBLE",
}


def is_numeric(kind: str) -> bool:
    """Whether a DuckDB type name is a number (pages keep numbers as numbers: they sort)."""
    return kind in NUMERIC_TYPES or kind.startswith("DECIMAL")


def check_filter(where: str) -> str:
    """The ``WHERE`` clause of a page's filter: one SQL condition."""
    where = where.strip()
    if ";" in where:
        raise WarehouseError("a filter is one SQL condition, e.g. x_0 > 0 AND y < 1 (no ';')")
    return f"WHERE {where}" if where else ""


def sync_seed_files(wh, data_dir: Path, options: dict | None, only: set[str] | None) -> list[str]:
    """Load new or changed seed files (those named in ``only``, case ignored, when given: one bad
    file must not block an extract that never reads it) and drop the tables of removed ones;
    return the names of the tables (re)loaded. ``options``: per-seed reading options. ``wh``
    keeps the record of what it loaded (``_known_seeds``, ``_drop_seed``, ``_touch_seed``) and
    loads a file (``_load_seed(name, reader, file, stat, sha)``: ``sha()`` gives the stored hash)."""
    import concurrent.futures as futures

    known = wh._known_seeds()
    files = seed_files(data_dir)
    for name in sorted(set(known) - {file.stem for file in files}):
        # a removed seed must not live on as a stale table that extracts keep reading
        wh._drop_seed(name)
    wanted = None if only is None else {name.lower() for name in only}
    loaded = []
    for file in files:
        name = file.stem
        if wanted is not None and name.lower() not in wanted:
            continue
        reader = seed_reader(file, (options or {}).get(name))
        suffix = options_digest((options or {}).get(name))
        stat = file.stat()
        previous = known.get(name)
        same_file = previous and previous[0] == file.name and previous[3][64:] == suffix
        if same_file and previous[1:3] == (stat.st_size, stat.st_mtime_ns):
            continue
        if same_file and previous[1] == stat.st_size and wh.has_table(name):
            sha = file_sha256(file)  # touched or checked out again: often the same content
            if sha + suffix == previous[3]:
                wh._touch_seed(name, stat)
                continue
            wh._load_seed(name, reader, file, stat, lambda known=sha + suffix: known)
        else:
            # a new or resized file has new content: hash it while the warehouse loads it (both free the GIL)
            with futures.ThreadPoolExecutor(1) as pool:
                hashing = pool.submit(file_sha256, file)
                wh._load_seed(name, reader, file, stat, lambda h=hashing, s=suffix: h.result() + s)
        loaded.append(name)
    return loaded


def open_warehouse(config: dict, *, read_only: bool = False, lock_timeout: float = 60.0) -> DuckDBWarehouse:
    return DuckDBWarehouse(config["path"], read_only=read_only, lock_timeout=lock_timeout)


# Warehouse files this process holds open (``held``): the read-write connection, None until the
# first use opens it.
_HELD: dict[Path, Any] = {}


@contextlib.contextmanager
def held(config: dict) -> Iterator[None]:
    """Keep the warehouse file open from its first use in the block to the block's end: each
    ``DuckDBWarehouse`` entered meanwhile (read-only ones too) borrows a cursor of that one
    connection instead of opening the file (an open and its checkpointing close cost ~50-100 ms).
    Other processes cannot open the file meanwhile: hold it only where no worker process reads it."""
    key = Path(config["path"]).resolve()
    if key in _HELD:  # an enclosing block holds it
        yield
        return
    _HELD[key] = None
    try:
        yield
    finally:
        con = _HELD.pop(key)
        if con is not None:
            con.close()


class DuckDBWarehouse:
    """A connection to the warehouse file; use as a context manager."""

    def __init__(self, path: Path, *, read_only: bool = False, lock_timeout: float = 60.0):
        self.path = Path(path)
        self.read_only = read_only
        self.lock_timeout = lock_timeout
        self.con = None
        self.writable = False  # whether ``con`` may write: a cursor of the held connection may, read_only or not

    def __enter__(self) -> DuckDBWarehouse:
        if self.read_only and not self.path.exists():
            raise WarehouseError(f"no warehouse yet at {self.path}", hint="run a workflow first (modelyard run ...)")
        key = self.path.resolve()
        if key not in _HELD:
            self.con = self._connect(read_only=self.read_only)
            self.writable = not self.read_only
        else:
            if _HELD[key] is None:
                _HELD[key] = self._connect(read_only=False)
            self.con = _HELD[key].cursor()
            self.writable = True
        return self

    def _connect(self, *, read_only: bool):
        import duckdb

        self.path.parent.mkdir(parents=True, exist_ok=True)
        con = self._waiting_for_lock(lambda: duckdb.connect(str(self.path), read_only=read_only))
        debug(f"warehouse {self.path} opened {'read-only' if read_only else 'for writing'}")
        if not read_only:
            con.execute(_META)
        return con

    def _waiting_for_lock(self, connect: Callable[[], T]) -> T:
        import duckdb

        deadline = time.monotonic() + self.lock_timeout
        while True:
            try:
                return connect()
            except duckdb.IOException as exc:
                if "lock" not in str(exc).lower():
                    raise WarehouseError(f"cannot open warehouse {self.path}: {exc}") from None
                if time.monotonic() >= deadline:
                    raise WarehouseError(
                        f"the warehouse {self.path} is locked by another process (waited {self.lock_timeout:.0f}s)",
                        hint="wait for the other modelyard command (or UI run) to finish, or stop it",
                    ) from None
                time.sleep(0.2)

    def snapshot(self, copies: dict[str, tuple[str, list]]):
        """A new in-memory DuckDB database holding, under the same names, the rows of each table
        ``copies`` names that its ``(where, params)`` filter selects, in the same order: for
        reading many slices of a table without opening the warehouse file (~15 ms) each time.
        The file is open only while copying; use it instead of entering this Warehouse."""
        import duckdb

        con = duckdb.connect()
        try:
            with self:
                for table, (where, params) in copies.items():
                    if not self.has_table(table):
                        raise WarehouseError(
                            f"table {table} does not exist in the warehouse {self.path}",
                            hint="run the workflow's extracts first",
                        )
                    # a cursor of its own: has_table leaves a result open on self.con
                    query = f"SELECT * FROM {qualified(table)} WHERE {where}"
                    rows = self.con.cursor().sql(query, params=params).to_arrow_table()
                    schema = table.rpartition(".")[0]
                    if schema:
                        con.execute(f"CREATE SCHEMA IF NOT EXISTS {quote(schema)}")
                    con.register("modelyard_rows", rows)
                    con.execute(f"CREATE TABLE {qualified(table)} AS SELECT * FROM modelyard_rows")
                    con.unregister("modelyard_rows")
        except BaseException:
            con.close()
            raise
        return con

    def __exit__(self, *exc_info) -> None:
        if self.con is not None:
            self.con.close()
            self.con = None

    def sync_seeds(self, data_dir: Path, options: dict | None = None, only: set[str] | None = None) -> list[str]:
        return sync_seed_files(self, data_dir, options, only)

    def _known_seeds(self) -> dict[str, tuple]:
        return {
            row[0]: row[1:]
            for row in self.con.execute(
                "SELECT table_name, file, size, mtime_ns, sha256 FROM _modelyard.seeds"
            ).fetchall()
        }

    def _drop_seed(self, name: str) -> None:
        self.con.execute(f"DROP TABLE IF EXISTS {quote(name)}")
        self.con.execute("DELETE FROM _modelyard.seeds WHERE table_name = ?", [name])

    def _touch_seed(self, name: str, stat) -> None:
        self.con.execute(
            "UPDATE _modelyard.seeds SET size=?, mtime_ns=? WHERE table_name=?", [stat.st_size, stat.st_mtime_ns, name]
        )

    def _load_seed(self, name: str, reader: str, file: Path, stat, sha: Callable[[], str]) -> None:
        try:
            self.con.execute("BEGIN")
            self.con.execute(f"CREATE OR REPLACE TABLE {quote(name)} AS SELECT * FROM {reader}")
            self.con.execute(
                "INSERT OR REPLACE INTO _modelyard.seeds VALUES (?, ?, ?, ?, ?)",
                [name, file.name, stat.st_size, stat.st_mtime_ns, sha()],
            )
            self.con.execute("COMMIT")
        except Exception as exc:
            self.con.execute("ROLLBACK")
            raise WarehouseError(f"cannot load seed file: {exc}", Position(f"{file.parent.name}/{file.name}")) from None

    def has_table(self, table: str) -> bool:
        schema, _, name = table.rpartition(".")
        return bool(
            self.con.execute(
                "SELECT count(*) FROM information_schema.tables WHERE table_schema = ? AND table_name = ?",
                [schema or "main", name],
            ).fetchone()[0]
        )

    def fingerprint(self, schema: str, name: str) -> str | None:
        """What identifies a table's content: a seed's file hash or an extract's cache key."""
        if schema.lower() in ("", "main"):
            row = self.con.execute(
                "SELECT sha256 FROM _modelyard.seeds WHERE lower(table_name) = lower(?)", [name]
            ).fetchone()
            return "seed:" + row[0] if row else None
        if schema.lower() == "extracts":
            row = self.con.execute(
                "SELECT cache_key FROM _modelyard.extracts WHERE lower(table_name) = lower(?)", [f"extracts.{name}"]
            ).fetchone()
            return "extract:" + row[0] if row and row[0] else None
        return None

    def source_tables(self, sql: str) -> list[tuple[str, str]] | None:
        """The (schema, table) pairs ``sql`` reads; None when it reads something else too (a file
        through a table function, another database) or does not parse: its content is untracked."""
        read = tables_read(self.con, sql)
        return None if read is None or read[1] else read[0]

    def seeds_read(self, sql: str) -> set[str]:
        """The tables of the main schema (seeds) ``sql`` reads; none when it does not parse (its
        error comes when it runs)."""
        read = tables_read(self.con, sql)
        return {name for schema, name in (read[0] if read else []) if schema.lower() in ("", "main")}

    def cache_key(self, node_hash: str, sql: str) -> str | None:
        """None when some source's content is untracked: such an extract is never reused."""
        return extract_cache_key(node_hash, self.source_tables(sql), self.fingerprint)

    def cached_rows(self, table: str, cache_key: str | None) -> int | None:
        if cache_key is None or not self.has_table(table):
            return None
        row = self.con.execute(
            "SELECT cache_key, row_count FROM _modelyard.extracts WHERE table_name = ?", [table]
        ).fetchone()
        return row[1] if row and row[0] == cache_key else None

    def materialize(self, table: str, sql: str, cache_key: str | None) -> int:
        """Build ``table`` from ``sql``; a failing query raises ``SqlError`` placed in ``sql``."""
        import duckdb

        statement = f"CREATE OR REPLACE TABLE {qualified(table)} AS "
        self.con.execute("SET errors_as_json = true")  # the error's position in the query (see sql_error)
        try:
            self.con.execute("BEGIN")
            self.con.execute(statement + sql)
            rows = self.con.execute(f"SELECT count(*) FROM {qualified(table)}").fetchone()[0]
            self.con.execute(
                "INSERT OR REPLACE INTO _modelyard.extracts VALUES (?, ?, ?, now())", [table, cache_key or "", rows]
            )
            self.con.execute("COMMIT")
        except duckdb.Error as exc:
            self.con.execute("ROLLBACK")
            raise sql_error(exc, statement + sql, len(statement)) from None
        finally:
            self.con.execute("RESET errors_as_json")
        return rows

    @contextlib.contextmanager
    def building(self, table: str) -> Iterator[None]:
        yield  # this process holds the file's only write lock

    def table_version(self, table: str) -> tuple | None:
        """What changes whenever an extract table is rebuilt; None for other tables."""
        row = (
            self.con.execute(
                "SELECT cache_key, built_at FROM _modelyard.extracts WHERE table_name = ?", [table]
            ).fetchone()
            if self.has_table("_modelyard.extracts")
            else None
        )
        return tuple(row) if row else None

    def read_table(self, table: str):
        if not self.has_table(table):
            raise WarehouseError(
                f"table {table} does not exist in the warehouse {self.path}", hint="run the workflow's extracts first"
            )
        return self.con.execute(f"SELECT * FROM {qualified(table)}").df()

    def row_count(self, table: str) -> int:
        return int(self.con.execute(f"SELECT count(*) FROM {qualified(table)}").fetchone()[0])

    def column_types(self, table: str) -> dict[str, str]:
        schema, _, name = table.rpartition(".")
        return dict(
            self.con.execute(
                "SELECT column_name, data_type FROM information_schema.columns "
                "WHERE table_schema = ? AND table_name = ? ORDER BY ordinal_position",
                [schema or "main", name],
            ).fetchall()
        )

    def sorted_times(self, table: str, column: str):
        frame = self.con.execute(
            f"SELECT CAST({quote(column)} AS TIMESTAMP) AS t FROM {qualified(table)} "
            f"WHERE {quote(column)} IS NOT NULL ORDER BY 1"
        ).df()
        return frame["t"].to_numpy().astype("datetime64[us]")

    def profile(self, table: str):
        return self.con.execute(f"SUMMARIZE SELECT * FROM {qualified(table)}").df()

    def page(self, table: str, where: str, page: int, size: int) -> tuple[list[str], Any, int]:
        import duckdb

        condition = check_filter(where)
        columns = self.con.execute(f"DESCRIBE SELECT * FROM {qualified(table)}").fetchall()
        # dates, text and nested values show as DuckDB prints them
        select = ", ".join(
            quote(name) if is_numeric(kind) else f"CAST({quote(name)} AS VARCHAR) AS {quote(name)}"
            for name, kind, *_ in columns
        )
        try:
            total = self.con.execute(f"SELECT count(*) FROM {qualified(table)} {condition}").fetchone()[0]
            frame = self.con.execute(
                f"SELECT {select} FROM {qualified(table)} {condition} LIMIT ? OFFSET ?", [size, page * size]
            ).df()
        except duckdb.Error as exc:
            raise WarehouseError(f"filter {where.strip()!r}: {str(exc).splitlines()[0]}") from None
        return [name for name, *_ in columns], frame, int(total)

    @contextlib.contextmanager
    def transaction(self) -> Iterator[None]:
        self.con.execute("BEGIN")
        try:
            yield
        except BaseException:
            self.con.execute("ROLLBACK")
            raise
        self.con.execute("COMMIT")

    def replace_rows(self, table: str, frame, where: dict[str, Any]) -> None:
        if not self.has_table(table):
            self.write_dataframe(table, frame)
            return
        con = self.con.cursor()  # has_table leaves a result open on self.con; DuckDB 2 refuses register() then
        con.register("_modelyard_rows", frame)
        try:
            con.execute("BEGIN")
            existing = {row[0] for row in con.execute(f"DESCRIBE {qualified(table)}").fetchall()}
            for name, kind, *_ in con.execute("DESCRIBE _modelyard_rows").fetchall():
                if name not in existing:
                    con.execute(f"ALTER TABLE {qualified(table)} ADD COLUMN {quote(name)} {kind}")
            condition = " AND ".join(f"{quote(column)} = ?" for column in where) or "true"
            con.execute(f"DELETE FROM {qualified(table)} WHERE {condition}", list(where.values()))
            con.execute(f"INSERT INTO {qualified(table)} BY NAME SELECT * FROM _modelyard_rows")
            con.execute("COMMIT")
        except Exception:
            con.execute("ROLLBACK")
            raise
        finally:
            con.unregister("_modelyard_rows")
            con.close()

    def write_dataframe(self, table: str, frame) -> None:
        schema = table.split(".")[0] if "." in table else None
        if schema:
            self.con.execute(f"CREATE SCHEMA IF NOT EXISTS {quote(schema)}")
        self.con.register("_modelyard_frame", frame)
        try:
            self.con.execute(f"CREATE OR REPLACE TABLE {qualified(table)} AS SELECT * FROM _modelyard_frame")
        finally:
            self.con.unregister("_modelyard_frame")

    def tables(self) -> list[str]:
        rows = self.con.execute(
            "SELECT table_schema, table_name FROM information_schema.tables "
            "WHERE table_schema <> '_modelyard' ORDER BY 1, 2"
        ).fetchall()
        return [name if schema == "main" else f"{schema}.{name}" for schema, name in rows]
