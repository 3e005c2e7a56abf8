"""Gaussian-process Bayesian optimisation over ``[min, max]`` boxes (library: bayesian-optimization).

The optimiser sees every parameter scaled to [0, 1] (after log10 for ``log: true``), so one kernel
length scale suits parameters of very different ranges. The first round is a seeded Latin hypercube
(stdlib only, so compiling needs no numerical library); later rounds fit a GP with a Matern kernel
to the finished trials and pick ``size`` points by expected improvement, with the constant-liar
heuristic so a batch spreads out instead of proposing one point ``size`` times.

Every proposal is snapped to the values a parameter can take (its ``step`` grid, integers), and a
point already tried, or already in the batch, is replaced by the optimiser's next suggestion, then
by a seeded random untried point: re-running a point costs a trial and teaches the GP nothing. When
the space holds fewer points than ``n_trials``, the study runs each point once (``batches``).
"""

from __future__ import annotations

import contextlib
import io
import itertools
import math
import random
import warnings
from decimal import ROUND_HALF_EVEN, Decimal

from modelyard.errors import ModelyardError

DEFAULT_TRIALS = 20
INITIAL_POINTS = 4  # random points before the GP takes over (rounded up to whole batches)
EXPLORATION = 0.01  # expected improvement's xi: how much improvement counts as worth a try


ENUMERABLE = 100_000  # a finite space up to this many points is listed to find untried ones
EXTRA_SUGGESTIONS = 3  # per wanted point: how often to ask the GP again before drawing at random


def _count(param: dict) -> int | None:
    """How many values the parameter can take; None for a continuous range."""
    if param["step"]:
        return int((Decimal(repr(param["high"])) - Decimal(repr(param["low"]))) / Decimal(repr(param["step"]))) + 1
    if param["integer"]:
        return int(param["high"]) - int(param["low"]) + 1
    return None


def space_size(space: list[dict]) -> int | None:
    counts = [_count(param) for param in space]
    return None if None in counts else math.prod(counts)


def note(space: list[dict], n_trials: int | None) -> str | None:
    wanted, size = n_trials or DEFAULT_TRIALS, space_size(space)
    if size is not None and size < wanted:
        return (
            f"the search space holds only {size} distinct points, so the study runs {size} trials, "
            f"not {wanted}: a point is never tried twice"
        )
    return None


def batches(space: list[dict], n_trials: int | None, n_workers: int) -> list[int]:
    size = space_size(space)
    total, workers = min(n_trials or DEFAULT_TRIALS, size or math.inf), max(1, n_workers)
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
    if param["step"]:
        return _on_step(param, value)
    if param["integer"]:
        return min(max(round(value), param["low"]), param["high"])
    return float(f"{value:.6g}")  # the optimiser's further digits are noise; keep tables readable


def _on_step(param: dict, value: float) -> float | int:
    """The nearest of ``low, low + step, ...`` not past ``high``, in decimal arithmetic as the grid's."""
    low, step = Decimal(repr(param["low"])), Decimal(repr(param["step"]))
    index = ((Decimal(repr(value)) - low) / step).to_integral_value(ROUND_HALF_EVEN)
    index = min(max(int(index), 0), _count(param) - 1)
    return (int if param["integer"] else float)(low + index * step)


def _values(param: dict) -> list[float | int]:
    return [
        _on_step(param, param["low"] + i * param["step"]) if param["step"] else param["low"] + i
        for i in range(_count(param))
    ]


def _key(space: list[dict], point: dict) -> tuple:
    return tuple(point[param["name"]] for param in space)


def _distinct(space: list[dict], candidates, tried: list[dict], size: int, seed: int) -> list[dict]:
    """Up to ``size`` points from ``candidates`` (an iterable, read lazily) that were not tried and
    are not repeated, then seeded random untried points; fewer only when the space is exhausted."""
    seen = {_key(space, point) for point in tried}
    chosen = []
    for point in candidates:
        if len(chosen) == size:
            return chosen
        if _key(space, point) not in seen:
            seen.add(_key(space, point))
            chosen.append(point)
    rng = random.Random(seed)
    total = space_size(space)
    if total is not None and total <= ENUMERABLE:
        names = [param["name"] for param in space]
        untried = [p for p in itertools.product(*map(_values, space)) if p not in seen]
        picks = rng.sample(untried, min(size - len(chosen), len(untried)))
        return chosen + [dict(zip(names, p, strict=True)) for p in picks]
    for _ in range(100 * size):
        if len(chosen) == size:
            break
        point = {param["name"]: to_value(param, rng.random()) for param in space}
        if _key(space, point) not in seen:
            seen.add(_key(space, point))
            chosen.append(point)
    return chosen


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


def propose(
    space: list[dict], observations: list[tuple[dict, float]], size: int, seed: int, tried: list[dict] = ()
) -> list[dict]:
    if not observations:
        return _distinct(space, _latin_hypercube(space, size, seed), list(tried), size, seed)
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
        # the liar remembers each suggestion, so asking again moves away from the ones snapped onto a tried point
        suggestions = (
            {p["name"]: to_value(p, float(point[p["name"]])) for p in space}
            for point in (optimizer.suggest() for _ in range(size * (1 + EXTRA_SUGGESTIONS)))
        )
        return _distinct(space, suggestions, [params for params, _ in observations] + list(tried), size, seed)
