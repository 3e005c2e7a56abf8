"""Which metric a study optimises, in which direction, and each trial's value of it.

Default metric: the first one ``evaluate()`` returns. The direction is ``objective.direction`` or,
when the tuning file does not say, looked up in a list of metric names whose direction is not in
doubt (matched after normalising case, camelCase and separators). Any other name is an error that
asks for the direction: a guess from words in the name once minimised ``auroc``, storing the worst
trial as the best model.
"""

from __future__ import annotations

import re

from modelyard.errors import ModelyardError, Position
from modelyard.suggest import did_you_mean

# Written in snake_case; matched with the underscores removed, so `rocauc`, `ROC-AUC` and `RocAuc`
# all find `roc_auc`. A name whose better end depends on the use (score, bias, lift, correlation,
# coverage, gini (impurity or coefficient?), ks, ...) is left out on purpose: the user says.
LOWER_IS_BETTER = (
    # regression errors
    "mse mean_squared_error rmse root_mean_squared_error mae mean_absolute_error mape "
    "mean_absolute_percentage_error smape symmetric_mean_absolute_percentage_error wape wmape mdape "
    "msle mean_squared_log_error rmsle root_mean_squared_log_error medae median_absolute_error "
    "max_error mase rmspe mean_pinball_loss pinball_loss quantile_loss huber_loss "
    "mean_poisson_deviance mean_gamma_deviance mean_tweedie_deviance poisson_deviance deviance "
    "squared_error absolute_error error error_rate"
    # classification and probabilistic losses
    " loss log_loss logloss cross_entropy binary_cross_entropy categorical_cross_entropy bce "
    "nll negative_log_likelihood brier brier_loss brier_score_loss hinge_loss zero_one_loss "
    "hamming_loss misclassification_rate fpr false_positive_rate fnr false_negative_rate fdr "
    "false_discovery_rate ece expected_calibration_error kl_divergence perplexity crps"
    # model selection and clustering
    " aic bic davies_bouldin davies_bouldin_score"
).split()
HIGHER_IS_BETTER = (
    # regression scores
    "r2 r_squared rsquared adjusted_r2 adj_r2 adjusted_r_squared coefficient_of_determination "
    "explained_variance explained_variance_score d2_absolute_error d2_pinball d2_tweedie"
    # classification
    " accuracy acc balanced_accuracy top_k_accuracy auc roc_auc auroc auc_roc pr_auc auprc aucpr "
    "average_precision ap f1 f1_score fbeta f_beta f2 f05 precision recall sensitivity specificity "
    "tpr true_positive_rate tnr true_negative_rate ppv npv matthews_corrcoef mcc "
    "matthews_correlation_coefficient cohen_kappa kappa quadratic_weighted_kappa qwk jaccard iou "
    "miou mean_iou dice normalized_gini concordance_index c_index likelihood log_likelihood"
    # ranking and recommendation
    " ndcg dcg map mean_average_precision mrr mean_reciprocal_rank hit_rate hitrate hit_ratio "
    "precision_at_k recall_at_k"
    # clustering
    " silhouette silhouette_score calinski_harabasz calinski_harabasz_score adjusted_rand_score "
    "adjusted_rand_index ari nmi normalized_mutual_info_score adjusted_mutual_info_score ami v_measure"
).split()
DIRECTIONS = {name.replace("_", ""): "minimize" for name in LOWER_IS_BETTER} | {
    name.replace("_", ""): "maximize" for name in HIGHER_IS_BETTER
}
# Words around a metric's name that do not change its direction: where it was measured
# (`val_loss`, `test_auc`), how it was averaged (`f1_macro`, `roc_auc_ovr`), its cut-off (`ndcg@10`).
PREFIXES = frozenset({"val", "valid", "validation", "test", "eval", "holdout", "oos", "cv", "mean", "avg"})
SUFFIXES = frozenset({"macro", "micro", "weighted", "samples", "binary", "ovr", "ovo", "score", "mean", "avg"})
CUT_OFF = re.compile(r"_at_(\d+|k)$")


