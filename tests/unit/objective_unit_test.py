"""A study's objective, in process: name normalising, known directions (one name from each end of
every line of the lists, so a changed line shows), the default metric and the errors that ask."""

from __future__ import annotations

import pytest

from modelyard.errors import ModelyardError, Position
from modelyard.workflows.tune import objective as obj

# The first and the last name of each line of LOWER_IS_BETTER / HIGHER_IS_BETTER.
LOWER = (
    "mse mape mean_absolute_percentage_error mdape msle median_absolute_error max_error huber_loss "
    "mean_poisson_deviance deviance squared_error error_rate loss bce nll zero_one_loss hamming_loss "
    "fdr false_discovery_rate crps aic davies_bouldin_score"
).split()
HIGHER = (
    "r2 coefficient_of_determination explained_variance d2_tweedie accuracy aucpr average_precision "
    "specificity tpr mcc matthews_correlation_coefficient iou miou log_likelihood ndcg hit_ratio "
    "precision_at_k recall_at_k silhouette adjusted_rand_score adjusted_rand_index v_measure"
).split()


@pytest.mark.parametrize("metric", LOWER)
def test_listed_errors_and_losses_are_minimised(metric):
    assert obj.known_direction(metric) == "minimize"


@pytest.mark.parametrize("metric", HIGHER)
def test_listed_scores_are_maximised(metric):
    assert obj.known_direction(metric) == "maximize"


@pytest.mark.parametrize(
    ("metric", "normal"),
    [
        ("balancedAccuracy", "balanced_accuracy"),
        ("ROC-AUC", "roc_auc"),
        ("F1Score", "f1_score"),
        ("r2Score", "r2_score"),
        ("ndcg @ 10", "ndcg_at_10"),
        ("  hit rate/top.k  ", "hit_rate_top_k"),
        ("__val--loss__", "val_loss"),
        ("a_-_b", "a_b"),
    ],
)
def test_normalise(metric, normal):
    assert obj.normalise(metric) == normal


@pytest.mark.parametrize(
    "prefix", ["val", "valid", "validation", "test", "eval", "holdout", "oos", "cv", "mean", "avg"]
)
def test_where_a_metric_was_measured_does_not_change_its_direction(prefix):
    assert obj.known_direction(f"{prefix}_loss") == "minimize"
    assert obj.known_direction(f"{prefix}_{prefix}_roc_auc") == "maximize"


@pytest.mark.parametrize(
    "suffix", ["macro", "micro", "weighted", "samples", "binary", "ovr", "ovo", "score", "mean", "avg"]
)
def test_how_a_metric_was_averaged_does_not_change_its_direction(suffix):
    assert obj.known_direction(f"recall_{suffix}") == "maximize"


@pytest.mark.parametrize(
    ("metric", "direction"),
    [
        ("roc_auc_ovr_weighted", "maximize"),  # two suffixes dropped
        ("ndcg@10", "maximize"),
        ("recall_at_k", "maximize"),  # listed with its cut-off
        ("mrr_at_k", "maximize"),
        ("val_ndcg@10", "maximize"),  # a prefix and a cut-off
        ("val_mrr_at_k", "maximize"),
        # listed whole, though it starts with a prefix: dropping `mean` leaves an unknown name
        ("mean_reciprocal_rank", "maximize"),
        ("mean_reciprocal_rank@10", "maximize"),
        ("neg_mean_squared_error", "maximize"),
        ("neg_r2", "minimize"),
        ("neg_ndcg@5", "minimize"),
        ("val_neg_log_loss", "maximize"),
        ("neg_val_loss", None),  # the prefix goes before neg_
        ("neg_score", None),
        ("neg", None),
        ("score", None),
        ("custom_score", None),
        ("score_loss", None),  # score is a suffix, not a prefix
        ("ndcg_at_ten", None),
        ("val", None),
        ("mean", None),
        ("xx", None),
    ],
)
def test_known_direction(metric, direction):
    assert obj.known_direction(metric) == direction


def test_unknown_direction_message_says_what_to_add():
    assert obj.unknown_direction_message("lift") == (
        "objective.metric: modelyard cannot tell from the name 'lift' whether higher or lower is better; "
        "add objective: {metric: lift, direction: maximize} (or minimize)"
    )
    assert obj.unknown_direction_message("lift", "here").startswith("here: modelyard cannot tell")


def objective(metric=None, direction=None):
    return {"metric": metric, "direction": direction, "file": "tuning/t.yaml", "line": 7}


def trial(metrics, status="ok", number=3, params=None):
    return {"trial": number, "metrics": metrics, "status": status, "params": params or {"alpha": 0.5, "depth": 2}}


def test_check_metric_accepts_a_returned_metric_or_none_configured():
    assert obj.check_metric(objective("mae"), trial({"rmse": 1.0, "mae": 2.0})) is None
    assert obj.check_metric(objective(None), trial({"rmse": 1.0})) is None


def test_check_metric_names_the_trial_the_metrics_and_the_closest_one():
    with pytest.raises(ModelyardError) as error:
        obj.check_metric(objective("rmsee"), trial({"rmse": 1.0, "mae": 2.0}))
    assert error.value.message == (
        "objective.metric: in trial 3 (alpha=0.5, depth=2) evaluate() returned no metric 'rmsee'; "
        "it returned rmse, mae; did you mean 'rmse'?"
    )
    assert error.value.position == Position("tuning/t.yaml", 7)
    assert error.value.hint == "name one of those metrics in objective.metric, or remove objective to use the first one"


def test_resolve_waits_for_a_trial_with_metrics():
    assert obj.resolve(objective(), []) is None
    assert obj.resolve(objective(), [trial({}, status="failed")]) is None


def test_resolve_takes_the_first_metric_of_the_first_trial_that_has_metrics():
    trials = [trial({}, status="failed"), trial({"rmse": 2.0, "r2": 0.5}), trial({"r2": 0.1})]
    assert obj.resolve(objective(), trials) == ("rmse", "minimize")


def test_resolve_prefers_the_declared_metric_and_direction():
    assert obj.resolve(objective("r2"), []) == ("r2", "maximize")
    assert obj.resolve(objective("r2", "minimize"), []) == ("r2", "minimize")
    assert obj.resolve(objective(None, "maximize"), [trial({"lift": 1.0})]) == ("lift", "maximize")


@pytest.mark.parametrize(
    ("configured", "source"),
    [("lift", "objective.metric"), (None, "objective: the first metric evaluate() returns")],
)
def test_resolve_stops_on_a_direction_it_cannot_know(configured, source):
    with pytest.raises(ModelyardError) as error:
        obj.resolve(objective(configured), [trial({"lift": 1.0})])
    assert error.value.message == obj.unknown_direction_message("lift", source)
    assert error.value.message.startswith(f"{source}: ")
    assert error.value.position == Position("tuning/t.yaml", 7)
    assert error.value.hint == "no model was stored"


def test_value_is_the_metric_of_a_successful_trial_only():
    assert obj.value(trial({"rmse": 2.5}), "rmse") == 2.5
    assert obj.value(trial({"rmse": 2.5}), "mae") is None
    assert obj.value(trial({"rmse": 2.5}, status="failed"), "rmse") is None
