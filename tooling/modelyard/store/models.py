"""The model store: versioned artifacts, each with an envelope of signature, metrics and lineage.

Layout: ``<store>/<canonical_name>/<version>/{model.pkl, envelope.json}``, where ``<store>`` is a
folder or an fsspec URL (``s3://bucket/prefix/models``). Versions are claimed without rename, which
object stores lack: a writer claims version N by a create-if-absent write of ``N/.claim`` (S3's
conditional PUT, ``O_EXCL`` locally); exactly one of several concurrent writers wins, the others
move on to N+1. The winner then writes the artifact and, last, the envelope: a version exists for
readers only once its envelope does, so a writer that dies midway leaves an unused number and no
half version. Loading checks the artifact's sha256 against its envelope and refuses a mismatch.
The envelope holds no location: the artifact is named relative to it.
"""

from __future__ import annotations

import hashlib
import json
import re
import uuid
from typing import Any

from modelyard.errors import StoreError
from modelyard.fsio import create_exclusive, write_atomic
from modelyard.suggest import install_hint

ARTIFACT = "model.pkl"
ENVELOPE = "envelope.json"
CLAIM = ".claim"
# tags.canonical_name's pattern in model.schema.json: a name is one folder of the store, never a path
NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]*")


class ModelStore:
    def __init__(self, root):
        self.root = root  # a Path or a UPath (see fsio.location)

    def _folder(self, name: str):
        if not isinstance(name, str) or not NAME.fullmatch(name):
            raise StoreError(
                f"{name!r} is not a model name: a canonical name is letters, digits, '_', '-' "
                "and '.', starting with a letter or digit"
            )
        return self.root / name

    def _versions(self, name: str) -> list[int]:
        """Committed versions: those with an envelope (one listing, also on an object store)."""
        found = (p.parent.name for p in self._folder(name).glob(f"*/{ENVELOPE}"))
        return sorted(int(v) for v in found if v.isdigit())

    def _claim(self, folder) -> int:
        taken = [int(p.name) for p in folder.iterdir() if p.name.isdigit()] if folder.is_dir() else []
        version = max(taken, default=0) + 1
        while not create_exclusive(folder / str(version) / CLAIM, uuid.uuid4().hex.encode()):
            version += 1
        return version

    def save(self, name: str, artifact: bytes, envelope: dict[str, Any]):
        folder = self._folder(name)
        envelope = dict(
            envelope,
            artifact={
                "file": ARTIFACT,
                "sha256": hashlib.sha256(artifact).hexdigest(),
                "bytes": len(artifact),
                "serializer": "cloudpickle",
            },
        )
        version = self._claim(folder)
        final = folder / str(version)
        envelope["version"] = version
        write_atomic(final / ARTIFACT, artifact)
        # the commit: written last, so a reader never sees a version without its artifact
        write_atomic(final / ENVELOPE, (json.dumps(envelope, indent=2, sort_keys=True, default=str) + "\n").encode())
        return version, final

    def envelope(self, name: str, version: int | None = None) -> dict[str, Any]:
        return self._read_envelope(self._version_dir(name, version))

    @staticmethod
    def _read_envelope(folder) -> dict[str, Any]:
        path = folder / ENVELOPE
        try:
            return json.loads(path.read_text())
        except (OSError, json.JSONDecodeError) as exc:
            raise StoreError(f"cannot read envelope {path}: {exc}") from None

    def _version_dir(self, name: str, version: int | None):
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
        envelope = self._read_envelope(folder)
        try:
            data = (folder / ARTIFACT).read_bytes()
        except FileNotFoundError:
            raise StoreError(
                f"the artifact {folder / ARTIFACT} is missing although its envelope is there: "
                "it was deleted after the model was stored",
                hint="retrain the model to store a fresh version",
            ) from None
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
            # a model built with a library this environment lacks (torch, ...): say what to install
            hint = install_hint(exc.name) if isinstance(exc, ImportError) else None
            raise StoreError(f"cannot unpickle {folder / ARTIFACT}: {type(exc).__name__}: {exc}", hint=hint) from None

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


def describe_metrics_source(envelope: dict[str, Any]) -> str:
    """One line saying what a version's metrics were scored on (``models list``, the UI)."""
    source = envelope.get("metrics_source")
    if not source:
        return "unknown (stored before modelyard recorded it)"
    if source["kind"] == "in_sample":
        return "in-sample (the training rows)"
    how = "latest rows" if source["strategy"] == "time" else f"random, seed {source['seed']}"
    text = f"held-out {source['fraction']:.0%} ({how})"
    rows = source.get("rows")
    if rows:  # counted on the dataset the rows were chosen on
        name = source["dataset"] if isinstance(source["dataset"], str) else source["dataset"][0]
        held_out = rows["held_out"][name]
        text += f", {held_out} of {held_out + rows['train'][name]} rows"
    if source["kind"] == "tuning_holdout":
        text = f"tuning {text}, best trial {source['best_trial']}"
    if source.get("refit_on_all_rows"):
        text += "; refit on all rows"
    return text
