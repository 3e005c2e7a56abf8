"""The held-out split every trial trains and scores on.

The held-out rows are chosen on one dataset (a parameter of ``train()``, the first one when
``validation.dataset`` lists several) and the same row mask is applied to every dataset with that
many rows, so features and labels held in two tables stay aligned; datasets of other lengths reach
both ``train`` and ``evaluate`` whole. The split is a pure function of the data and the seed, so every trial (in
any process, or any Airflow task) gets the same rows and a rerun gets the same study.

- ``random``: a seeded permutation; the first ``fraction`` of it is held out.
- ``time``: the latest ``fraction`` of rows by ``time_column`` is held out, cut at a timestamp so
  no timestamp is on both sides (the model never trains on the future it is scored on).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

from modelyard.errors import CompileError, ModelyardError, Position
from modelyard.suggest import did_you_mean

# what to change when a time-ordered split cannot be made: (no such column, one timestamp only)
TIME_HINTS = {
    "validation": ("set validation.time_column, or validation.strategy: random", "use validation.strategy: random"),
    "evaluation": (
        "set split_config.time_column to the dataset's date column",
        "use evaluation: in_sample, or more than one timestamp in the data",
    ),
}


def _held_out(name: str, frame, validation: dict) -> Any:
    """A boolean array: True for the rows held out."""
    import numpy as np

    n = len(frame)
    n_valid = max(1, math.ceil(n * validation["fraction"]))
    where = Position(validation["file"], validation["line"])
    key = validation.get("key", "validation")
    if n < 2:
        raise ModelyardError(f"{key}: dataset {name!r} has {n} row(s); a held-out split needs at least 2", where)
    if validation["strategy"] == "random":
        mask = np.zeros(n, dtype=bool)
        mask[np.random.default_rng(validation["seed"]).permutation(n)[:n_valid]] = True
        return mask
    column = validation["time_column"]
    if column not in frame.columns:
        raise ModelyardError(
            f"{key}: dataset {name!r} has no time column {column!r} (columns: {', '.join(map(str, frame.columns))})",
            where,
            hint=TIME_HINTS[key][0],
        )
    times = frame[column].to_numpy()
    cut = np.sort(times, kind="stable")[n - n_valid]
    mask = times >= cut
    if mask.all():
        raise ModelyardError(
            f"{key}: every row of {name!r} has the latest {column} ({cut}); nothing is left to train on",
            where,
            hint=TIME_HINTS[key][1],
        )
    return mask


def datasets(given: str | list[str]) -> list[str]:
    """The datasets ``validation.dataset`` names: one name or a list."""
    return [given] if isinstance(given, str) else list(given)


def resolve_dataset(
    given: str | list[str] | None,
    split_param: str | None,
    inputs: list[str],
    key: str,
    where: Callable[[tuple], Position],
) -> str | list[str]:
    """What ``key`` (``validation.dataset``, ``evaluation.dataset``) names, else the model's
    ``split_config`` dataset, else its only dataset; an error at ``where(path under key)`` when it
    names no ``train()`` dataset or when there is no telling which."""
    dataset = given or split_param or (inputs[0] if len(inputs) == 1 else None)
    if dataset is None:
        raise CompileError(
            "holdout-dataset",
            f"{key}: the model trains on {len(inputs)} datasets ({', '.join(inputs)}); name the one "
            "to hold rows out of (or a list of those to split together)",
            where(()),
        )
    for index, name in enumerate(datasets(dataset)):
        if name not in inputs:
            raise CompileError(
                "holdout-dataset",
                f"{key}: train() has no dataset {name!r}" + did_you_mean(name, inputs),
                where(() if isinstance(dataset, str) else (index,)),
                hint=f"the model's datasets: {', '.join(inputs)}",
            )
    return dataset


def split(frames: dict[str, Any], validation: dict) -> tuple[dict[str, Any], dict[str, Any]]:
    """(training frames, held-out frames)."""
    names = datasets(validation["dataset"])
    n = len(frames[names[0]])
    uneven = [f"{name!r} has {len(frames[name])}" for name in names[1:] if len(frames[name]) != n]
    if uneven:
        raise ModelyardError(
            f"{validation.get('key', 'validation')}.dataset: the datasets split together must have as many rows as each "
            f"other: {names[0]!r} has {n}, {', '.join(uneven)}",
            Position(validation["file"], validation["line"]),
            hint="list only datasets whose rows match one to one; others reach every trial whole",
        )
    mask = _held_out(names[0], frames[names[0]], validation)
    train, held_out = dict(frames), dict(frames)
    for name, frame in frames.items():
        if len(frame) == n:
            train[name] = frame.loc[~mask].reset_index(drop=True)
            held_out[name] = frame.loc[mask].reset_index(drop=True)
    return train, held_out
