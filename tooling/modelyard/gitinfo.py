"""Which commit a model repo is at, for lineage and published manifests."""
from __future__ import annotations

from pathlib import Path


def source_info(root: Path) -> dict:
    """``{"commit": sha or None, "dirty": bool}``; a folder that is not a git repo has no commit."""
    import git

    try:
        repo = git.Repo(root, search_parent_directories=False)
        commit = repo.head.commit.hexsha
    except (git.InvalidGitRepositoryError, git.NoSuchPathError, ValueError):
        return {"commit": None, "dirty": False}
    return {"commit": commit, "dirty": repo.is_dirty(untracked_files=True)}


def dirty_files(root: Path) -> list[str]:
    """``git status --porcelain`` lines (``M models/a.yaml``, ``?? new.yaml``): what makes a tree dirty."""
    import git

    return git.Repo(root).git.status("--porcelain", "--untracked-files=all").splitlines()
