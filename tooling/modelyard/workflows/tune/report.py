"""How a study is shown: a rich table of trials for the terminal, a plotly HTML page for a browser.

The page has one panel per parameter (objective against the parameter's values) and one of the
objective over the trials with the best-so-far line. plotly.js is one shared file at the top of the
reports folder (``engine.plots``), so the page opens offline.
"""

from __future__ import annotations

from pathlib import Path

from modelyard.engine.plots import write_figure


def trials_table(study: dict):
    from rich.table import Table

    trials = study["trials"]
    metric = study["objective"]["metric"]
    params = list(dict.fromkeys(k for t in trials for k in t["params"]))
    metrics = list(dict.fromkeys(k for t in trials for k in t["metrics"]))
    arrow = "↓" if study["objective"]["direction"] == "minimize" else "↑"
    table = Table(title=f"{study['n_trials']} trials, objective {metric} {arrow}", box=None)
    for column in [
        "trial",
        *params,
        *(f"{m}{' ' + arrow if m == metric else ''}" for m in metrics),
        "seconds",
        "status",
    ]:
        table.add_column(column, justify="left" if column == "status" else "right")
    for trial in trials:
        best = trial["trial"] == study["best_trial"]
        status = "[green]best[/]" if best else "ok" if trial["status"] == "ok" else f"[red]failed[/] {trial['error']}"
        table.add_row(
            str(trial["trial"]),
            *(_number(trial["params"].get(p)) for p in params),
            *(_number(trial["metrics"].get(m)) for m in metrics),
            f"{trial['seconds']:.2f}",
            status,
            style="bold" if best else None,
        )
    return table


def _number(value) -> str:
    if value is None:
        return "-"
    return str(value) if isinstance(value, int) else f"{value:.6g}"


def write_plot(study: dict, title: str, path: Path, folder: Path, log_params: frozenset[str] = frozenset()) -> Path:
    import plotly.graph_objects as go
    from plotly.subplots import make_subplots

    trials = [t for t in study["trials"] if t["objective"] is not None]
    metric, direction = study["objective"]["metric"], study["objective"]["direction"]
    params = list(dict.fromkeys(k for t in study["trials"] for k in t["params"]))
    figure = make_subplots(
        rows=1,
        cols=len(params) + 1,
        shared_yaxes=True,
        subplot_titles=[*(f"{metric} vs {p}" for p in params), f"{metric} over trials"],
    )
    hover = [", ".join(f"{k}={v}" for k, v in t["params"].items()) for t in trials]
    colour = [t["trial"] == study["best_trial"] for t in trials]
    for col, name in enumerate(params, start=1):
        figure.add_trace(
            go.Scatter(
                x=[t["params"][name] for t in trials],
                y=[t["objective"] for t in trials],
                mode="markers",
                text=hover,
                name=name,
                marker={"color": ["crimson" if c else "steelblue" for c in colour], "size": 9},
                showlegend=False,
            ),
            row=1,
            col=col,
        )
        figure.update_xaxes(title_text=name, type="log" if name in log_params else None, row=1, col=col)
    pick = min if direction == "minimize" else max
    ordered = sorted(trials, key=lambda t: t["trial"])
    best_so_far, running = [], None
    for trial in ordered:
        running = trial["objective"] if running is None else pick(running, trial["objective"])
        best_so_far.append(running)
    last = len(params) + 1
    figure.add_trace(
        go.Scatter(
            x=[t["trial"] for t in ordered],
            y=[t["objective"] for t in ordered],
            mode="markers",
            name="trial",
            text=hover,
        ),
        row=1,
        col=last,
    )
    figure.add_trace(
        go.Scatter(
            x=[t["trial"] for t in ordered], y=best_so_far, mode="lines", name="best so far", line={"shape": "hv"}
        ),
        row=1,
        col=last,
    )
    figure.update_xaxes(title_text="trial", row=1, col=last)
    figure.update_yaxes(title_text=f"{metric} ({direction})", row=1, col=1)
    figure.update_layout(
        title=f"{title}: best {metric} = {study['best_objective']:.6g} at {study['best_params']}",
        height=480,
        width=max(700, 380 * (len(params) + 1)),
    )
    return write_figure(figure, path, folder)
