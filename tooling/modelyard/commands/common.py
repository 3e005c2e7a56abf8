"""What several commands share: finding the repo, loading it, compiling one workflow."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING

from modelyard.errors import ModelyardError
from modelyard.repo.layout import find_repo_root, relpath

if TYPE_CHECKING:  # every command's module imports this one: `modelyard --help` must stay light
    from modelyard.repo.project import ModelSpec, Project, TuningSpec


def add_format(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--format", choices=("text", "json"), default="text", help="output format (default: text)")


def repo_root(args: argparse.Namespace) -> Path:
    return find_repo_root(Path(args.repo) if getattr(args, "repo", None) else None)


def project(args: argparse.Namespace) -> Project:
    from modelyard.validate.project import load_project

    return load_project(repo_root(args))


def project_for(args: argparse.Namespace, given: str, folder: str) -> tuple[Project, str]:
    """The repo for a command on one file, and that file's repo path: only errors in what the file
    touches stop it (others are printed as warnings)."""
    from modelyard.validate.files import scoped
    from modelyard.validate.project import collect_project

    project, diagnostics = collect_project(repo_root(args))
    path = repo_file(project, given, folder)
    return scoped(project, diagnostics, path), path


def repo_file(project: Project, given: str, folder: str) -> str:
    """A repo-relative path for a file the user named (relative to cwd, the repo, or ``folder``)."""
    candidates = [Path(given), project.root / given, project.root / folder / given]
    for candidate in candidates:
        if candidate.is_file():
            try:
                return relpath(project.root, candidate)
            except ValueError:
                break
    raise ModelyardError(
        f"{given}: no such file in {project.root}/{folder}",
        hint=f"name a file under {folder}/, e.g. {folder}/NAME.yaml",
    )


def model_spec(project: Project, given: str) -> ModelSpec:
    """The model file the user named (``run``, ``backtest``); any other file is a clear error."""
    path = repo_file(project, given, "models")
    if path not in project.models:
        raise ModelyardError(f"{path} is not a model file", hint="name a file under models/, e.g. models/NAME.yaml")
    return project.models[path]


def tuning_spec(project: Project, given: str) -> TuningSpec:
    """The tuning file the user named (``tune``); any other file is a clear error."""
    path = repo_file(project, given, "tuning")
    if path not in project.tunings:
        raise ModelyardError(f"{path} is not a tuning file", hint="name a file under tuning/, e.g. tuning/NAME.yaml")
    return project.tunings[path]
