"""Files that other processes read while we write them: atomic replacement and advisory locks.

One home for both, so every writer (store, run folders, reports, editor schemas, publish) gets the
same guarantee: a reader sees the old bytes or the new ones, never half.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path


@contextlib.contextmanager
def locked(folder: Path) -> Iterator[None]:
    """Hold an exclusive lock on ``folder/.lock`` (created if needed) for the duration."""
    folder.mkdir(parents=True, exist_ok=True)
    with open(folder / ".lock", "a") as handle:  # "a": taking the lock changes no byte, not even mtime
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def write_atomic(path: Path, data: bytes) -> None:
    """Write to a temporary sibling, fsync, then rename over ``path``."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex}.tmp")
    try:
        with open(tmp, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


@contextlib.contextmanager
def new_folder(out: Path) -> Iterator[Path]:
    """A folder that appears whole at ``out`` or not at all: yields a temporary sibling to fill,
    renamed to ``out`` when the block succeeds, removed when it fails.

    ``out`` must not exist or be an empty folder: a folder with content is never overwritten."""
    if out.exists() and (not out.is_dir() or any(out.iterdir())):
        raise FileExistsError(17, "exists and is not an empty folder: choose a new one", str(out))
    out.parent.mkdir(parents=True, exist_ok=True)
    staging = out.with_name(f".{out.name}.{uuid.uuid4().hex}.tmp")
    try:
        yield staging
        if out.is_dir():
            out.rmdir()  # empty (checked above); fails rather than lose files written there since
        os.rename(staging, out)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
