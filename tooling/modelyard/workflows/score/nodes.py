"""Executors of the scoring workflow: ``score`` (predict, append to the predictions table) and
``monitor`` (drift and metrics of the run, kept in warehouse tables and a report; a figure past
its ``fail`` threshold fails the node, so an orchestrator's alerting fires)."""

from __future__ import annotations

import datetime as dt
from pathlib import PurePosixPath

from modelyard.engine import runfolder
from modelyard.engine.context import RunContext
from modelyard.errors import ModelyardError, Position
from modelyard.ir import Node, NodeKind, Workflow
from modelyard.repo import trainers
from modelyard.store.models import ModelStore
from modelyard.warehouse import profile
from modelyard.workflows.score import monitor, report, signature
from modelyard.workflows.score.specs import Monitor, Score
from modelyard.workflows.train import drift


def run_id(ctx: RunContext) -> str:
    return PurePosixPath(str(ctx.run_dir)).name


def _needs_duckdb(ctx: RunContext) -> None:
    # the scoring and monitoring queries are written for DuckDB; say so rather than fail inside them
    if ctx.warehouse_type != "duckdb":
        raise ModelyardError(
            f"scoring and monitoring run on a DuckDB warehouse in this modelyard version, not {ctx.warehouse_type}",
            hint="score with a target whose warehouse is duckdb (the local default)",
        )


def run_score(workflow: Workflow, node: Node, ctx: RunContext, index: int | None) -> dict:
    _needs_duckdb(ctx)
    import pandas as pd

    spec = Score.of(node)
    rows = spec.rows
    where = Position(rows["extract_file"], rows["line"])
    store = ModelStore(ctx.store_path)
    envelope = store.envelope(spec.canonical_name, spec.version)
    version = envelope["version"]
    label = f"model {spec.canonical_name} version {version}"
    model = store.load(spec.canonical_name, version)
    with ctx.warehouse(read_only=True) as wh:
        frame = wh.read_table(rows["table"])
    args, kwargs = signature.model_arguments(envelope["signature"], frame, where, label)
    key = spec.key
    if key and key not in frame.columns:
        raise ModelyardError(
            f"the rows to score have no key column {key!r} (scoring.key or monitoring.key of {spec.model_file})",
            where,
            hint=f"select {key!r} in the extract's query, or name another key column",
        )
    method = envelope["signature"]["method"]
    trainers.register_for_pickling()
    output = trainers.call_user(ctx.root, f"{type(model).__name__}.{method}()", getattr(model, method), *args, **kwargs)
    predicted = signature.prediction_columns(output, len(frame), where, label)
    scored_at = dt.datetime.now(dt.UTC).replace(tzinfo=None, microsecond=0)
    table = pd.concat(
        [
            pd.DataFrame(
                {
                    "row_key": frame[key].to_numpy() if key else range(len(frame)),
                    "model_name": spec.canonical_name,
                    "model_version": version,
                    "scoring_run_id": run_id(ctx),
                    "scored_at": scored_at,
                }
            ),
            predicted,
        ],
        axis=1,
    )
    with ctx.warehouse() as wh:
        profile.replace_run_rows(wh.con, spec.output, run_id(ctx), table)
    return {
        "canonical_name": spec.canonical_name,
        "version": version,
        "rows": len(frame),
        "output": spec.output,
        "run_id": run_id(ctx),
        "scored_at": scored_at.isoformat(),
        "prediction_columns": list(predicted.columns),
    }


def run_monitor(workflow: Workflow, node: Node, ctx: RunContext, index: int | None) -> dict:
    _needs_duckdb(ctx)
    spec = Monitor.of(node)
    scored = runfolder.read_result(ctx, spec.score_node)
    envelope = ModelStore(ctx.store_path).envelope(scored["canonical_name"], scored["version"])
    with ctx.warehouse() as wh:
        state = monitor.check_run(ctx, wh, spec, scored, envelope)
        monitor.save(wh, spec.tables, state)
        history = monitor.history(wh, spec.tables)
    folder = ctx.reports_dir or ctx.node_dir(node.id)
    title = f"{workflow.id}: monitoring of {scored['canonical_name']}"
    psi = {**drift.DEFAULT_THRESHOLDS, **spec.drift_thresholds}
    page = report.write(folder, spec.report, title, history, psi, spec.metrics)
    crossed = monitor.crossed(state, "fail")
    if crossed:
        raise ModelyardError(
            f"monitoring of {scored['canonical_name']} version {scored['version']} (scoring run {scored['run_id']}): "
            + "; ".join(crossed),
            Position(spec.model_file),
            hint=f"see {page}; retrain on recent data, fix the rows' source, or raise the thresholds in "
            f"`monitoring:` of {spec.model_file}",
        )
    return {**state, "report": str(page)}


KINDS = [NodeKind(Score, run_score), NodeKind(Monitor, run_monitor)]
