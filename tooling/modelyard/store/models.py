"""The model store: versioned artifacts, each with an envelope of signature, metrics and lineage.

Layout: ``<store>/<canonical_name>/<version>/{model.pkl, envelope.json}``. A version is written in
a temporary folder and renamed into place while holding a per-model file lock, so concurrent runs
get distinct versions and a reader never sees half a version. Loading checks the artifact's
sha256 against its envelope and refuses a mismatch.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import uuid
from pathlib import Path
from typing import Any

from modelyard.errors import StoreError
from modelyard.fsio import locked

ARTIFACT = "model.pkl"
ENVELOPE = "envelope.json"
# tags.canonical_name's pattern in model.schema.json: a name is one folder of the store, never a path
NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]*")


class ModelStore:
    def __init__(self, root: Path):
        self.root = Path(root)

    def _folder(self, name: str) -> Path:
        if not isinstance(name, str) or not NAME.fullmatch(name):
            raise StoreError(
                f"{name!r} is not a model name: a canonical name is letters, digits, '_', '-' "
                "and '.', starting with a letter or digit"
            )
        return self.root / name

    def _versions(self, name: str) -> list[int]:
        folder = self._folder(name)
        if not folder.is_dir():
            return []
        return sorted(int(p.name) for p in folder.iterdir() if p.name.isdigit() and (p / ENVELOPE).is_file())

    def save(self, name: str, artifact: bytes, envelope: dict[str, Any]) -> tuple[int, Path]:
        folder = self._folder(name)
        folder.mkdir(parents=True, exist_ok=True)
        staging = folder / f".tmp-{uuid.uuid4().hex}"
        staging.mkdir()
        try:
            envelope = dict(
                envelope,
                artifact={
                    "file": ARTIFACT,
                    "sha256": hashlib.sha256(artifact).hexdigest(),
                    "bytes": len(artifact),
                    "serializer": "cloudpickle",
                },
            )
            (staging / ARTIFACT).write_bytes(artifact)
            with locked(folder):
                versions = [int(p.name) for p in folder.iterdir() if p.name.isdigit()]
                version = max(versions, default=0) + 1
                envelope["version"] = version
                (staging / ENVELOPE).write_text(json.dumps(envelope, indent=2, sort_keys=True, default=str) + "\n")
                for file in staging.iterdir():
                    with open(file, "rb") as handle:
                        os.fsync(handle.fileno())
                final = folder / str(version)
                os.rename(staging, final)
        finally:
            if staging.exists():
                shutil.rmtree(staging, ignore_errors=True)
        return version, final

    def envelope(self, name: str, version: int | None = None) -> dict[str, Any]:
        path = self._version_dir(name, version) / ENVELOPE
        try:
            return json.loads(path.read_text())
        except (OSError, json.JSONDecodeError) as exc:
            raise StoreError(f"cannot read envelope {path}: {exc}") from None

    def _version_dir(self, name: str, version: int | None) -> Path:
        versions = self._versions(name)
        if not versions:
            known = self.names()
            raise StoreError(
                f"no stored model named {name!r} in {self.root}",
                hint=f"stored models: {', '.join(known)}"
                if known
                else "train one with `modelyard run models/FILE.yaml`",
            )
        if version is None:
            version = versions[-1]
        if version not in versions:
            raise StoreError(f"model {name!r} has no version {version} (versions: {', '.join(map(str, versions))})")
        return self.root / name / str(version)

    def artifact(self, name: str, version: int | None = None) -> bytes:
        """The stored artifact's bytes, checked against the sha256 in its envelope."""
        folder = self._version_dir(name, version)
        envelope = self.envelope(name, version)
        data = (folder / ARTIFACT).read_bytes()
        expected = envelope.get("artifact", {}).get("sha256")
        actual = hashlib.sha256(data).hexdigest()
        if actual != expected:
            raise StoreError(
                f"the artifact {folder / ARTIFACT} does not match its envelope "
                f"(sha256 {actual[:12]}..., expected {str(expected)[:12]}...): it was modified or corrupted",
                hint="retrain the model to store a fresh version",
            )
        return data

    def load(self, name: str, version: int | None = None) -> Any:
        import cloudpickle

        data = self.artifact(name, version)
        try:
            return cloudpickle.loads(data)
        except Exception as exc:
            folder = self._version_dir(name, version)
            raise StoreError(f"cannot unpickle {folder / ARTIFACT}: {type(exc).__name__}: {exc}") from None

    def names(self) -> list[str]:
        if not self.root.is_dir():
            return []
        return sorted(p.name for p in self.root.iterdir() if p.is_dir() and not p.name.startswith("."))

    def list(self, name: str | None = None) -> list[dict[str, Any]]:
        """Every stored version's envelope, with its path, by name then version."""
        out = []
        for model in [name] if name else self.names():
            for version in self._versions(model):
                envelope = self.envelope(model, version)
                envelope["model_path"] = str(self.root / model / str(version))
                out.append(envelope)
        return out
