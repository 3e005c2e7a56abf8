"""Tuning strategies, in process: grid values and Gaussian-process rounds, snapping and
deduplication, with expected values worked out by hand."""

from __future__ import annotations

import pytest

from modelyard.errors import CompileError, ModelyardError
from modelyard.workflows.tune.search import STRATEGIES, grid
from modelyard.workflows.tune.search import gaussian_process as gp


def param(name="x", low=0.0, high=1.0, step=None, log=False, integer=False):
    return {"name": name, "low": low, "high": high, "step": step, "log": log, "integer": integer}


# --- grid ---


def test_grid_values_are_exact_decimals_including_both_ends():
    assert grid.values(param(low=0.1, high=0.8, step=0.1)) == [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8]


def test_grid_values_of_an_integer_parameter_are_ints_and_stop_before_high():
    values = grid.values(param(low=1, high=10, step=4, integer=True))
    assert values == [1, 5, 9]
    assert all(type(v) is int for v in values)


def test_grid_of_a_single_value():
    assert grid.values(param(low=3.0, high=3.0, step=1.0)) == [3.0]


@pytest.mark.parametrize("step", [None, 0, -1])
def test_grid_needs_a_positive_step(step):
    with pytest.raises(ModelyardError) as error:
        grid.values(param(name="alpha", step=step))
    assert error.value.args[0] == "param_boundaries.alpha: a grid needs a positive step, as [min, max, step]"


def test_grid_min_above_max_is_an_error():
    with pytest.raises(ModelyardError) as error:
        grid.values(param(name="alpha", low=2.0, high=1.0, step=0.5))
    assert error.value.args[0] == "param_boundaries.alpha: min 2.0 is above max 1.0"


def test_an_axis_of_ten_thousand_values_is_allowed_and_one_more_is_not():
    assert len(grid.values(param(low=1, high=10_000, step=1, integer=True))) == 10_000
    with pytest.raises(CompileError) as error:
        grid.values(param(name="n", low=1, high=10_001, step=1, integer=True))
    assert error.value.rule == "grid-too-large"
    assert (
        error.value.args[0]
        == "param_boundaries.n: 10001 values between 1 and 10001 with step 1; a grid allows at most 10000"
    )


def test_the_grid_is_every_combination_in_order():
    space = [param("a", 1, 2, 1, integer=True), param("b", 0.5, 1.5, 0.5)]
    expected = [
        {"a": 1, "b": 0.5},
        {"a": 1, "b": 1.0},
        {"a": 1, "b": 1.5},
        {"a": 2, "b": 0.5},
        {"a": 2, "b": 1.0},
        {"a": 2, "b": 1.5},
    ]
    assert grid.propose(space, [], size=0, seed=0) == expected
    assert grid.batches(space, n_trials=3, n_workers=2) == [6]
    assert grid.note(space, 3) is None


def test_a_grid_of_ten_thousand_points_is_allowed_and_more_is_an_error():
    hundred = param("a", 1, 100, 1, integer=True)
    assert grid.batches([hundred, {**hundred, "name": "b"}], None, 1) == [10_000]
    with pytest.raises(CompileError) as error:
        grid.batches([hundred, {**hundred, "name": "b"}, param("c", 1, 2, 1, integer=True)], None, 1)
    assert error.value.rule == "grid-too-large"
    assert error.value.args[0] == "param_boundaries: the grid has 20,000 points; at most 10000 are allowed"
    assert error.value.hint == "use larger steps, fewer parameters, or tuning_type: gaussian_process"


def test_strategies_are_registered_under_their_tuning_type():
    assert STRATEGIES == {"grid": grid, "gaussian_process": gp}


# --- Gaussian process: sizes and rounds ---


def test_space_size_counts_steps_and_integers_and_is_none_when_continuous():
    assert gp.space_size([param(low=0.1, high=0.8, step=0.1)]) == 8
    assert gp.space_size([param(low=0.1, high=0.8, step=0.1), param("n", 1, 5, integer=True)]) == 40
    assert gp.space_size([param("n", 1, 5, integer=True), param("c")]) is None


@pytest.mark.parametrize(
    ("n_trials", "n_workers", "rounds"),
    [
        (20, 2, [4, 2, 2, 2, 2, 2, 2, 2, 2]),
        (20, 3, [6, 3, 3, 3, 3, 2]),  # the first round is whole batches: 6 >= 4 initial points
        (7, 1, [4, 1, 1, 1]),
        (None, 4, [4, 4, 4, 4, 4]),  # 20 trials by default
        (5, 0, [4, 1]),  # no workers counts as one
        (3, 2, [3]),
        (4, 8, [4]),
    ],
)
def test_rounds_of_a_continuous_space(n_trials, n_workers, rounds):
    assert gp.batches([param()], n_trials, n_workers) == rounds


def test_a_small_space_runs_each_point_once_and_says_so():
    space = [param("n", 1, 6, integer=True)]
    assert gp.batches(space, 20, 2) == [4, 2]
    assert gp.note(space, 20) == (
        "the search space holds only 6 distinct points, so the study runs 6 trials, not 20: a point is never tried twice"
    )
    assert gp.note(space, None).endswith("runs 6 trials, not 20: a point is never tried twice")
    assert gp.note(space, 6) is None
    assert gp.note([param()], 1000) is None


# --- Gaussian process: from the optimiser's unit box to values ---


