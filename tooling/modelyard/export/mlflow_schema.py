"""Our envelope's signature as an MLflow ``ModelSignature``, which MLflow enforces on every predict.

A pandas dtype maps to the MLflow column type that holds exactly its values; one without such a
type (``object``, ``category``, unsigned 64-bit, zoned timestamps) is an error naming the column,
never a guess. MLflow's pyfunc hands a model one DataFrame: a method taking several inputs, or an
array without column names, cannot be described and is refused the same way.
"""

from __future__ import annotations

import dataclasses
import re

from modelyard.errors import ExportError

MLFLOW_TYPES = {
    "bool": "boolean",
    "int8": "integer",
    "int16": "integer",
    "int32": "integer",
    "uint8": "integer",
    "uint16": "integer",
    "int64": "long",
    "uint32": "long",
    "float32": "float",
    "float64": "double",
    "str": "string",  # pandas 3's default string dtype
    "string": "string",
    "string[python]": "string",
    "string[pyarrow]": "string",
}
NAIVE_DATETIME = re.compile(r"datetime64\[(s|ms|us|ns)\]")
FIX_HINT = "cast the column in the trainer's sample data (e.g. `.astype('float64')`) and retrain"


@dataclasses.dataclass(frozen=True)
class Call:
    """How the export calls the stored model: ``method(frame)``, or ``method(**{argument: frame})``."""

    method: str
    argument: str | None
    columns: list[dict]  # the input frame's [{"name", "dtype"}]


def mlflow_type(dtype: str, where: str) -> str:
    if dtype in MLFLOW_TYPES:
        return MLFLOW_TYPES[dtype]
    if NAIVE_DATETIME.fullmatch(dtype):
        return "datetime"
    raise ExportError(
        f"{where} has dtype {dtype!r}, which has no exact MLflow column type "
        f"(types that map: {', '.join(sorted(MLFLOW_TYPES))}, datetime64 without a time zone)",
        hint=FIX_HINT,
    )


def _describe(value) -> str:
    if isinstance(value, dict) and "type" not in value:
        return f"{len(value)} inputs ({', '.join(value)})"
    return "an input of type " + (value or {}).get("type", "unknown")


def call(signature: dict, label: str) -> Call:
    """The one DataFrame argument of the stored model's method, from the envelope's signature."""
    inputs = signature.get("inputs")
    argument = None
    if isinstance(inputs, dict) and "type" not in inputs and len(inputs) == 1:
        argument, inputs = next(iter(inputs.items()))
    if not (isinstance(inputs, dict) and inputs.get("type") == "dataframe"):
        raise ExportError(
            f"{label}: MLflow's pyfunc passes one DataFrame to the model, but its "
            f"`{signature.get('method')}` takes {_describe(signature.get('inputs'))}",
            hint="have the trainer's sample_input_data be one DataFrame (or {name: DataFrame}) and retrain",
        )
    return Call(signature.get("method") or "predict", argument, inputs["columns"])


def _output_columns(outputs, label: str) -> list[tuple[str, str | None]]:
    kind = (outputs or {}).get("type")
    if kind == "dataframe":
        return [(column["dtype"], column["name"]) for column in outputs["columns"]]
    if kind == "series":
        return [(outputs["dtype"], outputs.get("name"))]
    if kind == "array" and outputs.get("shape") == [None]:
        return [(outputs["dtype"], None)]
    raise ExportError(
        f"{label}: its output ({_describe(outputs)}) has no MLflow column description",
        hint="have the model's method return a DataFrame, a Series or a 1-d array, and retrain",
    )


def model_signature(signature: dict, label: str):
    from mlflow.models import ModelSignature
    from mlflow.types import ColSpec, Schema

    inputs = call(signature, label).columns
    outputs = _output_columns(signature.get("outputs"), label)
    return ModelSignature(
        inputs=Schema(
            [ColSpec(mlflow_type(c["dtype"], f"{label}: input column {c['name']!r}"), c["name"]) for c in inputs]
        ),
        outputs=Schema(
            [
                ColSpec(mlflow_type(dtype, f"{label}: output {name!r}" if name else f"{label}: output"), name)
                for dtype, name in outputs
            ]
        ),
    )
