"""The stored version an exporter reads (envelope, artifact, model object) and what it wrote."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

from modelyard.store.models import ModelStore


@dataclasses.dataclass(frozen=True)
class Exported:
    """What an export wrote: its folder, the flavors a loader can choose, notes for the user."""

    path: Path
    flavors: list[str]
    notes: list[str]


@dataclasses.dataclass(frozen=True)
class StoredVersion:
    name: str
    version: int
    envelope: dict
    artifact: bytes  # the cloudpickle bytes, checked against the envelope's sha256

    def model(self) -> Any:
        import cloudpickle

        return cloudpickle.loads(self.artifact)

    @property
    def label(self) -> str:
        return f"model {self.name!r} version {self.version}"


def read_stored(store_path: Path, name: str, version: int | None) -> StoredVersion:
    store = ModelStore(store_path)
    envelope = store.envelope(name, version)
    return StoredVersion(name, envelope["version"], envelope, store.artifact(name, envelope["version"]))
