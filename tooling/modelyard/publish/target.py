"""Publish compiled workflows to a target folder, all at once or not at all.

Layout of a target (e.g. an Airflow DAGs folder)::

    <target>/current -> .versions/<id>     the live set: backend files, ir.json, manifest.json,
                                           project/ (the repo files workers need: publish.bundle)
    <target>/.versions/<id>/               published sets (the live one and the one before it)
    <target>/.airflowignore                keeps Airflow from parsing .versions/ (duplicate DAGs)

A publish renders everything, writes it into a staging folder under ``.versions/``, then swaps the
``current`` symlink with one ``rename``: a reader sees the old set or the new one, never a mix, and a
publish that fails or is killed leaves the previous set live (its staging folder is removed by the
next publish). ``<id>`` is a hash of the content, so the same commit publishes the same bytes, and a
publish that would change nothing writes nothing.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import os
import shutil
import uuid
from pathlib import Path

from modelyard import backends, ir
from modelyard.errors import ModelyardError, PublishError
from modelyard.fsio import locked, write_atomic
from modelyard.publish import manifest, plan

VERSIONS = ".versions"
STAGING_PREFIX = ".staging-"
OWN_ENTRIES = {manifest.CURRENT, VERSIONS, ".lock", ".airflowignore"}
AIRFLOWIGNORE = f"{VERSIONS}/\n".encode()


@dataclasses.dataclass(frozen=True)
class Publication:
    target: Path
    version: str
    changed: bool
    plan: plan.Plan
    files: tuple[str, ...]

    def to_json(self) -> dict:
        return {
            "target": str(self.target),
            "current": str(self.target / manifest.CURRENT),
            "version": self.version,
            "changed": self.changed,
            "files": list(self.files),
            "plan": self.plan.to_json(),
        }


def check_source(root: Path, source: dict, allow_dirty: bool) -> None:
    """Refuse a publish that no commit describes, unless the user said ``--allow-dirty``."""
    from modelyard.gitinfo import dirty_files

    if allow_dirty:
        return
    if source.get("commit") is None:
        raise PublishError(
            f"refusing to publish: {root} is not a git repository with a commit, so nothing records what was published",
            hint="commit the repo first, or pass --allow-dirty",
        )
    if source.get("dirty"):
        files = dirty_files(root)
        listing = "\n".join(f"    {line}" for line in files[:20]) + ("\n    ..." if len(files) > 20 else "")
        raise PublishError(
            "refusing to publish: the working tree has uncommitted changes, so the published "
            f"workflows would match no commit:\n{listing}",
            hint="commit or stash them (or pass --allow-dirty)",
        )


def render_files(
    backend: str, document: ir.Document, project_files: dict[str, bytes] | None = None
) -> tuple[dict[str, bytes], dict[str, list[str]]]:
    """Every file to publish (the backend's, the IR, the repo files workers need), and which of
    the backend's files belong to each workflow (rendered on its own)."""
    try:
        files = dict(backends.render(backend, document))
        per_workflow = {
            w.id: sorted(backends.render(backend, ir.Document((w,), document.source))) for w in document.workflows
        }
    except ModelyardError:
        raise
    except Exception as exc:
        raise PublishError(
            f"backend {backend!r} failed: {type(exc).__name__}: {exc}",
            hint="nothing was published; the target still holds the previous set",
        ) from exc
    ir_bytes = document.dumps().encode()
    if files.setdefault(manifest.IR_FILE, ir_bytes) != ir_bytes:
        raise PublishError(f"backend {backend!r} writes its own {manifest.IR_FILE}, which would hide the IR")
    clash = sorted(set(files) & set(project_files or {}))
    if clash:
        raise PublishError(f"backend {backend!r} writes {', '.join(clash)}, where the repo files of workers go")
    files.update(project_files or {})
    return files, {wid: [f for f in names if f in files] for wid, names in per_workflow.items()}


def _is_swap_leftover(name: str) -> bool:
    return name.startswith(f".{manifest.CURRENT}-")


def _check_target(target: Path) -> None:
    if target.exists() and not target.is_dir():
        raise PublishError(f"publish target {target} is a file, not a folder", hint="choose a folder")
    current = target / manifest.CURRENT
    if current.exists() and not current.is_symlink():
        raise PublishError(
            f"{current} is not a symlink: {target} was not written by modelyard publish",
            hint="choose a new or empty folder as the publish target",
        )
    entries = sorted(p.name for p in target.iterdir()) if target.is_dir() else []
    foreign = [name for name in entries if name not in OWN_ENTRIES and not _is_swap_leftover(name)]
    if foreign:
        raise PublishError(
            f"publish target {target} holds files modelyard did not write: {', '.join(foreign[:5])}",
            hint="publish into a folder of its own (e.g. a subfolder of the DAGs folder)",
        )


def live_files(target: Path) -> dict[str, bytes]:
    current = target / manifest.CURRENT
    if not current.is_dir():
        return {}
    return {p.relative_to(current).as_posix(): p.read_bytes() for p in sorted(current.rglob("*")) if p.is_file()}


def _stage(versions: Path, files: dict[str, bytes]) -> Path:
    staging = versions / f"{STAGING_PREFIX}{uuid.uuid4().hex}"
    for name, data in sorted(files.items()):
        path = staging / name
        path.parent.mkdir(parents=True, exist_ok=True)
        with open(path, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
    return staging


def _swap(target: Path, version: str) -> None:
    link = target / f".{manifest.CURRENT}-{uuid.uuid4().hex}"
    os.symlink(f"{VERSIONS}/{version}", link)
    os.replace(link, target / manifest.CURRENT)  # rename(2): atomic
    fd = os.open(target, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _prune(versions: Path, keep: set[str]) -> None:
    """Drop staging folders of failed publishes and sets older than the one just replaced."""
    for entry in versions.iterdir():
        if entry.name not in keep:
            shutil.rmtree(entry, ignore_errors=True)


def publish(
    document: ir.Document,
    backend: str,
    target: Path,
    now: str | None = None,
    project_files: dict[str, bytes] | None = None,
) -> Publication:
    """Publish the workflows of ``document`` and ``project_files`` (see ``publish.bundle``)."""
    target = Path(target).absolute()
    _check_target(target)
    files, per_workflow = render_files(backend, document, project_files)
    target.mkdir(parents=True, exist_ok=True)
    current = target / manifest.CURRENT
    with locked(target):
        located = manifest.locate(target)
        previous = manifest.read(located) if located else None
        now = now or dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        new_manifest = manifest.build(document, backend, per_workflow, previous, now)
        files[manifest.MANIFEST_FILE] = manifest.dumps(new_manifest)
        changes = plan.diff(new_manifest, previous, str(located) if located else None)
        version = ir.content_hash({name: ir.content_hash(data) for name, data in files.items()})[:16]
        if live_files(target) == files:
            return Publication(target, version, False, changes, tuple(sorted(files)))
        for leftover in target.iterdir():
            if _is_swap_leftover(leftover.name):
                leftover.unlink()
        ignore = target / ".airflowignore"
        if not ignore.is_file() or ignore.read_bytes() != AIRFLOWIGNORE:
            write_atomic(ignore, AIRFLOWIGNORE)
        versions = target / VERSIONS
        versions.mkdir(exist_ok=True)
        replaced = Path(os.readlink(current)).name if current.is_symlink() else None
        staging = _stage(versions, files)
        if (versions / version).exists():
            shutil.rmtree(staging)
        else:
            os.rename(staging, versions / version)
        _swap(target, version)
        _prune(versions, {version, replaced})
    return Publication(target, version, True, changes, tuple(sorted(files)))
