"""The order in which parallel lanes take a fan-out node's items (``execute.runner._lane_order``):
shuffled, so that a grid's last points (often its largest models, and its best) do not all run at
the end; the same every run, so two runs of a study take its trials alike."""

from __future__ import annotations

from modelyard.execute.runner import _lane_order


def test_every_item_is_taken_once_in_an_order_that_is_not_the_grids():
    for count in range(3, 100):
        order = _lane_order(range(count))
        assert sorted(order) == list(range(count))
        assert order != list(range(count)), count


def test_the_order_is_the_same_in_every_run():
    assert _lane_order(range(40)) == _lane_order(range(40))


def test_items_run_before_the_lanes_start_are_not_taken_again():
    # `--workers auto` runs a node's first two items in the command's process before the lanes start
    order = _lane_order(range(2, 12))
    assert sorted(order) == list(range(2, 12))


def test_the_grids_last_points_are_spread_over_the_run():
    # the last quarter of a 40-point grid is not all taken in the last quarter of the run
    order = _lane_order(range(40))
    assert any(order.index(point) < 30 for point in range(30, 40))
