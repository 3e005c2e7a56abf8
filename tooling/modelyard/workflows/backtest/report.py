"""The backtest's HTML report: every metric over time, one panel per metric, one point per window.

The figure is plotly's JSON written directly, not built with ``plotly.graph_objects``: importing
and validating those classes took half a second of every backtest (more than 20 windows' fits).
The layout is what ``make_subplots(rows=n, cols=1, shared_xaxes=True, vertical_spacing=0.08)``
makes, with the ``plotly_white`` template read from plotly's own template file.
"""

from __future__ import annotations

import json
from importlib import resources

SPACING = 0.08  # between panels, as a fraction of the plot's height


def _label(window: dict) -> str:
    return (
        f"window {window['window']}<br>train [{window['train_start']}, {window['train_end']})"
        f"<br>test [{window['test_start']}, {window['test_end']})"
        f"<br>{window['train_rows']} train rows, {window['test_rows']} test rows"
    )


def _template() -> dict:
    text = (resources.files("plotly") / "package_data" / "templates" / "plotly_white.json").read_text("utf-8")
    return json.loads(text)


def _domains(rows: int) -> list[tuple[float, float]]:
    """Each panel's vertical extent, top panel first."""
    height = (1 - SPACING * (rows - 1)) / rows
    tops = [1 - row * (height + SPACING) for row in range(rows)]
    return [(max(0.0, round(top - height, 10)), round(top, 10)) for top in tops]


def figure(title: str, windows: list[dict], summary: dict[str, dict]) -> dict:
    """The plotly figure as a dict (``engine.plots.write_figure`` writes its page)."""
    names = list(summary)
    x = [w["test_start"] for w in windows]
    labels = [_label(w) for w in windows]
    last = f"x{len(names) if len(names) > 1 else ''}"
    data, shapes, annotations = [], [], []
    layout: dict = {}
    for row, ((bottom, top), name) in enumerate(zip(_domains(len(names)), names, strict=True), start=1):
        suffix = str(row) if row > 1 else ""
        data.append(
            {
                "type": "scatter",
                "x": x,
                "y": [w["metrics"].get(name) for w in windows],
                "mode": "lines+markers",
                "name": name,
                "text": labels,
                "hovertemplate": "%{y:.4g}<br>%{text}<extra></extra>",
                "xaxis": f"x{suffix}",
                "yaxis": f"y{suffix}",
            }
        )
        xaxis = {"anchor": f"y{suffix}", "domain": [0.0, 1.0]}
        if row < len(names):  # every panel shares the bottom one's time axis, labelled there only
            xaxis |= {"matches": last, "showticklabels": False}
        else:
            xaxis["title"] = {"text": "start of the test window"}
        layout[f"xaxis{suffix}"] = xaxis
        layout[f"yaxis{suffix}"] = {"anchor": f"x{suffix}", "domain": [bottom, top], "title": {"text": name}}
        mean = summary[name]["mean"]
        annotations.append(
            {
                "text": f"{name} (mean {mean:.4g})" if mean is not None else name,
                "font": {"size": 16},
                "showarrow": False,
                "x": 0.5,
                "xanchor": "center",
                "xref": "paper",
                "y": top,
                "yanchor": "bottom",
                "yref": "paper",
            }
        )
        if mean is not None:
            shapes.append(
                {
                    "type": "line",
                    "line": {"color": "gray", "dash": "dot"},
                    "x0": 0,
                    "x1": 1,
                    "xref": f"x{suffix} domain",
                    "y0": mean,
                    "y1": mean,
                    "yref": f"y{suffix}",
                }
            )
    layout |= {
        "annotations": annotations,
        "shapes": shapes,
        "title": {"text": f"{title}: metrics per backtest window"},
        "height": 260 * len(names) + 120,
        "showlegend": False,
        "template": _template(),
    }
    return {"data": data, "layout": layout}
