"""Checks of file references: extract SQL files, model dependencies, a tuning file's model, and
the editor schemas' copies."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import PurePosixPath

from modelyard.errors import Diagnostic, Position
from modelyard.repo.layout import EXTRACTS_DIR, inside_repo
from modelyard.repo.project import Project
from modelyard.suggest import did_you_mean


def check_extract_files(project: Project) -> Iterable[Diagnostic]:
    from modelyard.repo.sqltemplate import variable_uses

    root = project.root
    for spec in project.extracts.values():
        if spec.operator != "sql":
            continue
        doc = project.documents[spec.file]
        where = doc.where((spec.name, "sql_file"))
        raw = doc.data[spec.name]["sql_file"]
        if not inside_repo(root, spec.sql_file) or PurePosixPath(raw).is_absolute():
            yield Diagnostic.error(
                where,
                "path-escape",
                f"{spec.name}.sql_file: {raw!r} points outside the repo; name a file next to the extract file",
            )
            continue
        sql_path = root / spec.sql_file
        if not sql_path.is_file():
            yield Diagnostic.error(where, "missing-file", f"{spec.name}.sql_file: {spec.sql_file} does not exist")
            continue
        try:
            uses = variable_uses(sql_path.read_text("utf-8"))
        except UnicodeDecodeError:
            yield Diagnostic.error(Position(spec.sql_file), "file-encoding", "SQL file is not valid UTF-8 text")
            continue
        except Exception as exc:  # jinja2.TemplateSyntaxError, without importing jinja2 here
            line = getattr(exc, "lineno", 0) or 0
            yield Diagnostic.error(
                Position(spec.sql_file, line),
                "sql-template",
                f"SQL template syntax error: {getattr(exc, 'message', exc)}",
            )
            continue
        for name in sorted(set(uses) - set(spec.kwargs) - {"target"}):  # `target`: the chosen target
            yield Diagnostic.error(
                Position(spec.sql_file, uses[name].line, uses[name].col),
                "sql-undefined-variable",
                f"{{{{ {name} }}}} is not defined: the kwargs of {spec.name} ({spec.kwargs_position}) "
                f"do not define {name!r}" + did_you_mean(name, spec.kwargs),
            )
        for name in sorted(set(spec.kwargs) - set(uses)):
            yield Diagnostic(
                doc.where((spec.name, "kwargs", name), key=True),
                "warning",
                "sql-unused-kwarg",
                f"{spec.name}.kwargs.{name} is not used by {spec.sql_file}",
            )


def check_model_dependencies(project: Project) -> Iterable[Diagnostic]:
    root = project.root
    extract_files = {file for file, _ in project.extracts}
    for model in project.models.values():
        doc = project.documents[model.file]
        seen: set[str] = set()
        for i, dep in enumerate(model.dependencies):
            raw = doc.data["dependencies"]["data"][i]["file"]
            where = doc.where(("dependencies", "data", i, "file"))
            if dep.train_param_name in seen:
                yield Diagnostic.error(
                    doc.where(("dependencies", "data", i, "train_param_name")),
                    "duplicate-param",
                    f"train_param_name {dep.train_param_name!r} is mapped twice",
                )
            seen.add(dep.train_param_name)
            if not inside_repo(root, dep.file) or PurePosixPath(raw).is_absolute():
                yield Diagnostic.error(
                    where,
                    "path-escape",
                    f"dependencies.data[{i}].file: {raw!r} points outside "
                    f"{EXTRACTS_DIR}/; name a file in {EXTRACTS_DIR}/",
                )
                continue
            if not (root / dep.file).is_file():
                candidates = sorted(PurePosixPath(f).relative_to(EXTRACTS_DIR).as_posix() for f in extract_files)
                yield Diagnostic.error(
                    where,
                    "missing-file",
                    f"dependencies.data[{i}].file: {dep.file} does not exist" + did_you_mean(raw, candidates),
                )
                continue
            if dep.file not in extract_files:
                continue  # the extract file itself has errors, reported on its own
            names = [name for file, name in project.extracts if file == dep.file]  # not empty: the file loaded
            if dep.file_param_name not in names:
                yield Diagnostic.error(
                    doc.where(("dependencies", "data", i, "file_param_name")),
                    "unknown-dataset",
                    f"dependencies.data[{i}].file_param_name: {dep.file} has no dataset "
                    f"{dep.file_param_name!r}"
                    + did_you_mean(dep.file_param_name, names)
                    + f" (it has: {', '.join(names)})",
                )


def check_tuning_model(project: Project) -> Iterable[Diagnostic]:
    for tuning in project.tunings.values():
        doc = project.documents[tuning.file]
        raw = doc.data["model"]
        if not inside_repo(project.root, tuning.model) or PurePosixPath(raw).is_absolute():
            yield Diagnostic.error(doc.where(("model",)), "path-escape", f"model: {raw!r} points outside models/")
        elif not (project.root / tuning.model).is_file():
            yield Diagnostic.error(
                doc.where(("model",)),
                "missing-file",
                f"model: {tuning.model} does not exist"
                + did_you_mean(raw, [PurePosixPath(m).name for m in project.models]),
            )


def check_editor_schemas(project: Project) -> Iterable[Diagnostic]:
    from modelyard.repo.editor_schemas import stale

    for path in stale(project.root):
        yield Diagnostic(
            Position(path),
            "warning",
            "stale-schema",
            f"{path} differs from this modelyard's schema; run `modelyard schemas` to refresh it",
        )
