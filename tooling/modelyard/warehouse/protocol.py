"""What every caller of a warehouse uses: the one interface the DuckDB and PostgreSQL
implementations both provide (``WAREHOUSES`` in this package picks one by the target's type).

Tables are named ``schema.name`` (seeds: just ``name``). Frames come back as pandas DataFrames
with the dtypes DuckDB's ``.df()`` gives, whichever warehouse holds the table: a trainer sees the
same data from either.
"""

from __future__ import annotations

from contextlib import AbstractContextManager
from pathlib import Path
from typing import Any, Protocol


class Warehouse(Protocol):
    """A connection to the warehouse; use as a context manager (``with wh: ...``)."""

    def __enter__(self) -> Warehouse: ...

    def __exit__(self, *exc_info) -> None: ...

    # seeds and extracts
    def sync_seeds(self, data_dir: Path, options: dict | None = None, only: set[str] | None = None) -> list[str]:
        """(Re)load the seed files ``only`` names (all when None) that are new or changed; drop removed ones."""

    def seeds_read(self, sql: str) -> set[str] | None:
        """The seed tables ``sql`` reads; None when the warehouse cannot tell (then all are synced)."""

    def source_tables(self, sql: str) -> list[tuple[str, str]] | None:
        """The (schema, table) pairs ``sql`` reads; None when its sources cannot all be tracked."""

    def fingerprint(self, schema: str, name: str) -> str | None:
        """What identifies a table's content: a seed's file hash or an extract's cache key."""

    def cache_key(self, node_hash: str, sql: str) -> str | None:
        """The extract's hash plus the fingerprints of what ``sql`` reads; None when untracked."""

    def cached_rows(self, table: str, cache_key: str | None) -> int | None:
        """The row count of ``table`` when it was built with ``cache_key``, else None."""

    def materialize(self, table: str, sql: str, cache_key: str | None) -> int:
        """Build ``table`` from ``sql`` atomically; ``SqlError`` placed in ``sql`` when it fails."""

    def building(self, table: str) -> AbstractContextManager[None]:
        """Held while a run checks ``table``'s cache and builds it: a concurrent run of the same
        extract waits, then finds it built."""

    def table_version(self, table: str) -> tuple | None:
        """What changes whenever an extract table is rebuilt; None for other tables."""

    # reading
    def has_table(self, table: str) -> bool: ...

    def tables(self) -> list[str]: ...

    def read_table(self, table: str) -> Any:
        """The whole table as a DataFrame."""

    def row_count(self, table: str) -> int: ...

    def column_types(self, table: str) -> dict[str, str]:
        """Column name -> DuckDB type name (``DATE``, ``TIMESTAMP``, ``VARCHAR``...) of the frame it reads as."""

    def sorted_times(self, table: str, column: str) -> Any:
        """The non-null values of a date/time column as a sorted ``datetime64[us]`` array."""

    def snapshot(self, copies: dict[str, tuple[str, list]]) -> Any:
        """An in-memory DuckDB connection holding, under the same names, the rows of each table
        that its ``(where, params)`` filter (DuckDB SQL) selects. Use instead of entering."""

    def profile(self, table: str) -> Any:
        """Per column: type and summary statistics (a DataFrame shaped like DuckDB's SUMMARIZE)."""

    def page(self, table: str, where: str, page: int, size: int) -> tuple[list[str], Any, int]:
        """Column names, one page of rows (numbers as numbers, the rest as text) and the row count
        of ``table`` filtered by the SQL condition ``where``."""

    # writing result tables
    def transaction(self) -> AbstractContextManager[None]:
        """Writes inside it are committed together, or not at all."""

    def write_dataframe(self, table: str, frame) -> None:
        """Create or replace ``table`` with ``frame``'s rows and columns."""

    def replace_rows(self, table: str, frame, where: dict[str, Any]) -> None:
        """Delete the rows of ``table`` matching ``where`` (column -> value) and append ``frame``'s,
        adding the columns it lacks (earlier rows read NULL there); create it when missing."""
