"""Rows to score checked against a stored version's signature (every input column there, of a
compatible type), the model's arguments cut from them, and its output as prediction columns.

Types are compared by family (numeric, boolean, datetime, text): a float column accepts integers,
as the warehouse often widens or narrows a numeric type; text where a number was is an error.
"""

from __future__ import annotations

from typing import Any

from modelyard.errors import ModelyardError, Position

PREFIX = "predicted_"


def family(dtype: Any) -> str:
    from pandas.api import types

    if types.is_bool_dtype(dtype):
        return "boolean"
    if types.is_numeric_dtype(dtype):
        return "numeric"
    if types.is_datetime64_any_dtype(dtype) or types.is_timedelta64_dtype(dtype):
        return "datetime"
    return "text"


def _declared_family(text: str) -> str:
    import pandas as pd

    try:
        return family(pd.api.types.pandas_dtype(text))
    except TypeError:  # a dtype this pandas does not know (an extension's): compare as text
        return "text"


def _frame_inputs(signature: dict) -> dict[str | None, list[dict]] | None:
    """Per argument name (None: the only, positional one), the columns the model takes; None when
    an input is not a DataFrame (arrays and series have no column names to check)."""
    inputs = signature.get("inputs") or {}
    if inputs.get("type") == "dataframe":
        return {None: inputs["columns"]}
    if inputs.get("type") or not inputs:
        return None
    if all(isinstance(v, dict) and v.get("type") == "dataframe" for v in inputs.values()):
        return {name: value["columns"] for name, value in inputs.items()}
    return None


def model_arguments(signature: dict, frame, where: Position, model: str) -> tuple[tuple, dict]:
    """The positional and keyword arguments of the model's method, cut from ``frame``."""
    wanted = _frame_inputs(signature)
    if wanted is None:
        raise ModelyardError(
            f"{model} takes {signature.get('inputs')} as input, not named columns: batch scoring cannot "
            "check rows against it",
            where,
            hint="have the trainer's sample_input_data be a DataFrame (or a dict of DataFrames)",
        )
    for columns in wanted.values():
        for column in columns:
            name, expected = column["name"], _declared_family(column["dtype"])
            if name not in frame.columns:
                raise ModelyardError(
                    f"the rows to score have no column {name!r}, which {model} takes as input "
                    f"(it was trained on {column['dtype']}); the rows have: {', '.join(map(str, frame.columns))}",
                    where,
                    hint=f"select {name!r} in the extract's query",
                )
            found = family(frame[name].dtype)
            if found != expected:
                raise ModelyardError(
                    f"column {name!r} of the rows to score is {frame[name].dtype} ({found}), but {model} was "
                    f"trained on {column['dtype']} ({expected})",
                    where,
                    hint=f"cast {name!r} in the extract's query to the type the model was trained on",
                )
    cut = {name: frame[[c["name"] for c in columns]] for name, columns in wanted.items()}
    return ((cut.pop(None),), {}) if None in cut else ((), cut)


def prediction_columns(output: Any, rows: int, where: Position, model: str):
    """The model's output as a DataFrame of ``predicted_*`` columns, one row per scored row."""
    import numpy as np
    import pandas as pd

    if isinstance(output, pd.DataFrame):
        frame = output.reset_index(drop=True)
        frame.columns = [f"{PREFIX}{c}" for c in frame.columns]
    elif isinstance(output, pd.Series):
        frame = pd.DataFrame({f"{PREFIX}{output.name or 'value'}": output.to_numpy()})
    else:
        array = np.asarray(output)
        array = array.reshape(len(array), -1) if array.ndim else array.reshape(1, 1)
        names = [f"{PREFIX}value"] if array.shape[1] == 1 else [f"{PREFIX}{i}" for i in range(array.shape[1])]
        frame = pd.DataFrame(array, columns=names)
    if len(frame) != rows:
        raise ModelyardError(
            f"{model} returned {len(frame)} predictions for {rows} rows", where, hint="predict one row per input row"
        )
    return frame
