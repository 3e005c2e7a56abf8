"""Dataset profiles and training-time drift on the template's real data, shifted on purpose.

Expected figures are computed here by hand with numpy and pandas from the CSV, never read back
from modelyard: deciles (numpy's linear quantiles, as DuckDB's quantile_cont), bin counts with
open outer bins, and PSI = sum (a - e) ln(a / e) with shares floored at 1e-4.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from conftest import cli, edit_file
from helpers.drift import bin_counts, numeric_bins, psi_by_hand

MODEL = "models/model_linear_regression.yaml"
SQL = "extracts/training_data.sql"


def sample(repo: Path) -> pd.DataFrame:
    return pd.read_csv(repo / "data" / "sample_data.csv")


def shift(repo: Path, column: str, by: float) -> None:
    """Move one feature of the seed: new rows whose ``column`` drifted by ``by``."""
    frame = sample(repo)
    frame[column] = (frame[column] + by).round(6)
    frame.to_csv(repo / "data" / "sample_data.csv", index=False)


def run(repo: Path, *args: str) -> dict:
    result = cli("run", MODEL, "--force", "--format", "json", *args, cwd=repo)
    assert result.returncode == 0, result
    return result.json()


def envelope(out: dict) -> dict:
    return json.loads((Path(out["model_path"]) / "envelope.json").read_text())


def column_report(out: dict, column: str) -> dict:
    return next(c for c in out["drift"]["datasets"]["df"]["columns"] if c["column"] == column)


def test_profile_in_envelope_matches_pandas(model_repo: Path):
    out = run(model_repo)
    assert out["drift"] is None  # a first version has nothing to compare with
    profile = envelope(out)["data_profiles"]["df"]
    frame = sample(model_repo)
    assert profile["rows"] == len(frame)
    assert set(profile["columns"]) == {"date", "x_0", "x_1", "x_2", "y"}
    assert profile["columns"]["date"]["family"] == "other"
    assert profile["columns"]["date"]["min"] == frame["date"].min()
    for name in ("x_0", "x_1", "x_2", "y"):
        column, values = profile["columns"][name], frame[name].to_numpy()
        assert column["type"] == "DOUBLE" and column["family"] == "numeric"
        assert column["count"] == len(values) and column["nulls"] == 0
        assert abs(column["approx_distinct"] - frame[name].nunique()) <= 0.05 * frame[name].nunique()
        assert column["min"] == pytest.approx(values.min()) and column["max"] == pytest.approx(values.max())
        assert column["mean"] == pytest.approx(values.mean())
        assert column["std"] == pytest.approx(values.std(ddof=1))
        edges, counts = numeric_bins(values)
        assert column["bins"]["edges"] == pytest.approx(edges.tolist())
        assert column["bins"]["counts"] == counts.tolist()


def test_shifted_feature_is_psi_warn_and_fail_by_thresholds(trained_repo: Path):
    before = sample(trained_repo)["x_1"].to_numpy()
    shift(trained_repo, "x_1", 0.4)
    edges, expected = numeric_bins(before)
    after = sample(trained_repo)["x_1"].to_numpy()
    psi = psi_by_hand(expected, bin_counts(edges, after))
    assert 0.1 < psi < 0.25, psi  # the shift chosen for a warning under the default thresholds

    out = run(trained_repo)
    x_1 = column_report(out, "x_1")
    assert x_1["value"] == pytest.approx(psi, abs=1e-6)
    assert x_1["level"] == "warn" and out["drift"]["status"] == "warn"
    assert out["drift"]["against_version"] == 1
    assert column_report(out, "x_0")["value"] == pytest.approx(0.0, abs=1e-9)
    assert column_report(out, "x_0")["level"] == "ok"
    assert envelope(out)["drift"] == out["drift"]

    # the same data against thresholds from the model file: now a failure (reported, stored anyway)
    edit_file(trained_repo / MODEL, "psi_warn: 0.1 ", "psi_warn: 0.01 ")
    edit_file(trained_repo / MODEL, "psi_fail: 0.25 ", "psi_fail: 0.03 ")
    shift(trained_repo, "x_1", 0.0)  # rewrite the seed unchanged: the data compares with version 2's
    out = run(trained_repo)
    assert column_report(out, "x_1")["value"] == pytest.approx(0.0, abs=1e-9)
    shift(trained_repo, "x_1", 0.2)
    shifted = sample(trained_repo)["x_1"].to_numpy()
    edges, expected = numeric_bins(after)
    psi = psi_by_hand(expected, bin_counts(edges, shifted))
    assert psi > 0.03, psi
    out = run(trained_repo)
    assert column_report(out, "x_1") == {
        "column": "x_1",
        "family": "numeric",
        "statistic": "psi",
        "value": pytest.approx(psi, abs=1e-6),
        "level": "fail",
    }
    assert out["drift"]["datasets"]["df"]["thresholds"] == {"psi_warn": 0.01, "psi_fail": 0.03}
    text = cli("run", MODEL, "--force", cwd=trained_repo)
    assert text.returncode == 0, text
    assert "data drift against version 4's training data: none" in text.stdout


def test_categorical_psi_on_top_values(model_repo: Path):
    edit_file(
        model_repo / SQL, "SELECT date, x_0,", "SELECT date, CASE WHEN x_2 > 0 THEN 'high' ELSE 'low' END AS band, x_0,"
    )
    run(model_repo)
    old = np.where(sample(model_repo)["x_2"] > 0, "high", "low")
    shift(model_repo, "x_2", 1.0)
    new = np.where(sample(model_repo)["x_2"] > 0, "high", "low")
    # top values ordered by count, then value; then one bin for every other value (none here)
    top = pd.Series(old).value_counts().sort_index().sort_values(ascending=False, kind="stable")
    expected = np.array([*top.to_numpy(), 0])
    actual = np.array([*(int((new == value).sum()) for value in top.index), 0])
    out = run(model_repo)
    band = column_report(out, "band")
    assert band["family"] == "categorical"
    assert band["value"] == pytest.approx(psi_by_hand(expected, actual), abs=1e-6)
    assert band["level"] == "fail"


def test_schema_changes_always_reported(model_repo: Path):
    edit_file(model_repo / SQL, "SELECT date, x_0,", "SELECT date, 'a' AS band, 1 AS gone, x_0,")
    run(model_repo)
    edit_file(model_repo / SQL, "SELECT date, 'a' AS band, 1 AS gone, x_0,", "SELECT date, 1 AS band, 2 AS extra, x_0,")
    out = run(model_repo)
    report = out["drift"]["datasets"]["df"]
    assert sorted(report["schema_changes"], key=lambda c: c["column"]) == [
        {"column": "band", "change": "type", "from": "VARCHAR", "to": "INTEGER"},
        {"column": "extra", "change": "added", "from": None, "to": "INTEGER"},
        {"column": "gone", "change": "removed", "from": "INTEGER", "to": None},
    ]
    # the numeric columns both versions have are compared (band changed type); the same rows: no drift
    assert {c["column"]: c["level"] for c in report["columns"]} == dict.fromkeys(["x_0", "x_1", "x_2", "y"], "ok")
    assert report["status"] == "warn"
    text = cli("run", MODEL, "--force", cwd=model_repo)
    assert text.returncode == 0, text
    assert "data drift against version 2's training data: none" in text.stdout
