"""Run a compiled workflow locally: nodes in dependency order, fan-out items in this process and
in parallel worker processes, every node through ``execute.node.execute_node`` (the same code
Airflow tasks call).

The runner takes an IR workflow and a RunContext; it never reads the model repo's YAML.
Progress goes to an ``on_event`` callback so the CLI (rich) and the UI can each show it.
"""

from __future__ import annotations

import concurrent.futures as futures
import contextlib
import functools
import importlib
import multiprocessing
import os
import random
import shutil
import threading
import time
from collections.abc import Callable, Sequence
from typing import Any

from modelyard import ir
from modelyard.console import debug
from modelyard.engine.context import RunContext
from modelyard.engine.inputs import forget_frames
from modelyard.engine.runfolder import fan_out_items
from modelyard.errors import ModelyardError, NodeError
from modelyard.execute.node import KINDS, execute_node, trainer_files
from modelyard.fsio import is_remote
from modelyard.repo.project import AUTO_WORKERS
from modelyard.repo.trainer_source import library_imports

Event = dict[str, Any]
EventSink = Callable[[Event], None]


def _run_item(workflow_json: dict, node_id: str, ctx: RunContext, index: int) -> dict:
    return execute_node(ir.Workflow.from_json(workflow_json), node_id, ctx, index)


PRELOAD_VARIABLE = "MODELYARD_PRELOAD"


# The thread pools of OpenMP (scikit-learn's gradient boosting, LightGBM, XGBoost) and BLAS each
# take every core by default: two workers would run 2 x cores threads and slow each other down.
THREAD_APIS = {"openmp": ("OMP_NUM_THREADS",), "blas": ("OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")}
THREAD_VARIABLES = tuple(name for names in THREAD_APIS.values() for name in names)


def _start_forkserver(libraries: list[str], workers: int) -> None:
    """Start the process the pool's workers fork from, now, and let it import what every worker
    needs (modelyard, pandas, DuckDB, the trainers' libraries: about 2 s) once, while the run's
    first nodes go on: a worker then starts in milliseconds instead of importing it all again.
    ``modelyard.execute.preload`` reads the list from the environment the server inherits, and
    the libraries their thread counts (the cores shared among the workers, unless the user set
    them): they read them when first imported, in the server."""
    from multiprocessing import forkserver

    multiprocessing.get_context("forkserver").set_forkserver_preload(["__main__", "modelyard.execute.preload"])
    threads = str(_threads(workers))
    server_env = {PRELOAD_VARIABLE: ",".join(libraries)} | {
        name: threads for name in THREAD_VARIABLES if name not in os.environ
    }
    previous = {name: os.environ.get(name) for name in server_env}
    os.environ.update(server_env)
    try:
        forkserver.ensure_running()  # a no-op once this process has one (its preload stays)
    finally:
        for name, value in previous.items():
            if value is None:
                del os.environ[name]
            else:
                os.environ[name] = value


