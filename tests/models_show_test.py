"""modelyard models show: readable text by default, the envelope as JSON with --format json."""

from __future__ import annotations

import json
import re
from pathlib import Path

from conftest import cli

NAME = "sample_regression_model_v1"


def test_show_prints_text_and_json_on_request(trained_repo: Path):
    stored = json.loads((trained_repo / ".modelyard" / "models" / NAME / "1" / "envelope.json").read_text())

    text = cli("models", "show", NAME, cwd=trained_repo)
    assert text.returncode == 0, text
    assert not text.stdout.lstrip().startswith("{"), text
    lines = [re.sub(r"\s+", " ", line).strip() for line in text.stdout.splitlines()]
    assert lines[0] == f"{NAME} version 1"
    mse, r2 = stored["metrics"]["mean_squared_error"], stored["metrics"]["r2"]
    assert f"metrics mean_squared_error={mse:.4g}, r2={r2:.4g}" in lines
    assert "trainer sklearn.sklearn_linear.SKLearnLinearRegressionTrainer" in lines
    assert "signature predict(x: dataframe[x_0 float64, x_1 float64, x_2 float64]) -> dataframe[y float64]" in lines
    assert "constructor args feature_columns=[x_0, x_1, x_2], fit_intercept=False, target_label=y" in lines
    assert "row counts df=2730" in lines

    as_json = cli("models", "show", NAME, "--format", "json", cwd=trained_repo)
    assert as_json.returncode == 0, as_json
    assert as_json.json() == {**stored, "version": 1}
    assert as_json.stdout == json.dumps(as_json.json(), indent=2, sort_keys=True) + "\n"
