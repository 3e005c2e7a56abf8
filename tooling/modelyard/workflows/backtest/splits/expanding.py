"""``expanding_time_window``: the sliding strategy's test windows, each trained on everything
from the start of the range up to the test window."""

from __future__ import annotations

import dataclasses
import datetime as dt

from modelyard.workflows.backtest.splits import Sizes, Window, day_range, sliding

NAME = "expanding_time_window"


def windows(last_day: dt.date, sizes: Sizes) -> list[Window]:
    range_start, _ = day_range(last_day, sizes.days_backward)
    return [dataclasses.replace(w, train_start=range_start) for w in sliding.windows(last_day, sizes)]
