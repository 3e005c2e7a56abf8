"""Backtest split strategies, in process: windows worked out by hand on a calendar."""

from __future__ import annotations

import datetime as dt
from types import SimpleNamespace

import pytest

from modelyard.workflows.backtest import splits
from modelyard.workflows.backtest.splits import SplitError, Window, WindowSizes, compute_windows, day_range

DAY = dt.timedelta(days=1)


def sizes(days_backward=10, train=3, test=2, slide=1):
    return SimpleNamespace(
        days_backward=days_backward, train_size=train * DAY, test_size=test * DAY, slide_by=slide * DAY
    )


def jan(day: int) -> dt.datetime:
    return dt.datetime(2024, 1, day)


def test_sliding_windows_slide_back_until_training_would_start_before_the_range():
    # range: the 10 days ending 2024-01-10 = [Jan 1, Jan 11); the earliest window trains from Jan 1 itself
    found = compute_windows("sliding_time_window", dt.date(2024, 1, 10), sizes())
    assert found == [
        Window(jan(1), jan(4), jan(4), jan(6)),
        Window(jan(2), jan(5), jan(5), jan(7)),
        Window(jan(3), jan(6), jan(6), jan(8)),
        Window(jan(4), jan(7), jan(7), jan(9)),
        Window(jan(5), jan(8), jan(8), jan(10)),
        Window(jan(6), jan(9), jan(9), jan(11)),
    ]


def test_sliding_by_more_than_a_day_skips_windows():
    found = compute_windows("sliding_time_window", dt.date(2024, 1, 10), sizes(slide=2))
    assert found == [
        Window(jan(2), jan(5), jan(5), jan(7)),
        Window(jan(4), jan(7), jan(7), jan(9)),
        Window(jan(6), jan(9), jan(9), jan(11)),
    ]


def test_expanding_windows_all_train_from_the_start_of_the_range():
    found = compute_windows("expanding_time_window", dt.date(2024, 1, 10), sizes(slide=2))
    assert found == [
        Window(jan(1), jan(5), jan(5), jan(7)),
        Window(jan(1), jan(7), jan(7), jan(9)),
        Window(jan(1), jan(9), jan(9), jan(11)),
    ]


def test_a_range_too_short_for_one_window_has_none():
    assert compute_windows("sliding_time_window", dt.date(2024, 1, 10), sizes(days_backward=4)) == []
    assert compute_windows("sliding_time_window", dt.date(2024, 1, 10), sizes(days_backward=5)) == [
        Window(jan(6), jan(9), jan(9), jan(11))
    ]


def test_day_range_ends_after_the_last_day_and_takes_fractional_days():
    assert day_range(dt.date(2024, 1, 10), 10) == (jan(1), jan(11))
    assert day_range(dt.date(2024, 1, 10), 1.5) == (dt.datetime(2024, 1, 9, 12), jan(11))


def test_ten_thousand_windows_are_allowed_and_one_more_is_an_error():
    one_day = dict(train=1, test=1, slide=1)
    assert len(compute_windows("sliding_time_window", dt.date(2024, 1, 10), sizes(10_001, **one_day))) == 10_000
    with pytest.raises(SplitError) as error:
        compute_windows("sliding_time_window", dt.date(2024, 1, 10), sizes(10_002, **one_day))
    assert error.value.args[0] == (
        "split_config: more than 10000 windows fit in 10002 days with slide_by 1 day, 0:00:00; "
        "at most 10000 are allowed"
    )
    assert error.value.hint == "use a larger slide_by or a smaller days_backward"


@pytest.mark.parametrize("name", ["train_size", "test_size", "slide_by"])
@pytest.mark.parametrize("length", [dt.timedelta(0), -DAY])
def test_sizes_must_be_longer_than_zero(name, length):
    bad = sizes()
    setattr(bad, name, length)
    with pytest.raises(SplitError, match=f"^split_config.{name} must be longer than zero$"):
        compute_windows("sliding_time_window", dt.date(2024, 1, 10), bad)


@pytest.mark.parametrize("days", [0, -1])
def test_days_backward_must_be_positive(days):
    with pytest.raises(SplitError, match="^split_config.days_backward must be more than zero$"):
        compute_windows("sliding_time_window", dt.date(2024, 1, 10), sizes(days_backward=days))


def test_a_tiny_positive_size_is_accepted():
    tiny = sizes(days_backward=0.5)
    tiny.train_size = tiny.test_size = tiny.slide_by = dt.timedelta(microseconds=1)
    splits.check_sizes(tiny)


def test_an_unknown_strategy_lists_the_known_ones():
    with pytest.raises(SplitError) as error:
        compute_windows("rolling", dt.date(2024, 1, 10), sizes())
    assert (
        str(error.value) == "unknown split strategy 'rolling'; choose one of expanding_time_window, sliding_time_window"
    )


def test_every_strategy_names_itself():
    for name in splits.STRATEGIES:
        assert splits.get_strategy(name).NAME == name


def test_sizes_travel_as_json_in_seconds():
    window_sizes = WindowSizes.of(sizes(days_backward=7.5, train=2, test=1, slide=3))
    data = window_sizes.to_json()
    assert data == {
        "days_backward": 7.5,
        "train_size_seconds": 172800.0,
        "test_size_seconds": 86400.0,
        "slide_by_seconds": 259200.0,
    }
    assert WindowSizes.from_json(data) == WindowSizes(7.5, 2 * DAY, DAY, 3 * DAY)


def test_a_window_travels_as_iso_strings():
    window = Window(jan(1), jan(4), jan(4), dt.datetime(2024, 1, 6, 12, 30))
    data = window.to_json()
    assert data == {
        "train_start": "2024-01-01T00:00:00",
        "train_end": "2024-01-04T00:00:00",
        "test_start": "2024-01-04T00:00:00",
        "test_end": "2024-01-06T12:30:00",
    }
    assert Window.from_json(data) == window
