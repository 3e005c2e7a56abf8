"""The README's first command, run for real: generate, train, tune, backtest, say where results went."""

from __future__ import annotations

import subprocess

from conftest import ROOT


def test_demo_script_trains_tunes_and_backtests():
    proc = subprocess.run(["bash", str(ROOT / "scripts" / "demo.sh")], capture_output=True, text=True, timeout=900)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    repo = ROOT / "demo-output" / "example-models"
    assert f"model repo       {repo}" in proc.stdout
    assert (repo / ".modelyard" / "warehouse.duckdb").is_file()
    envelopes = sorted((repo / ".modelyard" / "models").glob("*/*/envelope.json"))
    assert [p.parent.parent.name for p in envelopes] == [
        "sample_regression_model_v1",
        "sample_regression_model_v1_elastic_net",
    ]
    reports = sorted((repo / ".modelyard" / "reports").rglob("*.html"))
    assert {p.relative_to(repo / ".modelyard" / "reports").parts[0].removesuffix(".html") for p in reports} == {
        "backtest__model_linear_regression",
        "score__model_linear_regression",
        "tune__tune_elastic_net",
    }
    for report in reports:
        assert str(report) in proc.stdout
    assert "mean_squared_error" in proc.stdout
    # the new rows' x_1 moved since training: scoring warns, and monitor shows it
    assert proc.stdout.count("inputs column x_1 drifted (PSI 0.133, warn at 0.1)") == 2
