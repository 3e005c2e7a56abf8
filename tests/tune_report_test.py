"""The study page: built as a plain dict (no plotly Figure, whose property checks cost more than the
page), it must lay out and look as plotly's own subplots and default template would."""

from __future__ import annotations

import json
import re
from pathlib import Path

from modelyard.workflows.tune.report import write_plot

STUDY = {
    "objective": {"metric": "mse", "direction": "minimize"},
    "best_params": {"alpha": 0.1, "max_iter": 20},
    "best_objective": 2.0,
    "best_trial": 2,
    "trials": [
        {"trial": 1, "params": {"alpha": 1.0, "max_iter": 10}, "objective": 3.0},
        {"trial": 2, "params": {"alpha": 0.1, "max_iter": 20}, "objective": 2.0},
        {"trial": 3, "params": {"alpha": 10.0, "max_iter": 30}, "objective": None},
    ],
}


def page_figure(html: str) -> tuple[list, dict]:
    found = re.search(r'Plotly\.newPlot\(\s*"[^"]+",\s*(\[.*?\]),\s*(\{.*\}),\s*\{"responsive"', html, re.S)
    return json.loads(found[1]), json.loads(found[2])


def test_study_page_is_plotlys_subplots_with_the_default_template(tmp_path: Path):
    import plotly.graph_objects as go
    import plotly.io as pio
    from plotly.subplots import make_subplots

    page = write_plot(STUDY, "tune__t", tmp_path / "tune__t" / "run.html", tmp_path, frozenset({"alpha"}))
    data, layout = page_figure(page.read_text())
    assert (tmp_path / f"plotly-{__import__('plotly').__version__}.min.js").is_file()

    titles = ["mse vs alpha", "mse vs max_iter", "mse over trials"]
    expected = make_subplots(rows=1, cols=3, shared_yaxes=True, subplot_titles=titles).to_plotly_json()["layout"]
    for axis in ("xaxis", "xaxis2", "xaxis3", "yaxis", "yaxis2", "yaxis3"):
        assert {k: layout[axis][k] for k in expected[axis]} == expected[axis], axis
    assert layout["annotations"] == expected["annotations"]
    assert layout["xaxis"]["type"] == "log" and "type" not in layout["xaxis2"]
    assert layout["template"] == json.loads(json.dumps(pio.templates["plotly"].to_plotly_json()))
    assert go.Figure(data=data, layout=layout)  # every property is one plotly accepts

    # the failed trial is not drawn; the best is red; the last panel has the best-so-far line
    assert data[0]["x"] == [1.0, 0.1] and data[0]["marker"]["color"] == ["steelblue", "crimson"]
    assert [d["xaxis"] for d in data] == ["x", "x2", "x3", "x3"]
    assert data[3]["y"] == [3.0, 2.0] and data[3]["mode"] == "lines"
