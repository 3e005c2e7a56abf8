"""Gaussian-process Bayesian optimisation over ``[min, max]`` boxes (library: bayesian-optimization).

The optimiser sees every parameter scaled to [0, 1] (after log10 for ``log: true``), so one kernel
length scale suits parameters of very different ranges. The first round is a seeded Latin hypercube
(stdlib only, so compiling needs no numerical library); later rounds fit a GP with a Matern kernel
to the finished trials and pick ``size`` points by expected improvement, with the constant-liar
heuristic so a batch spreads out instead of proposing one point ``size`` times.
"""

from __future__ import annotations

import contextlib
import io
import math
import random
import warnings

from modelyard.errors import ModelyardError

DEFAULT_TRIALS = 20
INITIAL_POINTS = 4  # random points before the GP takes over (rounded up to whole batches)
EXPLORATION = 0.01  # expected improvement's xi: how much improvement counts as worth a try


def batches(space: list[dict], n_trials: int | None, n_workers: int) -> list[int]:
    total, workers = n_trials or DEFAULT_TRIALS, max(1, n_workers)
    first = min(total, workers * math.ceil(INITIAL_POINTS / workers))
    rest = total - first
    return [first] + [workers] * (rest // workers) + ([rest % workers] if rest % workers else [])


def _edges(param: dict) -> tuple[float, float]:
    if not param["log"]:
        return param["low"], param["high"]
    if param["low"] <= 0:
        raise ModelyardError(f"param_boundaries.{param['name']}: a log scale needs min > 0 (got {param['low']})")
    return math.log10(param["low"]), math.log10(param["high"])


def to_value(param: dict, unit: float) -> float | int:
    low, high = _edges(param)
    value = low + min(max(unit, 0.0), 1.0) * (high - low)
    if param["log"]:
        value = 10**value
    if param["integer"]:
        return min(max(round(value), param["low"]), param["high"])
    return float(f"{value:.6g}")  # the optimiser's further digits are noise; keep tables readable


def to_unit(param: dict, value: float) -> float:
    low, high = _edges(param)
    scaled = math.log10(value) if param["log"] else value
    return (scaled - low) / (high - low) if high > low else 0.0


def _latin_hypercube(space: list[dict], size: int, seed: int) -> list[dict]:
    rng = random.Random(seed)
    columns = []
    for _ in space:
        strata = list(range(size))
        rng.shuffle(strata)
        columns.append([(s + rng.random()) / size for s in strata])
    return [
        {param["name"]: to_value(param, column[i]) for param, column in zip(space, columns, strict=True)}
        for i in range(size)
    ]


def propose(space: list[dict], observations: list[tuple[dict, float]], size: int, seed: int) -> list[dict]:
    if not observations:
        return _latin_hypercube(space, size, seed)
    from bayes_opt import BayesianOptimization, acquisition

    names = [param["name"] for param in space]
    liar = acquisition.ConstantLiar(
        acquisition.ExpectedImprovement(xi=EXPLORATION, random_state=seed), random_state=seed
    )
    optimizer = BayesianOptimization(
        f=None,
        pbounds={name: (0.0, 1.0) for name in names},
        acquisition_function=liar,
        random_state=seed,
        verbose=0,
        allow_duplicate_points=True,
    )
    # The library prints a line per repeated point (rounded integers repeat) to stdout, where
    # `--format json` writes; sklearn warns when a length scale hits its bound on few points.
    with contextlib.redirect_stdout(io.StringIO()), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for params, target in observations:
            optimizer.register({p["name"]: to_unit(p, params[p["name"]]) for p in space}, target)
        suggestions = [optimizer.suggest() for _ in range(size)]
    return [{p["name"]: to_value(p, float(point[p["name"]])) for p in space} for point in suggestions]
