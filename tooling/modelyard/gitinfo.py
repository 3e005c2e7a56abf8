"""Which commit a model repo is at, for lineage and published manifests.

The git command line, not GitPython: importing GitPython costs a tenth of a second (it runs
``git version`` on import), on the path of every ``modelyard run``.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

from modelyard.errors import ModelyardError


def _git(root: Path, *args: str) -> subprocess.CompletedProcess | None:
    # the ceiling keeps git from taking a parent folder's repository for the model repo's
    env = {**os.environ, "GIT_CEILING_DIRECTORIES": str(Path(root).resolve().parent)}
    try:
        return subprocess.run(["git", *args], cwd=root, env=env, capture_output=True, text=True)
    except OSError:  # no git executable, no such folder
        return None


def source_info(root: Path) -> dict:
    """``{"commit": sha or None, "dirty": bool}``; a folder that is not a git repo (or has no commit
    yet) has no commit."""
    head = _git(root, "rev-parse", "--verify", "--quiet", "HEAD^{commit}")
    if head is None or head.returncode != 0:
        return {"commit": None, "dirty": False}
    return {"commit": head.stdout.strip(), "dirty": bool(dirty_files(root))}


def dirty_files(root: Path) -> list[str]:
    """``git status --porcelain`` lines (``M models/a.yaml``, ``?? new.yaml``): what makes a tree dirty."""
    status = _git(root, "status", "--porcelain", "--untracked-files=all")
    if status is None or status.returncode != 0:
        raise ModelyardError(f"git status failed in {root}: {status.stderr.strip() if status else 'no git executable'}")
    return status.stdout.splitlines()
