"""An in-memory DuckDB shaped like the warehouse, with no rows: seed tables typed from their
files (DuckDB's sniffer reads a sample, never loads the file) and extract tables typed from their
queries. Binding a query against it finds a typo or a syntax error before anything runs, without
touching the warehouse file (a running job may hold its lock)."""

from __future__ import annotations

from pathlib import Path

from modelyard.warehouse.duckdb_warehouse import SqlError, qualified, quote, seed_reader, sql_error, tables_read

Columns = list[tuple[str, str]]  # (name, SQL type)

_DESCRIBE = "DESCRIBE "


class SchemaSandbox:
    def __init__(self) -> None:
        import duckdb

        self._duckdb = duckdb
        self.con = duckdb.connect()
        self.con.execute("SET errors_as_json = true")
        self.con.execute("CREATE SCHEMA extracts")

    def close(self) -> None:
        self.con.close()

    def describe(self, sql: str) -> Columns:
        """The columns ``sql`` returns (bound, not run); ``SqlError`` placed in ``sql`` otherwise."""
        try:
            return [(row[0], row[1]) for row in self.con.execute(_DESCRIBE + sql).fetchall()]
        except self._duckdb.Error as exc:
            raise sql_error(exc, _DESCRIBE + sql, len(_DESCRIBE)) from None

    def add_table(self, table: str, columns: Columns) -> None:
        body = ", ".join(f"{quote(name)} {kind}" for name, kind in columns)
        self.con.execute(f"CREATE TABLE {qualified(table)} ({body})")

    def add_seed(self, file: Path, options: dict | None) -> Columns:
        """Seed table ``file.stem`` typed as loading the file with ``options`` would type it."""
        columns = self.describe(f"SELECT * FROM {seed_reader(file, options)}")
        self.add_table(file.stem, columns)
        return columns

    def tables_read(self, sql: str) -> list[tuple[str, str]]:
        read = tables_read(self.con, sql)
        return read[0] if read else []

    def numeric_text_columns(self, file: Path, options: dict | None, columns: Columns) -> list[tuple[str, str, int]]:
        """Text columns of a CSV seed whose values are mostly numbers: ``(column, first value that
        is not a number, its line in the file)``. One stray ``n/a`` makes DuckDB load a number
        column as text; a model would then get strings."""
        text = [name for name, kind in columns if kind == "VARCHAR"]
        if not text or file.suffix.lower() != ".csv":
            return []
        checks = []
        for name in text:
            value, bad = quote(name), f"(TRY_CAST({quote(name)} AS DOUBLE) IS NULL AND {quote(name)} IS NOT NULL)"
            checks.append(
                f"count(*) FILTER (WHERE TRY_CAST({value} AS DOUBLE) IS NOT NULL), count(*) FILTER (WHERE {bad}), "
                f"arg_min({value}, _row) FILTER (WHERE {bad}), min(_row) FILTER (WHERE {bad})"
            )
        try:
            row = self.con.execute(
                f"SELECT {', '.join(checks)} FROM "
                f"(SELECT row_number() OVER () AS _row, * FROM {seed_reader(file, options)})"
            ).fetchone()
        except self._duckdb.Error as exc:
            raise SqlError(str(exc), "io") from None
        found = []
        for i, name in enumerate(text):
            numbers, others, first, first_row = row[4 * i : 4 * i + 4]
            if others and numbers > others:
                found.append((name, first, first_row + 1))  # + the header line
        return found
