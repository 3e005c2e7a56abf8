"""PyTorch Lightning trainers: ``LightningTrainer`` (the base class a trainer file subclasses),
the logger that keeps every metric a module logs in the run folder, and the stored model.

Importing this package imports neither torch nor lightning: they load when a trainer trains, so
``modelyard validate`` and the rest of modelyard work where they are not installed.
"""

from modelyard.repo.lightning.trainer import LightningTrainer

__all__ = ["LightningTrainer"]
