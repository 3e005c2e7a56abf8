"""Compile a tuning file into its ``tune__<stem>`` workflow.

    extract__* -> trials (fan-out) -> select -> train (best params, all rows) -> register

An adaptive strategy (gaussian_process) is unrolled into rounds known at compile time:
``trials_01`` (items fixed here) -> ``propose_02`` -> ``trials_02`` (items from propose_02) -> ...
-> select. Every trial is a mapped item in every backend, so Airflow runs one task per trial
with the tuning file's ``environment``.
"""

from __future__ import annotations

from typing import Any

from modelyard import ir
from modelyard.errors import ModelyardError, Position
from modelyard.repo.layout import workflow_id
from modelyard.repo.project import AUTO_WORKERS, ModelSpec, ParamBoundary, Project, TuningSpec
from modelyard.workflows.train.build import (
    file_hash,
    metrics_source,
    model_inputs,
    register_spec,
    source_files,
    trainer_spec,
)
from modelyard.workflows.train.specs import Train
from modelyard.workflows.tune import holdout
from modelyard.workflows.tune.search import STRATEGIES
from modelyard.workflows.tune.specs import Propose, Select, Trials

DEFAULT_FRACTION = 0.2


def _param(boundary: ParamBoundary) -> dict[str, Any]:
    return {
        "name": boundary.name,
        "low": boundary.low,
        "high": boundary.high,
        "step": boundary.step,
        "log": boundary.log,
        "integer": boundary.is_integer,
    }


def _line(project: Project, tuning: TuningSpec, path: tuple) -> int:
    """The line of ``path`` in the tuning file, or of its nearest ancestor that is written."""
    return project.documents[tuning.file].where(path).line


def _validation(project: Project, tuning: TuningSpec, model: ModelSpec, inputs: dict) -> dict[str, Any]:
    given, split = tuning.validation, model.split_config
    dataset = holdout.resolve_dataset(
        given.get("dataset"),
        split.train_param_name if split else None,
        list(inputs),
        "validation.dataset",
        lambda path: Position(tuning.file, _line(project, tuning, ("validation", "dataset", *path))),
    )
    return {
        "dataset": dataset,
        "strategy": given.get("strategy", "time" if split else "random"),
        "fraction": given.get("fraction", DEFAULT_FRACTION),
        "time_column": given.get("time_column") or (split.time_column if split else "date"),
        "seed": given.get("seed", 0),
        "file": tuning.file,
        "line": _line(project, tuning, ("validation", "dataset")),
    }


def _rounds(project: Project, tuning: TuningSpec, space: list[dict]) -> tuple[list[int], list[dict]]:
    """Trials per round, and the first round's points."""
    strategy = STRATEGIES[tuning.tuning_type]
    try:
        # auto rounds of one: how many trials a round proposes must not depend on the machine
        sizes = strategy.batches(space, tuning.n_trials, tuning.n_workers if tuning.n_workers != AUTO_WORKERS else 1)
        return sizes, strategy.propose(space, [], sizes[0], tuning.seed)
    except ModelyardError as exc:
        named = [p for p in tuning.params if exc.message.startswith(f"param_boundaries.{p.name}:")]
        exc.position = (
            named[0].position if named else Position(tuning.file, _line(project, tuning, ("param_boundaries",)))
        )
        raise


def tune_workflow(project: Project, tuning: TuningSpec) -> ir.Workflow:
    model = project.models[tuning.model]
    extract_nodes, inputs = model_inputs(project, model)
    trainer, code_hash = trainer_spec(project, model)
    extract_ids = tuple(n.id for n in extract_nodes)
    parts = {
        "config": ir.content_hash(
            {"tuning": project.documents[tuning.file].data, "model": project.documents[model.file].data}
        ),
        "trainer_code": code_hash,
    }
    space = [_param(p) for p in tuning.params]
    sizes, first_points = _rounds(project, tuning, space)
    goal = {
        "metric": tuning.objective_metric,
        "direction": tuning.objective_direction,
        "file": tuning.file,
        "line": _line(project, tuning, ("objective", "metric")),
    }
    validation = _validation(project, tuning, model, inputs)
    trial_spec = {**trainer, "inputs": inputs, "validation": validation, "objective": goal}
    wid = workflow_id(tuning.file)
    nodes, trial_ids = list(extract_nodes), []
    for number, size in enumerate(sizes, start=1):
        trial_id = "trials" if len(sizes) == 1 else f"trials_{number:02d}"
        where = {"first_trial": sum(sizes[: number - 1]) + 1, "round": number}
        if number == 1:
            nodes.append(ir.Node.of(trial_id, extract_ids, Trials(**trial_spec, **where, items=first_points), parts))
        else:
            propose_id = f"propose_{number:02d}"
            propose = Propose(
                strategy=tuning.tuning_type,
                space=space,
                size=size,
                seed=tuning.seed + number,
                objective=goal,
                trial_nodes=list(trial_ids),
            )
            nodes.append(ir.Node.of(propose_id, trial_ids, propose, {"config": parts["config"]}))
            trials = Trials(**trial_spec, **where, items_from=propose_id)
            nodes.append(ir.Node.of(trial_id, (propose_id, *extract_ids), trials, parts))
        trial_ids.append(trial_id)
    register = register_spec(
        project, model, extract_nodes, inputs, model_node="train", metrics_node="select", lineage_from="select"
    )
    lineage = {
        "workflow": wid,
        "tuning_file": tuning.file,
        "tuning_type": tuning.tuning_type,
        "tuning_file_sha256": file_hash(project.root, tuning.file),
        "validation": {k: v for k, v in validation.items() if k not in ("file", "line")},
    }
    nodes += [
        ir.Node.of(
            "select",
            trial_ids,
            Select(
                trial_nodes=trial_ids,
                objective=goal,
                tuning_file=tuning.file,
                n_trials=sum(sizes),
                table=f"tuning.{wid}_trials",
                constructor_args=model.constructor_args,
                lineage=lineage,
                log_params=sorted(p.name for p in tuning.params if p.log),
                metrics_source=metrics_source("tuning_holdout", validation, refit=True),
                note=STRATEGIES[tuning.tuning_type].note(space, tuning.n_trials),
            ),
            {"config": parts["config"]},
        ),
        ir.Node.of("train", ("select", *extract_ids), Train(**trainer, inputs=inputs, params_from="select"), parts),
        ir.Node.of("register", ("train", "select"), register, {"config": parts["config"]}),
    ]
    settings = {
        "schedule": None,
        "retries": model.retries,
        "environment": tuning.environment,
        "workers": tuning.n_workers,
    }
    sources = {tuning.file, *source_files(model, extract_nodes, trainer)}
    return ir.Workflow(wid, "tune", tuple(sorted(sources)), settings, ir.seal(nodes))


def build(project: Project) -> list[ir.Workflow]:
    return [tune_workflow(project, tuning) for tuning in project.tunings.values()]
