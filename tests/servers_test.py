"""The server harness (servers.py, services_conftest.py) against real PostgreSQL and SeaweedFS:
real clients, real data, and the refusals that prove authentication is on."""

from __future__ import annotations

import socket

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import servers

ROWS = 100_000


def _connect(pg: servers.PostgresServer, **overrides):
    import psycopg

    return psycopg.connect(**{**pg.as_dict(), "connect_timeout": 10, **overrides})


def _accepts(host: str, port: int) -> bool:
    with socket.socket() as sock:
        sock.settimeout(1)
        return sock.connect_ex((host, port)) == 0


# ---------------------------------------------------------------------------------------- PostgreSQL


def test_psycopg_copy_100k_rows_in_and_out(postgres_server):
    with _connect(postgres_server) as conn, conn.cursor() as cur:
        cur.execute("CREATE TABLE copy_rows (id bigint PRIMARY KEY, name text, score double precision)")
        with cur.copy("COPY copy_rows (id, name, score) FROM STDIN") as copy:
            for i in range(ROWS):
                copy.write_row((i, f"row-{i}", i / 4))
        cur.execute("SELECT count(*), sum(id), max(name), sum(score) FROM copy_rows")
        assert cur.fetchone() == (ROWS, ROWS * (ROWS - 1) // 2, "row-99999", ROWS * (ROWS - 1) / 8)

        back = []
        with cur.copy("COPY (SELECT id, name, score FROM copy_rows ORDER BY id) TO STDOUT") as copy:
            copy.set_types(["int8", "text", "float8"])
            back.extend(copy.rows())
        assert len(back) == ROWS
        assert back[0] == (0, "row-0", 0.0) and back[-1] == (ROWS - 1, f"row-{ROWS - 1}", (ROWS - 1) / 4)
        assert back == [(i, f"row-{i}", i / 4) for i in range(ROWS)]
        conn.rollback()  # leave the shared session database as it was


def test_adbc_fetches_arrow_and_ingests(postgres_server):
    import adbc_driver_postgresql.dbapi as adbc

    table = pa.table({"id": pa.array(range(1000), pa.int64()), "label": pa.array([f"m{i % 7}" for i in range(1000)])})
    with adbc.connect(postgres_server.url) as conn, conn.cursor() as cur:
        cur.adbc_ingest("adbc_rows", table, mode="create")
        cur.execute("SELECT id, label FROM adbc_rows ORDER BY id")
        fetched = cur.fetch_arrow_table()
        assert fetched.schema.field("id").type == pa.int64()
        assert fetched.equals(table)
        cur.execute("SELECT label, count(*) AS n FROM adbc_rows GROUP BY label ORDER BY label")
        counts = cur.fetch_arrow_table().to_pydict()
        assert counts["label"] == [f"m{i}" for i in range(7)] and sum(counts["n"]) == 1000
        conn.rollback()


def test_postgres_listens_on_loopback_only(postgres_server):
    with _connect(postgres_server) as conn:
        assert conn.execute("SHOW listen_addresses").fetchone() == ("127.0.0.1",)
        assert conn.execute("SELECT current_user, current_database()").fetchone() == (
            postgres_server.user,
            postgres_server.dbname,
        )
        superuser = conn.execute("SELECT rolsuper FROM pg_roles WHERE rolname = current_user").fetchone()
        assert superuser == (False,)


def test_postgres_refuses_a_wrong_password(postgres_server, monkeypatch):
    import psycopg

    monkeypatch.delenv("PGPASSWORD", raising=False)  # libpq would fall back to it
    with pytest.raises(psycopg.OperationalError, match="password authentication failed"):
        _connect(postgres_server, password=postgres_server.password + "x")
    with pytest.raises(psycopg.OperationalError, match="password authentication failed"):
        _connect(postgres_server, user=postgres_server.superuser, password="wrong")
    with pytest.raises(psycopg.OperationalError, match="no password supplied"):
        _connect(postgres_server, password="")
    with _connect(postgres_server) as conn:  # the right password still works
        assert conn.execute("SELECT 1").fetchone() == (1,)


def test_postgres_context_manager_stops_and_deletes():
    with servers.postgres(dbname="other") as pg:
        assert _accepts(pg.host, pg.port)
        assert pg.data_dir.is_dir()
    assert not _accepts(pg.host, pg.port)
    assert not pg.data_dir.exists()


# ---------------------------------------------------------------------------------------- S3


def _s3(server: servers.S3Server, **overrides):
    import s3fs

    return s3fs.S3FileSystem(**{**server.storage_options(), **overrides}, skip_instance_cache=True)


def test_s3fs_writes_and_reads(s3_server):
    fs = _s3(s3_server)
    path = f"{s3_server.bucket}/harness/blob.bin"
    payload = bytes(range(256)) * 40_000  # ~10 MB: past SeaweedFS's 4 MB chunk size
    with fs.open(path, "wb") as f:
        f.write(payload)
    assert fs.cat(path) == payload
    assert fs.size(path) == len(payload)
    assert path in fs.ls(f"{s3_server.bucket}/harness", refresh=True)

    table = pa.table({"x": list(range(5000)), "y": [str(i) for i in range(5000)]})
    pq.write_table(table, f"{s3_server.bucket}/harness/t.parquet", filesystem=fs)
    assert pq.read_table(f"{s3_server.bucket}/harness/t.parquet", filesystem=fs).equals(table)
    fs.rm(path)
    assert not fs.exists(path)


def test_s3_refuses_a_wrong_secret(s3_server):
    path = f"{s3_server.bucket}/harness/secret.txt"
    _s3(s3_server).pipe(path, b"kept")
    wrong = _s3(s3_server, secret=s3_server.secret_key + "x")
    with pytest.raises(PermissionError, match="signature we calculated does not match"):
        wrong.ls(s3_server.bucket, refresh=True)
    with pytest.raises(PermissionError):
        wrong.cat(path)
    with pytest.raises(PermissionError):
        wrong.pipe(f"{s3_server.bucket}/harness/intruder.txt", b"no")
    with pytest.raises(PermissionError):
        _s3(s3_server, key="nobody", secret="nothing").cat(path)
    anonymous = _s3(s3_server, key=None, secret=None, anon=True)
    with pytest.raises(PermissionError):
        anonymous.cat(path)
    right = _s3(s3_server)
    assert right.cat(path) == b"kept"
    assert not right.exists(f"{s3_server.bucket}/harness/intruder.txt")


def test_s3_context_manager_stops_and_deletes(s3_server):
    with servers.seaweedfs_s3(bucket="second-bucket") as other:
        assert other.endpoint_url != s3_server.endpoint_url  # two servers side by side
        fs = _s3(other)
        fs.pipe("second-bucket/a.txt", b"a")
        assert fs.cat("second-bucket/a.txt") == b"a"
        port = int(other.endpoint_url.rsplit(":", 1)[1])
        assert other.data_dir.is_dir()
    assert not _accepts(servers.HOST, port)
    assert not other.data_dir.exists()
