"""Seeding and extracting 1,000,000 rows into PostgreSQL: modelyard's warehouse against a
hand-written psycopg ``COPY``.

Both sides load the same generated CSV (id, date, category, x_0, x_1, x_2, y) into a fresh
database and build the same extract with ``CREATE TABLE ... AS``:

- modelyard: ``PostgresWarehouse.sync_seeds`` (DuckDB reads the file in-process with the seed's
  reader, its Arrow batches stream into a binary ``COPY`` via ADBC, the file is hashed meanwhile,
  and its record is written in the same transaction) then ``materialize`` (the extract and its
  cache record, in one transaction under an advisory lock);
- by hand: ``CREATE TABLE`` with the column types written out, ``COPY ... FROM STDIN (FORMAT csv)``
  fed with the file by psycopg 3, then the same ``CREATE TABLE ... AS``.

Both sides start in a process that has imported their client libraries (psycopg; ADBC, DuckDB,
pyarrow: about 0.5 s more on a cold start, paid once per task). Both results are checked equal (row count and a checksum over every column) before a time is kept.
Prints the median wall time of each side and the ratio modelyard / by hand (goal: at most 1.3x).
A throwaway PostgreSQL server is started (``tests/servers.py``) unless ``--dsn`` names one.

    python benchmarks/postgres_bench.py [--rows 1000000] [--repeat 3] [--dsn "host=... dbname=..."]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
EXTRACT_SQL = (
    "SELECT id, date, category, x_0, x_1, x_2, y, x_0 * x_1 AS x_01 FROM sample_data WHERE category <> 'c' ORDER BY id"
)
CHECKSUM = (
    "SELECT count(*), md5(string_agg(concat_ws('|', id, date, category, x_0, x_1, x_2, y, x_01), ',' ORDER BY id)) "
    "FROM {table}"
)
HAND_TABLE = (
    "CREATE TABLE sample_data (id BIGINT, date DATE, category TEXT, x_0 DOUBLE PRECISION, "
    "x_1 DOUBLE PRECISION, x_2 DOUBLE PRECISION, y DOUBLE PRECISION)"
)


def generate_csv(path: Path, rows: int) -> None:
    import duckdb

    with duckdb.connect() as con:
        con.execute(
            f"""COPY (
                SELECT range AS id, DATE '2020-01-01' + CAST(range % 1500 AS INTEGER) AS date,
                       chr(97 + CAST(range % 5 AS INTEGER)) AS category,
                       round(random() * 2 - 1, 6) AS x_0, round(random() * 2 - 1, 6) AS x_1,
                       round(random() * 2 - 1, 6) AS x_2, round(random() * 10, 6) AS y
                FROM range({rows})) TO '{path}' (HEADER, DELIMITER ',')"""
        )


def new_database(dsn: str) -> str:
    import psycopg

    name = "bench_" + uuid.uuid4().hex[:10]
    with psycopg.connect(dsn, autocommit=True) as con:
        con.execute(f"CREATE DATABASE {name}")
    return name


def with_db(dsn: str, dbname: str) -> str:
    return " ".join(part for part in dsn.split() if not part.startswith("dbname=")) + f" dbname={dbname}"


def by_hand(dsn: str, csv: Path) -> tuple[float, tuple]:
    import psycopg

    started = time.perf_counter()
    with psycopg.connect(dsn) as con:
        con.execute(HAND_TABLE)
        with con.cursor().copy("COPY sample_data FROM STDIN (FORMAT csv, HEADER)") as copy, csv.open("rb") as f:
            while block := f.read(1 << 20):
                copy.write(block)
        con.execute("CREATE SCHEMA extracts")
        con.execute(f"CREATE TABLE extracts.bench AS {EXTRACT_SQL}")
        con.commit()
    seconds = time.perf_counter() - started
    with psycopg.connect(dsn) as con:
        return seconds, con.execute(CHECKSUM.format(table="extracts.bench")).fetchone()


def through_modelyard(config: dict, data_dir: Path) -> tuple[float, tuple, int]:
    import adbc_driver_postgresql.dbapi  # noqa: F401  (both sides start with their clients imported)
    import duckdb  # noqa: F401
    import psycopg

    from modelyard.warehouse import open_warehouse

    started = time.perf_counter()
    with open_warehouse("postgres", config) as wh:
        wh.sync_seeds(data_dir, {}, only=wh.seeds_read(EXTRACT_SQL))
        rows = wh.materialize("extracts.bench", EXTRACT_SQL, wh.cache_key("bench", EXTRACT_SQL))
    seconds = time.perf_counter() - started
    dsn = " ".join(f"{k}={v}" for k, v in config.items() if k in ("host", "port", "user", "password", "dbname"))
    with psycopg.connect(dsn) as con:
        return seconds, con.execute(CHECKSUM.format(table="extracts.bench")).fetchone(), rows


def parse_dsn(dsn: str) -> dict:
    return dict(part.split("=", 1) for part in dsn.split())


def bench(dsn: str, rows: int, repeat: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        data_dir = Path(tmp) / "data"
        data_dir.mkdir()
        csv = data_dir / "sample_data.csv"
        generate_csv(csv, rows)
        print(f"{rows:,} rows, {csv.stat().st_size / 1e6:.0f} MB CSV; median of {repeat}")
        hand, mine = [], []
        for _ in range(repeat):
            seconds, expected = by_hand(with_db(dsn, new_database(dsn)), csv)
            hand.append(seconds)
            config = parse_dsn(with_db(dsn, new_database(dsn)))
            seconds, checksum, built = through_modelyard(config, data_dir)
            if checksum != expected or built != expected[0]:
                sys.exit(f"the tables differ: modelyard {checksum} ({built} rows), by hand {expected}")
            mine.append(seconds)
    h, m = statistics.median(hand), statistics.median(mine)
    print(f"by hand (psycopg COPY + CREATE TABLE AS): {h:.2f} s")
    print(f"modelyard (sync_seeds + materialize):     {m:.2f} s")
    print(
        f"ratio modelyard / by hand: {m / h:.2f}x (goal <= 1.3x); tables equal: {expected[0]:,} rows, md5 {expected[1]}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--dsn", help="libpq key=value string of a database whose user may CREATE DATABASE")
    args = parser.parse_args()
    sys.path.insert(0, str(ROOT / "tooling"))
    if args.dsn:
        bench(args.dsn, args.rows, args.repeat)
        return
    sys.path.insert(0, str(ROOT / "tests"))
    import servers

    with servers.postgres() as server:
        bench(server.dsn, args.rows, args.repeat)


if __name__ == "__main__":
    main()
