"""The backtest report's figure, written as plotly JSON without graph objects, against the same
figure built the usual way with plotly's own ``make_subplots`` (the reference: plotly computes its
panels' domains, shared axes, titles and lines itself)."""

from __future__ import annotations

import json

import pytest

from modelyard.workflows.backtest.report import figure


def _windows(names: list[str]) -> list[dict]:
    return [
        {
            "window": i,
            "train_start": f"2024-01-0{i + 1}T00:00:00",
            "train_end": f"2024-01-0{i + 2}T00:00:00",
            "test_start": f"2024-01-0{i + 2}T00:00:00",
            "test_end": f"2024-01-0{i + 3}T00:00:00",
            "train_rows": 10 + i,
            "test_rows": 5,
            "metrics": {name: (None if (i, k) == (1, 0) else 0.25 * i + k) for k, name in enumerate(names)},
        }
        for i in range(3)
    ]


def _with_make_subplots(title: str, windows: list[dict], summary: dict[str, dict]) -> dict:
    import plotly.graph_objects as go
    from plotly.subplots import make_subplots

    names = list(summary)
    fig = make_subplots(
        rows=len(names),
        cols=1,
        shared_xaxes=True,
        vertical_spacing=0.08,
        subplot_titles=[f"{n} (mean {s['mean']:.4g})" if s["mean"] is not None else n for n, s in summary.items()],
    )
    labels = [
        f"window {w['window']}<br>train [{w['train_start']}, {w['train_end']})"
        f"<br>test [{w['test_start']}, {w['test_end']})<br>{w['train_rows']} train rows, {w['test_rows']} test rows"
        for w in windows
    ]
    for row, name in enumerate(names, start=1):
        fig.add_trace(
            go.Scatter(
                x=[w["test_start"] for w in windows],
                y=[w["metrics"].get(name) for w in windows],
                mode="lines+markers",
                name=name,
                text=labels,
                hovertemplate="%{y:.4g}<br>%{text}<extra></extra>",
            ),
            row=row,
            col=1,
        )
        if summary[name]["mean"] is not None:
            fig.add_hline(y=summary[name]["mean"], line_dash="dot", line_color="gray", row=row, col=1)
        fig.update_yaxes(title_text=name, row=row, col=1)
    fig.update_xaxes(title_text="start of the test window", row=len(names), col=1)
    fig.update_layout(title=f"{title}: metrics per backtest window", height=260 * len(names) + 120, showlegend=False)
    fig.update_layout(template="plotly_white")
    return fig.to_plotly_json()


def _rounded(value):
    """Floats to 9 digits: plotly sums the domains' fractions, we compute them directly."""
    if isinstance(value, float):
        return round(value, 9)
    if isinstance(value, dict):
        return {k: _rounded(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_rounded(v) for v in value]
    return value


@pytest.mark.parametrize("count", [1, 2, 3, 5])
def test_the_figure_is_the_one_make_subplots_builds(count):
    import plotly.graph_objects as go

    names = [f"metric_{k}" for k in range(count)]
    summary = {name: {"mean": None if k == 1 else 0.5 + k} for k, name in enumerate(names)}
    windows = _windows(names)
    ours = go.Figure(figure("backtest__m", windows, summary)).to_plotly_json()
    expected = _with_make_subplots("backtest__m", windows, summary)
    assert json.loads(json.dumps(_rounded(ours), default=str)) == json.loads(
        json.dumps(_rounded(expected), default=str)
    )
