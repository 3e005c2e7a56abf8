"""Execute one IR node: the code every backend runs, so local and Airflow runs behave alike.

A node reads its inputs from the warehouse (datasets) or from the run folder (a trained model,
metrics) and writes its outputs there; it returns a small JSON-able result (Airflow puts it in
XCom). ``RunContext`` says where things are; it is built from settings, never from YAML files.
"""
from __future__ import annotations

import dataclasses
import datetime as dt
import inspect
import json
import math
import time
from pathlib import Path
from typing import Any, Callable

from . import __version__, backtest, trainers
from .errors import ModelyardError, Position, TrainerError
from .ir import Node, Workflow
from .store import ModelStore, write_atomic
from .tuning import nodes as tuning_nodes
from .warehouse import Warehouse, qualified


@dataclasses.dataclass(frozen=True)
class RunContext:
    root: Path  # the model repo: trainers/ and lineage
    warehouse_path: Path
    store_path: Path
    data_dir: Path
    run_dir: Path  # this run's scratch folder: trained models, metrics
    lock_timeout: float = 60.0
    refresh: bool = False
    source: dict = dataclasses.field(default_factory=dict)  # commit of the model repo
    reports_dir: Path | None = None  # HTML reports people open (default: the run folder)

    def node_dir(self, node_id: str, index: int | None = None) -> Path:
        return self.run_dir / (node_id if index is None else f"{node_id}.{index}")

    def warehouse(self, *, read_only: bool = False) -> Warehouse:
        return Warehouse(self.warehouse_path, read_only=read_only, lock_timeout=self.lock_timeout)


def _extract(workflow: Workflow, node: Node, ctx: RunContext, index: int | None) -> dict:
    spec = node.spec
    where = Position(spec["extract_file"], spec["line"])
    with ctx.warehouse() as wh:
        wh.sync_seeds(ctx.data_dir)
        key = wh.cache_key(node.hash_parts["sql"], spec["sql"])
        rows = None if ctx.refresh else wh.cached_rows(spec["table"], key)
        if rows is not None:
            return {"table": spec["table"], "rows": rows, "reused": True}
        try:
            rows = wh.materialize(spec["table"], spec["sql"], key, where=where)
        except ModelyardError as exc:
            exc.message = f"extract {spec['dataset']!r} ({spec['sql_file']}): {exc.message}"
            raise
    return {"table": spec["table"], "rows": rows, "reused": False}


# Frames already read in this process, per run: train and evaluate of a local run read the same
# extract; reading 1M rows into pandas twice costs more than copying the frame.
_FRAMES: dict[tuple[Path, str], tuple[tuple, Any]] = {}


# In-memory copies of what a fan-out node reads, per process, run and node (see ``snapshot``).
_SNAPSHOTS: dict[tuple[Path, str], Any] = {}


def _close_snapshots() -> None:
    for con in _SNAPSHOTS.values():
        con.close()
    _SNAPSHOTS.clear()


def forget_frames() -> None:
    _FRAMES.clear()
    _close_snapshots()


def snapshot(ctx: RunContext, node_id: str, copies: dict[str, tuple[str, list]]):
    """An in-memory DuckDB copy of the rows node ``node_id`` reads (``Warehouse.snapshot``), made
    when a process runs its first item of that node in a run: a backtest window reads a few
    thousand rows, and opening the warehouse file for them costs more (~15 ms) than the query.
    Keyed by the run folder: a later run, which may have rebuilt the extract, never reads it."""
    key = (ctx.run_dir, node_id)
    if key not in _SNAPSHOTS:
        _close_snapshots()  # one copy at a time: a process runs one fan-out node after another
        _SNAPSHOTS[key] = ctx.warehouse(read_only=True).snapshot(copies)
    return _SNAPSHOTS[key]


def read_inputs(ctx: RunContext, inputs: dict[str, dict[str, str]]) -> dict[str, Any]:
    frames = {}
    with ctx.warehouse(read_only=True) as wh:
        for param, item in inputs.items():
            version = wh.table_version(item["table"])
            key = (ctx.run_dir, item["table"])
            if version is None or _FRAMES.get(key, (None,))[0] != version:
                frame = wh.read_table(item["table"])
                if version is not None:
                    _FRAMES[key] = (version, frame)
            else:
                frame = _FRAMES[key][1]
            frames[param] = _private_copy(frame) if version is not None else frame
    return frames


def _private_copy(frame):
    """A copy a trainer may change in place without changing the next node's input. Under
    copy-on-write (always on since pandas 3) a shallow copy is one, and costs nothing where a
    deep copy of 1M rows takes 0.1-0.2 s."""
    import pandas as pd

    return frame.copy(deep=int(pd.__version__.split(".")[0]) < 3)


