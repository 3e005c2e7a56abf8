"""``sliding_time_window``: fixed-size training windows sliding back from the last day.

The latest window tests on the ``test_size`` ending with the last day and trains on the
``train_size`` just before it; each earlier window is shifted back by ``slide_by``; a window is
kept while its training period starts inside the range.
"""

from __future__ import annotations

import datetime as dt

from modelyard.workflows.backtest.splits import MAX_WINDOWS, Sizes, SplitError, Window, day_range

NAME = "sliding_time_window"


def windows(last_day: dt.date, sizes: Sizes) -> list[Window]:
    range_start, range_end = day_range(last_day, sizes.days_backward)
    found = []
    test_end = range_end
    while (train_start := test_end - sizes.test_size - sizes.train_size) >= range_start:
        test_start = test_end - sizes.test_size
        found.append(Window(train_start, test_start, test_start, test_end))
        if len(found) > MAX_WINDOWS:
            raise SplitError(
                f"split_config: more than {MAX_WINDOWS} windows fit in {sizes.days_backward:g} days "
                f"with slide_by {sizes.slide_by}; at most {MAX_WINDOWS} are allowed",
                hint="use a larger slide_by or a smaller days_backward",
            )
        test_end -= sizes.slide_by
    return found[::-1]
