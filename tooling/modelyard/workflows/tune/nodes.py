"""The node kinds of a tune workflow (``EXECUTORS``, registered by ``execute.node``).

- ``trials`` (fan-out): one item = one point; train on the training rows with the point's
  parameters over the model's constructor_args, score on the held-out rows. A trainer error is
  recorded on the trial (the study goes on); a wrong objective metric stops the study.
- ``propose``: for adaptive strategies, the points of the next round from every finished trial.
- ``select`` (gather): the best trial, the trials table in the warehouse, the HTML plot in the
  reports folder, and the best trial's metrics and parameters for the retrain and register nodes
  downstream. Rerunning it in the same run folder (an Airflow retry or clear) gives the same
  table and plot, never duplicate rows.
"""

from __future__ import annotations

import json
import time
import warnings

from modelyard.engine import runfolder
from modelyard.engine.inputs import private_copy, read_inputs
from modelyard.errors import ModelyardError, Position, TrainerError
from modelyard.fsio import write_atomic
from modelyard.ir import NodeKind
from modelyard.repo.trainers import load_trainer_class
from modelyard.workflows.train import fitting
from modelyard.workflows.tune import ahead, holdout, objective
from modelyard.workflows.tune.report import write_plot
from modelyard.workflows.tune.search import STRATEGIES
from modelyard.workflows.tune.specs import Propose, Select, Trials
from modelyard.workflows.tune.table import write_trials


def _trial_results(workflow, node_ids: list[str], ctx) -> list[dict]:
    return [trial for node_id in node_ids for trial in runfolder.item_results(workflow, node_id, ctx)]


_split_cache: dict[tuple, tuple[dict, dict]] = {}


def _split_frames(ctx, spec: Trials) -> tuple[dict, dict]:
    """The run's training and held-out frames, read and split once per process: opening the
    warehouse costs more than fitting a small model. Each trial gets private copies, so a trainer that
    changes a frame in place cannot change what the next trial sees."""
    key = (str(ctx.run_dir), json.dumps([spec.inputs, spec.validation], sort_keys=True))
    if key not in _split_cache:
        _split_cache.clear()
        _split_cache[key] = holdout.split(read_inputs(ctx, spec.inputs), spec.validation)
    return tuple({name: private_copy(frame) for name, frame in frames.items()} for frames in _split_cache[key])


def run_trial(workflow, node, ctx, index: int | None) -> dict:
    spec = Trials.of(node)
    params = runfolder.fan_out_items(workflow, node, ctx)[index]
    result = {
        "trial": spec.first_trial + index,
        "round": spec.round,
        "params": params,
        "metrics": {},
        "status": "ok",
        "error": None,
        "warnings": [],
    }
    train, held_out = _split_frames(ctx, spec)
    # importing the trainer (and what it imports) is not the trial's time; an import error stops the study
    load_trainer_class(ctx.root, spec.trainer, where=Position(spec.trainer_file))
    started = time.perf_counter()
    with warnings.catch_warnings(record=True) as caught:
        # one ConvergenceWarning per trial would bury the progress bar; the table keeps them
        warnings.simplefilter("always")
        try:
            trained = fitting.fit(ctx, spec, train, params)
            result["metrics"] = fitting.score(ctx, spec, trained.model, held_out, params)
        except TrainerError as exc:
            result.update(status="failed", error=str(exc))
    result["seconds"] = round(time.perf_counter() - started, 4)
    result["warnings"] = sorted({f"{w.category.__name__}: {w.message}" for w in caught})
    if result["status"] == "ok":
        objective.check_metric(spec.objective, result)
        objective.resolve(spec.objective, [result])  # an unknown direction stops the study here
    return result


def _observations(trials: list[dict], goal: tuple[str, str] | None) -> list[tuple[dict, float]]:
    """(params, target) of every finished trial, a higher target being better."""
    if goal is None:
        return []
    metric, direction = goal
    sign = 1.0 if direction == "maximize" else -1.0
    return [(t["params"], sign * v) for t in trials if (v := objective.value(t, metric)) is not None]


def propose(workflow, node, ctx, index: int | None) -> dict:
    spec = Propose.of(node)
    trials = _trial_results(workflow, spec.trial_nodes, ctx)
    observed = _observations(trials, objective.resolve(spec.objective, trials))
    tried = [t["params"] for t in trials]
    items = STRATEGIES[spec.strategy].propose(spec.space, observed, spec.size, spec.seed, tried)
    return {"items": items, "observed": len(observed)}


def select(workflow, node, ctx, index: int | None) -> dict:
    spec = Select.of(node)
    trials = _trial_results(workflow, spec.trial_nodes, ctx)
    goal = objective.score_trials(spec.objective, trials)
    failed = [t for t in trials if t["status"] != "ok"]
    if len(failed) == len(trials):
        raise ModelyardError(
            f"all {len(trials)} trials failed; the first one: {failed[0]['error']}",
            Position(spec.tuning_file),
            hint="fix the trainer or the parameter ranges; the run folder keeps every trial's result",
        )
    metric, direction = goal
    best = objective.best(trials, metric, direction)
    run_id = ctx.run_dir.name
    write_trials(ctx, spec.table, run_id, workflow.id, trials, metric)
    write_atomic(ctx.node_dir(node.id) / runfolder.METRICS, json.dumps(best["metrics"]).encode())
    summary = {"metric": metric, "direction": direction, "value": best["objective"]}
    study = {
        "objective": {"metric": metric, "direction": direction},
        "best_params": best["params"],
        "best_objective": best["objective"],
        "best_trial": best["trial"],
        "n_trials": len(trials),
        "n_failed": len(failed),
        "table": spec.table,
        "run_id": run_id,
        "trials": trials,
        "metrics_source": {**spec.metrics_source, "best_trial": best["trial"]},
        "lineage": {
            "constructor_args": {**spec.constructor_args, **best["params"]},
            "tuning": {
                **spec.lineage,
                "run_id": run_id,
                "best_params": best["params"],
                "objective": summary,
                "best_trial": best["trial"],
                "n_trials": len(trials),
                "n_failed": len(failed),
                "trials_table": spec.table,
            },
        },
    }
    folder = ctx.reports_dir or ctx.run_dir
    report = folder / workflow.id / f"{run_id}.html"
    write_plot(study, workflow.id, report, folder, frozenset(spec.log_params))
    return {**study, "report": str(report)}


KINDS = [NodeKind(Trials, run_trial, ahead=ahead.plan), NodeKind(Propose, propose), NodeKind(Select, select)]
