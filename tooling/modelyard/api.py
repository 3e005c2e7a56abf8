"""Library functions for people and programs outside a run (``from modelyard import load_model``)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from modelyard.engine.target import resolve
from modelyard.fsio import location
from modelyard.repo.layout import find_repo_root
from modelyard.repo.project import load_settings
from modelyard.store.models import ModelStore

STORE_ENV = "MODELYARD_STORE"


def load_model(
    canonical_name: str,
    version: int | None = None,
    *,
    repo: str | os.PathLike | None = None,
    target: str | None = None,
) -> Any:
    """Load a stored model object (the latest version unless ``version`` is given).

    The store is the one named by the ``MODELYARD_STORE`` environment variable (a folder or a URL
    such as ``s3://bucket/prefix/models``, reached with the usual ``AWS_ACCESS_KEY_ID``,
    ``AWS_SECRET_ACCESS_KEY`` and ``AWS_ENDPOINT_URL``), else the one of ``target`` (default: the
    chosen target) of the model repo at ``repo`` (default: the repo around the working directory).
    """
    if os.environ.get(STORE_ENV) and repo is None and target is None:
        return ModelStore(location(os.environ[STORE_ENV], Path.cwd())).load(canonical_name, version)
    settings = load_settings(find_repo_root(Path(repo) if repo else None))
    return ModelStore(resolve(settings.target(target), settings.root).store).load(canonical_name, version)
