"""Stored model versions written in other tools' formats (``modelyard export``).

``FORMATS`` maps a format's name to its exporter; adding one (ONNX, ...) is a module with an object
that has ``export(stored, out)`` and a line here. Exporters import their format's library inside
their functions, so listing the formats never needs an optional extra.
"""

from __future__ import annotations

from pathlib import Path
from typing import Protocol

from modelyard.export import mlflow
from modelyard.export.source import Exported, StoredVersion


class Exporter(Protocol):
    def export(self, stored: StoredVersion, out: Path) -> Exported:
        """Write ``stored`` to the new folder ``out``, whole or not at all."""
        ...


FORMATS: dict[str, Exporter] = {"mlflow": mlflow.EXPORTER}
