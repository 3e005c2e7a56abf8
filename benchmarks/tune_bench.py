"""Benchmarks for `modelyard tune` (figures in docs/tuning.md, "Performance").

    PYTHONPATH=tooling python benchmarks/tune_bench.py [--seeds 5] [--repeats 3]

On scikit-learn's diabetes data with the reference post's tuning file (40 trials, ElasticNet), and
on 50,000 generated rows:
1. wall time of `modelyard tune` with 2 workers against 1 worker (speed-up) on several workloads
   (``--workloads``; ``WORKLOADS`` below): the post's grid; a small MLP over the same grid, where
   a trial costs more than starting a worker; gradient-boosted models with fits of 0.5-3 s:
   scikit-learn's classic GradientBoostingRegressor (its trees are built in one thread, so one
   worker runs exactly as a user runs it) on 12 points and on 40 (the post's grid size), and
   HistGradientBoosting on 12 points (also 28 with ``HistGB28``). The MLP and HistGradientBoosting
   run one OpenMP/BLAS thread in every process (processes compared, not thread pools), and
   HistGradientBoosting once more as a user runs it, one worker's OpenMP pool taking both cores
   (``HistGBthreads``). Then which worker count `--workers auto` chooses for each; and, from each
   run's `--debug` lines, where its time went (outside the run, the extract, each lane's first
   trial, all trials, select + retrain + register: medians);
2. `modelyard tune` (1 worker) against scikit-learn's GridSearchCV over the same grid and the
   same single held-out split (PredefinedSplit), refitting the best on all rows as tune does,
   each in a fresh Python process;
3. Gaussian process: trials until the best objective is within 1% of the grid's best, median
   over seeds (workers 1, budget 20).
Wall times are the best (part 1: also the median) of ``--repeats`` runs of the real CLI, start-up included.
No thread variable is set unless a workload says so (part 1's one-thread workloads and control).
The machine may be shared: part 1 alternates the runs it compares and reports medians.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import re
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))  # the test helpers, imported where used: never by the baseline

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
GRADIENT_BOOSTING_TRAINER = """

@dataclass
class GradientBoostingTrainer(DiabetesElasticNetTrainer):
    learning_rate: float = 0.1
    max_leaf_nodes: int = 31

    def train(self, df: pd.DataFrame) -> TrainedObject:
        from sklearn.ensemble import HistGradientBoostingRegressor

        model = HistGradientBoostingRegressor(
            max_iter=100, learning_rate=self.learning_rate, max_leaf_nodes=self.max_leaf_nodes,
            early_stopping=False, random_state=0,
        )
        model.fit(df[self.feature_columns], df[self.target_label])
        sample = df[self.feature_columns].head(5)
        return TrainedObject(model, {"x": sample}, model.predict(sample), "predict")
"""
BOOSTING_MODEL = """\
model_name: Gradient boosting on generated rows
model_description: {description}
tags:
  canonical_name: {canonical_name}
model_trainer: diabetes.{trainer}
constructor_args:
  feature_columns: [{features}]
dependencies:
  data:
    - train_param_name: df
      file: generated.yaml
      file_param_name: generated
"""


def grid_file(model: str, **boundaries: list) -> str:
    """A grid tuning file of ``model`` over ``boundaries`` ([first, last, step] per parameter)."""
    lines = "".join(f"  {name}: {values}\n" for name, values in boundaries.items())
    return f"model: {model}\nn_function_compute_workers: 1\ntuning_type: grid\nparam_boundaries:\n{lines}"


# The classic GradientBoostingRegressor builds its trees in one thread: one worker runs it exactly as
# two do, whatever the thread settings, so the 1-worker baseline is the run a user gets.
CLASSIC_BOOSTING_TRAINER = """

