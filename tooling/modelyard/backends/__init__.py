"""Backends turn the IR into files for an orchestrator. A backend is a module with ``NAME`` and
``render(document) -> {relative path: bytes}``: a pure function (same IR in, same bytes out).
Adding one is adding a module and a line in ``BACKENDS``.
"""

from __future__ import annotations

import importlib
import os
import shutil
import uuid
from pathlib import Path
from typing import Protocol

from modelyard import ir
from modelyard.errors import ModelyardError


class Backend(Protocol):
    NAME: str

    def render(self, document: ir.Document) -> dict[str, bytes]: ...


BACKENDS = {
    "ir": "modelyard.backends.ir_json",
    "airflow": "modelyard.backends.airflow",
}


def get_backend(name: str) -> Backend:
    if name not in BACKENDS:
        raise ModelyardError(f"unknown backend {name!r}; choose one of {', '.join(sorted(BACKENDS))}")
    return importlib.import_module(BACKENDS[name])


def render(name: str, document: ir.Document) -> dict[str, bytes]:
    return get_backend(name).render(document)


def replace_folder(out: Path, files: dict[str, bytes]) -> None:
    """Write ``files`` into a fresh sibling folder, then swap it in for ``out``."""
    out = Path(out)
    staging = out.parent / f".{out.name}.{uuid.uuid4().hex}.tmp"
    old = out.parent / f".{out.name}.{uuid.uuid4().hex}.old"
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        for name, data in files.items():
            path = staging / name
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(data)
        staging.mkdir(exist_ok=True)
        if out.exists():
            os.rename(out, old)
        os.rename(staging, out)
    except OSError as exc:
        raise ModelyardError(
            f"cannot write {out}: {exc.strerror or exc}", hint="choose an output folder you can write to (--out DIR)"
        ) from None
    finally:
        shutil.rmtree(staging, ignore_errors=True)
        shutil.rmtree(old, ignore_errors=True)


def write_backend(name: str, document: ir.Document, out: Path) -> list[str]:
    files = render(name, document)
    replace_folder(out, files)
    return sorted(files)
