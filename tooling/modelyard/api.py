"""Library functions for people and programs outside a run (``from modelyard import load_model``)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from modelyard.repo.layout import find_repo_root
from modelyard.repo.project import load_settings
from modelyard.store.models import ModelStore

STORE_ENV = "MODELYARD_STORE"


def load_model(canonical_name: str, version: int | None = None, *, repo: str | os.PathLike | None = None) -> Any:
    """Load a stored model object (the latest version unless ``version`` is given).

    The store is the one of the model repo at ``repo`` (default: the repo around the working
    directory), or the folder named by the ``MODELYARD_STORE`` environment variable.
    """
    if os.environ.get(STORE_ENV) and repo is None:
        return ModelStore(Path(os.environ[STORE_ENV])).load(canonical_name, version)
    settings = load_settings(find_repo_root(Path(repo) if repo else None))
    return ModelStore(settings.store_path).load(canonical_name, version)
