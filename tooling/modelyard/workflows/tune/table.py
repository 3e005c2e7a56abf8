"""The trials table in the warehouse: one row per trial, every run of a study appended.

Columns: ``run_id, workflow, trial, round, status, objective_metric, objective, seconds, error,
warnings``, then ``param_<name>`` and ``metric_<name>`` for each parameter and metric. A later
run with new parameters or metrics adds columns; earlier rows read NULL there. Writing a run
again (a select node retried or cleared in Airflow, rerun in the UI) replaces that run's rows.
"""

from __future__ import annotations


def trials_frame(run_id: str, workflow_id: str, trials: list[dict], metric: str):
    import pandas as pd

    rows = []
    for t in trials:
        rows.append(
            {
                "run_id": run_id,
                "workflow": workflow_id,
                "trial": t["trial"],
                "round": t["round"],
                "status": t["status"],
                "objective_metric": metric,
                "objective": t["objective"],
                "seconds": t["seconds"],
                "error": t["error"],
                "warnings": "\n".join(t["warnings"]) or None,
                **{f"param_{k}": v for k, v in t["params"].items()},
                **{f"metric_{k}": v for k, v in t["metrics"].items()},
            }
        )
    frame = pd.DataFrame(rows)
    for column in ("error", "warnings"):
        frame[column] = frame[column].astype("string")
    for column in [c for c in frame.columns if c.startswith("metric_")] + ["objective", "seconds"]:
        frame[column] = frame[column].astype("float64")
    return frame


def write_trials(ctx, table: str, run_id: str, workflow_id: str, trials: list[dict], metric: str) -> None:
    frame = trials_frame(run_id, workflow_id, trials, metric)
    with ctx.warehouse() as wh:
        wh.replace_rows(table, frame, {"run_id": run_id})
