"""Names two files must not share: a workflow id (from a model or tuning file's path), a
warehouse table (``extracts.<file stem>__<dataset>``, compared ignoring case as DuckDB does) and a
model's ``tags.canonical_name`` (its folder in the model store).

The first two are derived from paths, so ``models/a/b.yaml`` and ``models/a__b.yaml``, or
``extracts/x.yaml`` and ``extracts/team/x.yaml``, would otherwise overwrite each other's DAG file or
table silently; two models with one canonical name would interleave their versions in the store.
"""

from __future__ import annotations

from collections.abc import Iterable

from modelyard.errors import Diagnostic, Position
from modelyard.repo.project import Project


def _clashes(
    owners: dict[str, list[tuple[Position, str]]], what: str, hint: str, verb: str = "make"
) -> Iterable[Diagnostic]:
    for name, claims in sorted(owners.items()):
        if len(claims) < 2:
            continue
        for position, label in claims:
            others = ", ".join(other for _, other in claims if other != label)
            yield Diagnostic(
                position, "error", "duplicate-name", f"{label} and {others} both {verb} {what} {name!r}; {hint}"
            )


def check_unique_names(project: Project) -> Iterable[Diagnostic]:
    from modelyard.repo.layout import backtest_id, score_id, workflow_id

    workflows: dict[str, list[tuple[Position, str]]] = {}
    for model in project.models.values():
        workflows.setdefault(workflow_id(model.file), []).append((Position(model.file), model.file))
        if model.split_config is not None:
            workflows.setdefault(backtest_id(model.file), []).append((Position(model.file), model.file))
        if model.scoring is not None:
            workflows.setdefault(score_id(model.file), []).append((Position(model.file), model.file))
    for tuning in project.tunings.values():
        workflows.setdefault(workflow_id(tuning.file), []).append((Position(tuning.file), tuning.file))
    yield from _clashes(workflows, "workflow", "rename one of the files")

    tables: dict[str, list[tuple[Position, str]]] = {}
    for spec in project.extracts.values():
        tables.setdefault(spec.table.lower(), []).append((spec.position, f"{spec.file}:{spec.name}"))
    yield from _clashes(tables, "warehouse table", "rename the file or the dataset")

    stored: dict[str, list[tuple[Position, str]]] = {}
    for model in project.models.values():
        where = project.documents[model.file].where(("tags", "canonical_name"))
        stored.setdefault(model.canonical_name, []).append((where, model.file))
    yield from _clashes(
        stored,
        "tags.canonical_name",
        "their versions would interleave in the model store; give each model its own canonical_name",
        verb="use",
    )
