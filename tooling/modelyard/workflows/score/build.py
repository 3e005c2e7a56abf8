"""Compile a model with ``scoring:`` into its ``score__<model>`` workflow:

extracts (rows to score, and labels when monitored) -> score -> monitor

``score`` loads the stored version (the latest at run time, unless a version is pinned), checks
the rows against its signature, predicts and appends the predictions to ``scoring.output``;
``monitor`` compares the run with the version's training data and scores labelled predictions.
"""

from __future__ import annotations

from modelyard import ir
from modelyard.repo.layout import score_id, workflow_id
from modelyard.repo.project import DatasetRef, ModelSpec, Project
from modelyard.workflows.score.specs import Monitor, Score
from modelyard.workflows.train.build import extract_node_id, extract_nodes, model_workflow, trainer_spec

MONITORING_SCHEMA = "monitoring"


def train_param(model: ModelSpec, ref: DatasetRef) -> str:
    """The train()/evaluate() parameter rows stand for: as named, else the model's only dataset
    (``checks.references`` makes sure one of the two holds)."""
    return ref.train_param_name or model.dependencies[0].train_param_name


def monitoring_tables(model_file: str) -> dict[str, str]:
    stem = workflow_id(model_file)
    return {"drift": f"{MONITORING_SCHEMA}.{stem}_drift", "metrics": f"{MONITORING_SCHEMA}.{stem}_metrics"}


def report_file(model_file: str) -> str:
    return f"{score_id(model_file)}.html"


def score_workflow(project: Project, model: ModelSpec, version: int | None = None) -> ir.Workflow:
    """The scoring workflow; ``version`` pins a stored version (``modelyard score --version``)."""
    scoring, monitoring = model.scoring, model.monitoring
    data = project.extracts[(scoring.data.file, scoring.data.file_param_name)]
    labels = (
        project.extracts[(monitoring.labels.file, monitoring.labels.file_param_name)] if monitoring.labels else None
    )
    extracts = extract_nodes(project, [data] + ([labels] if labels else []))
    trainer, code_hash = trainer_spec(project, model)
    doc = project.documents[model.file]
    config = {"scoring": doc.data["scoring"], "monitoring": doc.data.get("monitoring")}
    rows = {"node": extract_node_id(data), "table": data.table, "extract_file": data.file, "dataset": data.name}
    score = ir.Node.of(
        "score",
        (extract_node_id(data),),
        Score(
            canonical_name=model.canonical_name,
            version=version,
            rows={**rows, "line": data.position.line},
            output=scoring.output,
            key=scoring.key,
            model_file=model.file,
            line=scoring.position.line,
        ),
        {"config": ir.content_hash(config)},
    )
    monitor = ir.Node.of(
        "monitor",
        ("score", *((extract_node_id(labels),) if labels else ())),
        Monitor(
            **trainer,
            score_node="score",
            rows=rows,
            train_param=train_param(model, scoring.data),
            drift_thresholds=monitoring.drift,
            labels={"table": labels.table, "key": monitoring.key} if labels else None,
            metrics={m.name: {"direction": m.direction, "warn": m.warn, "fail": m.fail} for m in monitoring.metrics},
            tables=monitoring_tables(model.file),
            report=report_file(model.file),
            model_file=model.file,
        ),
        {"config": ir.content_hash(config), "trainer_code": code_hash},
    )
    settings = {"schedule": scoring.schedule, "retries": model.retries, "environment": {}}
    return model_workflow(
        score_id(model.file), "score", model, extracts, trainer, [*extracts, score, monitor], settings
    )


def build(project: Project) -> list[ir.Workflow]:
    return [score_workflow(project, m) for m in project.models.values() if m.scoring is not None]