def _threads(workers: int) -> int:
    return max(1, _cores() // workers)


def _uncut_apis() -> list[str]:
    """The thread pool kinds a pool cuts to a worker's share: those the user set no variable for."""
    return [api for api, names in THREAD_APIS.items() if not any(name in os.environ for name in names)]


def _thread_counts(apis: list[str]) -> dict[str, int]:
    from threadpoolctl import threadpool_info

    pools = threadpool_info()
    return {
        api: max(p["num_threads"] for p in pools if p["user_api"] == api)
        for api in apis
        if any(p["user_api"] == api for p in pools)
    }


@contextlib.contextmanager
def _limited_threads(counts: dict[str, int]):
    from threadpoolctl import threadpool_limits

    with contextlib.ExitStack() as limits:
        for api, count in counts.items():
            limits.enter_context(threadpool_limits(limits=count, user_api=api))
        yield


def _with_threads(counts: dict[str, int], job: Callable, *args) -> None:
    """``job(*args)`` in a worker, with the thread counts of the command's own process outside
    the lanes (a worker's are cut to its share): a fit with another thread count need not give
    the same model (a parallel sum adds in another order)."""
    with _limited_threads(counts):
        job(*args)


def _cores() -> int:
    """The cores to use; ``MODELYARD_CPU_COUNT`` says otherwise (the tests run a pool on one core)."""
    return int(os.environ.get("MODELYARD_CPU_COUNT") or os.cpu_count() or 1)


# What a pool costs before its first item ends: the forkserver importing modelyard, pandas, DuckDB
# and the trainers' libraries on another core (about 1.5 s), then each worker reading its data.
POOL_START_SECONDS = 1.5
TIMED_HERE = 2  # items ``auto`` runs in this process before choosing


class Workers:
    """The run's ``size`` lanes: this process and a pool of ``size - 1`` worker processes, shared
    by every fan-out node (an adaptive search has one per round): no pool until a node needs it.
    ``auto`` runs a node's first two items here, timing the second (the first also pays for
    importing the trainer's libraries and reading the data), and starts the pool only when
    running the rest side by side saves more than ``POOL_START_SECONDS``: a trial of milliseconds
    never pays for a pool, one of seconds does. Every item runs the same
    code on the same inputs wherever it runs, so the choice changes no result, only the time.
    Never more lanes than cores: trials train models, and ``n_function_compute_workers: 1000``
    must not start a thousand interpreters on a laptop."""

    def __init__(self, workers: int | str, libraries: list[str]):
        self.auto = workers == AUTO_WORKERS
        self.size = _cores() if self.auto else min(int(workers), _cores())
        self.libraries = libraries
        self.pool: futures.Executor | None = None
        self.ahead: dict[str, tuple[ir.Ahead, futures.Future]] = {}  # by the node it works for
        self.own_threads: dict[str, int] = {}  # this process's thread counts outside the lanes
        self.started = time.perf_counter()

    def log(self, message: str) -> None:
        """A ``--debug`` line with the seconds since the run started: where a run's time goes."""
        debug(f"{time.perf_counter() - self.started:6.2f} s  {message}")

    def start_server(self) -> None:
        """Start the forkserver now, so its imports overlap the run's first nodes."""
        if self.size > 1:
            _start_forkserver(self.libraries, self.size)

    def executor(self) -> futures.Executor:
        """The pool: ``size - 1`` processes running items beside this process, and room for one
        more, started only for work done ahead while they all run items (``start_ahead``)."""
        if self.pool is None:
            self.start_server()
            self.pool = futures.ProcessPoolExecutor(
                max_workers=self.size, mp_context=multiprocessing.get_context("forkserver")
            )
        return self.pool

    def start_ahead(self, workflow: ir.Workflow, node: ir.Node, ctx: RunContext, results: list) -> None:
        """Called once per fan-out node, by the lane that finds no item left while others still
        run theirs: start the work its kind guesses a later node will do (see ``ir.Ahead``) on a
        pool process, on the core that lane leaves free. Only for a run folder on disk: adopting
        the work is a rename there."""
        guess = KINDS[node.kind].ahead
        if guess is None or is_remote(ctx.run_dir):
            return
        try:
            ahead = guess(workflow, node, ctx, [result for result in results if result is not None])
            if ahead is not None:
                future = self.executor().submit(_with_threads, self.own_threads, ahead.job, *ahead.args)
                self.ahead[ahead.node] = (ahead, future)
                self.log(f"{ahead.node} started ahead, for {ahead.field} {ahead.value}")
        except Exception as exc:  # noqa: BLE001  no work ahead (no guess yet, a broken pool): the node does it all
            self.log(f"{node.id}: nothing started ahead ({exc})")

    def finish_ahead(self, node_id: str, results: dict[str, dict]) -> None:
        """Before ``node_id`` runs: wait for the work started ahead for it, if its guess came true
        by the upstream ``results`` of this run (otherwise the node does not use it, and it is
        left to end on its own)."""
        ahead, future = self.ahead.get(node_id, (None, None))
        if ahead is None:
            return
        if results.get(ahead.upstream, {}).get(ahead.field) != ahead.value:
            self.log(f"{node_id}: the work started ahead is not used ({ahead.field} differs)")
            return
        try:
            future.result()
        except Exception as exc:  # noqa: BLE001  the node does the work itself, and reports the error
            self.log(f"{node_id}: the work started ahead failed ({exc})")
            return
        self.log(f"{node_id}: the work started ahead has ended")

    @contextlib.contextmanager
    def threads_here(self):
        """This process's OpenMP and BLAS thread pools cut to a worker's share while it runs items
        beside the pool's workers, as the environment cuts theirs (unless the user set the
        variables); what they were is kept for work done ahead. The libraries are imported first:
        only the thread pools of loaded libraries can be cut."""
        import_quietly(self.libraries)
        apis = _uncut_apis()
        self.own_threads = _thread_counts(apis)
        with _limited_threads({api: _threads(self.size) for api in apis}):
            yield

    def to_decide(self, items: int) -> bool:
        """Whether this node's first items run here, the second timed, before choosing."""
        return self.auto and self.size > 1 and self.pool is None and items > TIMED_HERE

    def pays_off(self, seconds: float, remaining: int) -> bool:
        """Whether ``remaining`` items of ``seconds`` each finish sooner on the pool, start included."""
        workers = min(self.size, remaining)
        return workers > 1 and remaining * seconds * (1 - 1 / workers) > POOL_START_SECONDS

    def close(self) -> None:
        if self.pool is not None:
            self.pool.shutdown(cancel_futures=True)
        for ahead, _ in self.ahead.values():
            shutil.rmtree(ahead.scratch, ignore_errors=True)


class _Lanes:
    """Items shared out to this process and the pool's workers, each taking the next one when it
    finishes its last: this process is warm (its imports done, its data read) and starts at once,
    a pool lane once its worker is up (see ``_feed_pool``), and no lane waits for a fixed share.
    The first lane to find none left while others still run one calls ``on_idle`` (work ahead).
    The first failing item stops every lane from taking another."""

    def __init__(
        self, indexes: Sequence[int], emit: EventSink, log: Callable[[str], None], on_idle: Callable[[], None]
    ):
        self.queue = iter(indexes)
        self.log = log
        self.on_idle = on_idle
        # guards the queue, ``failure``, the counts and ``emit``
        self.lock = threading.Condition()
        self.failure: BaseException | None = None
        self.running = 0  # items taken and not finished, in every lane
        # what the node's end waits for: items pool lanes took and have not finished, an on_idle call
        self.awaited = 0
        self.idled = False
        self.used: set[str] = set()  # the lanes that ran an item
        self.emit = emit

    def take(self, pooled: bool = False) -> int | None:
        with self.lock:
            index = None if self.failure is not None else next(self.queue, None)
            self.running += index is not None
            self.awaited += pooled and index is not None
            idle = index is None and self.failure is None and self.running > 0 and not self.idled
            self.idled |= idle
            self.awaited += idle  # the node does not end before its on_idle call has
        if idle:
            try:
                self.on_idle()
            finally:
                with self.lock:
                    self._release(True)
        return index

    def done(self, event: Event, lane: str, pooled: bool = False) -> None:
        with self.lock:
            self.log(f"{event['node']}.{event['index']} ended in {lane}")
            self.emit(event)
            self.used.add(lane)
            self.running -= 1
            self._release(pooled)

    def fail(self, exc: BaseException, pooled: bool = False) -> None:
        with self.lock:
            self.failure = self.failure or exc
            self._release(pooled)

    def _release(self, pooled: bool) -> None:
        if pooled:
            self.awaited -= 1
            self.lock.notify_all()

    def wait_for_pool(self) -> None:
        """Until every item a pool lane took has ended: none runs on after its node."""
        with self.lock:
            self.lock.wait_for(lambda: self.awaited == 0)


def _worker_died(index: int) -> ModelyardError:
    return ModelyardError(
        f"the worker process running item {index} ended without a result (a crash in a native library, "
        "the system stopping it for lack of memory, or code calling os._exit)",
        hint="rerun with --workers 1 to run every item in this process and see its error",
    )


def _worker_not_started() -> ModelyardError:
    return ModelyardError(
        "a worker process could not start: the server it forks from ended (a crash in a native library "
        "while importing the trainer's libraries, or the system stopping it for lack of memory)",
        hint="rerun with --workers 1 to run every item in this process and see its error",
    )


def _in_worker(pool: futures.Executor, index: int | None, fn: Callable, *args):
    """``fn(*args)`` run by a pool worker (``index``: the item it runs); a worker that cannot start
    or dies is a clear error."""
    try:
        future = pool.submit(fn, *args)
    except (EOFError, ConnectionError, futures.BrokenExecutor):  # starting a worker failed
        raise _worker_not_started() from None
    try:
        return future.result()
    except futures.BrokenExecutor:  # the pool lost a process: every item on it fails alike
        raise (_worker_not_started() if index is None else _worker_died(index)) from None


def _worker_ready() -> None:
    """A pool task that returns at once: its result says a worker process is up."""


def _feed_pool(
    lanes: _Lanes, pool: futures.Executor, workflow: ir.Workflow, node: ir.Node, ctx, results, lane: str
) -> None:
    """One pool worker's lane, run in a thread of this process. It takes no item before a worker is
    up (the first time, the forkserver's imports): meanwhile this process runs them, and when it
    has run them all (trials of milliseconds), the node ends without waiting for the pool. Its
    errors go to the node's thread, which raises them."""
    try:
        _in_worker(pool, None, _worker_ready)
    except BaseException as exc:  # noqa: BLE001
        lanes.fail(exc)
        return
    workflow_json = workflow.to_json()
    while (i := lanes.take(pooled=True)) is not None:
        try:
            results[i] = _in_worker(pool, i, _run_item, workflow_json, node.id, ctx, i)
        except BaseException as exc:  # noqa: BLE001
            lanes.fail(exc, pooled=True)
            return
        lanes.done({"event": "item_done", "node": node.id, "index": i, "result": results[i]}, lane, pooled=True)


def _this_lane(lanes: _Lanes, workflow: ir.Workflow, node: ir.Node, ctx: RunContext, results) -> None:
    while (i := lanes.take()) is not None:
        results[i] = execute_node(workflow, node.id, ctx, i)
        lanes.done({"event": "item_done", "node": node.id, "index": i, "result": results[i]}, "this process")


def _run_here(
    workflow: ir.Workflow, node: ir.Node, ctx: RunContext, workers: Workers, indexes: range, results, emit
) -> None:
    """Run ``indexes`` in this process alone."""
    _this_lane(_Lanes(indexes, emit, workers.log, on_idle=lambda: None), workflow, node, ctx, results)


def _lane_order(indexes: range) -> list[int]:
    """The order lanes take items in: shuffled, the same way every run. A grid in its own order
    ends with its largest models, which are often its best too: the lanes would end on its
    longest fits, and the best trial would end last, too late for its retrain to start ahead on
    the lane left idle (see ``Workers.start_ahead``). Results do not depend on the order: each
    item is kept at its index."""
    order = list(indexes)
    random.Random(len(order)).shuffle(order)
    return order


def _run_in_lanes(
    workflow: ir.Workflow, node: ir.Node, ctx: RunContext, workers: Workers, indexes: range, results, emit
) -> int:
    """Run ``indexes`` in this process and on the pool at once; the number of lanes that ran any."""
    on_idle = functools.partial(workers.start_ahead, workflow, node, ctx, results)
    lanes = _Lanes(_lane_order(indexes), emit, workers.log, on_idle)
    pool = workers.executor()
    feeders = min(workers.size, len(indexes)) - 1
    for n in range(1, feeders + 1):
        # a daemon: one still waiting for its worker when the node ends has nothing left to take
        lane = f"pool lane {n}"
        threading.Thread(target=_feed_pool, args=(lanes, pool, workflow, node, ctx, results, lane), daemon=True).start()
    try:
        with workers.threads_here():
            _this_lane(lanes, workflow, node, ctx, results)
    except BaseException as exc:
        lanes.fail(exc)  # the pool lanes take no further item
        raise
    finally:
        lanes.wait_for_pool()
    if lanes.failure is not None:
        raise lanes.failure
    return len(lanes.used)


def _fan_out(workflow: ir.Workflow, node: ir.Node, ctx: RunContext, workers: Workers, emit: EventSink) -> dict:
    items = fan_out_items(workflow, node, ctx)
    emit({"event": "fan_out", "node": node.id, "total": len(items)})
    results: list[Any] = [None] * len(items)
    first = 0
    parallel = workers.size > 1 and len(items) > 1
    if workers.to_decide(len(items)):
        _run_here(workflow, node, ctx, workers, range(TIMED_HERE - 1), results, emit)
        started = time.perf_counter()
        _run_here(workflow, node, ctx, workers, range(TIMED_HERE - 1, TIMED_HERE), results, emit)
        first = TIMED_HERE
        parallel = workers.pays_off(time.perf_counter() - started, len(items) - first)
    if not parallel:
        _run_here(workflow, node, ctx, workers, range(first, len(items)), results, emit)
        return {"items": len(items), "workers": 1}
    return {
        "items": len(items),
        "workers": _run_in_lanes(workflow, node, ctx, workers, range(first, len(items)), results, emit),
    }


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
    workers: int | str = 1,
    on_event: EventSink | None = None,
    only: set[str] | None = None,
) -> dict[str, dict]:
    """Execute ``workflow`` (or only the nodes in ``only``); return each node's result.
    ``workers``: processes for fan-out items, or ``AUTO_WORKERS`` to choose by the time of one."""
    emit = on_event or (lambda event: None)
    ctx.prepare()
    results: dict[str, dict] = {}
    nodes = [node for node in workflow.nodes if only is None or node.id in only]
    files = sorted({f for node in nodes for f in trainer_files(node)})
    libraries = library_imports(ctx.root, files)
    warming = warm_imports(libraries)
    pool = Workers(workers, libraries)
    fan_out = any(node.fan_out for node in nodes)
    if fan_out and not pool.auto:
        pool.start_server()  # auto starts it only when a node's first item says a pool pays off
    try:
        # pool workers open the warehouse file themselves: only a run that can never start them
        # holds it open for all its nodes
        with ctx.holding_warehouse() if pool.size <= 1 or not fan_out else contextlib.nullcontext():
            for node in nodes:
                pool.log(f"{node.id} started")
                emit({"event": "node_started", "node": node.id, "kind": node.kind})
                try:
                    if node.fan_out:
                        results[node.id] = _fan_out(workflow, node, ctx, pool, emit)
                    else:
                        pool.finish_ahead(node.id, results)
                        results[node.id] = execute_node(workflow, node.id, ctx)
                except ModelyardError as exc:
                    emit({"event": "node_failed", "node": node.id, "error": str(exc)})
                    raise NodeError(workflow.id, node.id, exc) from None
                pool.log(f"{node.id} ended")
                emit({"event": "node_done", "node": node.id, "result": results[node.id]})
    finally:
        pool.close()
        forget_frames()
        warming.join()
    return results
