"""Benchmarks for `modelyard tune` (figures in docs/tuning.md, "Performance").

    PYTHONPATH=tooling python benchmarks/tune_bench.py [--seeds 5] [--repeats 3]

On scikit-learn's diabetes data with the reference post's tuning file (40 trials, ElasticNet):
1. wall time of `modelyard tune` with 2 workers against 1 worker (speed-up), and the same for a
   heavier trainer (a small MLP, same grid) where a trial costs more than starting a worker;
2. `modelyard tune` (1 worker) against scikit-learn's GridSearchCV over the same grid and the
   same single held-out split (PredefinedSplit), refitting the best on all rows as tune does,
   each in a fresh Python process;
3. Gaussian process: trials until the best objective is within 1% of the grid's best, median
   over seeds (workers 1, budget 20).
Wall times are the best (part 1: also the median) of ``--repeats`` runs of the real CLI, start-up included.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

from conftest import cli, generate_repo  # noqa: E402
from tune_test import FEATURES, POST_TUNING_FILE, diabetes_repo  # noqa: E402

MLP_TRAINER = """

@dataclass
class DiabetesMLPTrainer(DiabetesElasticNetTrainer):
    def train(self, df: pd.DataFrame) -> TrainedObject:
        from sklearn.neural_network import MLPRegressor

        model = MLPRegressor(hidden_layer_sizes=(256, 256), alpha=self.alpha, max_iter=self.max_iter, random_state=0)
        model.fit(df[self.feature_columns], df[self.target_label])
        sample = df[self.feature_columns].head(5)
        return TrainedObject(model, {"x": sample}, model.predict(sample), "predict")
"""
GP_FILE = """\
model: model_linear_regression.yaml
tuning_type: gaussian_process
n_function_compute_workers: 1
n_trials: 20
seed: {seed}
param_boundaries:
  alpha: [0.1, 0.8]
  max_iter: [10, 50]
