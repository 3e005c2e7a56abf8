"""Run one node of a compiled workflow inside an orchestrator's task (an Airflow task today).

A generated DAG file knows only its IR file (a JSON next to it) and node ids. Where the model
repo, the warehouse, the model store and the run folders are is deployment state, so it comes
from the environment of the workers, never from the IR (which holds no absolute paths):

- ``MODELYARD_PROJECT_DIR`` (required): a checkout of the model repo the DAG was compiled from;
  its ``trainers/`` run, its ``modelyard.yaml`` says where the warehouse and model store are.
- ``MODELYARD_TARGET`` (optional): the target of ``modelyard.yaml`` (default: its ``target``, else
  ``local``). A target's ``conn_id`` keys are Airflow connections, read here at run time.
- ``MODELYARD_WAREHOUSE``, ``MODELYARD_STORE``, ``MODELYARD_RUNS_DIR`` (optional): override them;
  the store and the run folders may be URLs (``s3://bucket/prefix/runs``).

All tasks of one orchestrator run share a run folder named after the orchestrator's run id, so
nodes hand over trained models and metrics exactly as in a local run.
"""

from __future__ import annotations

import os
from pathlib import Path

from modelyard import ir
from modelyard.engine.context import RunContext, for_settings, safe_run_id
from modelyard.engine.runfolder import fan_out_items
from modelyard.errors import ModelyardError, NodeError
from modelyard.execute.node import execute_node

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
        raise ModelyardError(
            f"cannot read workflow {workflow_id!r} from the IR file {path}: {exc}",
            hint="deploy the .ir.json written by `modelyard compile` next to its DAG file",
        ) from None


def project_dir(source: dict) -> Path:
    value = os.environ.get(PROJECT_ENV)
    commit = source.get("commit") or "the compiled commit"
    if not value:
        raise ModelyardError(
            f"the environment variable {PROJECT_ENV} is not set",
            hint=f"set it on the workers to a checkout of the model repo at {commit}",
        )
    root = Path(value)
    if not (root / "modelyard.yaml").is_file():
        raise ModelyardError(
            f"{PROJECT_ENV}={value} is not a model repo (no modelyard.yaml there)",
            hint=f"point it at a checkout of the model repo at {commit}",
        )
    return root


def airflow_connection(conn_id: str):
    """An Airflow connection, looked up when the task runs (never at compile time)."""
    from airflow.sdk import BaseHook

    try:
        return BaseHook.get_connection(conn_id)
    except Exception as exc:  # AirflowNotFoundException, without importing its module path here
        raise ModelyardError(
            f"the Airflow connection {conn_id!r} named by the target is not defined: {exc}",
            hint=f"create it (`airflow connections add {conn_id} ...` or AIRFLOW_CONN_{conn_id.upper()})",
        ) from None


def context(workflow_id: str, run_id: str | None, source: dict) -> RunContext:
    from modelyard.repo.project import load_settings

    root = project_dir(source)
    warehouse = os.environ.get(WAREHOUSE_ENV)
    return for_settings(
        load_settings(root),
        workflow_id,
        run_id=safe_run_id(run_id),
        source=source,
        warehouse_path=Path(warehouse) if warehouse else None,
        store=os.environ.get(STORE_ENV) or None,
        runs=os.environ.get(RUNS_ENV) or None,
        root=root,
        connection=airflow_connection,
    )


def run_node(
    ir_file: str | os.PathLike, workflow_id: str, node_id: str, *, run_id: str | None = None, index: int | None = None
) -> dict:
    """Execute one node (or one item of a fan-out node); a failure names the workflow and node."""
    label = node_id if index is None else f"{node_id}[{index}]"
    try:
        workflow, source = load_workflow(ir_file, workflow_id)
        ctx = context(workflow_id, run_id, source)
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
        items = fan_out_items(workflow, workflow.node(node_id), context(workflow_id, run_id, source))
        if limit is not None and len(items) > limit:
            raise ModelyardError(
                f"{len(items)} items to map, more than Airflow maps ([core] max_map_length = {limit})",
                hint="raise AIRFLOW__CORE__MAX_MAP_LENGTH for the whole deployment, or make fewer items "
                "(a backtest: a larger split_config.slide_by or a smaller days_backward)",
            )
    except (ModelyardError, OSError, KeyError) as exc:
        cause = exc if isinstance(exc, ModelyardError) else f"cannot list its items: {exc}"
        raise NodeError(workflow_id, node_id, cause) from None
    return list(range(len(items)))
