"""The Lightning logger of a modelyard run: every metric a module logs (``self.log``), per step and
per epoch, kept in the run folder as the training log the envelope and the UI read.

Lightning names a metric logged both per step and per epoch ``NAME_step`` and ``NAME_epoch``; one
logged only per epoch (validation metrics by default) keeps its name. Imported only when a
trainer trains: it imports lightning.
"""

from __future__ import annotations

import json
import time
from typing import Any

from lightning.pytorch.loggers import Logger

from modelyard.fsio import write_atomic

FLUSH_SECONDS = 2.0  # how often a running training rewrites its log (each write is one PUT on S3)


class TrainingLog(Logger):
    def __init__(self, location: Any):
        super().__init__()
        self.location = location  # None outside a run: the history is kept in memory only
        self.series: dict[str, dict[str, list]] = {}
        self.hyperparameters: dict[str, Any] = {}
        self._written_at = 0.0

    @property
    def name(self) -> str:
        return "modelyard"

    @property
    def version(self) -> int:
        return 0

    def log_hyperparams(self, params: Any, *args: Any, **kwargs: Any) -> None:
        self.hyperparameters.update({str(k): v for k, v in dict(params or {}).items()})

    def log_metrics(self, metrics: dict[str, float], step: int | None = None) -> None:
        epoch = metrics.get("epoch")
        for name, value in metrics.items():
            if name == "epoch":
                continue
            series = self.series.setdefault(name, {"step": [], "epoch": [], "value": []})
            series["step"].append(step)
            series["epoch"].append(None if epoch is None else int(epoch))
            series["value"].append(float(value))

    def history(self) -> dict[str, Any]:
        return {
            "final": {name: series["value"][-1] for name, series in self.series.items()},
            "history": self.series,
        }

    def _write(self) -> None:
        if self.location is not None:
            write_atomic(self.location, json.dumps(self.history(), sort_keys=True).encode())
            self._written_at = time.monotonic()

    def save(self) -> None:  # Lightning calls it after every log_metrics: rewrite now and then
        if time.monotonic() - self._written_at >= FLUSH_SECONDS:
            self._write()

    def finalize(self, status: str) -> None:
        self._write()
