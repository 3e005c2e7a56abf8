"""Execute one IR node: the code every backend runs, so local and Airflow runs behave alike.

``KINDS`` maps each node kind's name to its contract: each workflow package declares its kinds
once (``nodes.KINDS``: spec type and executor), registered in ``workflows.registry``;
``EXECUTORS`` and ``spec_of`` derive from it, and so does the UI's panel lookup.
"""

from __future__ import annotations

from collections.abc import Callable

from modelyard.engine import runfolder
from modelyard.engine.context import RunContext
from modelyard.errors import ModelyardError
from modelyard.ir import Node, NodeKind, NodeSpec, Workflow
from modelyard.repo.trainers import training_log_at
from modelyard.version import __version__
from modelyard.workflows.registry import WORKFLOW_KINDS
from modelyard.workflows.train.specs import Trainer

NodeRunner = Callable[[Workflow, Node, RunContext, "int | None"], dict]

KINDS: dict[str, NodeKind] = {kind.name: kind for workflow in WORKFLOW_KINDS for kind in workflow.nodes}

EXECUTORS: dict[str, NodeRunner] = {name: kind.executor for name, kind in KINDS.items()}


def spec_of(node: Node) -> NodeSpec:
    """``node``'s spec parsed as its kind's type (a ``SpecError`` when its keys do not fit)."""
    kind = KINDS.get(node.kind)
    if kind is None:
        raise ModelyardError(f"node kind {node.kind!r} is unknown to this modelyard version ({__version__})")
    return kind.spec.of(node)


def trainer_files(node: Node) -> list[str]:
    """The repo files of the trainer ``node`` runs: none unless it hashes trainer code."""
    spec = spec_of(node) if "trainer_code" in node.hash_parts else None
    return spec.trainer_files if isinstance(spec, Trainer) else []


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
