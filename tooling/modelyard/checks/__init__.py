"""Cross-file checks: what a JSON Schema cannot see.

Each check is a function ``(project) -> iterable of Diagnostic`` listed in ``CHECKS``; adding a
check is adding a function and a line. This registry sits above its rule modules, which never
import it back. Checks never import a trainer's module (it may import heavy libraries): trainer
classes are read from source by ``repo.trainer_source``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from modelyard.checks import extracts, monitoring, names, references, sql, trainers, tuning
from modelyard.errors import Diagnostic
from modelyard.repo.project import Project

CHECKS: list[Callable[[Project], Iterable[Diagnostic]]] = [
    references.check_extract_files,
    references.check_model_dependencies,
    references.check_tuning_model,
    references.check_editor_schemas,
    extracts.check_extract_references,
    sql.check_sql,
    trainers.check_trainer_classes,
    tuning.check_tuning_files,
    tuning.check_split_configs,
    names.check_unique_names,
    monitoring.check_scoring,
]


def run_checks(project: Project) -> list[Diagnostic]:
    return [diagnostic for check in CHECKS for diagnostic in check(project)]
