"""What one scoring run is checked for, and where the answers are kept.

Drift: the scored rows' model inputs against the profile of the data the version trained on
(its envelope's ``data_profiles``); the predictions against the training column of the same name
(the label they predict), when there is one. Metrics: the trainer's ``evaluate()`` on the scored
rows that have a label (joined on ``monitoring.key``). Every figure gets a level (``ok``, ``warn``,
``fail``) from the model file's thresholds. One row per run and column (``<model>_drift``) or
metric (``<model>_metrics``) goes to schema ``monitoring`` of the warehouse.
"""

from __future__ import annotations

import dataclasses

from modelyard.engine.context import RunContext
from modelyard.errors import ModelyardError, Position, StoreError
from modelyard.repo.project import ModelSpec, Settings
from modelyard.store.models import ModelStore
from modelyard.warehouse import profile
from modelyard.warehouse.duckdb_warehouse import DuckDBWarehouse
from modelyard.workflows.score.build import monitoring_tables, report_file
from modelyard.workflows.score.signature import PREFIX
from modelyard.workflows.score.specs import Monitor
from modelyard.workflows.train import drift
from modelyard.workflows.train.fitting import score

SCORED_VIEW = "modelyard_scored_rows"


def _only(found: dict, columns) -> dict:
    return {"rows": found["rows"], "columns": {c: e for c, e in found["columns"].items() if c in columns}}


def input_columns(envelope: dict) -> list[str]:
    inputs = envelope["signature"]["inputs"]
    frames = [inputs] if inputs.get("type") == "dataframe" else list(inputs.values())
    return [column["name"] for frame in frames for column in frame["columns"]]


def _predictions_drift(wh, output: str, scored: dict, training: dict, thresholds: dict) -> dict | None:
    """This run's predictions against the training data's column each predicts (same name)."""
    predicted = {c: c[len(PREFIX) :] for c in scored["prediction_columns"]}
    predicted = {c: name for c, name in predicted.items() if name in training["columns"]}
    if not predicted:
        return None
    profile.run_view(wh.con, SCORED_VIEW, output, predicted, scored["run_id"])
    reference = _only(training, predicted.values())
    current = profile.profile_table(wh.con, SCORED_VIEW)
    return drift.compare(reference, current, profile.counts_in_reference(wh.con, SCORED_VIEW, reference), thresholds)


def metric_level(value: float | None, rule: dict) -> str:
    if value is None:
        return "ok"
    worse = (lambda limit: value < limit) if rule["direction"] == "higher_is_better" else (lambda limit: value > limit)
    if rule.get("fail") is not None and worse(rule["fail"]):
        return "fail"
    if rule.get("warn") is not None and worse(rule["warn"]):
        return "warn"
    return "ok"


def _labelled_rows(wh, spec: Monitor, where: Position):
    labels, rows = spec.labels, spec.rows
    key = labels["key"]
    data_columns = profile.column_types(wh.con, rows["table"])
    label_columns = profile.column_types(wh.con, labels["table"])
    for table, columns in ((rows["table"], data_columns), (labels["table"], label_columns)):
        if key not in columns:
            raise ModelyardError(
                f"monitoring.key {key!r} is not a column of {table} ({', '.join(columns)})",
                where,
                hint="select the key column in both the scored rows' and the labels' queries",
            )
    return profile.joined_on_key(wh.con, rows["table"], labels["table"], key)


def _metrics(ctx: RunContext, wh, spec: Monitor, scored: dict, envelope: dict) -> tuple[dict, int]:
    where = Position(spec.model_file)
    frame = _labelled_rows(wh, spec, where)
    if frame.empty:
        return {}, 0
    model = ModelStore(ctx.store_path).load(scored["canonical_name"], scored["version"])
    # the version's own constructor arguments: the model file may have moved on since it trained
    trainer = dataclasses.replace(spec, constructor_args=envelope["lineage"]["constructor_args"])
    values = score(ctx, trainer, model, {spec.train_param: frame})
    rules = spec.metrics
    return {
        name: {
            "value": value,
            "level": metric_level(value, rules[name]) if name in rules else "ok",
            **rules.get(name, {}),
        }
        for name, value in values.items()
    }, len(frame)


def check_run(ctx: RunContext, wh, spec: Monitor, scored: dict, envelope: dict) -> dict:
    thresholds = {**drift.DEFAULT_THRESHOLDS, **spec.drift_thresholds}
    training = (envelope.get("data_profiles") or {}).get(spec.train_param)
    inputs = predictions = None
    if training is not None:
        columns = input_columns(envelope)
        current = profile.extract_profile(wh.con, spec.rows["table"], writable=wh.writable)
        reference = _only(training, columns)
        counts = profile.counts_in_reference(wh.con, spec.rows["table"], reference)
        inputs = drift.compare(reference, _only(current, columns), counts, thresholds)
        predictions = _predictions_drift(wh, scored["output"], scored, training, thresholds)
    metrics, labelled = _metrics(ctx, wh, spec, scored, envelope) if spec.labels else ({}, 0)
    levels = [r["status"] for r in (inputs, predictions) if r] + [m["level"] for m in metrics.values()]
    state = {
        "canonical_name": scored["canonical_name"],
        "version": scored["version"],
        "run_id": scored["run_id"],
        "scored_at": scored["scored_at"],
        "rows": scored["rows"],
        "drift": {"inputs": inputs, "predictions": predictions, "against": "training data" if training else None},
        "metrics": metrics,
        "labelled_rows": labelled,
        "status": drift.worst(levels),
    }
    _annotate(state)
    return state


