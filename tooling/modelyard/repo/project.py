"""Load a model repo's files into frozen, checked records.

Layout (paths relative to the repo root): ``modelyard.yaml`` (settings), ``extracts/*.yaml``,
``models/*.yaml``, ``tuning/*.yaml``, ``trainers/**.py``. Loading collects *every* problem in the
file set (syntax and schema; ``validate.project`` adds the cross-file checks) and reports them together.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from pathlib import Path
from typing import Any

from modelyard.errors import ConfigError, Diagnostic, Position
from modelyard.repo.layout import (
    EXTRACTS_DIR,
    MODELS_DIR,
    SETTINGS_FILE,
    STATE_DIR,
    TRAINERS_DIR,
    TUNING_DIR,
    inside_repo,
    yaml_files,
)
from modelyard.repo.schemas import SchemaChecker
from modelyard.repo.targets import LOCAL, TargetSpec, choose, parse_targets, target_diagnostics
from modelyard.repo.yamlsource import YamlDocument, YamlSyntaxError, read_yaml


@dataclasses.dataclass(frozen=True)
class SeedOptions:
    """How to read one seed file where DuckDB's sniffing guesses wrong (``seeds:`` in modelyard.yaml)."""

    column_types: dict[str, str]
    null_strings: tuple[str, ...]
    delimiter: str | None
    position: Position  # the seed's key in modelyard.yaml

    def reader_options(self) -> dict[str, Any]:
        """The plain mapping the warehouse reads the file with."""
        options = {"column_types": self.column_types, "null_strings": list(self.null_strings)}
        return {k: v for k, v in {**options, "delimiter": self.delimiter}.items() if v}


@dataclasses.dataclass(frozen=True)
class Settings:
    root: Path
    state_dir: Path
    data_dir: Path
    warehouse_path: Path
    lock_timeout_seconds: float
    store_path: Path
    publish_target: Path
    publish_backend: str
    retries: int
    schedule: str | None
    seeds: dict[str, SeedOptions] = dataclasses.field(default_factory=dict)

    def seed_options(self) -> dict[str, dict[str, Any]]:
        """Per seed table name: its reading options, for the warehouse."""
        return {name: options.reader_options() for name, options in self.seeds.items()}

    targets: dict[str, TargetSpec] = dataclasses.field(default_factory=dict)  # always holds "local"
    default_target: str = LOCAL

    def target(self, name: str | None = None) -> TargetSpec:
        """The chosen target: ``name``, else ``MODELYARD_TARGET``, else the settings' ``target``."""
        return choose(self.targets, self.default_target, name)

    @property
    def runs_dir(self) -> Path:
        return self.state_dir / "runs"

    @property
    def reports_dir(self) -> Path:
        """The HTML pages people open (tuning and backtest reports)."""
        return self.state_dir / "reports"


@dataclasses.dataclass(frozen=True)
class ExtractSpec:
    file: str  # repo-relative path of the extract YAML
    name: str
    operator: str
    sql_file: str  # repo-relative
    kwargs: dict[str, Any]
    description: str
    position: Position
    kwargs_position: Position  # its `kwargs:` key (or its name, without kwargs)
    allow_empty: bool  # an extract returning no rows is an error unless it says so

    @property
    def key(self) -> tuple[str, str]:
        return (self.file, self.name)

    @property
    def table(self) -> str:
        """The warehouse table holding this dataset: ``extracts.<file stem>__<name>``."""
        return f"extracts.{Path(self.file).stem}__{self.name}"


@dataclasses.dataclass(frozen=True)
class DataDependency:
    train_param_name: str
    file: str  # repo-relative extract file
    file_param_name: str
    position: Position


@dataclasses.dataclass(frozen=True)
class SplitConfig:
    train_param_name: str
    strategy: str
    time_column: str
    days_backward: float
    train_size: dt.timedelta
    test_size: dt.timedelta
    slide_by: dt.timedelta
    as_of: str | None
    position: Position


DEFAULT_HOLDOUT = 0.2


@dataclasses.dataclass(frozen=True)
class Evaluation:
    """Where ``run`` scores the model: on held-out rows (``holdout`` a fraction) or, when the
    model file says ``evaluation: in_sample``, on the rows it trained on (``holdout`` None)."""

    holdout: float | None
    seed: int
    dataset: str | list[str] | None  # None: split_config's dataset, or the only one
    refit: bool  # train the stored model again on all rows after scoring
    declared: bool  # False: the model file has no ``evaluation:`` and gets the default
    position: Position


