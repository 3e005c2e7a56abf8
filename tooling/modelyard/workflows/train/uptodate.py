"""Is a train workflow up to date: would training it again store the model its latest version holds?

Yes when the latest stored version was registered by this very workflow (the IR: model file,
rendered SQL of every extract it reads, trainer code files, evaluation, settings), by this
modelyard version, from the same seed file contents, and its artifact is intact. The register node
records what this needs in the envelope's lineage (``workflow_hash``, ``inputs``); ``decide``
compares without pandas, scikit-learn or DuckDB, so a no-op ``modelyard run`` costs a fraction
of a second. Any doubt (an input the warehouse cannot fingerprint, a file changed while it was
recorded, an envelope from an older modelyard) means "not up to date": a retrain is only slower,
a wrong reuse would be a silent wrong result.

Only the latest version counts: after a change and its revert, version 1 matches again, but
``load_model`` serves the latest, so the repo's files must produce that one.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from pathlib import Path
from typing import Any

from modelyard import ir
from modelyard.engine.context import RunContext
from modelyard.errors import StoreError
from modelyard.store.models import ModelStore
from modelyard.version import __version__
from modelyard.warehouse.duckdb_warehouse import file_sha256, seed_files, seed_fingerprint
from modelyard.workflows.train.specs import Extract, Register

SEED_SCHEMAS = ("", "main")


@dataclasses.dataclass(frozen=True)
class Decision:
    up_to_date: bool
    reason: str  # why it must train (or that nothing changed)
    version: int | None = None  # the latest stored version, when there is one
    envelope: dict[str, Any] | None = None


def workflow_hash(workflow: ir.Workflow) -> str:
    """Every node's spec and hash: a change in any file the workflow reads changes it."""
    return ir.content_hash(workflow.to_json())


def lineage(wh, workflow: ir.Workflow, ctx: RunContext) -> dict[str, Any]:
    """What ``decide`` needs, recorded by the register node (warehouse open, read-only)."""
    return {"workflow_hash": workflow_hash(workflow), "inputs": _inputs(wh, workflow, ctx)}


def _inputs(wh, workflow: ir.Workflow, ctx: RunContext) -> dict[str, Any] | None:
    """The seed files the workflow's extracts read, with the content the warehouse loaded; None
    when an extract reads something without a fingerprint (a file through a table function,
    another database, a table no extract builds) or a seed file changed since it was loaded."""
    files = {file.stem.lower(): file for file in seed_files(ctx.data_dir)}
    seeds: dict[str, Any] = {}
    for node in workflow.nodes:
        if node.kind != Extract.kind:
            continue
        sources = wh.source_tables(Extract.of(node).sql)
        if sources is None:
            return None
        for schema, name in sources:
            loaded = wh.fingerprint(schema, name)
            if loaded is None:
                return None
            if schema.lower() in SEED_SCHEMAS:
                record = _seed_record(files.get(name.lower()), ctx, loaded)
                if record is None:
                    return None
                seeds[name.lower()] = record
    return {"seeds": seeds}


def _seed_record(file: Path | None, ctx: RunContext, loaded: str) -> dict[str, Any] | None:
    if file is None:
        return None
    before = file.stat()
    sha = file_sha256(file)
    after = file.stat()
    changed = (before.st_size, before.st_mtime_ns) != (after.st_size, after.st_mtime_ns)
    if changed or seed_fingerprint(sha, ctx.seed_options.get(file.stem)) != loaded:
        return None
    return {
        "file": file.name,
        "size": after.st_size,
        "mtime_ns": after.st_mtime_ns,
        "sha256": sha,
        "fingerprint": loaded,
    }


def decide(workflow: ir.Workflow, ctx: RunContext) -> Decision:
    register = next(node for node in workflow.nodes if node.kind == Register.kind)
    name = Register.of(register).canonical_name
    store = ModelStore(ctx.store_path)
    version = store.latest_version(name)
    if version is None:
        return Decision(False, f"no stored version of {name} yet")
    try:
        envelope = store.envelope(name, version)
    except StoreError as exc:  # a broken envelope: a new version replaces it
        return Decision(False, f"version {version}: {exc}", version)
    reason = _changed(workflow, ctx, envelope.get("lineage") or {}) or store.artifact_problem(name, version)
    if reason:
        return Decision(False, f"version {version}: {reason}", version, envelope)
    return Decision(True, "its files, its seed data and modelyard are unchanged", version, envelope)


def _changed(workflow: ir.Workflow, ctx: RunContext, recorded: dict[str, Any]) -> str | None:
    if ctx.refresh:
        return "--refresh rebuilds the extracts"
    if recorded.get("workflow_hash") != workflow_hash(workflow):
        return f"{', '.join(workflow.source_files)} or the settings differ from what it was trained with"
    if recorded.get("modelyard_version") != __version__:
        return f"trained by modelyard {recorded.get('modelyard_version')}, this is {__version__}"
    inputs = recorded.get("inputs")
    if inputs is None:
        return "its extracts read data modelyard cannot fingerprint, so it is always retrained"
    files = {file.stem.lower(): file for file in seed_files(ctx.data_dir)}
    for name, seed in sorted(inputs["seeds"].items()):
        file = files.get(name)
        if file is None or file.name != seed["file"]:
            return f"seed file {ctx.data_dir.name}/{seed['file']} is gone"
        if seed_fingerprint(_content_sha(file, seed), ctx.seed_options.get(file.stem)) != seed["fingerprint"]:
            return f"seed file {ctx.data_dir.name}/{file.name} or its options in modelyard.yaml changed"
    return None


def _content_sha(file: Path, seed: dict[str, Any]) -> str:
    """The file's sha256; an unchanged size and modification time keep the recorded one, as the
    warehouse does for its seed tables."""
    stat = file.stat()
    if (stat.st_size, stat.st_mtime_ns) == (seed["size"], seed["mtime_ns"]):
        return seed["sha256"]
    return file_sha256(file)


def note_reuse(ctx: RunContext, decision: Decision) -> None:
    """Say in the reused version's envelope that a run found it up to date (when, at which commit)."""
    note = {
        "at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "git_commit": ctx.source.get("commit"),
        "git_dirty": ctx.source.get("dirty"),
    }
    ModelStore(ctx.store_path).note_reuse(decision.envelope["canonical_name"], decision.version, note)
