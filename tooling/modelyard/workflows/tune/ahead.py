"""The retrain of the best trial, started before the study ends.

When the last trials run and a lane has none left to take, its core would idle until they end,
and then the retrain of the best one (all rows) would run alone. Instead, the runner asks
``plan`` for work and that lane fits the best trial so far on all rows. If the trials still
running do not beat it, ``select`` chooses the same parameters and the ``train`` node adopts that
fit (``workflows.train.nodes.run_train``): the same data, spec and parameters, the same model.
If one of them wins, the guess is dropped and ``train`` fits the new best as it would have.
"""

from __future__ import annotations

from modelyard import ir
from modelyard.engine import runfolder
from modelyard.workflows.train.nodes import ahead_dir, fit_ahead
from modelyard.workflows.train.specs import Train
from modelyard.workflows.tune.objective import best_so_far
from modelyard.workflows.tune.specs import Select


def plan(workflow: ir.Workflow, node: ir.Node, ctx, finished: list[dict]) -> ir.Ahead | None:
    """The retrain of the best of the trials finished so far, when ``node`` is the study's last
    round of trials; None before any trial has a score."""
    select = next((n for n in workflow.nodes if n.kind == Select.kind and node.id in n.upstream), None)
    if select is None or Select.of(select).trial_nodes[-1] != node.id:
        return None  # a round an adaptive search follows with more rounds
    train = next((n for n in workflow.nodes if n.kind == Train.kind and Train.of(n).params_from == select.id), None)
    if train is None:
        return None
    spec = Select.of(select)
    earlier = [t for node_id in spec.trial_nodes[:-1] for t in runfolder.item_results(workflow, node_id, ctx)]
    best = best_so_far(spec.objective, earlier + finished)
    if best is None:
        return None
    params = best["params"]
    return ir.Ahead(
        node=train.id,
        upstream=select.id,
        field="best_params",
        value=params,
        job=fit_ahead,
        args=(workflow.to_json(), train.id, ctx, params),
        scratch=str(ahead_dir(ctx, train.id, params).parent),
    )
