"""modelyard tune: grid and Gaussian-process searches through the real CLI on generated repos."""

from __future__ import annotations

import hashlib
import json
import math
from pathlib import Path

import pytest
from conftest import ROOT, cli, envelope, warehouse_rows
from helpers.diabetes import DIABETES, DIABETES_TRAINER, FEATURES, POST_TUNING_FILE, diabetes_repo

ELASTIC_NET = "sample_regression_model_v1_elastic_net"


def test_template_grid_is_forty_exact_trials_and_stores_the_best(model_repo: Path):
    result = cli("tune", "tuning/tune_elastic_net.yaml", "--workers", "2", "--format", "json", cwd=model_repo)
    assert result.returncode == 0, result
    out = result.json()
    trials = out["trials"]
    assert len(trials) == out["n_trials"] == 40 and out["n_failed"] == 0
    assert sorted({t["params"]["alpha"] for t in trials}) == [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8]
    assert sorted({t["params"]["max_iter"] for t in trials}) == [10, 20, 30, 40, 50]
    assert all(type(t["params"]["max_iter"]) is int for t in trials)
    assert sorted(t["trial"] for t in trials) == list(range(1, 41))
    assert all(t["status"] == "ok" and set(t["metrics"]) == {"mean_squared_error", "r2"} for t in trials)
    assert out["objective"] == {"metric": "mean_squared_error", "direction": "minimize"}
    best = min(trials, key=lambda t: t["metrics"]["mean_squared_error"])
    assert out["best_objective"] == best["metrics"]["mean_squared_error"]
    assert out["best_params"] == best["params"]

    stored = envelope(model_repo, ELASTIC_NET)
    assert stored["version"] == out["version"] == 1 and out["canonical_name"] == ELASTIC_NET
    assert stored["metrics"] == best["metrics"]  # held-out metrics of the best trial
    lineage = stored["lineage"]
    assert lineage["row_counts"] == {"df": 2730}  # retrained on every row, not the 80% a trial sees
    assert lineage["constructor_args"]["alpha"] == out["best_params"]["alpha"]
    assert lineage["constructor_args"]["max_iter"] == out["best_params"]["max_iter"]
    assert lineage["constructor_args"]["feature_columns"] == ["x_0", "x_1", "x_2"]
    tuning = lineage["tuning"]
    assert tuning["workflow"] == out["workflow"] == "tune__tune_elastic_net"
    assert tuning["tuning_file"] == "tuning/tune_elastic_net.yaml"
    assert tuning["tuning_file_sha256"] == hashlib.sha256((model_repo / tuning["tuning_file"]).read_bytes()).hexdigest()
    assert tuning["best_params"] == out["best_params"] and tuning["n_trials"] == 40
    assert tuning["objective"] == {
        "metric": "mean_squared_error",
        "direction": "minimize",
        "value": out["best_objective"],
    }
    assert tuning["run_id"] == out["run_id"]
    assert tuning["validation"] == {
        "dataset": "df",
        "strategy": "random",
        "fraction": 0.2,
        "seed": 0,
        "time_column": "date",
    }

    rows = warehouse_rows(
        model_repo,
        "SELECT run_id, count(*), count(*) FILTER (status = 'ok'), min(objective) "
        "FROM tuning.tune__tune_elastic_net_trials GROUP BY run_id",
    )
    assert rows == [(out["run_id"], 40, 40, out["best_objective"])]
    plot = Path(out["plot"])
    assert plot.is_file() and plot.parent == model_repo / ".modelyard" / "reports" / "tune__tune_elastic_net"
    assert "plotly" in plot.read_text()[:5000].lower() and "over trials" in plot.read_text()


