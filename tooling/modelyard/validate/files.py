"""Validate a model repo, or the part of it some files touch: collect every diagnostic, report none.

With paths (as pre-commit passes them), the files checked are those paths plus what they
reference (a model's extracts and trainer code, an extract's SQL and upstream extracts, a tuning
file's model) and what references them, transitively. The whole repo is still read, since "what
references this file" is only known from the other files; only the diagnostics are narrowed.
"""

from __future__ import annotations

import dataclasses
import os
import re
import sys
from collections import defaultdict
from pathlib import Path, PurePosixPath

from modelyard.errors import CompileError, ConfigError, Diagnostic, ModelyardError, Position
from modelyard.repo.layout import EXTRACTS_DIR, MODELS_DIR, SETTINGS_FILE, TRAINERS_DIR, TUNING_DIR, yaml_files
from modelyard.repo.project import Project
from modelyard.repo.trainer_source import trainer_code_files
from modelyard.validate.project import collect_project
from modelyard.warehouse.duckdb_warehouse import SEED_SUFFIXES

KNOWN_FOLDERS = (EXTRACTS_DIR, MODELS_DIR, TUNING_DIR, TRAINERS_DIR)


@dataclasses.dataclass(frozen=True)
class ValidationResult:
    diagnostics: tuple[Diagnostic, ...]
    files: tuple[str, ...]  # repo-relative files checked

    @property
    def errors(self) -> int:
        return sum(d.severity == "error" for d in self.diagnostics)

    @property
    def warnings(self) -> int:
        return sum(d.severity == "warning" for d in self.diagnostics)


def reference_graph(project: Project) -> dict[str, set[str]]:
    """File -> the files it references (repo-relative, existing or not)."""
    from modelyard.checks.extracts import extract_references

    edges: dict[str, set[str]] = defaultdict(set)
    for model in project.models.values():
        edges[model.file].update(dep.file for dep in model.dependencies)
        edges[model.file].update(trainer_code_files(project.root, model.trainer_file) or [model.trainer_file])
    for spec in project.extracts.values():
        if spec.sql_file:
            edges[spec.file].add(spec.sql_file)
            edges[spec.sql_file].update(_seeds_named(project, spec.sql_file))
    for key, found in extract_references(project).items():
        edges[key[0]].update(project.extracts[t].file for t, _ in found if isinstance(t, tuple))
    for tuning in project.tunings.values():
        edges[tuning.file].add(tuning.model)
    return edges


def _seeds_named(project: Project, sql_file: str) -> list[str]:
    """The seed files whose table an SQL template names as a word: without parsing the SQL (which
    needs an engine), a file in scope too many beats a broken seed hidden from a model reading it."""
    data_dir = project.settings.data_dir
    try:
        text = (project.root / sql_file).read_text("utf-8")
        seeds = [f for f in data_dir.iterdir() if f.suffix.lower() in SEED_SUFFIXES and f.is_file()]
    except (OSError, UnicodeDecodeError):
        return []
    folder = data_dir.relative_to(project.root).as_posix() if data_dir.is_relative_to(project.root) else None
    if folder is None:
        return []
    return [f"{folder}/{seed.name}" for seed in seeds if re.search(rf"(?<![\w.]){re.escape(seed.stem)}\b", text, re.I)]


def _reachable(start: set[str], edges: dict[str, set[str]]) -> set[str]:
    seen, queue = set(start), list(start)
    while queue:
        for nxt in edges.get(queue.pop(), ()):
            if nxt not in seen:
                seen.add(nxt)
                queue.append(nxt)
    return seen


def _repo_relative(root: Path, given: str) -> str | None:
    """The path as the repo names it, or None when it is not in one of the repo's known places."""
    path = Path(os.path.abspath(given))
    try:
        # the file itself is not resolved: a symlink out of the repo is still the repo's file (a path-escape)
        rel = (path.parent.resolve() / path.name).relative_to(root.resolve())
    except ValueError:
        return None
    parts = PurePosixPath(rel.as_posix()).parts
    if rel.as_posix() == SETTINGS_FILE or (len(parts) > 1 and parts[0] in KNOWN_FOLDERS):
        return rel.as_posix()
    return None