"""
# one BLAS thread per process, so two workers do not fight over the two cores the way 2x2 threads would
ENV = {"OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}


def tune(repo: Path, tuning_file: str, workers: int) -> tuple[float, dict]:
    started = time.perf_counter()
    result = cli("tune", tuning_file, "--workers", str(workers), "--format", "json", cwd=repo, env=ENV, timeout=900)
    seconds = time.perf_counter() - started
    if result.returncode != 0 or not result.stdout.startswith("{"):
        raise SystemExit(f"modelyard tune {tuning_file} failed:\n{result}")
    return seconds, result.json()


def best_of(repeats: int, repo: Path, tuning_file: str, workers: int) -> tuple[float, dict]:
    runs = [tune(repo, tuning_file, workers) for _ in range(repeats)]
    return min(runs, key=lambda run: run[0])


def grid_search_cv(repo: Path) -> dict:
    """The same 40 points, the same held-out rows (seed-0 permutation, first 20%), best refit on all."""
    import numpy as np
    import pandas as pd
    from sklearn.linear_model import ElasticNet
    from sklearn.model_selection import GridSearchCV, PredefinedSplit

    frame = pd.read_csv(repo / "data" / "diabetes.csv").sort_values("id")
    fold = np.full(len(frame), -1)
    fold[np.random.default_rng(0).permutation(len(frame))[: math.ceil(len(frame) * 0.2)]] = 0
    grid = {"alpha": [round(0.1 * i, 1) for i in range(1, 9)], "max_iter": [10, 20, 30, 40, 50]}
    search = GridSearchCV(ElasticNet(), grid, scoring="neg_mean_squared_error", cv=PredefinedSplit(fold), refit=True)
    search.fit(frame[FEATURES], frame["target"])
    return {"best_params": search.best_params_, "best_objective": -search.best_score_}


def baseline(repo: Path, repeats: int) -> tuple[float, dict]:
    """GridSearchCV in a fresh Python process, as `modelyard tune` starts one: imports included."""
    runs = []
    for _ in range(repeats):
        started = time.perf_counter()
        done = subprocess.run(
            [sys.executable, __file__, "--baseline", str(repo)],
            capture_output=True,
            text=True,
            env={**os.environ, **ENV},
            check=True,
        )
        runs.append((time.perf_counter() - started, json.loads(done.stdout)))
    return min(runs, key=lambda run: run[0])


def trials_to_reach(trials: list[dict], target: float) -> int | None:
    for trial in sorted(trials, key=lambda t: t["trial"]):
        if trial["objective"] is not None and trial["objective"] <= target:
            return trial["trial"]
    return None


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--baseline", metavar="REPO", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.baseline:
        print(json.dumps(grid_search_cv(Path(args.baseline))))
        return 0
    with tempfile.TemporaryDirectory() as tmp:
        os.environ["HOME"] = tmp  # cookiecutter writes its replay file to ~
        repo = diabetes_repo(generate_repo(Path(tmp)))
        (repo / "tuning" / "tune_post.yaml").write_text(POST_TUNING_FILE)
        with open(repo / "trainers" / "diabetes.py", "a") as handle:
            handle.write(MLP_TRAINER)
        (repo / "models" / "model_mlp.yaml").write_text(
            (repo / "models" / "model_linear_regression.yaml")
            .read_text()
            .replace("DiabetesElasticNetTrainer", "DiabetesMLPTrainer")
            .replace("diabetes_elastic_net", "diabetes_mlp")
        )
        (repo / "tuning" / "tune_mlp.yaml").write_text(POST_TUNING_FILE.replace("model_linear_regression", "model_mlp"))
        tune(repo, "tuning/tune_post.yaml", 1)  # warm: extract built, files cached

        print(
            "1. parallel workers, 40-trial grid (wall time of `modelyard tune`; 1 and 2 workers alternate, "
            f"median and best of {args.repeats})"
        )
        for label, file in (("ElasticNet", "tuning/tune_post.yaml"), ("MLP 256x256", "tuning/tune_mlp.yaml")):
            runs: dict[int, list[float]] = {1: [], 2: []}
            for _ in range(args.repeats):  # interleaved, so a busy moment on the machine hits both alike
                for workers in runs:
                    seconds, out = tune(repo, file, workers)
                    runs[workers].append(seconds)
            one, two = (statistics.median(runs[w]) for w in (1, 2))
            trial_seconds = sum(t["seconds"] for t in out["trials"])
            print(
                f"   {label:<12} 1 worker {one:6.2f} s (best {min(runs[1]):.2f})   2 workers {two:6.2f} s "
                f"(best {min(runs[2]):.2f})   speed-up {one / two:4.2f}x (best/best {min(runs[1]) / min(runs[2]):.2f}x)"
                f"   (fit+score time of the 40 trials: {trial_seconds:.2f} s)"
            )

        ours, out = best_of(args.repeats, repo, "tuning/tune_post.yaml", 1)
        theirs, best = baseline(repo, args.repeats)
        same = best["best_params"] == out["best_params"] and math.isclose(
            best["best_objective"], out["best_objective"], rel_tol=1e-6
        )
        print(
            f"2. against GridSearchCV: modelyard tune {ours:.2f} s, GridSearchCV {theirs:.2f} s, "
            f"ratio {ours / theirs:.1f}x; same best params and objective: {same}"
        )
        if not same:
            raise SystemExit(f"modelyard tune and GridSearchCV disagree: {out} vs {best}")

        target = out["best_objective"] * 1.01
        needed = []
        for seed in range(args.seeds):
            (repo / "tuning" / "tune_gp.yaml").write_text(GP_FILE.format(seed=seed))
            _, study = tune(repo, "tuning/tune_gp.yaml", 1)
            needed.append(trials_to_reach(study["trials"], target))
        reached = [n for n in needed if n is not None]
        median = statistics.median(n if n is not None else math.inf for n in needed)
        print(
            f"3. gaussian process: trials to come within 1% of the grid's best ({out['best_objective']:.2f}) "
            f"per seed: {['>20' if n is None else n for n in needed]}; median {median} "
            f"({len(reached)}/{len(needed)} seeds within the 20-trial budget; the grid used 40)"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
