"""The PostgreSQL warehouse: the same tables as the DuckDB one (seeds, ``extracts.*``, the meta
tables in ``_modelyard``, tuning and backtest results) on a server that many runs share.

Client: ADBC's PostgreSQL driver. Reads come back as Arrow (binary COPY inside libpq, no Python
object per value), and bulk writes (``adbc_ingest``) are a binary ``COPY FROM STDIN``. A seed file is
read by an in-process DuckDB with the same reader and options as the DuckDB warehouse, so its
columns get the same types, and streamed as Arrow batches into the COPY. A frame read back goes
through DuckDB's Arrow-to-pandas conversion, so it has the dtypes the DuckDB warehouse gives.

Names: PostgreSQL folds unquoted names to lower case, so the tables modelyard makes are lower case
(``FROM Sample_Data`` in an extract still finds seed ``Sample_Data.csv``). Seeds live in ``public``.

Locking: every write is one transaction that first takes ``pg_advisory_xact_lock`` on the table's
name, so concurrent runs never interleave on a table; a run checking an extract's cache and building
it holds a session advisory lock on it (``building``), so a second run of the same extract waits and
then reuses the first one's table. DDL is transactional: a table is dropped and created again in
one transaction, and readers see the old table or the new one, never none. Waits end after
``lock_timeout`` with an error.
"""

from __future__ import annotations

import contextlib
import urllib.parse
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from modelyard.errors import DeploymentError, Position, WarehouseError
from modelyard.warehouse.duckdb_warehouse import (
    SqlError,
    check_filter,
    extract_cache_key,
    is_numeric,
    place,
    quote,
    sync_seed_files,
    tables_read,
)

SEED_SCHEMA = "public"
_META = [
    "CREATE SCHEMA IF NOT EXISTS _modelyard",
    "CREATE SCHEMA IF NOT EXISTS extracts",
    "CREATE TABLE IF NOT EXISTS _modelyard.seeds (table_name TEXT PRIMARY KEY, file TEXT, size BIGINT, "
    "mtime_ns BIGINT, sha256 TEXT)",
    "CREATE TABLE IF NOT EXISTS _modelyard.extracts (table_name TEXT PRIMARY KEY, cache_key TEXT, "
    "row_count BIGINT, built_at TIMESTAMP)",
]
_LOCK_TIMEOUT = "55P03"  # SQLSTATE lock_not_available: lock_timeout ran out


class UnreachableWarehouse(WarehouseError, DeploymentError):
    """The server refused the connection or the password: a retry of the same task cannot help."""


def open_warehouse(config: dict, *, read_only: bool = False, lock_timeout: float = 60.0) -> PostgresWarehouse:
    return PostgresWarehouse(config, read_only=read_only, lock_timeout=lock_timeout)


def held(config: dict) -> contextlib.AbstractContextManager[None]:
    """Each use still opens its own connection: a server takes many, and a run's nodes write with
    advisory locks held per transaction or per build, not per connection."""
    return contextlib.nullcontext()


def split(table: str) -> tuple[str, str]:
    """(schema, name) as stored: lower case, seeds in ``public``."""
    schema, _, name = table.lower().rpartition(".")
    return schema or SEED_SCHEMA, name


def pg_name(table: str) -> str:
    return ".".join(quote(part) for part in split(table))


def _details(exc: Exception) -> dict[str, str]:
    """libpq's error fields (``PG_DIAG_*``) that ADBC attaches to an error."""
    out = {}
    for key, value in getattr(exc, "details", None) or []:
        key = key.decode() if isinstance(key, bytes) else key
        out[key] = value.decode(errors="replace") if isinstance(value, bytes) else str(value)
    return out


