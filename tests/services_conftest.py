"""pytest plugin: real servers as session fixtures (loaded by ``pytest_plugins`` in conftest.py).

Each fixture starts its server the first time a test asks for it and stops it at the end of the
session; a session (or xdist worker) whose tests don't ask starts nothing. Under ``-n 2`` each
worker gets its own servers (why: see ``servers.py``). A server that can't start fails the tests
that need it rather than skipping them: a missing PostgreSQL or ``weed`` must not pass unnoticed.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
import servers


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[servers.PostgresServer]:
    """A throwaway PostgreSQL cluster on 127.0.0.1: ``.host .port .user .password .dbname``,
    ``.dsn`` (libpq string), ``.url`` (postgresql://), ``.as_dict()``. The user owns the database
    and is not a superuser (``.superuser`` is, with the same password)."""
    with servers.postgres() as server:
        yield server


@pytest.fixture(scope="session")
def s3_server() -> Iterator[servers.S3Server]:
    """SeaweedFS S3 on 127.0.0.1 with authentication on: ``.endpoint_url .access_key .secret_key
    .bucket`` (the bucket exists) and ``.storage_options()`` for s3fs/fsspec."""
    with servers.seaweedfs_s3() as server:
        yield server


@pytest.fixture(scope="session")
def airflow_database(postgres_server, tmp_path_factory) -> Iterator[Callable[[str], str]]:
    """``airflow_database(name)`` creates database ``name`` on ``postgres_server`` holding Airflow's
    migrated schema and returns its postgresql:// URL; start the cluster on it with
    ``AirflowCluster(..., migrate=False)``. ``airflow db migrate`` runs once per session (per
    xdist worker), into a template database that each call copies: a copy takes well under a
    second, a migration ten seconds or more. Each cluster still gets a database of its own."""
    import psycopg2
    from airflow_cluster import migrate_database

    def url(dbname: str) -> str:
        return postgres_server.url.rsplit("/", 1)[0] + f"/{dbname}"

    template = "airflow_migrated_template"
    admin = psycopg2.connect(postgres_server.dsn)
    admin.autocommit = True  # CREATE DATABASE cannot run inside a transaction
    with admin.cursor() as cur:
        cur.execute(f'CREATE DATABASE "{template}"')
    migrate_database(url(template), tmp_path_factory.mktemp("airflow-migrate-home"))

    def create(name: str) -> str:
        # Copying needs the template free of sessions: migrate_database's process has exited.
        with admin.cursor() as cur:
            cur.execute(f'CREATE DATABASE "{name}" TEMPLATE "{template}"')
        return url(name)

    yield create
    admin.close()