@dataclasses.dataclass(frozen=True)
class DatasetRef:
    """A dataset named outside ``dependencies`` (scoring rows, labels)."""

    file: str  # repo-relative extract file
    file_param_name: str
    train_param_name: str | None  # None: the model's only dataset
    position: Position


@dataclasses.dataclass(frozen=True)
class Scoring:
    data: DatasetRef
    output: str  # a warehouse table, ``schema.table``
    key: str | None  # the row key column; None: the row's position
    schedule: str | None
    position: Position


@dataclasses.dataclass(frozen=True)
class MetricThreshold:
    name: str
    direction: str  # higher_is_better | lower_is_better
    warn: float | None
    fail: float | None


@dataclasses.dataclass(frozen=True)
class Monitoring:
    drift: dict[str, float]  # psi_warn, psi_fail (only those the file sets)
    labels: DatasetRef | None
    key: str | None
    metrics: tuple[MetricThreshold, ...]
    position: Position


NO_MONITORING = Monitoring({}, None, None, (), Position(""))


@dataclasses.dataclass(frozen=True)
class ModelSpec:
    file: str
    model_name: str
    model_description: str
    tags: dict[str, Any]
    model_trainer: str
    constructor_args: dict[str, Any]
    dependencies: tuple[DataDependency, ...]
    split_config: SplitConfig | None
    schedule: str | None
    retries: int
    evaluation: Evaluation
    scoring: Scoring | None = None
    monitoring: Monitoring = NO_MONITORING

    @property
    def canonical_name(self) -> str:
        return self.tags["canonical_name"]

    @property
    def trainer_file(self) -> str:
        """``a.b.C`` names class ``C`` in ``trainers/a/b.py``."""
        module = self.model_trainer.rsplit(".", 1)[0]
        return f"{TRAINERS_DIR}/{module.replace('.', '/')}.py"

    @property
    def trainer_class(self) -> str:
        return self.model_trainer.rsplit(".", 1)[1]


@dataclasses.dataclass(frozen=True)
class ParamBoundary:
    name: str
    low: float
    high: float
    step: float | None
    log: bool
    position: Position

    @property
    def is_integer(self) -> bool:
        values = [self.low, self.high] + ([self.step] if self.step is not None else [])
        return all(isinstance(v, int) and not isinstance(v, bool) for v in values)


# n_function_compute_workers (and `tune --workers`) that leaves the number to the run: execute.runner
AUTO_WORKERS = "auto"


@dataclasses.dataclass(frozen=True)
class TuningSpec:
    file: str
    model: str  # repo-relative model file
    environment: dict[str, float]
    n_workers: int | str  # a number, or AUTO_WORKERS
    tuning_type: str
    params: tuple[ParamBoundary, ...]
    n_trials: int | None
    seed: int
    objective_metric: str | None
    objective_direction: str | None
    validation: dict[str, Any]


@dataclasses.dataclass(frozen=True)
class Project:
    settings: Settings
    extracts: dict[tuple[str, str], ExtractSpec]
    models: dict[str, ModelSpec]
    tunings: dict[str, TuningSpec]
    documents: dict[str, YamlDocument]

    @property
    def root(self) -> Path:
        return self.settings.root

    def model(self, path: str) -> ModelSpec:
        return self.models[path]


def duration(value: dict | None) -> dt.timedelta | None:
    if value is None:
        return None
    return dt.timedelta(weeks=value.get("weeks", 0), days=value.get("days", 0), hours=value.get("hours", 0))


def _settings(root: Path, doc: YamlDocument | None) -> Settings:
    data = (doc.data if doc else None) or {}
    state = state_dir(root, data)
    warehouse = data.get("warehouse") or {}
    store = data.get("model_store") or {}
    publish = data.get("publish") or {}
    defaults = data.get("defaults") or {}
    warehouse_path = root / warehouse["path"] if "path" in warehouse else state / "warehouse.duckdb"
    lock_timeout = float(warehouse.get("lock_timeout_seconds", 60))
    store_path = root / store["path"] if "path" in store else state / "models"
    local = TargetSpec(
        name=LOCAL,
        warehouse={"type": "duckdb", "path": warehouse_path, "lock_timeout_seconds": lock_timeout},
        store=store_path,
        runs=state / "runs",
        s3={},
    )
    return Settings(
        root=root,
        state_dir=state,
        data_dir=root / data.get("data_dir", "data"),
        warehouse_path=warehouse_path,
        lock_timeout_seconds=lock_timeout,
        store_path=store_path,
        publish_target=root / publish["target"] if "target" in publish else state / "published",
        publish_backend=publish.get("backend", "airflow"),
        retries=defaults.get("retries", 1),
        schedule=defaults.get("schedule"),
        seeds={
            name: SeedOptions(
                column_types=dict(options.get("column_types") or {}),
                null_strings=tuple(options.get("null_strings") or ()),
                delimiter=options.get("delimiter"),
                position=doc.where(("seeds", name), key=True),
            )
            for name, options in (data.get("seeds") or {}).items()
        },
        targets=parse_targets(root, data, local),
        default_target=data.get("target", LOCAL),
    )


