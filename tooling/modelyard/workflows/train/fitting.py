"""Calling a user's trainer: construct it, train, evaluate, and pickle what it returned. Tuning
trials and backtest windows fit through here too, so every kind reports trainer errors alike."""

from __future__ import annotations

import inspect
import math
from collections.abc import Callable
from pathlib import Path
from typing import Any

from modelyard.engine.context import RunContext
from modelyard.errors import Position, TrainerError
from modelyard.fsio import write_atomic
from modelyard.repo import trainers
from modelyard.workflows.train.specs import Trainer


def make_trainer(ctx: RunContext, spec: Trainer, overrides: dict | None = None):
    cls = trainers.load_trainer_class(ctx.root, spec.trainer, where=Position(spec.trainer_file))
    args = {**spec.constructor_args, **(overrides or {})}
    return trainers.call_user(ctx.root, f"{cls.__name__}(**constructor_args)", cls, **args)


def fit(
    ctx: RunContext, spec: Trainer, frames: dict[str, Any], overrides: dict | None = None
) -> trainers.TrainedObject:
    trainer = make_trainer(ctx, spec, overrides)
    trained = trainers.call_user(ctx.root, f"{type(trainer).__name__}.train()", trainer.train, **frames)
    if not isinstance(trained, trainers.TrainedObject):
        raise TrainerError(
            f"{type(trainer).__name__}.train() returned {type(trained).__name__}, expected modelyard.TrainedObject",
            Position(spec.trainer_file),
        )
    return trained


def _accepted(func: Callable, frames: dict[str, Any]) -> dict[str, Any]:
    """The datasets ``func`` takes by name (all of them if it takes **kwargs)."""
    params = inspect.signature(func).parameters
    if any(p.kind is p.VAR_KEYWORD for p in params.values()):
        return frames
    return {k: v for k, v in frames.items() if k in params}


def score(
    ctx: RunContext, spec: Trainer, model: Any, frames: dict[str, Any], overrides: dict | None = None
) -> dict[str, float]:
    trainer = make_trainer(ctx, spec, overrides)
    name = f"{type(trainer).__name__}.evaluate()"
    metrics = trainers.call_user(ctx.root, name, trainer.evaluate, model, **_accepted(trainer.evaluate, frames))
    return check_metrics(metrics, name, spec.trainer_file)


def check_metrics(metrics: Any, name: str, trainer_file: str) -> dict[str, float]:
    if not isinstance(metrics, dict) or not metrics:
        raise TrainerError(
            f"{name} returned {type(metrics).__name__}; expected a non-empty dict of metric name -> number",
            Position(trainer_file),
        )
    clean = {}
    for key, value in metrics.items():
        try:
            number = float(value)
        except (TypeError, ValueError):
            raise TrainerError(
                f"{name}: metric {key!r} is {type(value).__name__}, not a number", Position(trainer_file)
            ) from None
        clean[str(key)] = number if math.isfinite(number) else None
    return clean


def save_pickle(path: Path, trained: trainers.TrainedObject, spec: Trainer) -> None:
    import cloudpickle

    trainers.register_for_pickling()
    try:
        data = cloudpickle.dumps(trained)
    except Exception as exc:  # TypeError, PicklingError, RecursionError, ...: whatever the object raises
        # evaluate() and the store need the model pickled: say so where the trainer made it
        raise TrainerError(
            f"{spec.trainer.rpartition('.')[2]}.train() returned a TrainedObject that cannot be "
            f"pickled: {trainers.describe_exception(exc)}",
            Position(spec.trainer_file),
            hint="keep only picklable state in the model and the sample data "
            "(no open files, locks, connections or generators)",
        ) from None
    write_atomic(path, data)


def load_pickle(path: Path) -> Any:
    import cloudpickle

    return cloudpickle.loads(path.read_bytes())