def normalise(metric: str) -> str:
    """``balancedAccuracy`` -> ``balanced_accuracy``, ``ROC-AUC`` -> ``roc_auc``, ``ndcg@10`` -> ``ndcg_at_10``."""
    snake = re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "_", metric.strip()).lower()
    snake = re.sub(r"\s*@\s*", "_at_", snake)
    return re.sub(r"[\s.\-_/]+", "_", snake).strip("_")


def _lookup(words: list[str]) -> str | None:
    """The direction of ``words``, trying them without the suffixes that do not change it."""
    while words:
        direction = DIRECTIONS.get("".join(words))
        if direction or words[-1] not in SUFFIXES:
            return direction
        words = words[:-1]
    return None


def known_direction(metric: str) -> str | None:
    """``minimize``/``maximize`` for a metric whose direction is not in doubt, else None."""
    name = normalise(metric)
    direction = _lookup(name.split("_")) or _lookup(CUT_OFF.sub("", name).split("_"))
    if direction:
        return direction
    words = name.split("_")
    while len(words) > 1 and words[0] in PREFIXES:
        words = words[1:]
    if len(words) > 1 and words[0] == "neg":  # scikit-learn's scorers negate errors: neg_mean_squared_error
        inner = _lookup(CUT_OFF.sub("", "_".join(words[1:])).split("_"))
        return {"minimize": "maximize", "maximize": "minimize"}.get(inner)
    return _lookup(CUT_OFF.sub("", "_".join(words)).split("_"))


def unknown_direction_message(metric: str, source: str = "objective.metric") -> str:
    return (
        f"{source}: modelyard cannot tell from the name {metric!r} whether higher or lower is better; "
        f"add objective: {{metric: {metric}, direction: maximize}} (or minimize)"
    )


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
    """(metric, direction); None while no trial has produced metrics to take the default from.
    A direction that is neither declared nor known stops the study before anything is stored."""
    metric = objective["metric"]
    if metric is None:
        first = next((t for t in trials if t["metrics"]), None)
        if first is None:
            return None
        metric = next(iter(first["metrics"]))
    direction = objective["direction"] or known_direction(metric)
    if direction is None:
        source = "objective.metric" if objective["metric"] else "objective: the first metric evaluate() returns"
        raise ModelyardError(
            unknown_direction_message(metric, source),
            Position(objective["file"], objective["line"]),
            hint="no model was stored",
        )
    return metric, direction


def value(trial: dict, metric: str) -> float | None:
    """The trial's objective, or None when it failed or the metric is not a finite number."""
    return trial["metrics"].get(metric) if trial["status"] == "ok" else None


def best(trials: list[dict], metric: str, direction: str) -> dict:
    """The scored trial with the best objective (the first of equals)."""
    scored = [t for t in trials if t["objective"] is not None]
    pick = max if direction == "maximize" else min
    return pick(scored, key=lambda t: t["objective"])


def score_trials(objective: dict, trials: list[dict]) -> tuple[str, str] | None:
    """The study's metric and direction; each trial gets its ``objective`` value, and a trial
    whose value is not a finite number fails."""
    goal = resolve(objective, trials)
    for trial in trials:
        trial["objective"] = value(trial, goal[0]) if goal else None
        if trial["status"] == "ok" and trial["objective"] is None:
            trial.update(status="failed", error=f"objective {goal[0]} is not a finite number")
    return goal


def best_so_far(objective: dict, finished: list[dict]) -> dict | None:
    """The trial ``select`` would choose if ``finished`` were all the trials; None when none has a score."""
    trials = [dict(trial) for trial in finished]
    goal = score_trials(objective, trials)
    if goal is None or all(t["status"] != "ok" for t in trials):
        return None
    return best(trials, *goal)
