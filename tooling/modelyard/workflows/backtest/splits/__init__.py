"""Split strategies for backtesting: pure functions from (last day, sizes) to time windows.

A strategy is a module with ``NAME`` and ``windows(last_day, sizes) -> list[Window]``, registered
in ``STRATEGIES``; adding one is adding a module and a line. The functions know nothing of data:
the backtest's split node finds the last day in the data and counts rows per window.

Semantics (docs/backtesting.md): the range is the ``days_backward`` days ending with ``last_day``,
i.e. ``[last_day + 1 day - days_backward, last_day + 1 day)``. Every interval is half-open.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import importlib
from typing import Protocol

from modelyard.errors import ModelyardError

STRATEGIES = {
    "sliding_time_window": "modelyard.workflows.backtest.splits.sliding",
    "expanding_time_window": "modelyard.workflows.backtest.splits.expanding",
}


# More windows than this is a typo in a size (hours for days); it would make an unreadable workflow.
MAX_WINDOWS = 10_000


class SplitError(ModelyardError):
    """The data cannot be split as ``split_config`` asks: no time column, too short, empty windows."""


class Sizes(Protocol):
    """What a strategy reads from a split config (``config.SplitConfig`` satisfies it)."""

    days_backward: float
    train_size: dt.timedelta
    test_size: dt.timedelta
    slide_by: dt.timedelta


@dataclasses.dataclass(frozen=True)
class WindowSizes:
    """``Sizes`` as they travel in the IR: JSON with durations in seconds."""

    days_backward: float
    train_size: dt.timedelta
    test_size: dt.timedelta
    slide_by: dt.timedelta

    @classmethod
    def of(cls, sizes: Sizes) -> WindowSizes:
        return cls(sizes.days_backward, sizes.train_size, sizes.test_size, sizes.slide_by)

    def to_json(self) -> dict:
        return {
            "days_backward": self.days_backward,
            "train_size_seconds": self.train_size.total_seconds(),
            "test_size_seconds": self.test_size.total_seconds(),
            "slide_by_seconds": self.slide_by.total_seconds(),
        }

    @classmethod
    def from_json(cls, data: dict) -> WindowSizes:
        return cls(
            data["days_backward"],
            dt.timedelta(seconds=data["train_size_seconds"]),
            dt.timedelta(seconds=data["test_size_seconds"]),
            dt.timedelta(seconds=data["slide_by_seconds"]),
        )


@dataclasses.dataclass(frozen=True, order=True)
class Window:
    """Train on ``[train_start, train_end)``, test on ``[test_start, test_end)``."""

    train_start: dt.datetime
    train_end: dt.datetime
    test_start: dt.datetime
    test_end: dt.datetime

    def to_json(self) -> dict[str, str]:
        return {name: getattr(self, name).isoformat() for name in BOUNDS}

    @classmethod
    def from_json(cls, data: dict) -> Window:
        return cls(*(dt.datetime.fromisoformat(data[name]) for name in BOUNDS))


BOUNDS = ("train_start", "train_end", "test_start", "test_end")


class Strategy(Protocol):
    NAME: str

    def windows(self, last_day: dt.date, sizes: Sizes) -> list[Window]: ...


def get_strategy(name: str) -> Strategy:
    if name not in STRATEGIES:
        raise SplitError(f"unknown split strategy {name!r}; choose one of {', '.join(sorted(STRATEGIES))}")
    return importlib.import_module(STRATEGIES[name])


def day_range(last_day: dt.date, days_backward: float) -> tuple[dt.datetime, dt.datetime]:
    """The ``days_backward`` days ending with ``last_day`` (inclusive), as ``[start, end)``."""
    end = dt.datetime.combine(last_day, dt.time()) + dt.timedelta(days=1)
    return end - dt.timedelta(days=days_backward), end


def check_sizes(sizes: Sizes) -> None:
    for name in ("train_size", "test_size", "slide_by"):
        if getattr(sizes, name) <= dt.timedelta(0):
            raise SplitError(f"split_config.{name} must be longer than zero")
    if sizes.days_backward <= 0:
        raise SplitError("split_config.days_backward must be more than zero")


def compute_windows(strategy: str, last_day: dt.date, sizes: Sizes) -> list[Window]:
    """The windows of ``strategy``, ordered by time (earliest first)."""
    check_sizes(sizes)
    return sorted(get_strategy(strategy).windows(last_day, sizes))
