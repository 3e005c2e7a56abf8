"""Run one node of a compiled workflow inside an orchestrator's task (an Airflow task today).

A generated DAG file knows only its IR file (a JSON next to it) and node ids. Where the model
repo, the warehouse, the model store and the run folders are is deployment state, so it comes
from the published set and the environment of the workers, never from the IR (which holds no
absolute paths):

- the model repo: ``MODELYARD_PROJECT_DIR`` when set (a checkout, e.g. for a local Airflow), else
  the ``project/`` folder that ``modelyard publish`` puts next to the IR file (``publish.bundle``):
  its ``modelyard.yaml`` names the targets, its ``trainers/`` run. A worker needs no checkout. The
  trainer files are checked against the IR's ``trainer_code`` hash before a node runs them.
- ``MODELYARD_TARGET`` (optional): the target of ``modelyard.yaml`` (default: its ``target``, else
  ``local``). A target's ``conn_id`` keys are Airflow connections, read here at run time.
- ``MODELYARD_WAREHOUSE``, ``MODELYARD_STORE``, ``MODELYARD_RUNS_DIR`` (optional): override them;
  the store and the run folders may be URLs (``s3://bucket/prefix/runs``).

All tasks of one orchestrator run share a run folder named after the orchestrator's run id, so
nodes hand over trained models and metrics exactly as in a local run (on a cluster: through the
object store). A mistake in this set-up is a ``DeploymentError``: the failure says it is not
retryable (``NodeError.retryable``), and the generated task fails at once instead of retrying.
"""

from __future__ import annotations

import dataclasses
import os
from pathlib import Path

from modelyard import ir
from modelyard.engine.context import RunContext, for_settings, safe_run_id
from modelyard.engine.runfolder import fan_out_items
from modelyard.errors import DeploymentError, ModelyardError, NodeError
from modelyard.execute.node import execute_node, trainer_files
from modelyard.fsio import is_remote
from modelyard.repo.layout import PUBLISHED_PROJECT, SETTINGS_FILE
from modelyard.repo.trainer_source import code_hash

PROJECT_ENV = "MODELYARD_PROJECT_DIR"
WAREHOUSE_ENV = "MODELYARD_WAREHOUSE"
STORE_ENV = "MODELYARD_STORE"
RUNS_ENV = "MODELYARD_RUNS_DIR"


def load_workflow(ir_file: str | os.PathLike, workflow_id: str) -> tuple[ir.Workflow, dict]:
    path = Path(ir_file)
    try:
        document = ir.Document.loads(path.read_text(encoding="utf-8"))
        return document.workflow(workflow_id), document.source
    except (OSError, ValueError, KeyError) as exc:
        raise DeploymentError(
            f"cannot read workflow {workflow_id!r} from the IR file {path}: {exc}",
            hint="deploy the whole set `modelyard publish` writes (the .ir.json next to its DAG file)",
        ) from None


@dataclasses.dataclass(frozen=True)
class Project:
    """The model repo a task runs: a checkout (``MODELYARD_PROJECT_DIR``) or a published set's copy."""

    root: Path
    published: bool  # the project/ folder of a published set: nothing may be written in it


def project_dir(ir_file: str | os.PathLike, source: dict) -> Project:
    value = os.environ.get(PROJECT_ENV)
    commit = source.get("commit") or "the compiled commit"
    if value:
        root = Path(value)
        if not (root / SETTINGS_FILE).is_file():
            raise DeploymentError(
                f"{PROJECT_ENV}={value} is not a model repo (no {SETTINGS_FILE} there)",
                hint=f"point it at a checkout of the model repo at {commit}, or unset it to use the published set",
            )
        return Project(root, published=False)
    bundled = Path(ir_file).parent / PUBLISHED_PROJECT
    if (bundled / SETTINGS_FILE).is_file():
        return Project(bundled, published=True)
    raise DeploymentError(
        f"the environment variable {PROJECT_ENV} is not set, and no published {PUBLISHED_PROJECT}/ folder "
        f"is next to {Path(ir_file).name}",
        hint=f"deploy the set `modelyard publish` writes (it carries the repo files workers need), or set "
        f"{PROJECT_ENV} on the workers to a checkout of the model repo at {commit}",
    )


def airflow_connection(conn_id: str):
    """An Airflow connection, looked up when the task runs (never at compile time)."""
    from airflow.sdk import BaseHook

    try:
        return BaseHook.get_connection(conn_id)
    except Exception as exc:  # AirflowNotFoundException, without importing its module path here
        raise DeploymentError(
            f"the Airflow connection {conn_id!r} named by the target is not defined: {exc}",
            hint=f"create it (`airflow connections add {conn_id} ...` or AIRFLOW_CONN_{conn_id.upper()})",
        ) from None


