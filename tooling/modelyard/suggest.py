"""'did you mean' for a misspelt name: every error about an unknown name offers the closest one."""

from __future__ import annotations

import difflib


def did_you_mean(name: str, choices) -> str:
    close = difflib.get_close_matches(str(name), [str(c) for c in choices], n=1, cutoff=0.6)
    return f"; did you mean {close[0]!r}?" if close else ""


# Packages an optional extra of modelyard installs, so a missing one names the pip command that
# brings the pinned version (torch's CPU build: an unpinned `torch` pulls a multi-GB CUDA build).
_EXTRAS = {"torch": "torch", "lightning": "torch", "pytorch_lightning": "torch", "mlflow": "mlflow"}


def install_hint(module: str | None) -> str:
    """How to install the missing module ``module`` (an ``ImportError``'s ``name``)."""
    top = (module or "").split(".")[0]
    if top in _EXTRAS:
        return f"pip install 'modelyard[{_EXTRAS[top]}]' (the extra that brings {top!r})"
    return f"install {top!r} in this environment" if top else "install the missing package in this environment"
