"""`modelyard run` scores a model on rows it did not train on (``evaluation:`` in the model file),
and every stored version says where its metrics came from. Expected scores are computed here with
pandas and scikit-learn on the extract's rows, split by hand."""

from __future__ import annotations

import math
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import pytest
from conftest import cli, edit_file
from sklearn.linear_model import ElasticNet, LinearRegression
from sklearn.metrics import mean_squared_error

from modelyard.api import load_model

LINEAR = "models/model_linear_regression.yaml"  # has a split_config: time-ordered holdout
ELASTIC = "models/model_elastic_net.yaml"  # no split_config: seeded random holdout
FEATURES = ["x_0", "x_1", "x_2"]
TEMPLATE_EVALUATION = "evaluation:\n  holdout: 0.2\n  seed: 0\n"


def _rows(repo: Path) -> pd.DataFrame:
    with duckdb.connect(str(repo / ".modelyard" / "warehouse.duckdb"), read_only=True) as con:
        return con.execute("SELECT * FROM extracts.extract_inputs__training_data").df()


def _run(repo: Path, model: str) -> dict:
    result = cli("run", model, "--format", "json", cwd=repo)
    assert result.returncode == 0, result
    return result.json()


def _envelope(repo: Path, out: dict) -> dict:
    import json

    return json.loads((Path(out["model_path"]) / "envelope.json").read_text())


def _listing(repo: Path):
    return cli("models", "list", cwd=repo)


def test_a_split_config_model_is_scored_on_its_latest_rows_then_refit(model_repo: Path):
    out = _run(model_repo, LINEAR)
    df = _rows(model_repo)
    n_held = math.ceil(len(df) * 0.2)
    cut = df["date"].sort_values().iloc[len(df) - n_held]
    held = df["date"] >= cut
    fitted = LinearRegression(fit_intercept=False).fit(df.loc[~held, FEATURES], df.loc[~held, "y"])
    expected = mean_squared_error(df.loc[held, "y"], fitted.predict(df.loc[held, FEATURES]))
    assert out["metrics"]["mean_squared_error"] == pytest.approx(expected, rel=1e-9)
    in_sample = LinearRegression(fit_intercept=False).fit(df[FEATURES], df["y"])
    assert expected != pytest.approx(mean_squared_error(df["y"], in_sample.predict(df[FEATURES])), rel=1e-3)
    envelope = _envelope(model_repo, out)
    assert envelope["metrics_source"] == {
        "kind": "holdout",
        "fraction": 0.2,
        "seed": 0,
        "strategy": "time",
        "time_column": "date",
        "dataset": "df",
        "refit_on_all_rows": True,
        "rows": {"train": {"df": int((~held).sum())}, "held_out": {"df": int(held.sum())}},
    }
    # the stored model is the refit on every row, not the one scored
    stored = load_model(envelope["canonical_name"], repo=model_repo)
    np.testing.assert_allclose(stored.model.coef_, in_sample.coef_, rtol=1e-9)
    listing = _listing(model_repo)
    assert f"held-out 20% (latest rows), {int(held.sum())} of {len(df)} rows; refit on all rows" in listing.stdout


def test_without_refit_the_scored_model_is_stored(model_repo: Path):
    edit_file(model_repo / ELASTIC, TEMPLATE_EVALUATION, "evaluation: {holdout: 0.25, seed: 7, refit: false}\n")
    out = _run(model_repo, ELASTIC)
    df = _rows(model_repo)
    held = np.zeros(len(df), dtype=bool)
    held[np.random.default_rng(7).permutation(len(df))[: math.ceil(len(df) * 0.25)]] = True
    fitted = ElasticNet(alpha=0.5, max_iter=100).fit(df.loc[~held, FEATURES], df.loc[~held, "y"])
    expected = mean_squared_error(df.loc[held, "y"], fitted.predict(df.loc[held, FEATURES]))
    assert out["metrics"]["mean_squared_error"] == pytest.approx(expected, rel=1e-9)
    envelope = _envelope(model_repo, out)
    assert envelope["metrics_source"]["kind"] == "holdout"
    assert envelope["metrics_source"]["refit_on_all_rows"] is False
    stored = load_model(envelope["canonical_name"], repo=model_repo)
    np.testing.assert_allclose(stored.model.coef_, fitted.coef_, rtol=1e-9)
    assert "held-out 25% (random, seed 7)" in _listing(model_repo).stdout


def test_in_sample_is_said_and_recorded(model_repo: Path):
    edit_file(model_repo / ELASTIC, TEMPLATE_EVALUATION, "evaluation: in_sample\n")
    out = _run(model_repo, ELASTIC)
    df = _rows(model_repo)
    fitted = ElasticNet(alpha=0.5, max_iter=100).fit(df[FEATURES], df["y"])
    assert out["metrics"]["mean_squared_error"] == pytest.approx(
        mean_squared_error(df["y"], fitted.predict(df[FEATURES])), rel=1e-9
    )
    assert _envelope(model_repo, out)["metrics_source"] == {"kind": "in_sample"}
    assert "in-sample (the training rows)" in _listing(model_repo).stdout


def test_no_evaluation_key_means_a_held_out_fifth(model_repo: Path):
    edit_file(model_repo / ELASTIC, TEMPLATE_EVALUATION, "")
    envelope = _envelope(model_repo, _run(model_repo, ELASTIC))
    source = envelope["metrics_source"]
    assert (source["kind"], source["fraction"], source["seed"], source["strategy"]) == ("holdout", 0.2, 0, "random")


def test_tuned_versions_say_they_were_scored_in_tuning(model_repo: Path):
    result = cli("tune", "tuning/tune_elastic_net.yaml", "--format", "json", cwd=model_repo)
    assert result.returncode == 0, result
    study = result.json()
    envelope = _envelope(model_repo, study)
    source = envelope["metrics_source"]
    assert source["kind"] == "tuning_holdout" and source["best_trial"] == study["best_trial"]
    assert source["refit_on_all_rows"] is True
    assert f"tuning held-out 20% (random, seed 0), best trial {study['best_trial']}" in _listing(model_repo).stdout