def test_post_tuning_file_on_diabetes_scores_trials_on_held_out_rows(model_repo: Path):
    import numpy as np
    import pandas as pd
    from sklearn import linear_model, metrics

    repo = diabetes_repo(model_repo)
    (repo / "tuning" / "tune_post.yaml").write_text(POST_TUNING_FILE)
    result = cli("tune", "tuning/tune_post.yaml", "--format", "json", cwd=repo)
    assert result.returncode == 0, result
    out = result.json()
    assert len(out["trials"]) == 40 and out["n_failed"] == 0

    # The documented split, recomputed here: a seed-0 permutation, its first 20% held out.
    frame = pd.read_csv(repo / "data" / "diabetes.csv").sort_values("id")
    held = np.zeros(len(frame), dtype=bool)
    held[np.random.default_rng(0).permutation(len(frame))[: math.ceil(len(frame) * 0.2)]] = True
    train, test = frame[~held], frame[held]
    expected = {}
    for alpha in [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8]:
        for max_iter in [10, 20, 30, 40, 50]:
            model = linear_model.ElasticNet(alpha=alpha, max_iter=max_iter).fit(train[FEATURES], train["target"])
            expected[(alpha, max_iter)] = metrics.mean_squared_error(test["target"], model.predict(test[FEATURES]))
    for trial in out["trials"]:
        key = (trial["params"]["alpha"], trial["params"]["max_iter"])
        assert trial["metrics"]["mean_squared_error"] == pytest.approx(expected[key], rel=1e-6)
    best_key = min(expected, key=expected.get)
    assert (out["best_params"]["alpha"], out["best_params"]["max_iter"]) == best_key

    stored = envelope(repo, DIABETES)
    assert stored["lineage"]["row_counts"] == {"df": 442}
    assert stored["lineage"]["tuning"]["tuning_file"] == "tuning/tune_post.yaml"


def test_gaussian_process_with_log_scale_in_rounds(model_repo: Path):
    model_file = model_repo / "models" / "model_elastic_net.yaml"
    model_file.write_text(
        model_file.read_text()
        + (
            "split_config:\n  train_param_name: df\n  strategy: sliding_time_window\n  time_column: date\n"
            "  days_backward: 60\n  train_size:\n    days: 10\n  test_size:\n    days: 5\n"
        )
    )
    (model_repo / "tuning" / "tune_gp.yaml").write_text(
        "model: model_elastic_net.yaml\n"
        "environment: {memory: 1000, cpu: 500}\n"
        "n_function_compute_workers: 2\n"
        "tuning_type: gaussian_process\n"
        "n_trials: 6\n"
        "seed: 7\n"
        "param_boundaries:\n"
        "  alpha: {min: 0.001, max: 1.0, log: true}\n"
        "  max_iter: [10, 50]\n"
        "objective:\n"
        "  metric: r2\n"
    )
    result = cli("tune", "tuning/tune_gp.yaml", "--format", "json", cwd=model_repo)
    assert result.returncode == 0, result
    out = result.json()
    trials = out["trials"]
    assert len(trials) == 6 and [t["round"] for t in sorted(trials, key=lambda t: t["trial"])] == [1, 1, 1, 1, 2, 2]
    assert all(0.001 <= t["params"]["alpha"] <= 1.0 for t in trials)
    assert all(type(t["params"]["max_iter"]) is int and 10 <= t["params"]["max_iter"] <= 50 for t in trials)
    assert len({t["params"]["alpha"] for t in trials}) == 6
    # a log scale spreads the first (random) round over decades, not over [0.5, 1]
    assert min(t["params"]["alpha"] for t in trials if t["round"] == 1) < 0.1
    assert out["objective"] == {"metric": "r2", "direction": "maximize"}  # r2 is a score: higher is better
    assert out["best_objective"] == max(t["metrics"]["r2"] for t in trials)
    tuning = envelope(model_repo, ELASTIC_NET)["lineage"]["tuning"]
    assert tuning["tuning_type"] == "gaussian_process"
    assert tuning["validation"]["strategy"] == "time"  # the model has a split_config

    compiled = []
    for _ in range(2):
        done = cli("compile", cwd=model_repo)
        assert done.returncode == 0, done
        compiled.append((model_repo / ".modelyard" / "compiled" / "ir" / "ir.json").read_bytes())
    assert compiled[0] == compiled[1]
    workflow = next(w for w in json.loads(compiled[0])["workflows"] if w["id"] == "tune__tune_gp")
    assert workflow["kind"] == "tune"
    assert workflow["settings"]["environment"] == {"memory": 1000, "cpu": 500}
    nodes = {n["id"]: n for n in workflow["nodes"]}
    assert [n["id"] for n in workflow["nodes"] if not n["id"].startswith("extract")] == [
        "trials_01",
        "propose_02",
        "trials_02",
        "select",
        "train",
        "register",
    ]
    assert nodes["trials_01"]["fan_out"] and len(nodes["trials_01"]["spec"]["items"]) == 4
    assert nodes["trials_02"]["fan_out"] and nodes["trials_02"]["spec"]["items_from"] == "propose_02"
    first_round = sorted((t for t in trials if t["round"] == 1), key=lambda t: t["trial"])
    assert [t["params"] for t in first_round] == nodes["trials_01"]["spec"]["items"]