def make_trainer(ctx: RunContext, spec: dict, overrides: dict | None = None):
    cls = trainers.load_trainer_class(ctx.root, spec["trainer"], where=Position(spec["trainer_file"]))
    args = {**spec["constructor_args"], **(overrides or {})}
    return trainers.call_user(ctx.root, f"{cls.__name__}(**constructor_args)", cls, **args)


def fit(ctx: RunContext, spec: dict, frames: dict[str, Any], overrides: dict | None = None) -> trainers.TrainedObject:
    trainer = make_trainer(ctx, spec, overrides)
    trained = trainers.call_user(ctx.root, f"{type(trainer).__name__}.train()", trainer.train, **frames)
    if not isinstance(trained, trainers.TrainedObject):
        raise TrainerError(f"{type(trainer).__name__}.train() returned {type(trained).__name__}, "
                           "expected modelyard.TrainedObject", Position(spec["trainer_file"]))
    return trained


def _accepted(func: Callable, frames: dict[str, Any]) -> dict[str, Any]:
    """The datasets ``func`` takes by name (all of them if it takes **kwargs)."""
    params = inspect.signature(func).parameters
    if any(p.kind is p.VAR_KEYWORD for p in params.values()):
        return frames
    return {k: v for k, v in frames.items() if k in params}


def score(ctx: RunContext, spec: dict, model: Any, frames: dict[str, Any], overrides: dict | None = None) -> dict[str, float]:
    trainer = make_trainer(ctx, spec, overrides)
    name = f"{type(trainer).__name__}.evaluate()"
    metrics = trainers.call_user(ctx.root, name, trainer.evaluate, model, **_accepted(trainer.evaluate, frames))
    return check_metrics(metrics, name, spec["trainer_file"])


def check_metrics(metrics: Any, name: str, trainer_file: str) -> dict[str, float]:
    if not isinstance(metrics, dict) or not metrics:
        raise TrainerError(f"{name} returned {type(metrics).__name__}; expected a non-empty dict of metric name -> number",
                           Position(trainer_file))
    clean = {}
    for key, value in metrics.items():
        try:
            number = float(value)
        except (TypeError, ValueError):
            raise TrainerError(f"{name}: metric {key!r} is {type(value).__name__}, not a number",
                               Position(trainer_file)) from None
        clean[str(key)] = number if math.isfinite(number) else None
    return clean


def save_pickle(path: Path, trained: trainers.TrainedObject, spec: dict) -> None:
    import cloudpickle

    trainers.register_for_pickling()
    try:
        data = cloudpickle.dumps(trained)
    except Exception as exc:  # TypeError, PicklingError, RecursionError, ...: whatever the object raises
        # evaluate() and the store need the model pickled: say so where the trainer made it
        raise TrainerError(f"{spec['trainer'].rpartition('.')[2]}.train() returned a TrainedObject that cannot be "
                           f"pickled: {trainers.describe_exception(exc)}", Position(spec["trainer_file"]),
                           hint="keep only picklable state in the model and the sample data "
                                "(no open files, locks, connections or generators)") from None
    write_atomic(path, data)


def load_pickle(path: Path) -> Any:
    import cloudpickle

    return cloudpickle.loads(path.read_bytes())


def _train(workflow: Workflow, node: Node, ctx: RunContext, index: int | None) -> dict:
    frames = read_inputs(ctx, node.spec["inputs"])
    # a tune workflow retrains with the parameters its select node chose
    overrides = read_result(ctx, node.spec["params_from"])["best_params"] if "params_from" in node.spec else None
    started = time.perf_counter()
    trained = fit(ctx, node.spec, frames, overrides)
    save_pickle(ctx.node_dir(node.id) / "trained.pkl", trained, node.spec)
    return {"rows": {k: len(v) for k, v in frames.items()}, "seconds": round(time.perf_counter() - started, 3)}


def _evaluate(workflow: Workflow, node: Node, ctx: RunContext, index: int | None) -> dict:
    trained = load_pickle(ctx.node_dir(node.spec["model_node"]) / "trained.pkl")
    frames = read_inputs(ctx, node.spec["inputs"])
    metrics = score(ctx, node.spec, trained.model, frames)
    write_atomic(ctx.node_dir(node.id) / "metrics.json", json.dumps(metrics).encode())
    return {"metrics": metrics}