def sql_error(exc: Exception, statement: str, query_start: int) -> SqlError:
    """PostgreSQL's error for ``statement``, placed in the query that starts at its character
    ``query_start`` (PostgreSQL gives a 1-based character position)."""
    info = _details(exc)
    message = info.get("PG_DIAG_MESSAGE_PRIMARY") or str(exc).splitlines()[0]
    if info.get("PG_DIAG_MESSAGE_HINT"):
        message += f" (hint: {info['PG_DIAG_MESSAGE_HINT']})"
    state = info.get("PG_DIAG_SQLSTATE", "")
    line = col = 0
    if info.get("PG_DIAG_STATEMENT_POSITION", "").isdigit():
        line, col = place(statement, query_start, int(info["PG_DIAG_STATEMENT_POSITION"]) - 1)
    # class 42: syntax errors (42601) and names that do not resolve
    kind = "parser" if state == "42601" else "binder" if state.startswith("42") else "postgres"
    return SqlError(f"PostgreSQL Error: {message}", kind, line, col)


def to_frame(table):
    """An Arrow table from PostgreSQL as the DataFrame DuckDB's ``.df()`` gives: ``numeric``
    (which the driver hands over as text) becomes DOUBLE, as DuckDB's DECIMAL does in ``.df()``."""
    import duckdb

    columns = [
        f"CAST({quote(f.name)} AS DOUBLE) AS {quote(f.name)}" if _pg_type(f) == "numeric" else quote(f.name)
        for f in table.schema
    ]
    with duckdb.connect() as con:
        con.register("arrow_rows", table)
        return con.execute(f"SELECT {', '.join(columns) or '*'} FROM arrow_rows").df()


def _pg_type(field) -> str:
    return (field.metadata or {}).get(b"POSTGRESQL:type", b"").decode()


def _ingestible(frame):
    """``frame`` as Arrow for ``adbc_ingest``; a column of only missing values (Arrow's null type,
    which has no PostgreSQL type) becomes text."""
    import pyarrow as pa

    table = pa.Table.from_pandas(frame, preserve_index=False)
    fields = [pa.field(f.name, pa.string() if pa.types.is_null(f.type) else f.type) for f in table.schema]
    return table.cast(pa.schema(fields))


