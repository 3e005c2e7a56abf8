"""'did you mean' for a misspelt name: every error about an unknown name offers the closest one."""

from __future__ import annotations

import difflib


def did_you_mean(name: str, choices) -> str:
    close = difflib.get_close_matches(str(name), [str(c) for c in choices], n=1, cutoff=0.6)
    return f"; did you mean {close[0]!r}?" if close else ""