def _extracts(doc: YamlDocument, root: Path) -> list[ExtractSpec]:
    folder = Path(doc.path).parent
    out = []
    for name, body in doc.data.items():
        sql_file = body.get("sql_file", "")
        out.append(
            ExtractSpec(
                file=doc.path,
                name=name,
                operator=body["operator"],
                sql_file=(folder / sql_file).as_posix() if sql_file else "",
                kwargs=dict(body.get("kwargs") or {}),
                description=body.get("description", ""),
                position=doc.where((name,), key=True),
                kwargs_position=doc.where((name, "kwargs") if "kwargs" in body else (name,), key=True),
                allow_empty=body.get("allow_empty", False),
            )
        )
    return out


def _model(doc: YamlDocument, settings: Settings) -> ModelSpec:
    data = doc.data
    deps = tuple(
        DataDependency(
            train_param_name=item["train_param_name"],
            file=f"{EXTRACTS_DIR}/{item['file']}",
            file_param_name=item["file_param_name"],
            position=doc.where(("dependencies", "data", i)),
        )
        for i, item in enumerate(data["dependencies"]["data"])
    )
    split = None
    if "split_config" in data:
        sc = data["split_config"]
        test_size = duration(sc["test_size"])
        split = SplitConfig(
            train_param_name=sc["train_param_name"],
            strategy=sc["strategy"],
            time_column=sc.get("time_column", "date"),
            days_backward=sc["days_backward"],
            train_size=duration(sc["train_size"]),
            test_size=test_size,
            # a given zero stays zero, for checks.tuning to report; only a missing slide_by defaults
            slide_by=duration(sc["slide_by"]) if "slide_by" in sc else test_size,
            as_of=sc.get("as_of"),
            position=doc.where(("split_config",), key=True),
        )
    given = data.get("evaluation")
    options = given if isinstance(given, dict) else {}
    evaluation = Evaluation(
        holdout=None if given == "in_sample" else options.get("holdout", DEFAULT_HOLDOUT),
        seed=options.get("seed", 0),
        dataset=options.get("dataset"),
        refit=options.get("refit", True),
        declared=given is not None,
        position=doc.where(("evaluation",)) if given is not None else Position(doc.path),
    )
    return ModelSpec(
        file=doc.path,
        model_name=data["model_name"],
        model_description=data.get("model_description", ""),
        tags=dict(data["tags"]),
        model_trainer=data["model_trainer"],
        constructor_args=dict(data.get("constructor_args") or {}),
        dependencies=deps,
        split_config=split,
        schedule=data.get("schedule", settings.schedule),
        retries=data.get("retries", settings.retries),
        evaluation=evaluation,
        scoring=_scoring(doc),
        monitoring=_monitoring(doc),
    )


def _dataset_ref(doc: YamlDocument, path: tuple) -> DatasetRef:
    body = _at(doc.data, path)
    return DatasetRef(
        file=f"{EXTRACTS_DIR}/{body['file']}",
        file_param_name=body["file_param_name"],
        train_param_name=body.get("train_param_name"),
        position=doc.where(path, key=True),
    )


def _at(data: Any, path: tuple) -> Any:
    for key in path:
        data = data[key]
    return data


def _scoring(doc: YamlDocument) -> Scoring | None:
    body = doc.data.get("scoring")
    if body is None:
        return None
    output = body["output"] if "." in body["output"] else f"predictions.{body['output']}"
    return Scoring(
        data=_dataset_ref(doc, ("scoring", "data")),
        output=output,
        key=body.get("key") or (doc.data.get("monitoring") or {}).get("key"),
        schedule=body.get("schedule"),
        position=doc.where(("scoring",), key=True),
    )


def _monitoring(doc: YamlDocument) -> Monitoring:
    body = doc.data.get("monitoring")
    if body is None:
        return NO_MONITORING
    metrics = tuple(
        MetricThreshold(name, spec["direction"], spec.get("warn"), spec.get("fail"))
        for name, spec in (body.get("metrics") or {}).items()
    )
    return Monitoring(
        drift=dict(body.get("drift") or {}),
        labels=_dataset_ref(doc, ("monitoring", "labels")) if "labels" in body else None,
        key=body.get("key"),
        metrics=metrics,
        position=doc.where(("monitoring",), key=True),
    )


