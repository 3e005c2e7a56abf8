"""The convention of a model repo: where each kind of file lives, what a file's workflow is
called, and which paths count as inside the repo. Every other module asks here."""

from __future__ import annotations

import functools
from pathlib import Path, PurePosixPath

from modelyard.errors import RepoNotFoundError

SETTINGS_FILE = "modelyard.yaml"
EXTRACTS_DIR = "extracts"
MODELS_DIR = "models"
TUNING_DIR = "tuning"
TRAINERS_DIR = "trainers"
YAML_SUFFIXES = (".yaml", ".yml")
DATA_DIR = "data"
STATE_DIR = ".modelyard"
# In a published set: the model repo files a worker needs (settings, trainers, SQL, seeds), so
# workers run without a checkout of the repo
PUBLISHED_PROJECT = "project"
# trainers/ is imported as this package, never put on sys.path: a folder named like an installed
# package (sklearn/, torch/) must not shadow it
USER_PACKAGE = "modelyard_user_trainers"
TUNE_PREFIX = "tune__"
BACKTEST_PREFIX = "backtest__"
SCORE_PREFIX = "score__"


def find_repo_root(start: Path | None = None) -> Path:
    start = (start or Path.cwd()).resolve()
    for folder in (start, *start.parents):
        if (folder / SETTINGS_FILE).is_file():
            return folder
    raise RepoNotFoundError(
        f"no {SETTINGS_FILE} in {start} or any folder above it",
        hint="run modelyard inside a model repo, or create one with `modelyard new`",
    )


def relpath(root: Path, path: Path) -> str:
    return path.resolve().relative_to(root.resolve()).as_posix()


def yaml_files(root: Path, folder: str) -> list[Path]:
    base = root / folder
    if not base.is_dir():
        return []
    return sorted(p for p in base.rglob("*") if p.suffix in YAML_SUFFIXES and p.is_file())


@functools.lru_cache(maxsize=1024)
def _real(path: Path) -> Path:
    return path.resolve()


def inside_repo(root: Path, relative: str) -> bool:
    pure = PurePosixPath(relative)
    if pure.is_absolute() or ".." in pure.parts:
        return False
    path = root / relative
    # only a symlink can still lead outside; folders are shared by many files, so resolve them once
    real = _real(path) if path.is_symlink() else _real(path.parent) / path.name
    return real.is_relative_to(_real(root))


def workflow_id(path: str) -> str:
    """``models/model_a.yaml`` -> ``model_a``; ``tuning/t.yaml`` -> ``tune__t``."""
    stem = Path(path).with_suffix("").as_posix()
    folder, _, rest = stem.partition("/")
    safe = rest.replace("/", "__")
    return safe if folder == MODELS_DIR else f"{TUNE_PREFIX}{safe}" if folder == TUNING_DIR else safe


def backtest_id(model_file: str) -> str:
    return f"{BACKTEST_PREFIX}{workflow_id(model_file)}"


def score_id(model_file: str) -> str:
    return f"{SCORE_PREFIX}{workflow_id(model_file)}"
