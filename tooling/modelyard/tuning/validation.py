"""The held-out split every trial trains and scores on.

One dataset (a parameter of ``train()``) is split; other datasets reach both ``train`` and
``evaluate`` whole. The split is a pure function of the data and the seed, so every trial (in
any process, or any Airflow task) gets the same rows and a rerun gets the same study.

- ``random``: a seeded permutation; the first ``fraction`` of it is held out.
- ``time``: the latest ``fraction`` of rows by ``time_column`` is held out, cut at a timestamp so
  no timestamp is on both sides (the model never trains on the future it is scored on).
"""
from __future__ import annotations

import math
from typing import Any

from ..errors import ModelyardError, Position


def _held_out(frame, validation: dict) -> Any:
    """A boolean array: True for the rows held out."""
    import numpy as np

    n = len(frame)
    n_valid = max(1, math.ceil(n * validation["fraction"]))
    where = Position(validation["file"], validation["line"])
    if n < 2:
        raise ModelyardError(f"validation: dataset {validation['dataset']!r} has {n} row(s); "
                             "a held-out split needs at least 2", where)
    if validation["strategy"] == "random":
        mask = np.zeros(n, dtype=bool)
        mask[np.random.default_rng(validation["seed"]).permutation(n)[:n_valid]] = True
        return mask
    column = validation["time_column"]
    if column not in frame.columns:
        raise ModelyardError(f"validation: dataset {validation['dataset']!r} has no time column {column!r} "
                             f"(columns: {', '.join(map(str, frame.columns))})", where,
                             hint="set validation.time_column, or validation.strategy: random")
    times = frame[column].to_numpy()
    cut = np.sort(times, kind="stable")[n - n_valid]
    mask = times >= cut
    if mask.all():
        raise ModelyardError(f"validation: every row of {validation['dataset']!r} has the latest {column} "
                             f"({cut}); nothing is left to train on", where,
                             hint="use validation.strategy: random")
    return mask


def split(frames: dict[str, Any], validation: dict) -> tuple[dict[str, Any], dict[str, Any]]:
    """(training frames, held-out frames)."""
    name = validation["dataset"]
    frame = frames[name]
    mask = _held_out(frame, validation)
    train = frame.loc[~mask].reset_index(drop=True)
    held_out = frame.loc[mask].reset_index(drop=True)
    return {**frames, name: train}, {**frames, name: held_out}
