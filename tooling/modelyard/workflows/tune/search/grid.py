"""Grid search: every combination of inclusive ``[min, max, step]`` ranges, in one round.

Values are computed in decimal arithmetic from the numbers as written, so ``[0.1, 0.8, 0.1]`` gives
exactly 0.1, 0.2, ... 0.8 (not 0.30000000000000004), and integer bounds and step give integers.
"""

from __future__ import annotations

import itertools
from decimal import Decimal

from modelyard.errors import CompileError, ModelyardError

MAX_POINTS = 10_000  # a grid this large is a typo in a step, and would make an unreadable workflow


def values(param: dict) -> list[float | int]:
    name, step = param["name"], param["step"]
    if step is None or step <= 0:
        raise ModelyardError(f"param_boundaries.{name}: a grid needs a positive step, as [min, max, step]")
    low, high, step_d = (Decimal(repr(param[key])) for key in ("low", "high", "step"))
    if high < low:
        raise ModelyardError(f"param_boundaries.{name}: min {param['low']} is above max {param['high']}")
    count = int((high - low) / step_d) + 1
    if count > MAX_POINTS:
        raise CompileError(
            "grid-too-large",
            f"param_boundaries.{name}: {count} values between {param['low']} and "
            f"{param['high']} with step {step}; a grid allows at most {MAX_POINTS}",
        )
    cast = int if param["integer"] else float
    return [cast(low + i * step_d) for i in range(count)]


def _grid(space: list[dict]) -> list[dict]:
    axes = [values(param) for param in space]
    total = 1
    for axis in axes:
        total *= len(axis)
    if total > MAX_POINTS:
        raise CompileError(
            "grid-too-large",
            f"param_boundaries: the grid has {total:,} points; at most {MAX_POINTS} are allowed",
            hint="use larger steps, fewer parameters, or tuning_type: gaussian_process",
        )
    names = [param["name"] for param in space]
    return [dict(zip(names, combo, strict=True)) for combo in itertools.product(*axes)]


def batches(space: list[dict], n_trials: int | None, n_workers: int) -> list[int]:
    return [len(_grid(space))]


def note(space: list[dict], n_trials: int | None) -> str | None:
    return None


def propose(space: list[dict], observations: list, size: int, seed: int, tried: list[dict] = ()) -> list[dict]:
    return _grid(space)
