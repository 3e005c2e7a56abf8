"""A small neural network (a multilayer perceptron) trained with PyTorch Lightning.

Needs torch and lightning: `pip install 'modelyard[torch]'` (the extra pins torch's CPU build).
`model_trainer: neural.mlp.MLPTrainer` names the trainer below. modelyard.LightningTrainer does
the rest: DataLoaders from feature_columns and target_label, a seeded CPU training run, every
metric the module logs (`self.log`) kept per step and per epoch with the run and the stored model.
"""
from __future__ import annotations

from dataclasses import dataclass

import lightning
import torch
from torch import nn

from modelyard import LightningTrainer


class MLP(lightning.LightningModule):
    def __init__(self, n_features: int, hidden_size: int, learning_rate: float):
        super().__init__()
        self.net = nn.Sequential(nn.Linear(n_features, hidden_size), nn.ReLU(), nn.Linear(hidden_size, 1))
        self.learning_rate = learning_rate

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x)

    def training_step(self, batch, batch_idx):
        x, y = batch
        loss = nn.functional.mse_loss(self(x), y)
        # on_step and on_epoch: logged as train_loss_step (every batch) and train_loss_epoch
        self.log("train_loss", loss, on_step=True, on_epoch=True)
        return loss

    def validation_step(self, batch, batch_idx):
        x, y = batch
        # once per epoch, averaged over the validation rows; evaluate() returns it as the metric
        self.log("val_loss", nn.functional.mse_loss(self(x), y))

    def configure_optimizers(self):
        return torch.optim.Adam(self.parameters(), lr=self.learning_rate)


@dataclass(kw_only=True)
class MLPTrainer(LightningTrainer):
    """Fields of LightningTrainer (feature_columns, target_label, max_epochs, batch_size,
    learning_rate, val_fraction, seed) and the ones below are the model file's constructor_args."""

    hidden_size: int = 16

    def build_module(self) -> MLP:
        return MLP(len(self.feature_columns), self.hidden_size, self.learning_rate)