def _tuning(doc: YamlDocument) -> TuningSpec:
    data = doc.data
    params = []
    for name, bound in data["param_boundaries"].items():
        if isinstance(bound, list):
            low, high, *rest = bound
            step, log = (rest[0] if rest else None), False
        else:
            low, high, step, log = bound["min"], bound["max"], bound.get("step"), bound.get("log", False)
        params.append(ParamBoundary(name, low, high, step, log, doc.where(("param_boundaries", name), key=True)))
    objective = data.get("objective") or {}
    return TuningSpec(
        file=doc.path,
        model=f"{MODELS_DIR}/{data['model']}",
        environment=dict(data.get("environment") or {}),
        n_workers=data.get("n_function_compute_workers", 1),
        tuning_type=data["tuning_type"],
        params=tuple(params),
        n_trials=data.get("n_trials"),
        seed=data.get("seed", 0),
        objective_metric=objective.get("metric"),
        objective_direction=objective.get("direction"),
        validation=dict(data.get("validation") or {}),
    )


def state_dir(root: Path, settings: Any) -> Path:
    """The state folder the settings data name (the default when they name none, or not as a string)."""
    state = settings.get("state_dir") if isinstance(settings, dict) else None
    return root / (state if isinstance(state, str) else STATE_DIR)


def _read(
    root: Path, file: Path, kind: str, diagnostics: list[Diagnostic], schemas: SchemaChecker
) -> YamlDocument | None:
    display = file.relative_to(root).as_posix()  # files are listed under root: no resolve() needed
    if not inside_repo(root, display):
        # a repo's behaviour must be in the repo: a commit would not record what a symlink out points to
        diagnostics.append(
            Diagnostic(
                Position(display),
                "error",
                "path-escape",
                f"{display} is a symlink to {file.resolve()}, outside the repo; copy the file into the repo instead",
            )
        )
        return None
    try:
        doc = read_yaml(file, display)
    except YamlSyntaxError as exc:
        diagnostics.append(exc.diagnostic)
        return None
    problems = schemas.check(kind, doc)
    diagnostics.extend(problems)
    return None if any(p.severity == "error" for p in problems) else doc


def read_project(root: Path) -> tuple[Project, list[Diagnostic]]:
    """Read every file of the repo into records; return what loaded and every problem in a file
    on its own (syntax, schema). Cross-file checks are ``checks``'s job."""
    diagnostics: list[Diagnostic] = []
    documents: dict[str, YamlDocument] = {}
    schemas = SchemaChecker(_cache_state_dir(root))
    settings_doc = _read(root, root / SETTINGS_FILE, "settings", diagnostics, schemas)
    if settings_doc and settings_doc.data:
        diagnostics.extend(target_diagnostics(settings_doc.data, lambda path: settings_doc.where(path, key=True)))
    settings = _settings(root, settings_doc)
    extracts: dict[tuple[str, str], ExtractSpec] = {}
    models: dict[str, ModelSpec] = {}
    tunings: dict[str, TuningSpec] = {}
    for file in yaml_files(root, EXTRACTS_DIR):
        if doc := _read(root, file, "extract", diagnostics, schemas):
            documents[doc.path] = doc
            for spec in _extracts(doc, root):
                extracts[spec.key] = spec
    for file in yaml_files(root, MODELS_DIR):
        if doc := _read(root, file, "model", diagnostics, schemas):
            documents[doc.path] = doc
            models[doc.path] = _model(doc, settings)
    for file in yaml_files(root, TUNING_DIR):
        if doc := _read(root, file, "tuning", diagnostics, schemas):
            documents[doc.path] = doc
            tunings[doc.path] = _tuning(doc)
    schemas.save()
    return Project(settings, extracts, models, tunings, documents), diagnostics


def _cache_state_dir(root: Path) -> Path | None:
    """The state folder, read before the settings file is checked: the schema cache lives there.
    None (no cache) while the settings file does not parse."""
    try:
        return state_dir(root, read_yaml(root / SETTINGS_FILE, SETTINGS_FILE).data)
    except (OSError, YamlSyntaxError):
        return None


def load_settings(root: Path) -> Settings:
    """Only ``modelyard.yaml``: enough to find the warehouse and the model store."""
    diagnostics: list[Diagnostic] = []
    doc = _read(root, root / SETTINGS_FILE, "settings", diagnostics, SchemaChecker(None))
    if diagnostics and any(d.severity == "error" for d in diagnostics):
        raise ConfigError(diagnostics)
    return _settings(root, doc)
