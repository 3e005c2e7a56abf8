"""modelyard: train, tune, backtest and publish ML models from YAML files and one trainer class."""

from __future__ import annotations

from modelyard.repo.trainers import AbstractTrainer, TrainedObject  # light: stdlib only
from modelyard.version import __version__


def load_model(canonical_name: str, version: int | None = None, *, repo=None):
    """Load a stored model (latest version by default) from the model repo's store."""
    from modelyard.api import load_model as _load

    return _load(canonical_name, version, repo=repo)


def __getattr__(name: str):
    # `import modelyard` stays light: the Lightning base class loads when a trainer file asks for it
    if name == "LightningTrainer":
        from modelyard.repo.lightning import LightningTrainer

        return LightningTrainer
    raise AttributeError(f"module 'modelyard' has no attribute {name!r}")


__all__ = ["AbstractTrainer", "LightningTrainer", "TrainedObject", "load_model", "__version__"]