def flaky_study(model_repo: Path, name: str, max_iter: str):
    """Tune FlakyTrainer (it raises for max_iter 20) over two alphas and the given max_iter range."""
    repo = diabetes_repo(model_repo, trainer="FlakyTrainer")
    (repo / "tuning" / f"{name}.yaml").write_text(
        "model: model_linear_regression.yaml\nn_function_compute_workers: 2\ntuning_type: grid\n"
        f"param_boundaries:\n  alpha: [0.1, 0.2, 0.1]\n  max_iter: {max_iter}\n"
    )
    return repo, cli("tune", f"tuning/{name}.yaml", cwd=repo)


def test_gaussian_process_tries_each_point_of_a_small_space_once(model_repo: Path):
    (model_repo / "tuning" / "tiny.yaml").write_text(
        "model: model_elastic_net.yaml\ntuning_type: gaussian_process\nn_trials: 6\n"
        "param_boundaries:\n  max_iter: [1, 3]\n"
    )
    result = cli("tune", "tuning/tiny.yaml", "--format", "json", cwd=model_repo)
    assert result.returncode == 0, result
    trials = result.json()["trials"]  # the optimiser's notes on repeated points must not reach stdout
    assert sorted(t["params"]["max_iter"] for t in trials) == [1, 2, 3]
    assert "note: the search space holds only 3 distinct points, so the study runs 3 trials, not 6" in " ".join(
        result.stderr.split()
    )


def test_gaussian_process_proposals_sit_on_the_step_grid_and_never_repeat(model_repo: Path):
    (model_repo / "tuning" / "stepped.yaml").write_text(
        "model: model_elastic_net.yaml\ntuning_type: gaussian_process\nn_trials: 9\n"
        "n_function_compute_workers: 2\nseed: 5\n"
        "param_boundaries:\n  alpha: [0.1, 0.5, 0.1]\n  max_iter: [10, 30, 10]\n"
    )
    result = cli("tune", "tuning/stepped.yaml", "--format", "json", cwd=model_repo)
    assert result.returncode == 0, result
    trials = result.json()["trials"]
    points = [(t["params"]["alpha"], t["params"]["max_iter"]) for t in trials]
    assert len(points) == 9 and len(set(points)) == 9
    assert {alpha for alpha, _ in points} <= {0.1, 0.2, 0.3, 0.4, 0.5}
    assert {max_iter for _, max_iter in points} <= {10, 20, 30}
    assert all(type(max_iter) is int for _, max_iter in points)
    assert "note:" not in result.stderr  # 15 points: room for 9 trials


def test_failed_trials_are_recorded_and_the_study_goes_on(model_repo: Path):
    repo, result = flaky_study(model_repo, "small", "[10, 30, 10]")
    assert result.returncode == 0, result
    line = DIABETES_TRAINER.splitlines().index('            raise ValueError("max_iter 20 is not supported")') + 1
    assert "6 trials, objective mean_squared_error" in result.stdout
    assert f"trainers/diabetes.py:{line}" in result.stdout and "2 of 6 trials failed" in result.stdout
    assert "plot: " in result.stdout and "best mean_squared_error" in result.stdout
    rows = warehouse_rows(
        repo, "SELECT param_max_iter, status, error, warnings FROM tuning.tune__small_trials ORDER BY trial"
    )
    assert [r[1] for r in rows] == ["ok", "failed", "ok"] * 2
    failed = [r for r in rows if r[1] == "failed"]
    assert all(
        r[0] == 20 and f"trainers/diabetes.py:{line}" in r[2] and "ValueError: max_iter 20 is not supported" in r[2]
        for r in failed
    )
    assert all(r[2] is None for r in rows if r[1] == "ok")
    assert [r[3] for r in rows] == [None, None, "UserWarning: max_iter 30 is slow"] * 2  # kept, not printed
    assert "max_iter 30 is slow" not in result.stderr
    assert envelope(repo, DIABETES)["lineage"]["tuning"]["n_failed"] == 2


def test_every_trial_failing_is_a_clear_error_and_stores_nothing(model_repo: Path):
    repo, result = flaky_study(model_repo, "doomed", "[20, 21, 5]")  # the grid holds max_iter 20 only
    assert result.returncode == 1, result
    assert "all 2 trials failed" in result.stderr and "ValueError: max_iter 20 is not supported" in result.stderr
    assert "Traceback" not in result.stderr
    assert not (repo / ".modelyard" / "models").exists()
    wrong = cli("tune", "models/model_linear_regression.yaml", cwd=repo)
    assert wrong.returncode == 1 and "models/model_linear_regression.yaml is not a tuning file" in wrong.stderr


