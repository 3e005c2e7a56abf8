"""The objective's direction: known metric names, objective.direction, and an error for the rest."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import cli, envelope
from helpers.diabetes import DIABETES_TRAINER, diabetes_repo

from modelyard.workflows.tune.objective import known_direction

KNOWN = {
    "auroc": "maximize",
    "rocauc": "maximize",
    "ROC-AUC": "maximize",
    "balancedAccuracy": "maximize",
    "matthews_corrcoef": "maximize",
    "r_squared": "maximize",
    "hit_rate": "maximize",
    "hit rate@10": "maximize",
    "ndcg@5": "maximize",
    "f1_macro": "maximize",
    "roc_auc_ovr_weighted": "maximize",
    "test.accuracy": "maximize",
    "neg_mean_squared_error": "maximize",
    "F1Score": "maximize",
    "map": "maximize",
    "RMSE": "minimize",
    "meanSquaredError": "minimize",
    "val_loss": "minimize",
    "log-loss": "minimize",
    "brier_score": "minimize",
    "mape": "minimize",
    "neg_r2": "minimize",
}
UNKNOWN = ["score", "mean_score", "bias", "gini", "lift", "uplift", "dice_loss", "custom_thing", "coverage"]


@pytest.mark.parametrize(("metric", "direction"), KNOWN.items())
def test_known_names_have_their_direction(metric, direction):
    assert known_direction(metric) == direction


@pytest.mark.parametrize("metric", UNKNOWN)
def test_names_whose_better_end_is_in_doubt_are_not_known(metric):
    assert known_direction(metric) is None


TRAINERS = (
    DIABETES_TRAINER
    + """

@dataclass
class RSquaredTrainer(DiabetesElasticNetTrainer):
    def evaluate(self, model, df):
        return {"rSquared": metrics.r2_score(df[self.target_label], model.predict(df[self.feature_columns]))}


@dataclass
class UpliftTrainer(DiabetesElasticNetTrainer):
    def evaluate(self, model, df):
        return {"uplift": float(model.predict(df[self.feature_columns]).mean())}
"""
)
SMALL_GRID = "model: model_linear_regression.yaml\ntuning_type: grid\nparam_boundaries:\n  alpha: [0.1, 2.1, 1.0]\n"
SMALL_GP = "model: model_linear_regression.yaml\ntuning_type: gaussian_process\nn_trials: 2\nparam_boundaries:\n  alpha: [0.1, 2.1]\n"


def study_repo(repo: Path, trainer: str) -> Path:
    diabetes_repo(repo, trainer=trainer)
    (repo / "trainers" / "diabetes.py").write_text(TRAINERS)
    return repo


def test_a_camel_case_score_is_maximised_and_the_best_trial_stored(model_repo: Path):
    repo = study_repo(model_repo, "RSquaredTrainer")
    (repo / "tuning" / "small.yaml").write_text(SMALL_GRID)
    result = cli("tune", "tuning/small.yaml", "--format", "json", cwd=repo)
    assert result.returncode == 0, result
    out = result.json()
    scores = {t["params"]["alpha"]: t["metrics"]["rSquared"] for t in out["trials"]}
    assert len(scores) == 3 and len(set(scores.values())) == 3
    assert out["objective"] == {"metric": "rSquared", "direction": "maximize"}
    assert out["best_params"] == {"alpha": max(scores, key=scores.get)}
    assert envelope(repo, "diabetes_elastic_net")["lineage"]["tuning"]["best_params"] == out["best_params"]


@pytest.mark.parametrize("tuning", [SMALL_GRID, SMALL_GP], ids=["grid", "gaussian_process"])
def test_a_first_metric_of_unknown_direction_stops_the_study_and_stores_nothing(model_repo: Path, tuning: str):
    repo = study_repo(model_repo, "UpliftTrainer")
    (repo / "tuning" / "uplift.yaml").write_text(tuning)
    result = cli("tune", "tuning/uplift.yaml", cwd=repo)
    assert result.returncode == 1, result
    assert "Traceback" not in result.stderr
    assert (
        "tuning/uplift.yaml:1: objective: the first metric evaluate() returns: modelyard cannot tell from the "
        "name 'uplift' whether higher or lower is better; add objective: {metric: uplift, direction: maximize} "
        "(or minimize)"
    ) in " ".join(result.stderr.split()), result
    assert not (repo / ".modelyard" / "models").exists()

    (repo / "tuning" / "uplift.yaml").write_text(tuning + "objective:\n  direction: maximize\n")
    result = cli("tune", "tuning/uplift.yaml", "--format", "json", cwd=repo)
    assert result.returncode == 0, result
    out = result.json()
    assert out["best_objective"] == max(t["metrics"]["uplift"] for t in out["trials"])
