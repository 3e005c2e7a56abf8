"""modelyard: train, tune, backtest and publish ML models from YAML files and one trainer class."""

from __future__ import annotations

from typing import TYPE_CHECKING

from modelyard.version import __version__

if TYPE_CHECKING:
    from modelyard.repo.trainers import AbstractTrainer, TrainedObject


def __getattr__(name: str):
    # loaded on first use: every `modelyard` command imports this package, few need the trainer API,
    # and the Lightning base class only when a trainer file asks for it
    if name in ("AbstractTrainer", "TrainedObject"):
        from modelyard.repo import trainers

        return getattr(trainers, name)
    if name == "LightningTrainer":
        from modelyard.repo.lightning import LightningTrainer

        return LightningTrainer
    raise AttributeError(f"module 'modelyard' has no attribute {name!r}")


def load_model(canonical_name: str, version: int | None = None, *, repo=None):
    """Load a stored model (latest version by default) from the model repo's store."""
    from modelyard.api import load_model as _load

    return _load(canonical_name, version, repo=repo)


__all__ = ["AbstractTrainer", "LightningTrainer", "TrainedObject", "load_model", "__version__"]
