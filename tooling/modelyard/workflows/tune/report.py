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


def _axis(name: str, col: int) -> str:
    """Plotly's name for column ``col``'s axis: ``x``, ``x2``, ..."""
    return name if col == 1 else f"{name}{col}"


def _columns(titles: list[str]) -> dict:
    """The layout of one row of panels sharing the y axis, as plotly's ``make_subplots(rows=1,
    cols=n, shared_yaxes=True, subplot_titles=titles)`` lays it out."""
    cols = len(titles)
    spacing = 0.2 / cols
    width = (1 - spacing * (cols - 1)) / cols
    layout: dict = {"annotations": []}
    for col, title in enumerate(titles, start=1):
        left = (col - 1) * (width + spacing)
        layout[_axis("xaxis", col)] = {"anchor": _axis("y", col), "domain": [left, left + width]}
        layout[_axis("yaxis", col)] = {"anchor": _axis("x", col), "domain": [0.0, 1.0]}
        if col > 1:
            layout[_axis("yaxis", col)] |= {"matches": "y", "showticklabels": False}
        layout["annotations"].append(
            {
                "text": title,
                "x": left + width / 2,
                "xref": "paper",
                "xanchor": "center",
                "y": 1.0,
                "yref": "paper",
                "yanchor": "bottom",
                "showarrow": False,
                "font": {"size": 16},
            }
        )
    return layout


def write_plot(study: dict, title: str, path: Path, folder: Path, log_params: frozenset[str] = frozenset()) -> Path:
    trials = [t for t in study["trials"] if t["objective"] is not None]
    metric, direction = study["objective"]["metric"], study["objective"]["direction"]
    params = list(dict.fromkeys(k for t in study["trials"] for k in t["params"]))
    last = len(params) + 1
    layout = _columns([*(f"{metric} vs {p}" for p in params), f"{metric} over trials"])
    hover = [", ".join(f"{k}={v}" for k, v in t["params"].items()) for t in trials]
    colour = ["crimson" if t["trial"] == study["best_trial"] else "steelblue" for t in trials]
    data = []
    for col, name in enumerate(params, start=1):
        data.append(
            {
                "type": "scatter",
                "x": [t["params"][name] for t in trials],
                "y": [t["objective"] for t in trials],
                "mode": "markers",
                "text": hover,
                "name": name,
                "marker": {"color": colour, "size": 9},
                "showlegend": False,
                "xaxis": _axis("x", col),
                "yaxis": _axis("y", col),
            }
        )
        layout[_axis("xaxis", col)]["title"] = {"text": name}
        if name in log_params:
            layout[_axis("xaxis", col)]["type"] = "log"
    pick = min if direction == "minimize" else max
    ordered = sorted(trials, key=lambda t: t["trial"])
    best_so_far, running = [], None
    for trial in ordered:
        running = trial["objective"] if running is None else pick(running, trial["objective"])
        best_so_far.append(running)
    over_trials = {"x": [t["trial"] for t in ordered], "xaxis": _axis("x", last), "yaxis": _axis("y", last)}
    data.append(
        {
            "type": "scatter",
            **over_trials,
            "y": [t["objective"] for t in ordered],
            "mode": "markers",
            "name": "trial",
            "text": hover,
        }
    )
    data.append(
        {
            "type": "scatter",
            **over_trials,
            "y": best_so_far,
            "mode": "lines",
            "name": "best so far",
            "line": {"shape": "hv"},
        }
    )
    layout[_axis("xaxis", last)]["title"] = {"text": "trial"}
    layout["yaxis"]["title"] = {"text": f"{metric} ({direction})"}
    layout |= {
        "title": {"text": f"{title}: best {metric} = {study['best_objective']:.6g} at {study['best_params']}"},
        "height": 480,
        "width": max(700, 380 * last),
    }
    return write_figure({"data": data, "layout": layout}, path, folder)
