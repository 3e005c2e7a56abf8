"""Files that other processes read while we write them: atomic replacement, create-if-absent
writes and advisory locks, on local folders and on object stores.

One home for these, so every writer (store, run folders, reports, editor schemas, publish) gets the
same guarantee: a reader sees the old bytes or the new ones, never half. A location is a ``Path``
when it is on this machine (plain folders stay as fast as ever) and a ``UPath`` (fsspec) for a URL
such as ``s3://bucket/prefix``: both answer ``/``, ``read_bytes``, ``is_file``, ``glob``.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from modelyard.errors import ModelyardError

# Object stores whose single PUT is atomic and which refuse a create-if-absent write on an
# existing key (S3's `If-None-Match: *`, honoured by AWS and by SeaweedFS, checked in the tests).
CONDITIONAL_PROTOCOLS = ("s3", "s3a")


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


def is_remote(path: Any) -> bool:
    return not isinstance(path, Path)


def location(where: str | Path, base: Path, storage_options: dict | None = None) -> Any:
    """A folder (relative to ``base``), a ``file://`` URL or an fsspec URL such as ``s3://b/p``."""
    text = str(where)
    if "://" not in text:
        return base / text
    if text.startswith("file://"):
        return Path(text.removeprefix("file://"))
    from upath import UPath

    protocol = text.split("://", 1)[0]
    if protocol not in CONDITIONAL_PROTOCOLS:
        raise ModelyardError(
            f"{text}: {protocol}:// is not supported for the model store or run folders",
            hint="use a folder, a file:// URL or an s3:// URL (S3 or an S3-compatible store)",
        )
    return UPath(text, **(storage_options or {}))


def create_exclusive(path: Any, data: bytes) -> bool:
    """Write ``path`` only if nothing is there yet, atomically against concurrent writers on any
    machine; False when it already exists. The one primitive that claims a name without rename."""
    if is_remote(path):
        try:
            path.fs.pipe_file(path.path, data, mode="create")
        except OSError:  # s3fs maps 412 PreconditionFailed to EINVAL: tell it from other failures
            if path.fs.exists(path.path):
                return False
            raise
        return True
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        with open(path, "xb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
    except FileExistsError:
        return False
    return True


def write_atomic(path: Any, data: bytes, *, durable: bool = True) -> None:
    """Write to a temporary sibling, fsync, then rename over ``path``; on an object store one PUT,
    which readers see whole or not at all (multipart uploads too: visible only when completed).
    ``durable=False`` skips the fsync (~10 ms on a busy disk): still whole or absent for readers,
    but a power loss may leave the file empty; for files only the running job reads back."""
    if is_remote(path):
        path.write_bytes(data)
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex}.tmp")
    try:
        with open(tmp, "wb") as handle:
            handle.write(data)
            if durable:
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