def all_files(project: Project, edges: dict[str, set[str]]) -> set[str]:
    root = project.root
    files = {SETTINGS_FILE}
    for folder in (EXTRACTS_DIR, MODELS_DIR, TUNING_DIR):
        files.update(p.relative_to(root).as_posix() for p in yaml_files(root, folder))
    files.update(target for targets in edges.values() for target in targets if (root / target).is_file())
    return files


def _as_diagnostics(exc: ModelyardError, file: str) -> list[Diagnostic]:
    if isinstance(exc, ConfigError):
        return list(exc.diagnostics)
    message = f"{exc.message}; {exc.hint}" if exc.hint else exc.message
    return [
        Diagnostic(
            exc.position or Position(file), "error", exc.rule if isinstance(exc, CompileError) else "compile", message
        )
    ]


def compile_diagnostics(project: Project, diagnostics: list[Diagnostic]) -> list[Diagnostic]:
    """What compiling refuses, as diagnostics at their places: each model and tuning file is
    compiled on its own (so every file's first problem is found), unless a file it touches already
    has an error (compiling it would only repeat that error, or trip over it)."""
    from modelyard.compile import compile_project

    edges = reference_graph(project)
    broken = {d.position.path for d in diagnostics if d.severity == "error"}
    parts = [(path, dataclasses.replace(project, models={path: m}, tunings={})) for path, m in project.models.items()]
    parts += [
        (path, dataclasses.replace(project, models={t.model: project.models[t.model]}, tunings={path: t}))
        for path, t in project.tunings.items()
        if t.model in project.models
    ]
    found: set[Diagnostic] = set()
    for path, part in parts:
        # compiling reads the settings too (the target an extract's SQL is rendered for)
        if _reachable({path, SETTINGS_FILE}, edges) & broken:
            continue
        try:
            compile_project(part)
        except ModelyardError as exc:
            found.update(_as_diagnostics(exc, path))
    return sorted(found)


def scoped(project: Project, diagnostics: list[Diagnostic], path: str, *, warn: bool = True) -> Project:
    """The project for a command on one file (``run``, ``tune``, ``backtest``): errors in the files
    ``path`` touches (and the settings) stop it; errors elsewhere are printed as warnings (unless
    ``warn`` is false: a run of many files reports each file's own errors), so one broken,
    unrelated file does not block the rest of the repo."""
    scope = _reachable({path, SETTINGS_FILE}, reference_graph(project))
    errors = [d for d in diagnostics if d.severity == "error"]
    if any(d.position.path in scope for d in errors):
        raise ConfigError([d for d in diagnostics if d.position.path in scope])
    elsewhere = [d for d in errors if d.position.path not in scope]
    if elsewhere and warn:
        sys.stderr.write(
            f"warning: {len(elsewhere)} error(s) in files {path} does not use; going on "
            "(`modelyard validate` lists them; compile and publish refuse them):\n"
            + "".join(f"  {d}\n" for d in elsewhere)
        )
    return project


def validate(root: Path, paths: list[str] | None = None) -> ValidationResult:
    project, diagnostics = collect_project(root)
    diagnostics = sorted(set(diagnostics) | set(compile_diagnostics(project, diagnostics)))
    edges = reference_graph(project)
    files = all_files(project, edges)
    if paths is None:
        return ValidationResult(tuple(diagnostics), tuple(sorted(files)))
    selected = {rel for rel in (_repo_relative(root, p) for p in paths) if rel is not None}
    # pre-commit passes existing files only: a path that is not there (anywhere) is a typo to report
    absent = sorted(
        {_repo_relative(root, p) or p for p in paths if not os.path.lexists(p)}
        | {rel for rel in selected if not (root / rel).exists()}
    )
    missing = [Diagnostic(Position(rel), "error", "missing-file", f"{rel}: no such file") for rel in absent]
    reverse: dict[str, set[str]] = defaultdict(set)
    for source, targets in edges.items():
        for target in targets:
            reverse[target].add(source)
    scope = _reachable(selected, edges) | _reachable(selected, reverse)
    kept = [d for d in diagnostics if d.position.path in scope]
    return ValidationResult(tuple(sorted(kept + missing)), tuple(sorted(scope & files)))