class PostgresWarehouse:
    """A connection to a PostgreSQL database; use as a context manager. ``config``: the target's
    resolved ``warehouse`` keys (host, port, dbname, user, password; ``password_env``/``conn_id``
    name where the password comes from, for messages)."""

    def __init__(self, config: dict, *, read_only: bool = False, lock_timeout: float = 60.0):
        self.config = config
        self.read_only = read_only
        self.lock_timeout = lock_timeout
        self.con = None
        self._depth = 0

    # ---------------------------------------------------------------- connection
    def _uri(self) -> str:
        c = self.config
        user = urllib.parse.quote(str(c.get("user", "")), safe="")
        password = urllib.parse.quote(str(c["password"]), safe="") if c.get("password") else ""
        auth = f"{user}:{password}@" if password else f"{user}@" if user else ""
        where = f"{c.get('host', 'localhost')}:{c.get('port', 5432)}"
        return f"postgresql://{auth}{where}/{urllib.parse.quote(str(c.get('dbname', '')), safe='')}"

    def describe(self) -> str:
        c = self.config
        return (
            f"PostgreSQL {c.get('user', '')}@{c.get('host', 'localhost')}:{c.get('port', 5432)}/{c.get('dbname', '')}"
        )

    def __enter__(self) -> PostgresWarehouse:
        import adbc_driver_manager
        import adbc_driver_postgresql.dbapi as pg

        try:
            self.con = pg.connect(self._uri(), autocommit=True)
        except adbc_driver_manager.Error as exc:
            raise self._connect_error(exc) from None
        self._run(f"SET lock_timeout = '{int(self.lock_timeout * 1000)}ms'")
        if self.read_only:
            self._run("SET default_transaction_read_only = on")
        else:
            with self.transaction():
                self._lock("_modelyard")  # CREATE ... IF NOT EXISTS races with itself
                for statement in _META:
                    self._run(statement)
        return self

    def _connect_error(self, exc: Exception) -> UnreachableWarehouse:
        text = str(exc).split("Failed to connect: ", 1)[-1].strip()
        target = self.config.get("target", "?")
        password = self.config.get("password_env", "PGPASSWORD")
        if "password" in text.lower() or "authentication" in text.lower():
            hint = f"set the environment variable {password} to the password of user {self.config.get('user')!r}" + (
                f" (in Airflow: the password of connection {self.config['conn_id']!r})"
                if self.config.get("conn_id")
                else ""
            )
        else:
            hint = (
                f"start the server, or correct host, port and dbname under targets.{target}.warehouse in modelyard.yaml"
                + (f" (in Airflow: connection {self.config['conn_id']!r})" if self.config.get("conn_id") else "")
            )
        first = " ".join(line.strip() for line in text.splitlines() if line.strip())
        return UnreachableWarehouse(f"target {target!r}: cannot connect to {self.describe()}: {first}", hint=hint)

    def __exit__(self, *exc_info) -> None:
        if self.con is not None:
            self.con.close()
            self.con = None

    def _cursor(self):
        return self.con.cursor()

    def _run(self, sql: str, params: tuple | list | None = None) -> None:
        with contextlib.closing(self._cursor()) as cur:
            self._execute(cur, sql, params)

    def _rows(self, sql: str, params: tuple | list | None = None) -> list[tuple]:
        with contextlib.closing(self._cursor()) as cur:
            self._execute(cur, sql, params)
            return cur.fetchall()

    def _arrow(self, sql: str, params: tuple | list | None = None):
        with contextlib.closing(self._cursor()) as cur:
            self._execute(cur, sql, params)
            return cur.fetch_arrow_table()

    def _execute(self, cur, sql: str, params) -> None:
        import adbc_driver_manager

        try:
            cur.execute(sql, params) if params else cur.execute(sql)
        except adbc_driver_manager.Error as exc:
            if _details(exc).get("PG_DIAG_SQLSTATE") == _LOCK_TIMEOUT:
                raise WarehouseError(
                    f"{self.describe()}: another modelyard run held a table lock for over {self.lock_timeout:.0f}s",
                    hint="wait for the other run to finish, or raise the target's warehouse.lock_timeout_seconds",
                ) from None
            raise

    @contextlib.contextmanager
    def transaction(self) -> Iterator[None]:
        """Re-entrant: only the outermost one begins and commits."""
        if self._depth:
            self._depth += 1
            try:
                yield
            finally:
                self._depth -= 1
            return
        self._run("BEGIN")
        self._depth = 1
        try:
            yield
        except BaseException:
            self._depth = 0
            self._run("ROLLBACK")
            raise
        self._depth = 0
        self._run("COMMIT")

    def _lock(self, name: str) -> None:
        """Until the transaction ends, no other run writes ``name``."""
        self._run("SELECT pg_advisory_xact_lock(hashtextextended($1, 0))", ("modelyard:" + name.lower(),))

    @contextlib.contextmanager
    def building(self, table: str) -> Iterator[None]:
        key = ("modelyard:" + table.lower(),)
        self._run("SELECT pg_advisory_lock(hashtextextended($1, 0))", key)
        try:
            yield
        finally:
            if self.con is not None:
                self._run("SELECT pg_advisory_unlock(hashtextextended($1, 0))", key)

    # ---------------------------------------------------------------- seeds
    def sync_seeds(self, data_dir: Path, options: dict | None = None, only: set[str] | None = None) -> list[str]:
        return sync_seed_files(self, data_dir, options, only)

    def _known_seeds(self) -> dict[str, tuple]:
        return {
            row[0]: row[1:]
            for row in self._rows("SELECT table_name, file, size, mtime_ns, sha256 FROM _modelyard.seeds")
        }

    def _drop_seed(self, name: str) -> None:
        with self.transaction():
            self._lock(name)
            self._run(f"DROP TABLE IF EXISTS {pg_name(name)}")
            self._run("DELETE FROM _modelyard.seeds WHERE table_name = $1", (name,))

    def _touch_seed(self, name: str, stat) -> None:
        self._run(
            "UPDATE _modelyard.seeds SET size = $1, mtime_ns = $2 WHERE table_name = $3",
            (stat.st_size, stat.st_mtime_ns, name),
        )

    def _load_seed(self, name: str, reader: str, file: Path, stat, sha: Callable[[], str]) -> None:
        import adbc_driver_manager
        import duckdb

        try:
            with self.transaction(), duckdb.connect() as local:
                self._lock(name)
                row = self._rows(
                    "SELECT file, size, mtime_ns, sha256 FROM _modelyard.seeds WHERE table_name = $1", (name,)
                )
                if row and row[0] == (file.name, stat.st_size, stat.st_mtime_ns, sha()):
                    return  # a concurrent run loaded this very file while we waited for the lock
                batches = local.sql(f"SELECT * FROM {reader}").to_arrow_reader(1 << 17)
                self._run(f"DROP TABLE IF EXISTS {pg_name(name)}")
                with contextlib.closing(self._cursor()) as cur:
                    cur.adbc_ingest(name.lower(), batches, mode="create", db_schema_name=SEED_SCHEMA)
                self._run(
                    "INSERT INTO _modelyard.seeds VALUES ($1, $2, $3, $4, $5) ON CONFLICT (table_name) DO UPDATE "
                    "SET file = EXCLUDED.file, size = EXCLUDED.size, mtime_ns = EXCLUDED.mtime_ns, sha256 = EXCLUDED.sha256",
                    (name, file.name, stat.st_size, stat.st_mtime_ns, sha()),
                )
        except (duckdb.Error, adbc_driver_manager.Error) as exc:
            message = " ".join(str(exc).split("\n\n")[0].split())
            raise WarehouseError(
                f"cannot load seed file: {message}", Position(f"{file.parent.name}/{file.name}")
            ) from None

    # ---------------------------------------------------------------- extracts and their cache
    def has_table(self, table: str) -> bool:
        return bool(
            self._rows(
                "SELECT count(*) FROM information_schema.tables WHERE table_schema = $1 AND table_name = $2",
                split(table),
            )[0][0]
        )

    def fingerprint(self, schema: str, name: str) -> str | None:
        """What identifies a table's content: a seed's file hash or an extract's cache key."""
        if schema.lower() in ("", "main", SEED_SCHEMA):
            row = self._rows("SELECT sha256 FROM _modelyard.seeds WHERE lower(table_name) = lower($1)", (name,))
            return "seed:" + row[0][0] if row else None
        if schema.lower() == "extracts":
            row = self._rows(
                "SELECT cache_key FROM _modelyard.extracts WHERE table_name = $1", (f"extracts.{name.lower()}",)
            )
            return "extract:" + row[0][0] if row and row[0][0] else None
        return None

    def _tables_read(self, sql: str):
        """What ``sql`` reads, by DuckDB's parser (the dialects share what matters here: names)."""
        import duckdb

        with duckdb.connect() as con:
            return tables_read(con, sql)

    def source_tables(self, sql: str) -> list[tuple[str, str]] | None:
        read = self._tables_read(sql)
        return None if read is None or read[1] else read[0]

    def seeds_read(self, sql: str) -> set[str] | None:
        read = self._tables_read(sql)
        if read is None:
            return None  # a PostgreSQL-only construct: load every seed rather than guess
        return {name for schema, name in read[0] if schema.lower() in ("", "main", SEED_SCHEMA)}

    def cache_key(self, node_hash: str, sql: str) -> str | None:
        read = self._tables_read(sql)
        return extract_cache_key(node_hash, None if read is None or read[1] else read[0], self.fingerprint)

    def cached_rows(self, table: str, cache_key: str | None) -> int | None:
        if cache_key is None or not self.has_table(table):
            return None
        row = self._rows("SELECT cache_key, row_count FROM _modelyard.extracts WHERE table_name = $1", (table.lower(),))
        return row[0][1] if row and row[0][0] == cache_key else None

    def materialize(self, table: str, sql: str, cache_key: str | None) -> int:
        import adbc_driver_manager

        statement = f"CREATE TABLE {pg_name(table)} AS "
        with self.transaction():
            self._lock(table)
            self._run(f"DROP TABLE IF EXISTS {pg_name(table)}")
            with contextlib.closing(self._cursor()) as cur:
                try:
                    self._execute(cur, statement + sql, None)
                except adbc_driver_manager.Error as exc:
                    raise sql_error(exc, statement + sql, len(statement)) from None
                rows = cur.rowcount
            self._run(
                "INSERT INTO _modelyard.extracts VALUES ($1, $2, $3, now()) ON CONFLICT (table_name) DO UPDATE "
                "SET cache_key = EXCLUDED.cache_key, row_count = EXCLUDED.row_count, built_at = EXCLUDED.built_at",
                (table.lower(), cache_key or "", rows),
            )
        return rows

    def table_version(self, table: str) -> tuple | None:
        if not self.has_table("_modelyard.extracts"):
            return None
        row = self._rows("SELECT cache_key, built_at FROM _modelyard.extracts WHERE table_name = $1", (table.lower(),))
        return tuple(row[0]) if row else None

    # ---------------------------------------------------------------- reading
    def _require(self, table: str) -> None:
        if not self.has_table(table):
            raise WarehouseError(
                f"table {table} does not exist in the warehouse ({self.describe()})",
                hint="run the workflow's extracts first",
            )

    def read_table(self, table: str):
        self._require(table)
        return to_frame(self._arrow(f"SELECT * FROM {pg_name(table)}"))

    def row_count(self, table: str) -> int:
        return int(self._rows(f"SELECT count(*) FROM {pg_name(table)}")[0][0])

    def column_types(self, table: str) -> dict[str, str]:
        import duckdb

        self._require(table)
        empty = self._arrow(f"SELECT * FROM {pg_name(table)} LIMIT 0")
        with duckdb.connect() as con:
            con.register("arrow_rows", empty)
            return {
                f.name: "DOUBLE" if _pg_type(f) == "numeric" else kind
                for f, (_, kind, *_) in zip(
                    empty.schema, con.execute("DESCRIBE SELECT * FROM arrow_rows").fetchall(), strict=True
                )
            }

    def sorted_times(self, table: str, column: str):
        times = self._arrow(
            f"SELECT CAST({quote(column)} AS TIMESTAMP) AS t FROM {pg_name(table)} "
            f"WHERE {quote(column)} IS NOT NULL ORDER BY 1"
        )
        return to_frame(times)["t"].to_numpy().astype("datetime64[us]")

    def snapshot(self, copies: dict[str, tuple[str, list]]):
        """The rows are filtered in the local DuckDB (the filters are DuckDB SQL)."""
        import duckdb

        con = duckdb.connect()
        try:
            with self:
                for table, (where, params) in copies.items():
                    self._require(table)
                    con.register("arrow_rows", self._arrow(f"SELECT * FROM {pg_name(table)}"))
                    schema, _, name = table.rpartition(".")
                    if schema:
                        con.execute(f"CREATE SCHEMA IF NOT EXISTS {quote(schema)}")
                    target = ".".join(quote(p) for p in (schema, name) if p)
                    con.execute(f"CREATE TABLE {target} AS SELECT * FROM arrow_rows WHERE {where}", params)
                    con.unregister("arrow_rows")
        except BaseException:
            con.close()
            raise
        return con

    def profile(self, table: str):
        import duckdb

        rows = to_frame(self._arrow(f"SELECT * FROM {pg_name(table)}"))
        with duckdb.connect() as con:
            con.register("frame_rows", rows)
            return con.execute("SUMMARIZE SELECT * FROM frame_rows").df()

    def page(self, table: str, where: str, page: int, size: int) -> tuple[list[str], Any, int]:
        import adbc_driver_manager

        condition = check_filter(where)
        columns = self.column_types(table)
        select = ", ".join(
            quote(name) if is_numeric(kind) else f"CAST({quote(name)} AS TEXT) AS {quote(name)}"
            for name, kind in columns.items()
        )
        try:
            total = self._rows(f"SELECT count(*) FROM {pg_name(table)} {condition}")[0][0]
            frame = to_frame(
                self._arrow(
                    f"SELECT {select} FROM {pg_name(table)} {condition} LIMIT $1 OFFSET $2", (size, page * size)
                )
            )
        except adbc_driver_manager.Error as exc:
            raise WarehouseError(f"filter {where.strip()!r}: {str(exc).splitlines()[0]}") from None
        return list(columns), frame, int(total)

    def tables(self) -> list[str]:
        rows = self._rows(
            "SELECT table_schema, table_name FROM information_schema.tables WHERE table_schema NOT IN "
            "('_modelyard', 'pg_catalog', 'information_schema') AND table_schema NOT LIKE 'pg_temp%' ORDER BY 1, 2"
        )
        return [name if schema == SEED_SCHEMA else f"{schema}.{name}" for schema, name in rows]

    # ---------------------------------------------------------------- writing result tables
    def _ingest(self, table: str, arrow, *, temporary: bool = False) -> None:
        with contextlib.closing(self._cursor()) as cur:
            if temporary:
                cur.adbc_ingest(table, arrow, mode="create", temporary=True)
            else:
                schema, name = split(table)
                cur.adbc_ingest(name, arrow, mode="create", db_schema_name=schema)

    def _create_schema(self, table: str) -> None:
        schema, _ = split(table)
        self._lock("schema:" + schema)
        self._run(f"CREATE SCHEMA IF NOT EXISTS {quote(schema)}")

    def write_dataframe(self, table: str, frame) -> None:
        with self.transaction():
            self._create_schema(table)
            self._lock(table)
            self._run(f"DROP TABLE IF EXISTS {pg_name(table)}")
            self._ingest(table, _ingestible(frame))

    def replace_rows(self, table: str, frame, where: dict[str, Any]) -> None:
        with self.transaction():
            self._create_schema(table)
            self._lock(table)
            if not self.has_table(table):
                self._ingest(table, _ingestible(frame))
                return
            schema, name = split(table)
            existing = {
                row[0]
                for row in self._rows(
                    "SELECT column_name FROM information_schema.columns WHERE table_schema = $1 AND table_name = $2",
                    (schema, name),
                )
            }
            self._run("DROP TABLE IF EXISTS _modelyard_rows")
            self._ingest("_modelyard_rows", _ingestible(frame), temporary=True)
            incoming = self._rows(
                "SELECT attname, format_type(atttypid, atttypmod) FROM pg_attribute "
                "WHERE attrelid = 'pg_temp._modelyard_rows'::regclass AND attnum > 0 AND NOT attisdropped ORDER BY attnum"
            )
            for column, kind in incoming:
                if column not in existing:
                    self._run(f"ALTER TABLE {pg_name(table)} ADD COLUMN {quote(column)} {kind}")
            condition = " AND ".join(f"{quote(column)} = ${i}" for i, column in enumerate(where, 1)) or "true"
            self._run(f"DELETE FROM {pg_name(table)} WHERE {condition}", list(where.values()))
            names = ", ".join(quote(column) for column, _ in incoming)
            self._run(f"INSERT INTO {pg_name(table)} ({names}) SELECT {names} FROM _modelyard_rows")
            self._run("DROP TABLE _modelyard_rows")