def _outside_published_set(ctx: RunContext, project: Project) -> RunContext:
    """A published set is replaced by the next publish and is this worker's alone: a target that
    keeps its state there (relative folders of ``local``) would lose it and share it with nobody."""
    if not project.published:
        return ctx
    root = project.root.resolve()
    kept = {"warehouse": ctx.warehouse_path if ctx.warehouse_type == "duckdb" else None}
    kept |= {"model store": ctx.store_path, "run folders": ctx.run_dir}
    inside = [what for what, where in kept.items() if where is not None and not is_remote(where)]
    inside = [what for what in inside if Path(kept[what]).resolve().is_relative_to(root)]
    if inside:
        name = ctx.target.name if ctx.target else "local"
        raise DeploymentError(
            f"target {name!r} keeps its {' and '.join(inside)} inside the published set on this worker "
            f"({project.root}), where the next publish deletes them and no other worker sees them",
            hint="choose a target for workers (MODELYARD_TARGET) whose warehouse is a server and whose store and "
            f"runs are s3:// URLs (see docs/deploying.md), or set {PROJECT_ENV} to a checkout for a one-machine "
            f"Airflow, or {WAREHOUSE_ENV}/{STORE_ENV}/{RUNS_ENV} to folders outside it",
        )
    reports = ctx.reports_dir
    if reports is not None and Path(reports).resolve().is_relative_to(root):
        return dataclasses.replace(ctx, reports_dir=None)  # reports go to the run folder instead
    return ctx


def context(ir_file: str | os.PathLike, workflow_id: str, run_id: str | None, source: dict) -> RunContext:
    from modelyard.repo.project import load_settings

    project = project_dir(ir_file, source)
    warehouse = os.environ.get(WAREHOUSE_ENV)
    ctx = for_settings(
        load_settings(project.root),
        workflow_id,
        run_id=safe_run_id(run_id),
        source=source,
        warehouse_path=Path(warehouse) if warehouse else None,
        store=os.environ.get(STORE_ENV) or None,
        runs=os.environ.get(RUNS_ENV) or None,
        root=project.root,
        connection=airflow_connection,
    )
    return _outside_published_set(ctx, project)


def check_trainer_code(node: ir.Node, ctx: RunContext) -> None:
    """The trainer files about to run are the ones compiled into the node (its ``trainer_code``)."""
    files = trainer_files(node)
    if not files:
        return
    try:
        found = code_hash(ctx.root, files)
    except OSError:
        found = None
    if found != node.hash_parts.get("trainer_code"):
        commit = ctx.source.get("commit") or "the compiled commit"
        raise DeploymentError(
            f"the trainer code in {ctx.root} ({', '.join(files)}) is not the code this workflow was compiled with",
            hint=f"copy the whole published set to this worker again, or point {PROJECT_ENV} at a checkout of {commit}",
        )


def run_node(
    ir_file: str | os.PathLike, workflow_id: str, node_id: str, *, run_id: str | None = None, index: int | None = None
) -> dict:
    """Execute one node (or one item of a fan-out node); a failure names the workflow and node."""
    label = node_id if index is None else f"{node_id}[{index}]"
    try:
        workflow, source = load_workflow(ir_file, workflow_id)
        ctx = context(ir_file, workflow_id, run_id, source)
        check_trainer_code(workflow.node(node_id), ctx)
        ctx.prepare()
        return execute_node(workflow, node_id, ctx, index)
    except ModelyardError as exc:
        raise NodeError(workflow_id, label, exc) from None


def item_indices(
    ir_file: str | os.PathLike, workflow_id: str, node_id: str, *, run_id: str | None = None, limit: int | None = None
) -> list[int]:
    """The item indices of a fan-out node whose items an upstream node lists at run time; more
    than ``limit`` (the orchestrator's most mapped instances) is an error saying what to change."""
    try:
        workflow, source = load_workflow(ir_file, workflow_id)
        items = fan_out_items(workflow, workflow.node(node_id), context(ir_file, workflow_id, run_id, source))
        if limit is not None and len(items) > limit:
            raise DeploymentError(
                f"{len(items)} items to map, more than Airflow maps ([core] max_map_length = {limit})",
                hint="raise AIRFLOW__CORE__MAX_MAP_LENGTH for the whole deployment, or make fewer items "
                "(a backtest: a larger split_config.slide_by or a smaller days_backward)",
            )
    except (ModelyardError, OSError, KeyError) as exc:
        cause = exc if isinstance(exc, ModelyardError) else f"cannot list its items: {exc}"
        raise NodeError(workflow_id, node_id, cause) from None
    return list(range(len(items)))
