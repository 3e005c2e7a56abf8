"""Checks of a model's ``scoring:`` and ``monitoring:``: the datasets they name exist, the rows
stand for a known train() parameter, a label extract has a key, thresholds are in order, and
predictions do not land in a table modelyard owns."""

from __future__ import annotations

from collections.abc import Iterable

from modelyard.errors import Diagnostic
from modelyard.repo.layout import EXTRACTS_DIR
from modelyard.repo.project import DatasetRef, ModelSpec, Project
from modelyard.suggest import did_you_mean

RESERVED_SCHEMAS = ("extracts", "_modelyard", "monitoring", "tuning", "backtest")


def _dataset(project: Project, model: ModelSpec, ref: DatasetRef, path: tuple) -> Iterable[Diagnostic]:
    doc = project.documents[model.file]
    label = ".".join(path)
    files = sorted({file for file, _ in project.extracts})
    if ref.file not in files:
        if (project.root / ref.file).is_file():
            return  # the extract file itself has errors, reported on its own
        short = [f.removeprefix(f"{EXTRACTS_DIR}/") for f in files]
        yield Diagnostic.error(
            doc.where((*path, "file")),
            "missing-file",
            f"{label}.file: {ref.file} does not exist" + did_you_mean(ref.file.removeprefix(f"{EXTRACTS_DIR}/"), short),
        )
        return
    names = [name for file, name in project.extracts if file == ref.file]
    if ref.file_param_name not in names:
        yield Diagnostic.error(
            doc.where((*path, "file_param_name")),
            "unknown-dataset",
            f"{label}.file_param_name: {ref.file} has no dataset {ref.file_param_name!r}"
            + did_you_mean(ref.file_param_name, names)
            + f" (it has: {', '.join(names)})",
        )
    params = [dep.train_param_name for dep in model.dependencies]
    if ref.train_param_name is not None and ref.train_param_name not in params:
        yield Diagnostic.error(
            doc.where((*path, "train_param_name")),
            "unknown-param",
            f"{label}.train_param_name: {ref.train_param_name!r} is none of the model's datasets "
            f"({', '.join(params)})" + did_you_mean(ref.train_param_name, params),
        )
    elif ref.train_param_name is None and len(params) > 1:
        yield Diagnostic.error(
            doc.where(path, key=True),
            "ambiguous-param",
            f"{label}: the model trains on several datasets ({', '.join(params)}); say which one these rows "
            "stand for with `train_param_name`",
        )


def _thresholds(project: Project, model: ModelSpec) -> Iterable[Diagnostic]:
    doc = project.documents[model.file]
    drift = model.monitoring.drift
    if drift.get("psi_warn", 0.1) > drift.get("psi_fail", 0.25):
        yield Diagnostic.error(
            doc.where(("monitoring", "drift")),
            "threshold-order",
            f"monitoring.drift: psi_warn ({drift.get('psi_warn', 0.1)}) is above psi_fail "
            f"({drift.get('psi_fail', 0.25)}); a warning must come before a failure",
        )
    for metric in model.monitoring.metrics:
        if metric.warn is None or metric.fail is None:
            continue
        higher = metric.direction == "higher_is_better"
        if (metric.warn < metric.fail) if higher else (metric.warn > metric.fail):
            yield Diagnostic.error(
                doc.where(("monitoring", "metrics", metric.name)),
                "threshold-order",
                f"monitoring.metrics.{metric.name}: with {metric.direction}, warn ({metric.warn}) must be "
                f"{'above' if higher else 'below'} fail ({metric.fail}): a run warns before it fails",
            )


def check_scoring(project: Project) -> Iterable[Diagnostic]:
    for model in project.models.values():
        doc = project.documents[model.file]
        monitoring = model.monitoring
        if model.scoring is not None:
            yield from _dataset(project, model, model.scoring.data, ("scoring", "data"))
            if model.scoring.output.split(".")[0].lower() in RESERVED_SCHEMAS:
                yield Diagnostic.error(
                    doc.where(("scoring", "output")),
                    "reserved-table",
                    f"scoring.output: schema {model.scoring.output.split('.')[0]!r} belongs to modelyard; "
                    "write predictions to another schema (e.g. predictions.NAME)",
                )
        if monitoring.labels is not None:
            yield from _dataset(project, model, monitoring.labels, ("monitoring", "labels"))
            if monitoring.key is None:
                yield Diagnostic.error(
                    doc.where(("monitoring", "labels"), key=True),
                    "missing-key",
                    "monitoring.labels: labels are joined to the scored rows on a column: name it with "
                    "`monitoring.key`",
                )
        if model.scoring is None and (monitoring.labels is not None or monitoring.metrics):
            yield Diagnostic.error(
                monitoring.position,
                "needs-scoring",
                "monitoring.labels and monitoring.metrics check scoring runs, and this model has no `scoring:`",
            )
        yield from _thresholds(project, model)