def test_a_continuous_value_scales_and_keeps_six_significant_digits():
    x = param(low=-2.0, high=6.0)
    assert gp.to_value(x, 0.25) == 0.0
    assert gp.to_value(x, 0.5) == 2.0
    assert gp.to_value(param(), 1 / 3) == 0.333333
    assert gp.to_value(x, -0.5) == -2.0  # clamped to the box
    assert gp.to_value(x, 1.5) == 6.0


def test_a_log_value_is_spread_evenly_over_decades():
    alpha = param(low=0.001, high=10.0, log=True)
    assert gp.to_value(alpha, 0.5) == 0.1
    assert gp.to_value(alpha, 0.0) == 0.001
    assert gp.to_value(alpha, 1.0) == 10.0
    assert gp.to_unit(alpha, 0.1) == pytest.approx(0.5)
    assert gp.to_unit(alpha, 10.0) == pytest.approx(1.0)


@pytest.mark.parametrize("low", [0.0, -1.0])
def test_a_log_scale_needs_a_positive_min(low):
    with pytest.raises(ModelyardError) as error:
        gp.to_value(param(name="alpha", low=low, high=1.0, log=True), 0.5)
    assert error.value.args[0] == f"param_boundaries.alpha: a log scale needs min > 0 (got {low})"


def test_a_log_scale_with_a_small_positive_min_is_fine():
    assert gp.to_value(param(low=1e-9, high=1e-3, log=True), 0.5) == 1e-6


def test_integers_round_to_the_nearest_and_stay_in_bounds():
    n = param(low=1, high=5, integer=True)
    assert gp.to_value(n, 0.5) == 3
    assert gp.to_value(n, 0.6) == 3  # 3.4
    assert gp.to_value(n, 0.65) == 4  # 3.6
    assert gp.to_value(n, 1.0) == 5
    assert gp.to_value(n, 0.0) == 1
    assert type(gp.to_value(n, 0.5)) is int


def test_values_snap_to_the_step_grid_rounding_half_to_even():
    x = param(low=0.0, high=1.0, step=0.25)
    assert gp.to_value(x, 0.3) == 0.25
    assert gp.to_value(x, 0.375) == 0.5  # index 1.5 -> 2
    assert gp.to_value(x, 0.125) == 0.0  # index 0.5 -> 0
    assert gp.to_value(x, 0.625) == 0.5  # index 2.5 -> 2
    assert gp.to_value(x, 1.0) == 1.0


def test_a_step_that_does_not_reach_max_stops_at_the_last_step():
    assert gp.to_value(param(low=0.0, high=1.0, step=0.6), 1.0) == 0.6  # index 1.67 -> 2, clamped to 1


def test_integer_steps_give_ints():
    value = gp.to_value(param(low=2, high=10, step=2, integer=True), 0.5)
    assert value == 6
    assert type(value) is int


def test_to_unit_is_the_inverse_and_a_one_value_range_is_zero():
    assert gp.to_unit(param(low=-2.0, high=6.0), 4.0) == 0.75
    assert gp.to_unit(param(low=3.0, high=3.0), 3.0) == 0.0


# --- Gaussian process: proposals ---


def test_the_first_round_is_a_latin_hypercube():
    space = [param("a"), param("b", low=10.0, high=20.0)]
    points = gp.propose(space, [], size=5, seed=7)
    # one point in each fifth of every axis
    assert sorted(int(p["a"] * 5) for p in points) == [0, 1, 2, 3, 4]
    assert sorted(int((p["b"] - 10) / 2) for p in points) == [0, 1, 2, 3, 4]
    assert gp.propose(space, [], size=5, seed=7) == points
    assert gp.propose(space, [], size=5, seed=8) != points


def test_a_first_round_never_repeats_a_point_and_fills_a_small_space():
    space = [param("n", 1, 6, integer=True)]
    points = gp.propose(space, [], size=6, seed=3)
    assert sorted(p["n"] for p in points) == [1, 2, 3, 4, 5, 6]


def test_tried_points_are_not_proposed_again_and_an_exhausted_space_gives_fewer():
    space = [param("n", 1, 4, integer=True)]
    points = gp.propose(space, [], size=3, seed=0, tried=[{"n": 2}, {"n": 4}])
    assert sorted(p["n"] for p in points) == [1, 3]


def test_a_large_discrete_space_is_filled_with_untried_random_points():
    # 1001 x 1001 points: more than are listed to find untried ones, so random draws fill the batch
    space = [param("a", 0, 1000, integer=True), param("b", 0, 1000, integer=True)]
    tried = [{"a": a, "b": b} for a in range(0, 1001, 100) for b in range(0, 1001, 100)]
    points = gp._distinct(space, iter(tried), tried, size=5, seed=1)
    assert len({(p["a"], p["b"]) for p in points}) == 5
    assert not {(p["a"], p["b"]) for p in points} & {(t["a"], t["b"]) for t in tried}


def test_candidates_come_first_in_order_without_repeats():
    space = [param("n", 1, 9, integer=True)]
    candidates = [{"n": 5}, {"n": 5}, {"n": 2}, {"n": 7}, {"n": 8}]
    assert gp._distinct(space, iter(candidates), [{"n": 2}], size=3, seed=0) == [{"n": 5}, {"n": 7}, {"n": 8}]


def test_later_rounds_propose_only_untried_points():
    space = [param("n", 0, 4, integer=True)]
    observations = [({"n": n}, -((n - 3) ** 2)) for n in range(4)]
    assert gp.propose(space, observations[:3], size=1, seed=0, tried=[{"n": 4}]) == [{"n": 3}]
