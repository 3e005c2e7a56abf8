"""Which metric a study optimises, in which direction, and each trial's value of it.

Default: the first metric ``evaluate()`` returns, maximised when its name says it is a score
(r2, accuracy, auc, f1, ...) and minimised otherwise (errors and losses).
"""

from __future__ import annotations

import re

from modelyard.errors import ModelyardError, Position
from modelyard.suggest import did_you_mean

SCORE_WORDS = frozenset(
    {
        "r2",
        "accuracy",
        "acc",
        "auc",
        "roc",
        "f1",
        "fbeta",
        "precision",
        "recall",
        "score",
        "ap",
        "map",
        "ndcg",
        "mrr",
        "explained",
        "jaccard",
        "iou",
        "dice",
        "kappa",
        "mcc",
        "likelihood",
        "neg",
    }
)


def default_direction(metric: str) -> str:
    words = set(re.split(r"[^a-z0-9]+", metric.lower()))
    return "maximize" if words & SCORE_WORDS else "minimize"


def check_metric(objective: dict, trial: dict) -> None:
    """Stop the study at its first finished trial when the configured metric does not exist."""
    metric, metrics = objective["metric"], trial["metrics"]
    if metric is None or metric in metrics:
        return
    raise ModelyardError(
        f"objective.metric: in trial {trial['trial']} ({_describe(trial['params'])}) evaluate() returned "
        f"no metric {metric!r}; it returned {', '.join(metrics)}" + did_you_mean(metric, list(metrics)),
        Position(objective["file"], objective["line"]),
        hint="name one of those metrics in objective.metric, or remove objective to use the first one",
    )


def _describe(params: dict) -> str:
    return ", ".join(f"{name}={value}" for name, value in params.items())


def resolve(objective: dict, trials: list[dict]) -> tuple[str, str] | None:
    """(metric, direction); None while no trial has produced metrics to take the default from."""
    metric = objective["metric"]
    if metric is None:
        first = next((t for t in trials if t["metrics"]), None)
        if first is None:
            return None
        metric = next(iter(first["metrics"]))
    return metric, objective["direction"] or default_direction(metric)


def value(trial: dict, metric: str) -> float | None:
    """The trial's objective, or None when it failed or the metric is not a finite number."""
    return trial["metrics"].get(metric) if trial["status"] == "ok" else None
