"""Hyperparameter search over a model's constructor_args (``modelyard tune tuning/FILE.yaml``).

A search strategy is a module satisfying ``Strategy``, registered in ``STRATEGIES`` under its
``tuning_type``. The compiler asks it how many trials each round holds (``batches``) and, for the
first round, which points to try (``propose`` with no observations) so those items are fixed in the
IR; later rounds are ``propose`` nodes that see every earlier trial's result.

A parameter of the search space is a JSON object (it travels in the IR):
``{"name", "low", "high", "step", "log", "integer"}``.
"""

from __future__ import annotations

from typing import Any, Protocol

from modelyard.workflows.tune.search import gaussian_process, grid

Param = dict[str, Any]
Point = dict[str, float | int]


class Strategy(Protocol):
    def batches(self, space: list[Param], n_trials: int | None, n_workers: int) -> list[int]:
        """The number of trials in each round; a round's proposals see every earlier round's results."""

    def propose(
        self, space: list[Param], observations: list[tuple[Point, float]], size: int, seed: int, tried: list[Point] = ()
    ) -> list[Point]:
        """``size`` points to try next, given (params, target) pairs where a higher target is better,
        and every point tried so far (failed trials too)."""

    def note(self, space: list[Param], n_trials: int | None) -> str | None:
        """What the user should know about how the study differs from the file (fewer trials)."""


STRATEGIES: dict[str, Strategy] = {
    "grid": grid,
    "gaussian_process": gaussian_process,
}
