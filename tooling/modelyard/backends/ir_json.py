"""The ``ir`` backend: the IR document itself, as ``ir.json``."""

from __future__ import annotations

from modelyard import ir

NAME = "ir"


def render(document: ir.Document) -> dict[str, bytes]:
    return {"ir.json": document.dumps().encode()}