@dataclass
class ClassicGradientBoostingTrainer(DiabetesElasticNetTrainer):
    n_estimators: int = 4
    max_depth: int = 2
    learning_rate: float = 0.1

    def train(self, df: pd.DataFrame) -> TrainedObject:
        from sklearn.ensemble import GradientBoostingRegressor

        model = GradientBoostingRegressor(
            n_estimators=self.n_estimators, max_depth=self.max_depth, learning_rate=self.learning_rate, random_state=0
        )
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
# As a user runs it: no thread variable set (``main`` removes any from this process's environment),
# so one worker's OpenMP and BLAS pools take every core, and with two workers modelyard cuts each
# worker to its share. Bytecode caching on, as in a user's installation (a shell may turn it off for
# its checkout: then every run would compile modelyard's sources again, and the baseline's
# libraries are compiled).
USER_ENV = {"PYTHONDONTWRITEBYTECODE": ""}
# One OpenMP/BLAS thread in every process, 1 worker or 2: compares processes, not thread pools.
ONE_THREAD_ENV = {**USER_ENV, "OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}


def gradient_boosting_repo(repo: Path, rows: int = 50_000, features: int = 20) -> None:
    """Gradient-boosted models on ``rows`` generated rows (a seeded non-linear target, nothing
    downloaded), and their tuning files."""
    import numpy as np
    import pandas as pd

    rng = np.random.default_rng(0)
    x = rng.normal(size=(rows, features))
    target = 2 * x[:, 0] + np.sin(3 * x[:, 1]) + x[:, 2] * x[:, 3] + rng.normal(scale=0.5, size=rows)
    names = [f"x_{i}" for i in range(features)]
    frame = pd.DataFrame(x, columns=names).assign(target=target)
    frame.insert(0, "id", range(rows))
    frame.to_csv(repo / "data" / "generated.csv", index=False)
    (repo / "extracts" / "generated.yaml").write_text("generated:\n  operator: sql\n  sql_file: generated.sql\n")
    (repo / "extracts" / "generated.sql").write_text("SELECT * FROM generated ORDER BY id\n")
    with open(repo / "trainers" / "diabetes.py", "a") as handle:  # evaluate() from the diabetes trainer
        handle.write(GRADIENT_BOOSTING_TRAINER + CLASSIC_BOOSTING_TRAINER)
    for model, trainer, description in (
        ("gradient_boosting", "GradientBoostingTrainer", "HistGradientBoostingRegressor, about a second per fit."),
        ("classic_boosting", "ClassicGradientBoostingTrainer", "GradientBoostingRegressor, one thread."),
    ):
        (repo / "models" / f"model_{model}.yaml").write_text(
            BOOSTING_MODEL.format(
                description=description, canonical_name=f"generated_{model}", trainer=trainer, features=", ".join(names)
            )
        )
    histogram = "model_gradient_boosting.yaml"
    (repo / "tuning" / "tune_gradient_boosting.yaml").write_text(
        grid_file(histogram, learning_rate=[0.05, 0.15, 0.05], max_leaf_nodes=[15, 63, 16])
    )
    (repo / "tuning" / "tune_gradient_boosting_28.yaml").write_text(
        grid_file(histogram, learning_rate=[0.05, 0.2, 0.05], max_leaf_nodes=[15, 63, 8])
    )
    classic = "model_classic_boosting.yaml"
    (repo / "tuning" / "tune_classic_boosting.yaml").write_text(
        grid_file(classic, n_estimators=[4, 8, 4], max_depth=[2, 4, 1], learning_rate=[0.1, 0.3, 0.2])
    )
    # the post's grid shape (8 x 5 = 40 points), of fits of 0.6-1.4 s
    (repo / "tuning" / "tune_classic_boosting_40.yaml").write_text(
        grid_file(classic, learning_rate=[0.05, 0.4, 0.05], n_estimators=[4, 8, 1])
    )


def tune(
    repo: Path, tuning_file: str, workers: int | str, phases: dict | None = None, env: dict = USER_ENV
) -> tuple[float, dict]:
    """Wall time and JSON output of the real CLI; with ``phases``, the run's ``--debug`` timings
    are added to it (``phase_times``)."""
    from conftest import cli

    debug = ("--debug",) if phases is not None else ()
    started = time.perf_counter()
    result = cli(
        "tune", tuning_file, "--workers", str(workers), "--format", "json", *debug, cwd=repo, env=env, timeout=900
    )
    seconds = time.perf_counter() - started
    if result.returncode != 0 or not result.stdout.startswith("{"):
        raise SystemExit(f"modelyard tune {tuning_file} failed:\n{result}")
    if phases is not None:
        for name, value in phase_times(result.stderr, seconds).items():
            phases.setdefault(name, []).append(value)
    return seconds, result.json()


DEBUG_TIME = re.compile(r"^debug: +([0-9.]+) s  (.*)$", re.MULTILINE)


def phase_times(stderr: str, wall: float) -> dict[str, float]:
    """Where a tune's wall time went, from the runner's ``--debug`` lines (seconds since the run
    started): outside the run (interpreter start, imports, reading the repo, exit), the extract,
    the trials until each lane's first one ended (the lane's start-up and first trial), all trials,
    and select + retrain + register."""
    at = {message: float(t) for t, message in DEBUG_TIME.findall(stderr)}
    first = {}
    for message, t in at.items():
        if " ended in " in message:
            first.setdefault(message.split(" ended in ")[1], t - at["trials started"])
    return {
        "outside the run": wall - at["register ended"],
        "extract": at["trials started"],
        **{f"first trial ended ({lane})": t for lane, t in sorted(first.items())},
        "trials": at["trials ended"] - at["trials started"],
        "select, retrain, register": at["register ended"] - at["trials ended"],
    }


def grid_search_cv(repo: Path) -> dict:
    """The same 40 points, the same held-out rows (seed-0 permutation, first 20%), best refit on all."""
    import numpy as np
    import pandas as pd
    from sklearn.linear_model import ElasticNet
    from sklearn.model_selection import GridSearchCV, PredefinedSplit

    frame = pd.read_csv(repo / "data" / "diabetes.csv").sort_values("id")
    features = [c for c in frame.columns if c not in ("id", "target")]
    fold = np.full(len(frame), -1)
    fold[np.random.default_rng(0).permutation(len(frame))[: math.ceil(len(frame) * 0.2)]] = 0
    grid = {"alpha": [round(0.1 * i, 1) for i in range(1, 9)], "max_iter": [10, 20, 30, 40, 50]}
    search = GridSearchCV(ElasticNet(), grid, scoring="neg_mean_squared_error", cv=PredefinedSplit(fold), refit=True)
    search.fit(frame[features], frame["target"])
    return {"best_params": search.best_params_, "best_objective": -search.best_score_}


PLAIN_FITS = """
import numpy as np
from sklearn.ensemble import HistGradientBoostingRegressor
x = np.random.default_rng(0).normal(size=(40_000, 20))
for _ in range(2):
    HistGradientBoostingRegressor(max_iter=100, early_stopping=False, random_state=0).fit(x, x[:, 0])
"""


def machine_parallelism() -> float:
    """How much faster two processes do two processes' work than one does one's, right now: two
    plain scikit-learn scripts at once against one alone. Near 2 on an idle 2-core machine; near 1
    when the machine is busy (or this session's share of it is capped), and no worker count can help."""

    def wall(copies: int) -> float:
        started = time.perf_counter()
        running = [
            subprocess.Popen([sys.executable, "-c", PLAIN_FITS], env={**os.environ, **ONE_THREAD_ENV})
            for _ in range(copies)
        ]
        for process in running:
            process.wait()
        return time.perf_counter() - started

    return 2 * wall(1) / wall(2)


def grid_search_cv_process(repo: Path) -> tuple[float, dict]:
    """GridSearchCV in a fresh Python process, as `modelyard tune` starts one: imports included
    (those of pandas and scikit-learn only: the process never imports the test helpers)."""
    started = time.perf_counter()
    done = subprocess.run(
        [sys.executable, __file__, "--baseline", str(repo)],
        capture_output=True,
        text=True,
        env={**os.environ, **USER_ENV},
        check=True,
    )
    return time.perf_counter() - started, json.loads(done.stdout)


def trials_to_reach(trials: list[dict], target: float) -> int | None:
    for trial in sorted(trials, key=lambda t: t["trial"]):
        if trial["objective"] is not None and trial["objective"] <= target:
            return trial["trial"]
    return None


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--parts", default="123", help="which parts to run, e.g. 12 (default: all)")
    parser.add_argument(
        "--workloads",
        default="ElasticNet,MLP,HistGB,HistGBthreads,GB",
        help=f"part 1's workloads, of {', '.join(WORKLOADS)} (default: all but the larger grids, HistGB28 and GB40)",
    )
    parser.add_argument("--baseline", metavar="REPO", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.baseline:  # the baseline's own process
        print(json.dumps(grid_search_cv(Path(args.baseline))))
        return 0
    from conftest import generate_repo
    from helpers.diabetes import POST_TUNING_FILE, diabetes_repo

    unknown = set(args.workloads.split(",")) - set(WORKLOADS)
    if unknown:
        parser.error(f"unknown workloads {sorted(unknown)}: choose from {', '.join(WORKLOADS)}")
    from modelyard.execute.runner import THREAD_VARIABLES  # not in the baseline's process (--baseline)

    for name in THREAD_VARIABLES:  # the user's setting is USER_ENV's: none
        os.environ.pop(name, None)

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
        gradient_boosting_repo(repo)
        _, out = tune(repo, "tuning/tune_post.yaml", 1)  # warm: extract built, files and bytecode cached
        tune(repo, WORKLOADS["HistGB"][1], 1)
        if "1" in args.parts:
            parallel_workers(repo, args.repeats, args.workloads.split(","))
        if "2" in args.parts:
            against_grid_search_cv(repo, args.repeats)
        if "3" in args.parts:
            gaussian_process(repo, out["best_objective"], args.seeds)
    return 0


# part 1's workloads: --workloads name -> (label, tuning file, environment of both runs)
WORKLOADS = {
    "ElasticNet": ("ElasticNet", "tuning/tune_post.yaml", USER_ENV),
    "MLP": ("MLP 256x256, 1 thread", "tuning/tune_mlp.yaml", ONE_THREAD_ENV),
    "HistGB": ("HistGB 50k, 1 thread", "tuning/tune_gradient_boosting.yaml", ONE_THREAD_ENV),
    "HistGB28": ("HistGB 50k, 28 points, 1 thread", "tuning/tune_gradient_boosting_28.yaml", ONE_THREAD_ENV),
    # the same grid as a user runs it: one worker's OpenMP pool takes both cores
    "HistGBthreads": ("HistGB 50k, library threads", "tuning/tune_gradient_boosting.yaml", USER_ENV),
    "GB": ("GB 50k, one-thread trees", "tuning/tune_classic_boosting.yaml", USER_ENV),
    "GB40": ("GB 50k, 40 points, one-thread trees", "tuning/tune_classic_boosting_40.yaml", USER_ENV),
}


def parallel_workers(repo: Path, repeats: int, names: list[str]) -> None:
    print(
        f"1. parallel workers (wall time of `modelyard tune`; 1 and 2 workers alternate, median and best of {repeats})"
    )
    workloads = [WORKLOADS[name] for name in names]
    for label, file, env in workloads:
        runs: dict[int, list[float]] = {1: [], 2: []}
        best: dict[int, tuple] = {}
        phases: dict[int, dict] = {1: {}, 2: {}}
        for _ in range(repeats):  # interleaved, so a busy moment on the machine hits both alike
            for workers in runs:
                seconds, out = tune(repo, file, workers, phases[workers], env)
                runs[workers].append(seconds)
                best[workers] = (out["best_params"], out["best_objective"])
        if best[1][0] != best[2][0] or not math.isclose(best[1][1], best[2][1], rel_tol=1e-9):
            raise SystemExit(f"{label}: 1 worker found {best[1]}, 2 workers {best[2]}")
        one, two = (statistics.median(runs[w]) for w in (1, 2))
        fits = [t["seconds"] for t in out["trials"]]
        print(
            f"   {label}: 1 worker {one:6.2f} s (best {min(runs[1]):.2f})   2 workers {two:6.2f} s "
            f"(best {min(runs[2]):.2f})   2 workers take {two / one:4.2f}x the time of 1 "
            f"(best/best {min(runs[2]) / min(runs[1]):.2f}x)   (fit+score of the {len(fits)} trials, 2 workers: "
            f"{sum(fits):.2f} s in all, {min(fits):.2f}-{max(fits):.2f} s each)"
        )
        for workers, times in phases.items():
            table = ", ".join(f"{name} {statistics.median(values):.2f}" for name, values in times.items())
            print(f"      phases with {workers} worker(s), medians in s: {table}")
    print(
        f"   control: two plain scikit-learn processes at once did {machine_parallelism():.2f}x the work per "
        "second of one alone (2 = two free cores; about 1 = no second core to gain, whatever the worker count)"
    )
    chosen = {label: tune(repo, file, "auto", env=env)[1]["workers"] for label, file, env in workloads}
    print(f"   --workers auto chose: {', '.join(f'{label} {n}' for label, n in chosen.items())}")


def measured(runs: tuple[list[float], list[float]], run) -> dict:
    """``run()``'s result; its wall time and CPU time (user + system of the processes it waited
    for: steadier than wall time on a busy machine) appended to ``runs``."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    seconds, result = run()
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    runs[0].append(seconds)
    runs[1].append(after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime)
    return result


def against_grid_search_cv(repo: Path, repeats: int) -> None:
    ours: tuple[list[float], list[float]] = ([], [])
    theirs: tuple[list[float], list[float]] = ([], [])
    for _ in range(repeats):  # interleaved, as in part 1
        out = measured(ours, lambda: tune(repo, "tuning/tune_post.yaml", 1))
        best = measured(theirs, lambda: grid_search_cv_process(repo))
    if best["best_params"] != out["best_params"] or not math.isclose(
        best["best_objective"], out["best_objective"], rel_tol=1e-6
    ):
        raise SystemExit(f"GridSearchCV found {best}, modelyard tune {out['best_params']} {out['best_objective']}")
    (wall, cpu), (their_wall, their_cpu) = ([statistics.median(x) for x in side] for side in (ours, theirs))
    print(
        f"2. against GridSearchCV (same best params and objective), medians of {repeats}: modelyard tune "
        f"{wall:.2f} s wall, {cpu:.2f} s CPU; GridSearchCV {their_wall:.2f} s wall, {their_cpu:.2f} s CPU; "
        f"ratio {wall / their_wall:.2f}x wall, {cpu / their_cpu:.2f}x CPU (best walls: {min(ours[0]) / min(theirs[0]):.2f}x)"
    )


def gaussian_process(repo: Path, grid_best: float, seeds: int) -> None:
    target = grid_best * 1.01
    needed = []
    for seed in range(seeds):
        (repo / "tuning" / "tune_gp.yaml").write_text(GP_FILE.format(seed=seed))
        _, study = tune(repo, "tuning/tune_gp.yaml", 1)
        needed.append(trials_to_reach(study["trials"], target))
    reached = [n for n in needed if n is not None]
    median = statistics.median(n if n is not None else math.inf for n in needed)
    print(
        f"3. gaussian process: trials to come within 1% of the grid's best ({grid_best:.2f}) "
        f"per seed: {['>20' if n is None else n for n in needed]}; median {median} "
        f"({len(reached)}/{len(needed)} seeds within the 20-trial budget; the grid used 40)"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
