"""The monitoring report: every monitored figure of a model's scoring runs over time, one panel
each (PSI per input and prediction column, each metric), with its thresholds as lines."""

from __future__ import annotations

from pathlib import Path

from modelyard.engine.plots import write_figure


def _series(history: dict, psi: dict, metrics: dict) -> list[tuple[str, list, list, dict]]:
    """(title, x, y, thresholds) per figure, in the tables' order."""
    psi_lines = {"warn": psi["psi_warn"], "fail": psi["psi_fail"]}
    out = []
    frame = history.get("drift")
    if frame is not None:
        frame = frame[frame["statistic"] == "psi"]
        for (dataset, column), rows in frame.groupby(["dataset", "column_name"], sort=False):
            out.append((f"PSI of {dataset} column {column}", list(rows["scored_at"]), list(rows["value"]), psi_lines))
    frame = history.get("metrics")
    if frame is not None:
        for metric, rows in frame.groupby("metric", sort=False):
            out.append((f"metric {metric}", list(rows["scored_at"]), list(rows["value"]), metrics.get(metric, {})))
    return out


def figure(title: str, history: dict, psi: dict, metrics: dict):
    import plotly.graph_objects as go
    from plotly.subplots import make_subplots

    series = _series(history, psi, metrics) or [(f"{title}: no scoring run recorded yet", [], [], {})]
    fig = make_subplots(rows=len(series), cols=1, shared_xaxes=True, subplot_titles=[s[0] for s in series])
    for row, (name, x, y, lines) in enumerate(series, start=1):
        fig.add_trace(go.Scatter(x=x, y=y, mode="lines+markers", name=name), row=row, col=1)
        for level, colour in (("warn", "orange"), ("fail", "red")):
            limit = lines.get(level)
            if limit is not None:
                fig.add_hline(y=limit, line_dash="dot", line_color=colour, row=row, col=1)
    fig.update_layout(title=title, height=220 * len(series) + 120, showlegend=False, template="plotly_white")
    return fig


def write(folder, name: str, title: str, history: dict, psi: dict, metrics: dict) -> Path:
    """The page, loading the reports folder's shared plotly.js (``engine.plots``)."""
    return write_figure(figure(title, history, psi, metrics), folder / name, folder)
