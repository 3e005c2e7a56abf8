"""A target resolved on the machine that runs: its model store and run folders as locations (a
folder, or an ``s3://`` URL with credentials) and its warehouse's connection.

Secrets come from the environment (``AWS_ACCESS_KEY_ID``/``AWS_SECRET_ACCESS_KEY``, ``PGPASSWORD``,
or the variables a target names with ``*_env``) or, inside an Airflow task, from the Airflow
connection a target names with ``conn_id`` (``connection`` is Airflow's lookup, passed in by
``execute.task``; outside Airflow a ``conn_id`` without its variables set is an error).
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

from modelyard.errors import DeploymentError
from modelyard.fsio import is_remote, location
from modelyard.repo.targets import TargetSpec

Connection = Callable[[str], Any]  # conn_id -> an object with .login, .password, .host, ... .extra_dejson


class TargetError(DeploymentError):
    """A target cannot be reached as configured: credentials missing or refused."""


@dataclasses.dataclass(frozen=True)
class Target:
    name: str
    warehouse_type: str
    # duckdb: path, lock_timeout_seconds; postgres: connection keywords, with the password: out of reprs
    warehouse: dict[str, Any] = dataclasses.field(repr=False)
    store: Any = None  # Path or UPath
    runs: Any = None

    def check_access(self) -> None:
        """Fail at once, naming what to set, when an object store refuses us (before any node runs)."""
        for what, where in (("run folders", self.runs), ("model store", self.store)):
            if not is_remote(where):
                continue
            try:
                where.fs.ls(where.path.split("/", 1)[0])  # the bucket: one request, also when empty
            except PermissionError as exc:
                raise TargetError(
                    f"target {self.name!r}: the object store refused the credentials for the {what} at {where}: {exc}",
                    hint="set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (or the variables the target names "
                    "with s3.*_env) to a key that may read and write there; in Airflow, fix the s3.conn_id connection",
                ) from None
            except FileNotFoundError:
                raise TargetError(
                    f"target {self.name!r}: the bucket of the {what} at {where} does not exist",
                    hint="create the bucket, or correct the URL in modelyard.yaml",
                ) from None


def _secrets(spec: TargetSpec, conn_id: str | None, names: tuple[str, ...], fields: tuple[str, ...], connection):
    """The secrets named by ``fields`` of the Airflow connection inside Airflow, else the
    environment variables ``names``; with the connection, if one was read."""
    if conn_id and connection is not None:
        conn = connection(conn_id)
        return tuple(getattr(conn, f) for f in fields), conn
    values = tuple(os.environ.get(n) for n in names)
    if all(values):
        return values, None
    if conn_id:
        raise TargetError(
            f"target {spec.name!r}: conn_id {conn_id!r} is an Airflow connection, read only inside Airflow tasks",
            hint=f"here, set the environment variable(s) {' and '.join(names)}",
        )
    return (None,) * len(fields), None


def s3_options(spec: TargetSpec, connection: Connection | None = None) -> dict[str, Any]:
    """Keyword arguments of ``s3fs.S3FileSystem`` for the target's ``s3://`` URLs."""
    s3 = spec.s3
    names = (s3.get("access_key_id_env", "AWS_ACCESS_KEY_ID"), s3.get("secret_access_key_env", "AWS_SECRET_ACCESS_KEY"))
    (key, secret), conn = _secrets(spec, s3.get("conn_id"), names, ("login", "password"), connection)
    endpoint = s3.get("endpoint_url") or (conn.extra_dejson.get("endpoint_url") if conn is not None else None)
    options: dict[str, Any] = {}
    if key:
        options |= {"key": key, "secret": secret}
    if endpoint:
        options["endpoint_url"] = endpoint
    if s3.get("region"):
        options["client_kwargs"] = {"region_name": s3["region"]}
    return options


def _warehouse(spec: TargetSpec, connection: Connection | None) -> dict[str, Any]:
    config = dict(spec.warehouse)
    if spec.warehouse_type != "postgres":
        return config
    names = (config.pop("password_env", "PGPASSWORD"),)
    (password,), conn = _secrets(spec, config.pop("conn_id", None), names, ("password",), connection)
    if conn is not None:
        found = {"host": conn.host, "port": conn.port, "dbname": conn.schema, "user": conn.login}
        config |= {k: v for k, v in found.items() if v}
    if password:
        config["password"] = password
    return config


def resolve(
    spec: TargetSpec,
    root: Path,
    *,
    store: str | None = None,
    runs: str | None = None,
    connection: Connection | None = None,
) -> Target:
    """``spec`` on this machine; ``store`` and ``runs`` (a worker's environment) override it."""
    store, runs = store or spec.store, runs or spec.runs
    remote = any("://" in str(w) and not str(w).startswith("file://") for w in (store, runs))
    options = s3_options(spec, connection) if remote else {}
    return Target(
        name=spec.name,
        warehouse_type=spec.warehouse_type,
        warehouse=_warehouse(spec, connection),
        store=location(store, root, options),
        runs=location(runs, root, options),
    )
