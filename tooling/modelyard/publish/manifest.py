"""The manifest of a publish target: which workflows are published, at which content hash, made of
which files, from which commit and since when. ``publish`` writes it, ``plan`` compares against it.

Format (``manifest.json``, see docs/architecture.md)::

    {"manifest_version": 1, "backend": "airflow", "source": {"commit", "dirty"}, "published_at",
     "workflows": {id: {"hash", "kind", "source_files", "settings", "files", "commit", "published_at",
                        "nodes": {node_id: {"hash", "hash_parts"}}}}}

A workflow's ``commit`` and ``published_at`` say when its content last changed: they carry over from
the previous manifest while its hash stays the same, so republishing the same commit changes no byte.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from modelyard import ir
from modelyard.errors import ModelyardError

MANIFEST_VERSION = 1
MANIFEST_FILE = "manifest.json"
IR_FILE = "ir.json"
CURRENT = "current"  # a publish target's live set: <target>/current/ (see ``publish``)

Manifest = dict[str, Any]


def _workflow_entry(workflow: ir.Workflow) -> dict[str, Any]:
    return {
        "hash": workflow.hash,
        "kind": workflow.kind,
        "source_files": list(workflow.source_files),
        "settings": workflow.settings,
        "nodes": {n.id: {"hash": n.hash, "hash_parts": n.hash_parts} for n in workflow.nodes},
    }


def from_document(document: ir.Document) -> Manifest:
    """What a manifest says about an IR document, without publication facts (files, times)."""
    return {
        "manifest_version": MANIFEST_VERSION,
        "backend": None,
        "source": document.source,
        "published_at": None,
        "workflows": {w.id: _workflow_entry(w) for w in document.workflows},
    }


def build(
    document: ir.Document, backend: str, files: dict[str, list[str]], previous: Manifest | None, now: str
) -> Manifest:
    """The manifest for publishing ``document``; ``files`` maps workflow id -> its published files."""
    before = (previous or {}).get("workflows", {})
    workflows = {}
    for workflow in document.workflows:
        entry = {**_workflow_entry(workflow), "files": files[workflow.id]}
        old = before.get(workflow.id)
        unchanged = old is not None and old.get("hash") == workflow.hash
        entry["commit"] = old["commit"] if unchanged else document.source.get("commit")
        entry["published_at"] = old["published_at"] if unchanged else now
        workflows[workflow.id] = entry
    manifest = {
        "manifest_version": MANIFEST_VERSION,
        "backend": backend,
        "source": document.source,
        "workflows": workflows,
    }
    same = previous is not None and {k: v for k, v in previous.items() if k != "published_at"} == manifest
    manifest["published_at"] = previous["published_at"] if same else now
    return manifest


def dumps(manifest: Manifest) -> bytes:
    return (json.dumps(manifest, sort_keys=True, indent=2, ensure_ascii=False) + "\n").encode()


def read(path: Path) -> Manifest:
    """A manifest from ``manifest.json``, or the equivalent of one from a ``compile`` output's ``ir.json``."""
    try:
        text = Path(path).read_text(encoding="utf-8")
        data = json.loads(text)
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ModelyardError(
            f"{path}: cannot read: {exc}",
            hint="point --target at a publish target, a manifest.json or a compiled ir.json",
        ) from None
    if isinstance(data, dict) and "manifest_version" in data:
        if data["manifest_version"] != MANIFEST_VERSION:
            raise ModelyardError(
                f"{path}: manifest version {data['manifest_version']!r} is not supported (expected {MANIFEST_VERSION})",
                hint="upgrade modelyard",
            )
        return data
    if isinstance(data, dict) and "ir_version" in data:
        try:
            return from_document(ir.Document.loads(text))
        except (ir.GraphError, KeyError, TypeError) as exc:
            raise ModelyardError(f"{path}: not a usable IR document: {exc}", hint="recompile it") from None
    raise ModelyardError(
        f"{path}: neither a modelyard manifest nor an IR document",
        hint="point --target at a publish target, a manifest.json or a compiled ir.json",
    )


def locate(path: Path) -> Path | None:
    """The manifest (or IR) that ``path`` names: a publish target, a folder holding one, or the file."""
    path = Path(path)
    if path.is_file():
        return path
    for candidate in (path / CURRENT / MANIFEST_FILE, path / MANIFEST_FILE, path / IR_FILE):
        if candidate.is_file():
            return candidate
    return None
