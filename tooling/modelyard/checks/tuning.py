"""Checks of tuning files (search space against the trainer) and of models' ``split_config``."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from modelyard.checks.trainers import trainer_class
from modelyard.errors import Diagnostic
from modelyard.repo.project import Project
from modelyard.repo.trainer_source import type_mismatch
from modelyard.suggest import did_you_mean


def check_tuning_files(project: Project) -> Iterable[Diagnostic]:
    for tuning in project.tunings.values():
        doc = project.documents[tuning.file]
        if isinstance(tuning.n_workers, int) and tuning.n_workers < 1:
            yield Diagnostic.error(
                doc.where(("n_function_compute_workers",)),
                "bad-workers",
                f"n_function_compute_workers: {tuning.n_workers} must be at least 1",
            )
        model = project.models.get(tuning.model)
        cls = trainer_class(project, model) if model else None
        fields = cls.fields if cls is not None else None
        for bound in tuning.params:
            raw = doc.data["param_boundaries"][bound.name]
            low_key, step_key, log_key = (0, 2, None) if isinstance(raw, list) else ("min", "step", "log")
            here = ("param_boundaries", bound.name)
            if fields is not None and bound.name not in fields and not cls.accepts_any_arg:
                yield Diagnostic.error(
                    doc.where(here, key=True),
                    "unknown-param",
                    f"param_boundaries.{bound.name}: {cls.name} has no field {bound.name!r}"
                    + (did_you_mean(bound.name, fields) or f" (its fields: {', '.join(fields)})"),
                )
            elif fields is not None and bound.name in fields:
                field = fields[bound.name]
                wrong = next((v for v in (bound.low, bound.high) if type_mismatch(v, field.annotation)), None)
                if wrong is not None:
                    yield Diagnostic.error(
                        doc.where(here, key=True),
                        "arg-type",
                        f"param_boundaries.{bound.name}: {cls.name}.{bound.name} is "
                        f"{type_mismatch(wrong, field.annotation)} ({cls.file}:{field.line}); "
                        f"bounds {bound.low!r}..{bound.high!r} do not fit",
                    )
            if bound.low >= bound.high:
                yield Diagnostic.error(
                    doc.where(here + (low_key,)),
                    "bad-range",
                    f"param_boundaries.{bound.name}: min {bound.low!r} must be below max {bound.high!r}",
                )
            if bound.step is not None and bound.log and tuning.tuning_type != "grid":  # grid: bad-log-scale
                yield Diagnostic.error(
                    doc.where(here + (step_key,)),
                    "bad-step",
                    f"param_boundaries.{bound.name}: a step and a log scale do not mix; remove one",
                )
            elif bound.step is not None and bound.step <= 0:
                yield Diagnostic.error(
                    doc.where(here + (step_key,)),
                    "bad-step",
                    f"param_boundaries.{bound.name}: step {bound.step!r} must be greater than 0",
                )
            if bound.log and tuning.tuning_type == "grid":
                yield Diagnostic.error(
                    doc.where(here + (log_key,)),
                    "bad-log-scale",
                    f"param_boundaries.{bound.name}: log scale applies to gaussian_process, not grid",
                )
            elif bound.log and bound.low <= 0:
                yield Diagnostic.error(
                    doc.where(here + (log_key,)),
                    "bad-log-scale",
                    f"param_boundaries.{bound.name}: a log scale needs min > 0, got {bound.low!r}",
                )
        yield from _objective_direction(tuning, doc)


def _objective_direction(tuning, doc) -> Iterable[Diagnostic]:
    """A named metric whose better end modelyard cannot know needs objective.direction.
    (Without objective.metric the name comes from evaluate(): the study checks it when it runs.)"""
    from modelyard.workflows.tune.objective import known_direction, unknown_direction_message

    metric = tuning.objective_metric
    if metric is None or tuning.objective_direction is not None or known_direction(metric):
        return
    yield Diagnostic.error(doc.where(("objective", "metric")), "unknown-direction", unknown_direction_message(metric))


def check_split_configs(project: Project) -> Iterable[Diagnostic]:
    for model in project.models.values():
        split = model.split_config
        if split is None:
            continue
        doc = project.documents[model.file]
        mapped = [dep.train_param_name for dep in model.dependencies]
        if split.train_param_name not in mapped:
            yield Diagnostic.error(
                doc.where(("split_config", "train_param_name")),
                "split-param",
                f"split_config.train_param_name: {split.train_param_name!r} is not a mapped train() "
                f"parameter"
                + (did_you_mean(split.train_param_name, mapped) or f" (dependencies.data maps: {', '.join(mapped)})"),
            )
        for key in ("train_size", "test_size", "slide_by"):
            value = getattr(split, key)
            if key in doc.data["split_config"] and value <= dt.timedelta(0):
                yield Diagnostic.error(
                    doc.where(("split_config", key)),
                    "bad-size",
                    f"split_config.{key}: the window length is zero; give a positive number of weeks, days or hours",
                )
