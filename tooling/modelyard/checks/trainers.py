"""Checks of model files against their trainer classes, read from source (never imported).

``model_trainer`` must name a class implementing ``AbstractTrainer``; ``constructor_args`` must
match its fields; ``dependencies.data`` must map onto the parameters of its ``train()``.
"""

from __future__ import annotations

from collections.abc import Iterable

from modelyard.errors import Diagnostic, Position
from modelyard.repo.project import ModelSpec, Project
from modelyard.repo.trainer_source import (
    Field,
    TrainerClass,
    TrainerSourceError,
    class_names,
    read_trainer_class,
    type_mismatch,
)
from modelyard.suggest import did_you_mean


def trainer_class(project: Project, model: ModelSpec) -> TrainerClass | None:
    """The model's trainer class as its source tells, or None when it cannot be read."""
    if not (project.root / model.trainer_file).is_file():
        return None
    try:
        return read_trainer_class(project.root, model.trainer_file, model.trainer_class)
    except TrainerSourceError:
        return None


def check_trainer_classes(project: Project) -> Iterable[Diagnostic]:
    reported_syntax: set[str] = set()
    for model in project.models.values():
        doc = project.documents[model.file]
        where = doc.where(("model_trainer",))
        if not (project.root / model.trainer_file).is_file():
            yield Diagnostic.error(
                where,
                "unknown-trainer",
                f"model_trainer: {model.model_trainer!r} needs the file {model.trainer_file}, which does not exist",
            )
            continue
        try:
            cls = read_trainer_class(project.root, model.trainer_file, model.trainer_class)
        except TrainerSourceError as exc:
            if exc.file not in reported_syntax:
                reported_syntax.add(exc.file)
                yield Diagnostic.error(Position(exc.file, exc.line), "trainer-syntax", exc.message)
            continue
        if cls is None:
            names = class_names(project.root, model.trainer_file)
            yield Diagnostic.error(
                where,
                "unknown-trainer",
                f"model_trainer: {model.trainer_file} has no class "
                f"{model.trainer_class!r}" + did_you_mean(model.trainer_class, names),
            )
            continue
        if cls.is_trainer is False:
            yield Diagnostic.error(
                where,
                "not-a-trainer",
                f"model_trainer: class {cls.name} ({cls.file}:{cls.line}) does not subclass modelyard.AbstractTrainer",
            )
            continue
        missing = [m for m in ("train", "evaluate") if cls.methods is not None and m not in cls.methods]
        if missing:
            yield Diagnostic.error(
                where,
                "missing-method",
                f"model_trainer: class {cls.name} ({cls.file}:{cls.line}) does not "
                f"define {' and '.join(m + '()' for m in missing)}, which AbstractTrainer requires",
            )
        yield from _constructor_args(doc, model, cls)
        yield from _train_params(doc, model, cls)


def _constructor_args(doc, model: ModelSpec, cls: TrainerClass) -> Iterable[Diagnostic]:
    if cls.fields is None:
        return
    for name, value in model.constructor_args.items():
        field = cls.fields.get(name)
        if field is None:
            if not cls.accepts_any_arg:
                yield Diagnostic.error(
                    doc.where(("constructor_args", name), key=True),
                    "unknown-arg",
                    f"constructor_args.{name}: {cls.name} has no field {name!r}"
                    + (did_you_mean(name, cls.fields) or f" (its fields: {', '.join(cls.fields) or 'none'})"),
                )
            continue
        expected = type_mismatch(value, field.annotation)
        if expected:
            yield Diagnostic.error(
                doc.where(("constructor_args", name)),
                "arg-type",
                f"constructor_args.{name}: expected {expected} ({_declared(cls, field)}), got {_show(value)}",
            )
    missing = [f.name for f in cls.fields.values() if f.required and f.name not in model.constructor_args]
    if missing:
        key = ("constructor_args",) if "constructor_args" in doc.data else ("model_trainer",)
        yield Diagnostic.error(
            doc.where(key, key=True),
            "missing-arg",
            f"constructor_args: {cls.name} requires {', '.join(repr(m) for m in missing)} "
            f"({_declared(cls, cls.fields[missing[0]])})",
        )


def _declared(cls: TrainerClass, field: Field) -> str:
    return field.where or f"{cls.file}:{field.line}"


def _show(value) -> str:
    # every type a YAML value can have: repo.yamlsource builds no other
    kind = {bool: "boolean", int: "integer", float: "number", str: "string", list: "list", dict: "mapping"}
    text = repr(value)
    return f"{kind.get(type(value), 'null')} {text if len(text) <= 40 else text[:37] + '...'}"


def _train_params(doc, model: ModelSpec, cls: TrainerClass) -> Iterable[Diagnostic]:
    if cls.train_params is None:
        return
    names = [p.name for p in cls.train_params]
    for i, dep in enumerate(model.dependencies):
        if dep.train_param_name not in names and not cls.train_accepts_any:
            yield Diagnostic.error(
                doc.where(("dependencies", "data", i, "train_param_name")),
                "unknown-train-param",
                f"dependencies.data[{i}].train_param_name: {cls.name}.train() has no parameter "
                f"{dep.train_param_name!r}"
                + (did_you_mean(dep.train_param_name, names) or f" (it takes: {', '.join(names) or 'nothing'})"),
            )
    mapped = {dep.train_param_name for dep in model.dependencies}
    for param in cls.train_params:
        if param.required and param.name not in mapped:
            yield Diagnostic.error(
                doc.where(("dependencies", "data"), key=True),
                "unmapped-train-param",
                f"dependencies.data: {cls.name}.train() requires {param.name!r}; add an entry with "
                f"train_param_name: {param.name}",
            )
