"""A model repo, read and checked: every file's own problems plus the cross-file checks."""

from __future__ import annotations

from pathlib import Path

from modelyard.checks import run_checks
from modelyard.errors import ConfigError, Diagnostic
from modelyard.repo.layout import find_repo_root
from modelyard.repo.project import Project, read_project


def collect_project(root: Path) -> tuple[Project, list[Diagnostic]]:
    """Read every file of the repo; return what loaded and every problem found."""
    project, diagnostics = read_project(root)
    diagnostics.extend(run_checks(project))
    return project, sorted(set(diagnostics))


def load_project(root: Path | None = None) -> Project:
    """Load and check the repo; raise ``ConfigError`` with every error if it does not validate."""
    project, diagnostics = collect_project(root or find_repo_root())
    if any(d.severity == "error" for d in diagnostics):
        raise ConfigError(diagnostics)
    return project