def _describe_columns(value: Any) -> Any:
    """Column names and dtypes of a DataFrame, Series, array or a dict of them."""
    if isinstance(value, dict):
        return {str(k): _describe_columns(v) for k, v in value.items()}
    if hasattr(value, "dtypes") and hasattr(value, "columns"):
        return {"type": "dataframe", "columns": [{"name": str(c), "dtype": str(t)} for c, t in value.dtypes.items()]}
    if hasattr(value, "dtype") and hasattr(value, "shape"):
        kind = "series" if hasattr(value, "index") else "array"
        out = {"type": kind, "dtype": str(value.dtype), "shape": [None, *list(value.shape[1:])]}
        if kind == "series":
            out["name"] = None if value.name is None else str(value.name)
        return out
    if value is None:
        return None
    return {"type": type(value).__name__}


def signature(trained: trainers.TrainedObject) -> dict:
    return {"method": trained.method, "inputs": _describe_columns(trained.sample_input_data),
            "outputs": _describe_columns(trained.sample_output_data)}


def build_envelope(spec: dict, trained: trainers.TrainedObject, metrics: dict, ctx: RunContext,
                   rows: dict[str, int], extra_lineage: dict | None = None) -> dict:
    return {
        "canonical_name": spec["canonical_name"],
        "model_name": spec["model_name"],
        "model_description": spec["model_description"],
        "tags": spec["tags"],
        "signature": signature(trained),
        "metrics": metrics,
        "lineage": {
            **spec["lineage"],
            "git_commit": ctx.source.get("commit"),
            "git_dirty": ctx.source.get("dirty"),
            "row_counts": rows,
            "constructor_args": spec["constructor_args"],
            "created_at": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
            "modelyard_version": __version__,
            **(extra_lineage or {}),
        },
    }


def store_model(ctx: RunContext, spec: dict, trained: trainers.TrainedObject, envelope: dict) -> dict:
    import cloudpickle

    trainers.register_for_pickling()
    version, path = ModelStore(ctx.store_path).save(spec["canonical_name"], cloudpickle.dumps(trained.model), envelope)
    return {"canonical_name": spec["canonical_name"], "version": version, "model_path": str(path),
            "metrics": envelope["metrics"]}


def _register(workflow: Workflow, node: Node, ctx: RunContext, index: int | None) -> dict:
    spec = node.spec
    trained = load_pickle(ctx.node_dir(spec["model_node"]) / "trained.pkl")
    metrics = json.loads((ctx.node_dir(spec["metrics_node"]) / "metrics.json").read_text())
    with ctx.warehouse(read_only=True) as wh:
        rows = {param: int(wh.con.execute(f"SELECT count(*) FROM {qualified(item['table'])}").fetchone()[0])
                for param, item in spec["row_count_inputs"].items()}
    extra = read_result(ctx, spec["lineage_from"])["lineage"] if "lineage_from" in spec else None
    envelope = build_envelope(spec, trained, metrics, ctx, rows, extra)
    return store_model(ctx, spec, trained, envelope)


NodeRunner = Callable[[Workflow, Node, RunContext, "int | None"], dict]

# One entry per node kind; tuning and backtesting register theirs.
EXECUTORS: dict[str, NodeRunner] = {
    "extract": _extract,
    "train": _train,
    "evaluate": _evaluate,
    "register": _register,
    "split": backtest.split_node,
    "windows": backtest.window_node,
    "summary": backtest.summary_node,
    "trials": tuning_nodes.run_trial,
    "propose": tuning_nodes.propose,
    "select": tuning_nodes.select,
}


def fan_out_items(workflow: Workflow, node: Node, ctx: RunContext) -> list:
    """A fan-out node runs once per item: fixed at compile time (``spec.items``) or listed at run
    time by the upstream node named in ``spec.items_from`` (e.g. windows computed from the data)."""
    if "items" in node.spec:
        return list(node.spec["items"])
    return list(read_result(ctx, node.spec["items_from"])["items"])


def read_result(ctx: RunContext, node_id: str, index: int | None = None) -> dict:
    return json.loads((ctx.node_dir(node_id, index) / "result.json").read_text())


def item_results(workflow: Workflow, node_id: str, ctx: RunContext) -> list[dict]:
    """Every item's result of a fan-out node, in item order (what a gather node reads)."""
    count = len(fan_out_items(workflow, workflow.node(node_id), ctx))
    return [read_result(ctx, node_id, i) for i in range(count)]


def execute_node(workflow: Workflow, node_id: str, ctx: RunContext, index: int | None = None) -> dict:
    """Run one node (or one item of a fan-out node) and keep its result in the run folder."""
    node = workflow.node(node_id)
    executor = EXECUTORS.get(node.kind)
    if executor is None:
        raise ModelyardError(f"node kind {node.kind!r} has no executor in this modelyard version ({__version__})")
    result = executor(workflow, node, ctx, index)
    write_atomic(ctx.node_dir(node_id, index) / "result.json", json.dumps(result, default=str).encode())
    return result
