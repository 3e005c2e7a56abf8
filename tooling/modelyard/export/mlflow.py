"""MLflow export: a stored version as an MLflow model folder, or logged to a tracking server.

Every export has MLflow's ``python_function`` flavor; a scikit-learn estimator stored as it is also
gets the native ``sklearn`` flavor. The signature comes from our envelope (MLflow enforces it on
predict), the input example from the rows the envelope keeps, and our metrics and lineage go into
the model's metadata (``MLmodel``: ``metadata.modelyard``). Requirements are pinned offline
(``export.requirements``).
"""

from __future__ import annotations

import contextlib
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from modelyard.errors import ExportError
from modelyard.export import mlflow_schema, requirements
from modelyard.export.source import Exported, StoredVersion
from modelyard.fsio import new_folder

INSTALL_HINT = "install the extra: pip install 'modelyard[mlflow]'"
# mlflow.sklearn's pyfunc calls one of these on the estimator; another method keeps the generic pyfunc
SKLEARN_METHODS = ("predict", "predict_proba", "predict_log_proba", "predict_joint_log_proba")
LOGGED_NAME = "model"


def _require_mlflow() -> None:
    try:
        import mlflow  # noqa: F401
    except ImportError:
        raise ExportError("exporting to MLflow needs MLflow, which is not installed", hint=INSTALL_HINT) from None


def _is_sklearn_estimator(model: Any) -> bool:
    from sklearn.base import BaseEstimator

    return isinstance(model, BaseEstimator)


def _input_example(stored: StoredVersion, call: mlflow_schema.Call):
    """The envelope's sample rows as a DataFrame of the signature's dtypes, or None if not kept."""
    import pandas as pd

    sample = stored.envelope.get("sample_input")
    if sample is not None and call.argument is not None:
        sample = sample.get(call.argument)
    if not sample:
        return None
    frame = pd.DataFrame(sample["data"], columns=sample["columns"])
    return frame.astype({c["name"]: c["dtype"] for c in call.columns})


def _metadata(stored: StoredVersion) -> dict:
    keys = ("canonical_name", "version", "model_name", "model_description", "tags", "metrics", "lineage")
    return {"modelyard": {key: stored.envelope.get(key) for key in keys}}


@contextlib.contextmanager
def _flavor(stored: StoredVersion) -> Iterator[tuple[Any, dict, list[str], list[str]]]:
    """The MLflow flavor module, the arguments its save_model and log_model share, the flavors
    written and notes for the user."""
    envelope = stored.envelope
    call = mlflow_schema.call(envelope["signature"], stored.label)
    common = {
        "signature": mlflow_schema.model_signature(envelope["signature"], stored.label),
        "input_example": _input_example(stored, call),
        "metadata": _metadata(stored),
    }
    notes = []
    if common["input_example"] is None:
        notes.append(
            f"{stored.label} was stored without sample input rows (before modelyard kept them): "
            "exported without an input example; retrain to include one"
        )
    model = stored.model()
    if _is_sklearn_estimator(model) and call.method in SKLEARN_METHODS:
        import mlflow.sklearn

        yield (
            mlflow.sklearn,
            {
                **common,
                "sk_model": model,
                "serialization_format": "cloudpickle",
                "pyfunc_predict_fn": call.method,
                "pip_requirements": requirements.pinned(stored.artifact, "mlflow", "cloudpickle", "pandas"),
            },
            ["python_function", "sklearn"],
            notes,
        )
        return
    import mlflow.pyfunc

    with tempfile.TemporaryDirectory(prefix="modelyard-export-") as scratch:
        artifact = Path(scratch) / "model.pkl"
        artifact.write_bytes(stored.artifact)
        yield (
            mlflow.pyfunc,
            {
                **common,
                "python_model": str(Path(__file__).with_name("mlflow_pyfunc.py")),
                "artifacts": {"model": str(artifact)},
                "model_config": {"method": call.method, "argument": call.argument},
                "pip_requirements": requirements.pinned(stored.artifact, "mlflow", "cloudpickle", "pandas"),
            },
            ["python_function"],
            notes,
        )


class MlflowExporter:
    def export(self, stored: StoredVersion, out: Path) -> Exported:
        _require_mlflow()
        import mlflow

        with _flavor(stored) as (flavor, arguments, flavors, notes), new_folder(out) as staging:
            try:
                flavor.save_model(path=str(staging), **arguments)
            except mlflow.exceptions.MlflowException as exc:  # e.g. the input example fails the signature
                raise ExportError(f"{stored.label}: MLflow refused the export: {exc.message}") from None
        return Exported(out, flavors, notes)


def _params(constructor_args: dict) -> dict[str, str]:
    import json

    return {k: v if isinstance(v, str) else json.dumps(v) for k, v in constructor_args.items()}


def log_model(stored: StoredVersion, tracking_uri: str, register: str | None) -> dict:
    """Log ``stored`` as a run of the tracking server at ``tracking_uri`` (metrics, constructor
    arguments as params, the model) and register it under ``register`` if given."""
    _require_mlflow()
    import mlflow

    mlflow.set_tracking_uri(tracking_uri)
    envelope = stored.envelope
    metrics = {k: float(v) for k, v in envelope.get("metrics", {}).items() if isinstance(v, (int, float))}
    tags = {"modelyard.canonical_name": stored.name, "modelyard.version": str(stored.version)}
    with _flavor(stored) as (flavor, arguments, _, notes):
        try:
            with mlflow.start_run(run_name=f"{stored.name}-v{stored.version}", tags=tags) as run:
                mlflow.log_metrics(metrics)
                mlflow.log_params(_params(envelope.get("lineage", {}).get("constructor_args", {})))
                info = flavor.log_model(name=LOGGED_NAME, registered_model_name=register, **arguments)
        except mlflow.exceptions.MlflowException as exc:
            raise ExportError(f"MLflow tracking at {tracking_uri}: {exc.message}") from None
    return {
        "run_id": run.info.run_id,
        "model_uri": info.model_uri,
        "registered_model": register,
        "registered_version": info.registered_model_version,
        "notes": notes,
    }


EXPORTER = MlflowExporter()
