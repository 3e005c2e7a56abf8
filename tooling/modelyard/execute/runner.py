"""Run a compiled workflow locally: nodes in dependency order, fan-out items in parallel worker
processes, every node through ``execute.node.execute_node`` (the same code Airflow tasks call).

The runner takes an IR workflow and a RunContext; it never reads the model repo's YAML.
Progress goes to an ``on_event`` callback so the CLI (rich) and the UI can each show it.
"""

from __future__ import annotations

import concurrent.futures as futures
import contextlib
import importlib
import multiprocessing
import os
import threading
from collections.abc import Callable, Iterator
from typing import Any

from modelyard import ir
from modelyard.engine.context import RunContext
from modelyard.engine.inputs import forget_frames
from modelyard.engine.runfolder import fan_out_items
from modelyard.errors import ModelyardError, NodeError
from modelyard.execute.node import execute_node
from modelyard.repo.trainer_source import library_imports

Event = dict[str, Any]
EventSink = Callable[[Event], None]


def _run_item(workflow_json: dict, node_id: str, ctx: RunContext, index: int) -> dict:
    return execute_node(ir.Workflow.from_json(workflow_json), node_id, ctx, index)


PRELOAD_VARIABLE = "MODELYARD_PRELOAD"


def _start_forkserver(libraries: list[str]) -> None:
    """Start the process the pool's workers fork from, now, and let it import what every worker
    needs (modelyard, pandas, DuckDB, the trainers' libraries: about 2 s) once, while the run's
    first nodes go on: a worker then starts in milliseconds instead of importing it all again.
    ``modelyard.execute.preload`` reads the list from the environment the server inherits."""
    from multiprocessing import forkserver

    multiprocessing.get_context("forkserver").set_forkserver_preload(["__main__", "modelyard.execute.preload"])
    previous = os.environ.get(PRELOAD_VARIABLE)
    os.environ[PRELOAD_VARIABLE] = ",".join(libraries)
    try:
        forkserver.ensure_running()  # a no-op once this process has one (its preload stays)
    finally:
        if previous is None:
            del os.environ[PRELOAD_VARIABLE]
        else:
            os.environ[PRELOAD_VARIABLE] = previous


def _cores() -> int:
    """The cores to use; ``MODELYARD_CPU_COUNT`` says otherwise (the tests run a pool on one core)."""
    return int(os.environ.get("MODELYARD_CPU_COUNT") or os.cpu_count() or 1)


@contextlib.contextmanager
def _worker_pool(workers: int, libraries: list[str] | None) -> Iterator[Callable[[], futures.Executor] | None]:
    """One process pool for every fan-out node of a run (an adaptive search has one per round);
    ``libraries`` is None when no fan-out node will run, and then no process is started.
    Never more processes than cores: trials train models, and ``n_function_compute_workers: 1000``
    must not start a thousand interpreters on a laptop."""
    workers = min(workers, _cores())
    pool = None
    if workers > 1 and libraries is not None:
        _start_forkserver(libraries)

    def get() -> futures.Executor:
        nonlocal pool
        if pool is None:
            pool = futures.ProcessPoolExecutor(
                max_workers=workers, mp_context=multiprocessing.get_context("forkserver")
            )
        return pool

    try:
        yield get if workers > 1 else None
    finally:
        if pool is not None:
            pool.shutdown(cancel_futures=True)


def _fan_out(
    workflow: ir.Workflow, node: ir.Node, ctx: RunContext, pool: Callable[[], futures.Executor] | None, emit: EventSink
) -> dict:
    items = fan_out_items(workflow, node, ctx)
    emit({"event": "fan_out", "node": node.id, "total": len(items)})
    results: list[Any] = [None] * len(items)
    if pool is None or len(items) <= 1:
        for i in range(len(items)):
            results[i] = execute_node(workflow, node.id, ctx, i)
            emit({"event": "item_done", "node": node.id, "index": i, "result": results[i]})
    else:
        pending = {pool().submit(_run_item, workflow.to_json(), node.id, ctx, i): i for i in range(len(items))}
        try:
            for done in futures.as_completed(pending):
                i = pending[done]
                results[i] = done.result()
                emit({"event": "item_done", "node": node.id, "index": i, "result": results[i]})
        except BaseException:
            # a failing item stops the node now, not after every queued item has run
            for future in pending:
                future.cancel()
            raise
    return {"items": len(items)}


def import_quietly(modules: list[str]) -> None:
    for name in modules:
        try:
            importlib.import_module(name)
        except Exception:  # noqa: BLE001  the trainer's own import reports it, at its place
            pass


def warm_imports(libraries: list[str]) -> threading.Thread:
    """Import the libraries the trainers use (scikit-learn takes a second) in a thread while the
    first nodes run: DuckDB releases the GIL, so building extracts and importing overlap."""
    thread = threading.Thread(target=import_quietly, args=(libraries,), name="modelyard-warm-imports", daemon=True)
    thread.start()
    return thread


def run_workflow(
    workflow: ir.Workflow,
    ctx: RunContext,
    *,
    workers: int = 1,
    on_event: EventSink | None = None,
    only: set[str] | None = None,
) -> dict[str, dict]:
    """Execute ``workflow`` (or only the nodes in ``only``); return each node's result."""
    emit = on_event or (lambda event: None)
    ctx.prepare()
    results: dict[str, dict] = {}
    nodes = [node for node in workflow.nodes if only is None or node.id in only]
    files = sorted({f for node in nodes for f in node.spec.get("trainer_files", [])})
    libraries = library_imports(ctx.root, files)
    warming = warm_imports(libraries)
    fan_out = any(node.fan_out for node in nodes)
    try:
        with (
            _worker_pool(workers, libraries if fan_out else None) as pool,
            # pool workers open the warehouse file themselves: only a run without them holds it open
            ctx.holding_warehouse() if pool is None or not fan_out else contextlib.nullcontext(),
        ):
            for node in nodes:
                emit({"event": "node_started", "node": node.id, "kind": node.kind})
                try:
                    if node.fan_out:
                        results[node.id] = _fan_out(workflow, node, ctx, pool, emit)
                    else:
                        results[node.id] = execute_node(workflow, node.id, ctx)
                except ModelyardError as exc:
                    emit({"event": "node_failed", "node": node.id, "error": str(exc)})
                    raise NodeError(workflow.id, node.id, exc) from None
                emit({"event": "node_done", "node": node.id, "result": results[node.id]})
    finally:
        forget_frames()
        warming.join()
    return results
