"""The Gaussian process optimises: on a known function it beats random search of the same budget.

In process (no CLI, no warehouse): the study loop of the tune workflow, rounds sized by
``batches`` and proposals by ``propose`` seeing every earlier trial, against uniform random
points. Regret is the distance of the best target found from the known maximum (0).
"""

from __future__ import annotations

import random
import statistics

from modelyard.workflows.tune.search import gaussian_process

SPACE = [
    {"name": "x", "low": -5.0, "high": 5.0, "step": None, "log": False, "integer": False},
    {"name": "y", "low": -5.0, "high": 5.0, "step": None, "log": False, "integer": False},
]
BUDGET = 8  # 4 Latin-hypercube points, then 4 rounds of one point chosen by the GP
SEEDS = range(5)


def target(point: dict) -> float:
    """A smooth bowl whose maximum, 0, sits off-centre at (1.3, -2.1)."""
    return -((point["x"] - 1.3) ** 2 + (point["y"] + 2.1) ** 2)


def gaussian_process_regret(seed: int) -> float:
    observations = []
    for round_index, size in enumerate(gaussian_process.batches(SPACE, BUDGET, n_workers=1)):
        points = gaussian_process.propose(SPACE, observations, size, seed=seed * 100 + round_index)
        observations += [(point, target(point)) for point in points]
    assert len(observations) == BUDGET
    return -max(value for _, value in observations)


def random_search_regret(seed: int) -> float:
    rng = random.Random(seed)
    points = [{"x": rng.uniform(-5, 5), "y": rng.uniform(-5, 5)} for _ in range(BUDGET)]
    return -max(target(point) for point in points)


def test_gaussian_process_beats_random_search_of_the_same_budget():
    gp = [gaussian_process_regret(seed) for seed in SEEDS]
    uniform = [random_search_regret(seed) for seed in SEEDS]
    # Measured: GP mean regret 0.13 against random search's 1.02 (8x); random proposals in the GP's
    # place score like random search. A factor of 4 leaves room for a library's numerical changes.
    assert statistics.mean(gp) < statistics.mean(uniform) / 4, (gp, uniform)
    assert sum(g < u for g, u in zip(gp, uniform, strict=True)) >= 4, (gp, uniform)
