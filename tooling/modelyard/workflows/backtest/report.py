"""The backtest's HTML report: every metric over time, one panel per metric, one point per window."""

from __future__ import annotations


def _label(window: dict) -> str:
    return (
        f"window {window['window']}<br>train [{window['train_start']}, {window['train_end']})"
        f"<br>test [{window['test_start']}, {window['test_end']})"
        f"<br>{window['train_rows']} train rows, {window['test_rows']} test rows"
    )


def figure(title: str, windows: list[dict], summary: dict[str, dict]):
    """The plotly figure (``engine.plots.write_figure`` writes its page)."""
    import plotly.graph_objects as go
    from plotly.subplots import make_subplots

    names = list(summary)
    fig = make_subplots(
        rows=len(names),
        cols=1,
        shared_xaxes=True,
        vertical_spacing=0.08,
        subplot_titles=[
            f"{name} (mean {stats['mean']:.4g})" if stats["mean"] is not None else name
            for name, stats in summary.items()
        ],
    )
    x = [w["test_start"] for w in windows]
    labels = [_label(w) for w in windows]
    for row, name in enumerate(names, start=1):
        fig.add_trace(
            go.Scatter(
                x=x,
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
    fig.update_layout(
        title=f"{title}: metrics per backtest window",
        height=260 * len(names) + 120,
        showlegend=False,
        template="plotly_white",
    )
    return fig
