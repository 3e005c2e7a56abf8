"""Executors of the train workflow's nodes: ``extract``, ``train``, ``evaluate``, ``register``.

A node reads its inputs from the warehouse (datasets) or from the run folder (a trained model,
metrics) and writes its outputs there; it returns a small JSON-able result (Airflow puts it in
XCom).
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

from modelyard import ir
from modelyard.engine import runfolder
from modelyard.engine.context import RunContext
from modelyard.engine.inputs import read_inputs
from modelyard.errors import StoreError
from modelyard.fsio import write_atomic
from modelyard.ir import Node, NodeKind, Workflow
from modelyard.repo.trainers import training_log_at
from modelyard.store.models import ModelStore
from modelyard.warehouse import profile
from modelyard.workflows.train import drift, uptodate
from modelyard.workflows.train.envelope import build_envelope, store_model
from modelyard.workflows.train.extract import run_extract
from modelyard.workflows.train.fitting import fit, load_pickle, save_pickle, score
from modelyard.workflows.train.specs import Evaluate, Extract, Register, Train
from modelyard.workflows.tune import holdout


def _rows(frames: dict) -> dict[str, int]:
    return {name: len(frame) for name, frame in frames.items()}


def run_train(workflow: Workflow, node: Node, ctx: RunContext, index: int | None) -> dict:
    spec = Train.of(node)
    if spec.params_from is None:
        return _fit_into(ctx.node_dir(node.id), ctx, spec, None)
    # a tune workflow retrains with the parameters its select node chose
    overrides = runfolder.read_result(ctx, spec.params_from)["best_params"]
    ahead = ahead_dir(ctx, node.id, overrides)
    if (ahead / runfolder.RESULT).is_file():  # fitted ahead on these very parameters: see fit_ahead
        for name in (runfolder.TRAINED, runfolder.TRAINING_LOG):
            if (ahead / name).is_file():
                os.replace(ahead / name, ctx.node_dir(node.id) / name)
        return {**json.loads((ahead / runfolder.RESULT).read_text()), "fitted_ahead": True}
    return _fit_into(ctx.node_dir(node.id), ctx, spec, overrides)


def _fit_into(folder: Path, ctx: RunContext, spec: Train, overrides: dict | None) -> dict:
    frames = read_inputs(ctx, spec.inputs)
    if spec.validation is not None:  # held-out evaluation: fit the training rows only
        frames = holdout.split(frames, spec.validation)[0]
    started = time.perf_counter()
    trained = fit(ctx, spec, frames, overrides)
    save_pickle(folder / runfolder.TRAINED, trained, spec)
    return {"rows": _rows(frames), "seconds": round(time.perf_counter() - started, 3)}


def ahead_dir(ctx: RunContext, node_id: str, overrides: dict) -> Path:
    return ctx.node_dir(node_id) / "ahead" / ir.content_hash(overrides)[:16]


def fit_ahead(workflow_json: dict, node_id: str, ctx: RunContext, overrides: dict) -> None:
    """Fit train node ``node_id`` with ``overrides`` before its upstream node has chosen them (run
    by a worker that would idle otherwise, see ``execute.runner``), into ``ahead_dir``; the node
    adopts the fit if it is handed the same parameters. The same inputs, spec and parameters as
    the node's own fit: the same model. The result file is written last: only a whole fit has one."""
    node = Workflow.from_json(workflow_json).node(node_id)
    folder = ahead_dir(ctx, node_id, overrides)
    with training_log_at(folder / runfolder.TRAINING_LOG):
        result = _fit_into(folder, ctx, Train.of(node), overrides)
    runfolder.write_result_at(folder, result)


def run_evaluate(workflow: Workflow, node: Node, ctx: RunContext, index: int | None) -> dict:
    spec = Evaluate.of(node)
    trained = load_pickle(ctx.node_dir(spec.model_node) / runfolder.TRAINED)
    frames = read_inputs(ctx, spec.inputs)
    source = dict(spec.metrics_source)
    if spec.validation is not None:  # the same split as the train node's: a pure function of data and seed
        train, frames = holdout.split(frames, spec.validation)
        source["rows"] = {"train": _rows(train), "held_out": _rows(frames)}
    metrics = score(ctx, spec, trained.model, frames)
    write_atomic(ctx.node_dir(node.id) / runfolder.METRICS, json.dumps(metrics).encode())
    return {"metrics": metrics, "metrics_source": source}


def run_register(workflow: Workflow, node: Node, ctx: RunContext, index: int | None) -> dict:
    spec = Register.of(node)
    trained = load_pickle(ctx.node_dir(spec.model_node) / runfolder.TRAINED)
    metrics = json.loads((ctx.node_dir(spec.metrics_node) / runfolder.METRICS).read_text())
    inputs = spec.row_count_inputs
    with ctx.warehouse(read_only=True) as wh:
        rows = {param: wh.row_count(item["table"]) for param, item in inputs.items()}
        extra = uptodate.lineage(wh, workflow, ctx)  # what a later run needs to skip retraining
        con = profile.duckdb_connection(wh)
        profiles = {
            param: profile.extract_profile(con, item["table"], writable=wh.writable) if con else None
            for param, item in inputs.items()
        }
        report = training_drift(ctx, con, spec, profiles) if con else None
    if spec.lineage_from:
        extra.update(runfolder.read_result(ctx, spec.lineage_from)["lineage"])
    source = runfolder.read_result(ctx, spec.metrics_node)["metrics_source"]
    training = runfolder.read_training_log(ctx, spec.model_node)
    envelope = build_envelope(spec, trained, metrics, source, ctx, rows, extra, training, (profiles, report))
    return {**store_model(ctx, spec, trained, envelope), "drift": report}


def training_drift(ctx: RunContext, con, spec: Register, profiles: dict[str, dict | None]) -> dict | None:
    """This run's datasets against the ones the latest stored version trained on: None for a
    model's first version (or when that version was stored without profiles)."""
    try:
        previous = ModelStore(ctx.store_path).envelope(spec.canonical_name)
    except StoreError:  # no version yet
        return None
    before = previous.get("data_profiles") or {}
    datasets = {}
    for param, current in profiles.items():
        reference = before.get(param)
        if reference is None or current is None:
            continue
        table = spec.row_count_inputs[param]["table"]
        counts = profile.counts_in_reference(con, table, reference)
        datasets[param] = drift.compare(reference, current, counts, spec.drift_thresholds)
    if not datasets:
        return None
    return {
        "against_version": previous["version"],
        "datasets": datasets,
        "status": drift.worst(d["status"] for d in datasets.values()),
    }


KINDS = [
    NodeKind(Extract, run_extract),
    NodeKind(Train, run_train),
    NodeKind(Evaluate, run_evaluate),
    NodeKind(Register, run_register),
]
