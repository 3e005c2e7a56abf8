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


def changed_since(root: Path, ref: str) -> set[str]:
    """Repo-relative paths that differ between commit ``ref`` and the working tree, new untracked
    files included (``modelyard run --select changed-since:REF``)."""
    commit = _git(root, "rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}")
    if commit is None or commit.returncode != 0:
        raise ModelyardError(
            f"changed-since:{ref}: {ref!r} is not a commit of the git repo at {root}",
            hint="name a branch, tag or commit, e.g. --select changed-since:main or changed-since:HEAD~1",
        )
    changed = set()
    for args in (
        ("diff", "--name-only", "--no-renames", commit.stdout.strip(), "--"),
        ("ls-files", "--others", "--exclude-standard"),
    ):
        listed = _git(root, *args)
        if listed is None or listed.returncode != 0:
            raise ModelyardError(
                f"git {args[0]} failed in {root}: {listed.stderr.strip() if listed else 'no git executable'}"
            )
        changed.update(filter(None, listed.stdout.splitlines()))
    return changed