def test_unknown_objective_metric_stops_after_the_first_trial(model_repo: Path):
    repo = diabetes_repo(model_repo)
    text = POST_TUNING_FILE + "objective:\n  metric: rmse\n"
    (repo / "tuning" / "bad_metric.yaml").write_text(text)
    result = cli("tune", "tuning/bad_metric.yaml", "--workers", "1", cwd=repo)
    assert result.returncode == 1, result
    line = text.splitlines().index("  metric: rmse") + 1
    assert f"tuning/bad_metric.yaml:{line}" in result.stderr
    assert "no metric 'rmse'" in result.stderr and "mean_squared_error, r2" in result.stderr
    assert "Traceback" not in result.stderr
    assert "in trial 1 (alpha=0.1, max_iter=10)" in result.stderr
    # one worker runs trials in order: a second finished trial would have left trials.1/result.json
    (run_dir,) = (repo / ".modelyard" / "runs" / "tune__bad_metric").iterdir()
    assert not [p.name for p in run_dir.glob("trials*/result.json")]
    assert "rmse" in (run_dir / "trials.0" / "error.txt").read_text()  # the failed item's traceback
    assert not (repo / ".modelyard" / "models").exists()
    assert warehouse_rows(repo, "SELECT count(*) FROM information_schema.tables WHERE table_schema = 'tuning'") == [
        (0,)
    ]


TWO_TABLES_TRAINER = '''\
"""Features and labels in two tables, plus a one-row table of settings every trial sees whole."""
from dataclasses import dataclass
from typing import List

from sklearn import linear_model, metrics

from modelyard import AbstractTrainer, TrainedObject


@dataclass
class TwoTablesTrainer(AbstractTrainer):
    feature_columns: List[str]
    alpha: float = 1.0
    max_iter: int = 1000

    def train(self, features, labels, settings) -> TrainedObject:
        assert len(settings) == 1, len(settings)
        model = linear_model.ElasticNet(alpha=self.alpha, max_iter=self.max_iter)
        model.fit(features[self.feature_columns], labels["target"])
        sample = features[self.feature_columns].head(5)
        return TrainedObject(model, {"x": sample}, model.predict(sample), "predict")

    def evaluate(self, model, features, labels, settings):
        assert len(settings) == 1, len(settings)
        return {"mean_squared_error": metrics.mean_squared_error(labels["target"],
                                                                 model.predict(features[self.feature_columns]))}
'''

TWO_TABLES_MODEL = """\
model_name: Diabetes from two tables
model_description: Features and labels extracted separately.
tags:
  canonical_name: diabetes_two_tables
model_trainer: two_tables.TwoTablesTrainer
constructor_args:
  feature_columns: [age, sex, bmi, bp, s1, s2, s3, s4, s5, s6]
dependencies:
  data:
    - {train_param_name: features, file: diabetes_parts.yaml, file_param_name: features}
    - {train_param_name: labels, file: diabetes_parts.yaml, file_param_name: labels}
    - {train_param_name: settings, file: diabetes_parts.yaml, file_param_name: settings}
"""


def two_tables_repo(repo: Path, extra_label_rows: int = 0) -> Path:
    """Diabetes features and target in two CSV files, joined by nothing but their row order."""
    import pandas as pd
    from sklearn.datasets import load_diabetes

    frame = load_diabetes(as_frame=True).frame
    frame.insert(0, "id", range(len(frame)))
    frame[["id", *FEATURES]].to_csv(repo / "data" / "diabetes_features.csv", index=False)
    labels = frame[["id", "target"]]
    extra = labels.head(extra_label_rows).assign(id=lambda f: f["id"] + 10_000)
    pd.concat([labels, extra]).to_csv(repo / "data" / "diabetes_labels.csv", index=False)
    (repo / "extracts" / "diabetes_parts.yaml").write_text(
        "features:\n  operator: sql\n  sql_file: diabetes_features.sql\n"
        "labels:\n  operator: sql\n  sql_file: diabetes_labels.sql\n"
        "settings:\n  operator: sql\n  sql_file: settings.sql\n"
    )
    (repo / "extracts" / "diabetes_features.sql").write_text("SELECT * FROM diabetes_features ORDER BY id\n")
    (repo / "extracts" / "diabetes_labels.sql").write_text("SELECT * FROM diabetes_labels ORDER BY id\n")
    (repo / "extracts" / "settings.sql").write_text("SELECT 1 AS version\n")
    (repo / "trainers" / "two_tables.py").write_text(TWO_TABLES_TRAINER)
    (repo / "models" / "model_two_tables.yaml").write_text(TWO_TABLES_MODEL)
    return repo