def _annotate(state: dict) -> None:
    """A ``note`` on every figure that is not ``ok``: the phrase the terminal, the alert and the
    monitoring tables show."""
    for name in ("inputs", "predictions"):
        found = state["drift"].get(name)
        for c in found["columns"] if found else ():
            if c["level"] != "ok":
                limit = found["thresholds"]["psi_" + c["level"]]
                c["note"] = f"{name} column {c['column']} drifted (PSI {c['value']:.3f}, {c['level']} at {limit})"
        for c in found["schema_changes"] if found else ():
            types = f" ({c['from']} -> {c['to']})" if c["change"] == "type" else ""
            c.update(level="warn", note=f"{name} column {c['column']}: {c['change']}{types}")
    for metric, m in state["metrics"].items():
        if m["level"] != "ok":
            m["note"] = (
                f"metric {metric} = {m['value']:.4g} ({m['level']}: {m['direction'].replace('_', ' ')}, "
                f"threshold {m[m['level']]})"
            )


def figures(state: dict) -> list[dict]:
    """Every monitored figure of a run (drift columns, schema changes, metrics)."""
    out = []
    for name in ("inputs", "predictions"):
        found = state["drift"].get(name)
        if found:
            out += found["columns"] + found["schema_changes"]
    return out + list(state["metrics"].values())


def crossed(state: dict, at_least: str) -> list[str]:
    """What reached ``at_least`` (``warn`` or ``fail``) in a run, one phrase each."""
    rank = drift.LEVELS.index
    return [f["note"] for f in figures(state) if rank(f["level"]) >= rank(at_least)]


def save(wh, tables: dict[str, str], state: dict) -> None:
    """The run's rows in the monitoring tables (a retried run's earlier rows replaced)."""
    import pandas as pd

    base = {
        "scoring_run_id": state["run_id"],
        "scored_at": pd.Timestamp(state["scored_at"]),
        "model_version": state["version"],
    }
    drift_rows = []
    for name in ("inputs", "predictions"):
        found = state["drift"].get(name)
        if not found:
            continue
        for c in found["columns"]:
            drift_rows.append({**base, "dataset": name, "column_name": c["column"], "family": c["family"],
                               "statistic": c["statistic"], "value": c["value"], "level": c["level"], "change": None,
                               "note": c.get("note")})  # fmt: skip
        for c in found["schema_changes"]:
            drift_rows.append({**base, "dataset": name, "column_name": c["column"], "family": None,
                               "statistic": "schema", "value": None, "level": "warn", "change": c["change"],
                               "note": c["note"]})  # fmt: skip
    metric_rows = [
        {
            **base,
            "metric": name,
            "value": m["value"],
            "level": m["level"],
            "labelled_rows": state["labelled_rows"],
            "note": m.get("note"),
        }  # fmt: skip
        for name, m in state["metrics"].items()
    ]
    for table, rows in ((tables["drift"], drift_rows), (tables["metrics"], metric_rows)):
        frame = pd.DataFrame(rows)
        if rows:
            # typed: a column of only None (no schema change yet) would get no type
            frame = frame.astype({"value": "float64", "level": "string", "note": "string"})
            if "change" in frame:
                frame = frame.astype({"change": "string", "family": "string"})
        profile.replace_run_rows(wh.con, table, state["run_id"], frame)


def history(wh, tables: dict[str, str]) -> dict:
    """Every run's rows of both tables, oldest first (DataFrames; None for a table not there yet)."""
    return {
        name: profile.read_rows(wh.con, table, "ORDER BY scored_at, scoring_run_id") for name, table in tables.items()
    }


def latest(wh, tables: dict[str, str]) -> dict | None:
    """The last scoring run as its monitoring tables recorded it (None before the first), with
    the number of runs recorded."""
    found = history(wh, tables)
    frames = [f for f in found.values() if f is not None and not f.empty]
    if not frames:
        return None
    import pandas as pd

    runs = pd.concat([f[["scoring_run_id", "scored_at", "model_version"]] for f in frames]).drop_duplicates()
    runs = runs.sort_values(["scored_at", "scoring_run_id"])
    last = runs.iloc[-1]
    rows = {
        name: _records(f[f["scoring_run_id"] == last["scoring_run_id"]]) if f is not None else []
        for name, f in found.items()
    }
    everything = rows["drift"] + rows["metrics"]
    return {
        "run_id": last["scoring_run_id"],
        "scored_at": last["scored_at"].isoformat(),
        "version": int(last["model_version"]),
        "status": drift.worst(r["level"] for r in everything),
        "crossed": [r["note"] for r in everything if r["level"] != "ok"],
        "drift": rows["drift"],
        "metrics": rows["metrics"],
        "runs": len(runs),
    }


def _records(frame) -> list[dict]:
    import json

    cleaned = frame.drop(columns=["scoring_run_id", "scored_at", "model_version"])
    return json.loads(cleaned.to_json(orient="records"))


def model_state(settings: Settings, model: ModelSpec) -> dict:
    """What ``monitor`` and the UI show: read-only from the model store and the warehouse."""

    try:
        envelope = ModelStore(settings.store_path).envelope(model.canonical_name)
        training = {"version": envelope["version"], "drift": envelope.get("drift")}
    except StoreError:
        training = None
    scoring = None
    if model.scoring is not None and settings.warehouse_path.exists():
        with DuckDBWarehouse(settings.warehouse_path, read_only=True, lock_timeout=settings.lock_timeout_seconds) as wh:
            scoring = latest(wh, monitoring_tables(model.file))
    report = settings.reports_dir / report_file(model.file)
    return {
        "canonical_name": model.canonical_name,
        "model_file": model.file,
        "training": training,
        "latest_run": scoring,
        "runs": scoring["runs"] if scoring else 0,
        "crossed": scoring["crossed"] if scoring else [],
        "report": str(report) if report.exists() else None,
    }
