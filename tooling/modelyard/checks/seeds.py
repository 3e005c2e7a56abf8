"""Seed files that would poison a run: an empty file, a header without rows, a number column that
DuckDB loads as text (one stray ``n/a``), a file DuckDB cannot read, and ``seeds:`` options in
``modelyard.yaml`` that name no seed or that DuckDB refuses. Each is an error where a model reads
the seed (through its extracts' SQL) and a warning elsewhere. Run by ``checks.sql``, which knows
what each extract reads.
"""

from __future__ import annotations

import json
from pathlib import Path

from modelyard.errors import Diagnostic, ModelyardError, Position, Severity
from modelyard.repo.layout import SETTINGS_FILE
from modelyard.repo.project import Project
from modelyard.suggest import did_you_mean

_HEAD_BYTES = 1 << 16


def _display(project: Project, file: Path) -> str:
    return file.relative_to(project.root).as_posix()


def _severity(file: Path, read_by_models: set[str]) -> Severity:
    return "error" if file.stem.lower() in read_by_models else "warning"


def seed_files_of(project: Project) -> tuple[list[Path], list[Diagnostic]]:
    """The seed files, and the problems of their names and of ``seeds:`` in modelyard.yaml."""
    from modelyard.warehouse.duckdb_warehouse import seed_files

    try:
        files = seed_files(project.settings.data_dir)
    except ModelyardError as exc:  # two files for one table
        return [], [Diagnostic.error(exc.position, "duplicate-name", f"{exc.message}; {exc.hint}")]
    names = sorted(file.stem for file in files)
    problems = [
        Diagnostic.error(
            options.position,
            "unknown-seed",
            f"seeds.{name}: no seed file {name}.csv or {name}.parquet in "
            f"{project.settings.data_dir.name}/" + did_you_mean(name, names),
        )
        for name, options in project.settings.seeds.items()
        if name not in names
    ]
    return files, problems


def _has_no_rows(file: Path) -> bool:
    """A CSV file of one line (its header): read from the start only, it may be large."""
    with file.open("rb") as handle:
        head = handle.read(_HEAD_BYTES)
    return len([line for line in head.splitlines() if line.strip()]) <= 1


def check_files(project: Project, files: list[Path], read_by_models: set[str]) -> list[Diagnostic]:
    """What is seen without DuckDB: an empty file, a CSV header without rows."""
    problems = []
    for file in files:
        display = _display(project, file)
        severity = _severity(file, read_by_models)
        if file.stat().st_size == 0:
            problems.append(
                Diagnostic(
                    Position(display),
                    severity,
                    "seed-empty",
                    f"{display} is empty (0 bytes): table {file.stem} would have no columns and no rows",
                )
            )
        elif file.suffix.lower() == ".csv" and _has_no_rows(file):
            problems.append(
                Diagnostic(
                    Position(display, 1),
                    severity,
                    "seed-empty",
                    f"{display} has a header but no rows: table {file.stem} would be empty "
                    "(and its columns typed as text)",
                )
            )
    return problems


def load_seeds(project: Project, sandbox, files: list[Path], read_by_models: set[str]):
    """Type every seed into ``sandbox`` and check it; returns the problems and the (lower-case)
    names of seeds too broken to bind against."""
    problems = check_files(project, files, read_by_models)
    # a header-only file is typed from one line: binding against it would only add noise
    broken = {Path(p.position.path).stem.lower() for p in problems}
    options = project.settings.seed_options()
    for file in files:
        if file.stem.lower() in broken:
            continue
        display = _display(project, file)
        severity = _severity(file, read_by_models)
        given = project.settings.seeds.get(file.stem)
        try:
            columns = sandbox.add_seed(file, options.get(file.stem))
            mixed = sandbox.numeric_text_columns(file, options.get(file.stem), columns)
        except ModelyardError as exc:
            broken.add(file.stem.lower())
            if given is not None:
                where, rule = given.position, "seed-options"
                message = f"seeds.{file.stem}: DuckDB cannot read {display} with these options: {exc.message}"
            else:
                where, rule = Position(display), "seed-unreadable"
                message = f"DuckDB cannot read {display}: {exc.message}"
            problems.append(Diagnostic(where, severity, rule, message))
            continue
        for column, value, line in mixed:
            problems.append(
                Diagnostic(
                    Position(display, line),
                    severity,
                    "seed-mixed-type",
                    f"column {column!r} looks numeric but loads as text: {value!r} (line {line}) is not a number; "
                    f"fix the value, or set seeds: {{{file.stem}: {{null_strings: [{json.dumps(value)}]}}}} "
                    f"or column_types in {SETTINGS_FILE}",
                )
            )
    return problems, broken