def two_tables_tuning(repo: Path, name: str, dataset: str) -> Path:
    path = repo / "tuning" / f"{name}.yaml"
    path.write_text(
        "model: model_two_tables.yaml\ntuning_type: grid\n"
        "param_boundaries:\n  alpha: [0.1, 0.3, 0.1]\n"
        f"validation:\n  dataset: {dataset}\n"
    )
    return path


def test_features_and_labels_from_two_datasets_are_held_out_with_one_mask(model_repo: Path):
    import numpy as np
    import pandas as pd
    from sklearn import linear_model, metrics

    repo = two_tables_repo(model_repo)
    two_tables_tuning(repo, "one_named", "features")  # labels has as many rows: split with the same mask
    two_tables_tuning(repo, "listed", "[features, labels]")
    frame = (
        pd.read_csv(repo / "data" / "diabetes_features.csv")
        .merge(pd.read_csv(repo / "data" / "diabetes_labels.csv"), on="id")
        .sort_values("id")
    )
    held = np.zeros(len(frame), dtype=bool)
    held[np.random.default_rng(0).permutation(len(frame))[: math.ceil(len(frame) * 0.2)]] = True
    train, test = frame[~held], frame[held]
    expected = {}
    for alpha in [0.1, 0.2, 0.3]:
        model = linear_model.ElasticNet(alpha=alpha).fit(train[FEATURES], train["target"])
        expected[alpha] = metrics.mean_squared_error(test["target"], model.predict(test[FEATURES]))

    for name in ["one_named", "listed"]:
        result = cli("tune", f"tuning/{name}.yaml", "--format", "json", cwd=repo)
        assert result.returncode == 0, result
        out = result.json()
        assert out["n_failed"] == 0 and len(out["trials"]) == 3
        for trial in out["trials"]:
            assert trial["metrics"]["mean_squared_error"] == pytest.approx(expected[trial["params"]["alpha"]], rel=1e-6)
        assert out["best_params"] == {"alpha": min(expected, key=expected.get)}
    lineage = envelope(repo, "diabetes_two_tables")["lineage"]
    assert lineage["row_counts"] == {"features": 442, "labels": 442, "settings": 1}
    assert lineage["tuning"]["validation"]["dataset"] == ["features", "labels"]


def test_listed_datasets_of_different_lengths_are_a_clear_error(model_repo: Path):
    repo = two_tables_repo(model_repo, extra_label_rows=3)
    text = two_tables_tuning(repo, "uneven", "[features, labels]").read_text()
    result = cli("tune", "tuning/uneven.yaml", cwd=repo)
    assert result.returncode == 1, result
    line = text.splitlines().index("  dataset: [features, labels]") + 1
    assert f"tuning/uneven.yaml:{line}" in result.stderr
    assert "'features' has 442, 'labels' has 445" in result.stderr and "Traceback" not in result.stderr
    assert not (repo / ".modelyard" / "models").exists()

    two_tables_tuning(repo, "unknown", "[features, label]")
    result = cli("tune", "tuning/unknown.yaml", cwd=repo)
    assert result.returncode == 1 and "train() has no dataset 'label'" in result.stderr, result
    assert "Traceback" not in result.stderr


NEGATIVE = sorted((ROOT / "tests" / "data" / "tune_negative").glob("*.yaml"))


@pytest.mark.parametrize("case", NEGATIVE, ids=[p.stem for p in NEGATIVE])
def test_bad_tuning_files_are_refused_before_anything_runs(model_repo: Path, case: Path):
    # The checks themselves live in checks.py (the `validate` work); tune must run them first.
    rule = case.read_text().splitlines()[0].removeprefix("# expect: ")
    (model_repo / "tuning" / "bad.yaml").write_text(case.read_text())
    result = cli("tune", "tuning/bad.yaml", cwd=model_repo)
    assert result.returncode == 1, result
    assert f"[{rule}]" in result.stderr and "tuning/bad.yaml:" in result.stderr
    assert "Traceback" not in result.stderr
    state = model_repo / ".modelyard"  # nothing but validate's cache of its SQL check
    assert not [p for p in state.rglob("*") if p.relative_to(state).parts[0] != "cache"]
