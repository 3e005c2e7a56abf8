"""The ``cluster`` deployment shared by the two-worker Airflow tests and the cluster benchmark: a
target whose warehouse is on PostgreSQL and whose store and runs are on S3, and the Airflow
connections that carry the password and the keys."""

from __future__ import annotations

import json
from pathlib import Path

import psycopg2
from airflow_cluster import AirflowCluster

TARGET = "cluster"
S3_CONN = "modelyard_s3"
PG_CONN = "modelyard_pg"
WAREHOUSE_DB = "warehouse_e2e"
PREFIX = "e2e"
TRAIN = "model_linear_regression"


def settings_for_cluster(repo: Path, s3, pg) -> None:
    """A ``cluster`` target: the warehouse on PostgreSQL (password from the Airflow connection
    ``PG_CONN``, which also overrides host and port), store and runs on S3 (keys from ``S3_CONN``)."""
    text = (repo / "modelyard.yaml").read_text()
    text += f"""
targets:
  {TARGET}:
    warehouse: {{type: postgres, host: {pg.host}, port: {pg.port}, dbname: {WAREHOUSE_DB}, user: {pg.user}, conn_id: {PG_CONN}}}
    store: s3://{s3.bucket}/{PREFIX}/models
    runs: s3://{s3.bucket}/{PREFIX}/runs
    s3: {{region: {s3.region}, conn_id: {S3_CONN}}}
"""
    (repo / "modelyard.yaml").write_text(text)


def s3_connection(s3, secret: str) -> dict:
    extra = json.dumps({"endpoint_url": s3.endpoint_url})
    return {"connection_id": S3_CONN, "conn_type": "aws", "login": s3.access_key, "password": secret, "extra": extra}


def pg_connection(pg, port: int) -> dict:
    where = {"host": pg.host, "port": port, "schema": WAREHOUSE_DB}
    return {"connection_id": PG_CONN, "conn_type": "postgres", **where, "login": pg.user, "password": pg.password}


def set_connection(cluster: AirflowCluster, body: dict) -> None:
    """The connection lives in Airflow's database: workers read it over the API when a task runs."""
    try:
        cluster._request("DELETE", f"/api/v2/connections/{body['connection_id']}")
    except Exception:  # noqa: BLE001 -- absent the first time
        pass
    cluster._request("POST", "/api/v2/connections", body)


def set_s3_connection(cluster: AirflowCluster, s3, secret: str) -> None:
    set_connection(cluster, s3_connection(s3, secret))


def fresh_database(pg, name: str) -> str:
    conn = psycopg2.connect(pg.dsn)
    conn.autocommit = True  # CREATE DATABASE cannot run inside a transaction
    with conn.cursor() as cur:
        cur.execute(f'CREATE DATABASE "{name}"')
    conn.close()
    return f"postgresql://{pg.user}:{pg.password}@{pg.host}:{pg.port}/{name}"
