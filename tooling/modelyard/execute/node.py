"""Execute one IR node: the code every backend runs, so local and Airflow runs behave alike.

``EXECUTORS`` maps each node kind to its function; it sits above the workflow packages that
define them (they never import it back). A new workflow kind adds its ``EXECUTORS`` here.
"""

from __future__ import annotations

from collections.abc import Callable

from modelyard.engine import runfolder
from modelyard.engine.context import RunContext
from modelyard.errors import ModelyardError
from modelyard.ir import Node, Workflow
from modelyard.repo.trainers import training_log_at
from modelyard.version import __version__
from modelyard.workflows.backtest import nodes as backtest_nodes
from modelyard.workflows.score import nodes as score_nodes
from modelyard.workflows.train import nodes as train_nodes
from modelyard.workflows.tune import nodes as tune_nodes

NodeRunner = Callable[[Workflow, Node, RunContext, "int | None"], dict]

EXECUTORS: dict[str, NodeRunner] = {
    **train_nodes.EXECUTORS,
    **tune_nodes.EXECUTORS,
    **backtest_nodes.EXECUTORS,
    **score_nodes.EXECUTORS,
}


def execute_node(workflow: Workflow, node_id: str, ctx: RunContext, index: int | None = None) -> dict:
    """Run one node (or one item of a fan-out node) and keep its result in the run folder."""
    node = workflow.node(node_id)
    executor = EXECUTORS.get(node.kind)
    if executor is None:
        raise ModelyardError(f"node kind {node.kind!r} has no executor in this modelyard version ({__version__})")
    try:
        with training_log_at(ctx.node_dir(node_id, index) / runfolder.TRAINING_LOG):
            result = executor(workflow, node, ctx, index)
    except Exception as exc:
        saved = runfolder.write_error(ctx, node_id, index, exc)
        if isinstance(exc, ModelyardError):
            exc.traceback_file = str(saved)  # kept across processes: ModelyardError pickles its __dict__
        raise
    runfolder.write_result(ctx, node_id, index, result)
    return result
