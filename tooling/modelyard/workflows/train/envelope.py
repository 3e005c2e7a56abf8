"""A stored version's envelope: the model's signature and a few sample input rows (from the
trainer's sample data), its metrics, the profiles of the data it trained on and their drift
against the previous version's, and its lineage (files, SQL, commit, rows, arguments)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from modelyard.engine.context import RunContext
from modelyard.repo import trainers
from modelyard.store.models import ModelStore
from modelyard.version import __version__
from modelyard.workflows.train.specs import Register


def _describe_columns(value: Any) -> Any:
    """Column names and dtypes of a DataFrame, Series, array or a dict of them."""
    if isinstance(value, dict):
        return {str(k): _describe_columns(v) for k, v in value.items()}
    if hasattr(value, "dtypes") and hasattr(value, "columns"):
        return {"type": "dataframe", "columns": [{"name": str(c), "dtype": str(t)} for c, t in value.dtypes.items()]}
    if hasattr(value, "dtype") and hasattr(value, "shape"):
        kind = "series" if hasattr(value, "index") else "array"
        out = {"type": kind, "dtype": str(value.dtype), "shape": [None, *list(value.shape[1:])]}
        if kind == "series":
            out["name"] = None if value.name is None else str(value.name)
        return out
    if value is None:
        return None
    return {"type": type(value).__name__}


SAMPLE_ROWS = 5


def _sample_rows(value: Any) -> Any:
    """The first rows of a DataFrame (or a dict of them) as JSON, for an export's input example.

    Other inputs (arrays, series) have no columns to name: they are left out, not guessed at."""
    import json

    if isinstance(value, dict):
        rows = {str(k): _sample_rows(v) for k, v in value.items()}
        return rows if all(v is not None for v in rows.values()) else None
    if hasattr(value, "columns") and hasattr(value, "to_json"):
        return json.loads(value.head(SAMPLE_ROWS).to_json(orient="split", index=False, date_format="iso"))
    return None


def signature(trained: trainers.TrainedObject) -> dict:
    return {
        "method": trained.method,
        "inputs": _describe_columns(trained.sample_input_data),
        "outputs": _describe_columns(trained.sample_output_data),
    }


def build_envelope(
    spec: Register,
    trained: trainers.TrainedObject,
    metrics: dict,
    metrics_source: dict,
    ctx: RunContext,
    rows: dict[str, int],
    extra_lineage: dict | None = None,
    training: dict | None = None,
    data: tuple[dict, dict | None] = ({}, None),
) -> dict:
    """``data``: the profile of each dataset it trained on (per train() parameter, see
    ``warehouse.profile``) and their drift against the previous version's (None for a first one)."""
    profiles, drift = data
    envelope = {
        "canonical_name": spec.canonical_name,
        "model_name": spec.model_name,
        "model_description": spec.model_description,
        "tags": spec.tags,
        "signature": signature(trained),
        "sample_input": _sample_rows(trained.sample_input_data),
        "metrics": metrics,
        # what the metrics were scored on: holdout (fraction, seed, rows), in_sample, tuning_holdout
        "metrics_source": metrics_source,
        "data_profiles": profiles,
        "drift": drift,
        "lineage": {
            **spec.lineage,
            "git_commit": ctx.source.get("commit"),
            "git_dirty": ctx.source.get("dirty"),
            "row_counts": rows,
            "constructor_args": spec.constructor_args,
            "created_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
            "modelyard_version": __version__,
            **(extra_lineage or {}),
        },
    }
    if training is not None:  # what the trainer logged while training the stored model: final values, history
        envelope["training"] = training
    return envelope


def store_model(ctx: RunContext, spec: Register, trained: trainers.TrainedObject, envelope: dict) -> dict:
    import cloudpickle

    trainers.register_for_pickling()
    version, path = ModelStore(ctx.store_path).save(spec.canonical_name, cloudpickle.dumps(trained.model), envelope)
    return {
        "canonical_name": spec.canonical_name,
        "version": version,
        "model_path": str(path),
        "metrics": envelope["metrics"],
    }
