"""pytest plugin: real servers as session fixtures (loaded by ``pytest_plugins`` in conftest.py).

Each fixture starts its server the first time a test asks for it and stops it at the end of the
session; a session (or xdist worker) whose tests don't ask starts nothing. Under ``-n 2`` each
worker gets its own servers (why: see ``servers.py``). A server that can't start fails the tests
that need it rather than skipping them: a missing PostgreSQL or ``weed`` must not pass unnoticed.
"""

from __future__ import annotations

from collections.abc import Iterator

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
