"""Report pages share one plotly.js per reports folder instead of inlining 4.8 MB each."""

from __future__ import annotations

import re
from pathlib import Path

from conftest import cli


def test_tuning_pages_share_one_plotly_js_in_the_reports_folder(model_repo: Path):
    import plotly

    (model_repo / "tuning" / "small.yaml").write_text(
        "model: model_elastic_net.yaml\ntuning_type: grid\nparam_boundaries:\n  alpha: [0.1, 0.3, 0.1]\n"
    )
    plots = []
    for _ in range(2):
        result = cli("tune", "tuning/small.yaml", "--format", "json", cwd=model_repo)
        assert result.returncode == 0, result
        plots.append(Path(result.json()["plot"]))
    reports = model_repo / ".modelyard" / "reports"
    scripts = sorted(p.relative_to(reports).as_posix() for p in reports.rglob("*.js"))
    assert scripts == [f"plotly-{plotly.__version__}.min.js"]
    assert (reports / scripts[0]).stat().st_size > 1_000_000  # the whole library, once
    assert len(set(plots)) == 2
    for page in plots:
        text = page.read_text()
        assert len(text) < 200_000, len(text)
        assert re.findall(r'<script[^>]* src="([^"]+)"', text) == [f"../plotly-{plotly.__version__}.min.js"]
