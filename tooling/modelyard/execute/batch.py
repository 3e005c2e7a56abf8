"""``modelyard run``'s work: train a model unless its latest version is up to date
(``workflows.train.uptodate``), for one model file or many in one process.

Many models share one process: Python, pandas and scikit-learn are imported once, not once per
model, and an extract several models read is built by the first and reused by the others. Train
workflows do not depend on each other (each holds the extracts it reads), so they run in the order
of their files; one that fails is reported and the others go on.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from typing import Any

from modelyard.engine.context import for_settings
from modelyard.errors import ConfigError, ModelyardError
from modelyard.execute.runner import EventSink, run_workflow
from modelyard.gitinfo import changed_since
from modelyard.repo.layout import SETTINGS_FILE, workflow_id
from modelyard.repo.project import Project
from modelyard.store.models import ModelStore
from modelyard.workflows.train.build import train_workflow
from modelyard.workflows.train.specs import Extract
from modelyard.workflows.train.uptodate import decide, note_reuse

SELECTORS = {"changed-since": "models whose files (or the seeds their SQL reads) changed since a git commit"}


def train_or_reuse(
    project: Project, path: str, source: dict, *, force: bool, refresh: bool, on_event: EventSink | None = None
) -> dict[str, Any]:
    """Train the model of ``path``, or report its latest version when that is up to date."""
    workflow = train_workflow(project, project.models[path])
    ctx = for_settings(project.settings, workflow.id, refresh=refresh, source=source)
    reason = "--force retrains"
    if not force:
        if ctx.target is not None:  # the check reads the store: wrong keys are a clear error first
            ctx.target.check_access()
        decision = decide(workflow, ctx)
        if decision.up_to_date:
            note_reuse(ctx, decision)
            envelope = decision.envelope
            return {
                "workflow": workflow.id,
                "status": "up_to_date",
                "reused": True,
                "reason": decision.reason,
                "canonical_name": envelope["canonical_name"],
                "version": decision.version,
                "model_path": str(
                    ModelStore(ctx.store_path).version_path(envelope["canonical_name"], decision.version)
                ),
                "metrics": envelope["metrics"],
            }
        reason = decision.reason
    results = run_workflow(workflow, ctx, on_event=on_event)
    return {
        **results["register"],
        "workflow": workflow.id,
        "status": "trained",
        "reused": False,
        "reason": reason,
        "reused_extracts": sorted(r["table"] for r in results.values() if r.get("reused")),
        "run_dir": str(ctx.run_dir),
    }


def run_many(
    project: Project,
    check_file: Callable[[str], object],
    paths: list[str],
    source: dict,
    *,
    force: bool,
    refresh: bool,
    on_event: Callable[[str], EventSink] | None = None,
) -> list[dict[str, Any]]:
    """Each model of ``paths`` trained or found up to date, in order; a model whose files hold an
    error (``check_file`` raises), or whose run fails, is ``failed`` with the message, and the
    rest still run."""
    outcomes = []
    # one warehouse connection for the whole batch, opened by the first model that trains
    with for_settings(project.settings, "batch", source=source).holding_warehouse():
        for path in paths:
            started = time.perf_counter()
            try:
                check_file(path)
                outcome = train_or_reuse(
                    project,
                    path,
                    source,
                    force=force,
                    refresh=refresh,
                    on_event=on_event(workflow_id(path)) if on_event else None,
                )
            except ModelyardError as exc:
                message = str(exc) if isinstance(exc, ConfigError) else f"error: {exc}"
                outcome = {"workflow": workflow_id(path), "status": "failed", "reused": False, "error": message}
            outcomes.append({"model_file": path, **outcome, "seconds": round(time.perf_counter() - started, 3)})
    return outcomes


def select(project: Project, given: list[str], selector: str | None, model_file: Callable[[str], str]) -> list[str]:
    """The model files to run: those named (``model_file`` resolves each to a model file's repo
    path, or raises), else every model file, narrowed by ``selector``."""
    paths = sorted({model_file(name) for name in given}) if given else sorted(project.models)
    if selector is None:
        return paths
    kind, _, value = selector.partition(":")
    if kind not in SELECTORS or not value:
        raise ModelyardError(
            f"--select {selector}: not a selector",
            hint="use " + "; ".join(f"{name}:REF ({what})" for name, what in SELECTORS.items()),
        )
    return [path for path in paths if _touched(project, path, changed_since(project.root, value))]


def _touched(project: Project, path: str, changed: set[str]) -> bool:
    """Whether a change in ``changed`` can affect the model of ``path``: one of its workflow's files,
    the settings, or a seed file whose table name its SQL mentions (a superset of what it reads:
    the up-to-date check decides on the rest)."""
    if SETTINGS_FILE in changed:
        return True
    workflow = train_workflow(project, project.models[path])
    if changed & set(workflow.source_files):
        return True
    try:
        data = project.settings.data_dir.relative_to(project.root).as_posix() + "/"
    except ValueError:  # seeds outside the repo: git cannot say whether they changed
        return True
    seeds = {f[len(data) :].rsplit(".", 1)[0].lower() for f in changed if f.startswith(data)}
    sql = " ".join(Extract.of(node).sql for node in workflow.nodes if node.kind == Extract.kind).lower()
    return any(re.search(rf"\b{re.escape(seed)}\b", sql) for seed in seeds)
