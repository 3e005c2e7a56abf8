"""``LightningTrainer``: a trainer whose model is a PyTorch Lightning module.

A trainer file subclasses it, adds its own fields (the ``constructor_args``, e.g. a hidden size)
and writes ``build_module()``. ``train(df)`` turns the mapped DataFrame into DataLoaders (from
``feature_columns`` and ``target_label``; override ``train_dataloader``/``val_dataloader`` for
others), runs a seeded, deterministic ``lightning.Trainer`` on the CPU and logs every metric the
module logs into the run folder; ``evaluate(model, df)`` returns what the module's
``validation_step`` logs on ``df``. The validator reads this class as source (never importing
it), so its fields and ``train()`` parameters count for subclasses; torch and lightning are
imported only when a trainer trains or evaluates.
"""

from __future__ import annotations

import abc
import contextlib
import dataclasses
import logging
import tempfile
import warnings
from typing import Any

from modelyard.repo.trainers import AbstractTrainer, TrainedObject, training_log_location
from modelyard.suggest import install_hint


def _require_torch():
    try:
        import lightning
        import torch
    except ImportError as exc:
        raise ImportError(
            f"a LightningTrainer needs torch and lightning ({exc}); {install_hint(exc.name or 'torch')}"
        ) from None
    return torch, lightning


@contextlib.contextmanager
def _quiet():
    """Lightning's banners (GPU available, tips) and its advice to use DataLoader workers are
    noise for a small model trained in one process; real warnings still show."""
    logger = logging.getLogger("lightning.pytorch")
    level = logger.level
    logger.setLevel(logging.WARNING)
    try:
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message=".*does not have many workers.*")
            warnings.filterwarnings("ignore", message=".*smaller than the logging interval.*")
            warnings.filterwarnings("ignore", message=".*LeafSpec.*")  # lightning's own use of a torch API
            yield
    finally:
        logger.setLevel(level)


@dataclasses.dataclass(kw_only=True)
class LightningTrainer(AbstractTrainer):
    feature_columns: list[str]
    target_label: str
    max_epochs: int = 10
    batch_size: int = 64
    learning_rate: float = 1e-3  # read it in your module's configure_optimizers
    val_fraction: float = 0.2  # rows train() keeps aside for the validation loader (0: none)
    seed: int = 0

    @abc.abstractmethod
    def build_module(self) -> Any:
        """A new, untrained ``lightning.LightningModule`` built from this trainer's fields."""

    # --- data: override for custom loaders ------------------------------------------------

    def tensors(self, frame) -> tuple[Any, Any]:
        """Features (float32, one column per feature) and targets (float32, one column)."""
        torch, _ = _require_torch()
        features = torch.tensor(frame[self.feature_columns].to_numpy(dtype="float32"))
        targets = torch.tensor(frame[[self.target_label]].to_numpy(dtype="float32"))
        return features, targets

    def train_dataloader(self, frame) -> Any:
        torch, _ = _require_torch()
        dataset = torch.utils.data.TensorDataset(*self.tensors(frame))
        order = torch.Generator().manual_seed(self.seed)
        return torch.utils.data.DataLoader(dataset, batch_size=self.batch_size, shuffle=True, generator=order)

    def val_dataloader(self, frame) -> Any:
        torch, _ = _require_torch()
        dataset = torch.utils.data.TensorDataset(*self.tensors(frame))
        return torch.utils.data.DataLoader(dataset, batch_size=self.batch_size, shuffle=False)

    def split(self, df) -> tuple[Any, Any]:
        """(training rows, validation rows): a seeded draw of ``val_fraction`` of the rows, kept in order."""
        import numpy as np

        n_val = int(round(len(df) * self.val_fraction))
        chosen = np.zeros(len(df), dtype=bool)
        chosen[np.random.default_rng(self.seed).permutation(len(df))[:n_val]] = True
        return df[~chosen], df[chosen]

    def stored_model(self, module) -> Any:
        """The object stored and loaded with ``load_model``: it must predict on a DataFrame."""
        from modelyard.repo.lightning.model import LightningModel

        return LightningModel(module, list(self.feature_columns), self.target_label)

    # --- training and evaluation ------------------------------------------------------------

    def lightning_trainer(self, **options: Any) -> Any:
        """A ``lightning.Trainer`` on the CPU, deterministic, writing nothing of its own."""
        _, lightning = _require_torch()
        return lightning.Trainer(
            accelerator="cpu",
            devices=1,
            deterministic=True,
            enable_checkpointing=False,
            enable_progress_bar=False,
            enable_model_summary=False,
            default_root_dir=tempfile.gettempdir(),
            **options,
        )

    def train(self, df) -> TrainedObject:
        _, lightning = _require_torch()
        from modelyard.repo.lightning.logger import TrainingLog

        with _quiet():
            lightning.seed_everything(self.seed, workers=True, verbose=False)
            module = self.build_module()
            train_rows, val_rows = self.split(df)
            log = TrainingLog(training_log_location())
            trainer = self.lightning_trainer(max_epochs=self.max_epochs, logger=log, log_every_n_steps=1)
            trainer.fit(
                module,
                train_dataloaders=self.train_dataloader(train_rows),
                val_dataloaders=self.val_dataloader(val_rows) if len(val_rows) else None,
            )
        model = self.stored_model(module.eval())
        sample = df.head(5)
        return TrainedObject(model, {"x": sample[self.feature_columns]}, model.predict(sample), "predict")

    def evaluate(self, model, df) -> dict[str, Any]:
        with _quiet():
            results = self.lightning_trainer(logger=False).validate(
                model.module, dataloaders=self.val_dataloader(df), verbose=False
            )
        metrics = results[0] if results else {}
        if not metrics:
            raise ValueError(
                f"{type(model.module).__name__}.validation_step logs no metric: call self.log('val_loss', loss) in it"
            )
        return {name: float(value) for name, value in metrics.items()}
