"""The dataset cache, through the CLI: an extract whose rendered SQL and source tables are
unchanged is reused; `--refresh`, a changed seed file, SQL or kwargs rebuild it."""

from __future__ import annotations

import json
from pathlib import Path

from conftest import cli, edit_file

MODEL = "models/model_linear_regression.yaml"
TABLE = "extracts.extract_inputs__training_data"


def run(repo: Path, *extra: str) -> dict:
    # --force: these tests are about the extract cache, so every run trains (no up-to-date skip)
    result = cli("run", MODEL, "--format", "json", "--force", *extra, cwd=repo)
    assert result.returncode == 0, result
    return result.json()


def rows_built(repo: Path) -> int:
    import duckdb

    with duckdb.connect(str(repo / ".modelyard" / "warehouse.duckdb"), read_only=True) as con:
        return con.execute(f"SELECT count(*) FROM {TABLE}").fetchone()[0]


def test_second_run_reuses_the_extract_and_says_so(model_repo):
    assert run(model_repo)["reused_extracts"] == []
    again = cli("run", MODEL, "--force", cwd=model_repo)
    assert again.returncode == 0, again
    assert f"reused cached extracts: {TABLE}" in again.stdout
    assert "reused cached table" in again.stderr
    assert run(model_repo)["reused_extracts"] == [TABLE]
    assert run(model_repo, "--refresh")["reused_extracts"] == []
    assert run(model_repo)["reused_extracts"] == [TABLE]


def test_changed_inputs_invalidate_the_extract(model_repo):
    run(model_repo)
    seed = model_repo / "data" / "sample_data.csv"
    rows = rows_built(model_repo)
    seed.write_text(seed.read_text() + "2024-12-31,0.1,0.2,0.3,0.4\n")
    assert run(model_repo)["reused_extracts"] == []
    assert rows_built(model_repo) == rows + 1
    assert run(model_repo)["reused_extracts"] == [TABLE]

    edit_file(model_repo / "extracts" / "extract_inputs.yaml", "limit: 10000", "limit: 100")
    assert run(model_repo)["reused_extracts"] == []
    assert rows_built(model_repo) == 100

    edit_file(model_repo / "extracts" / "training_data.sql", "FROM sample_data", "FROM sample_data WHERE x_0 > 0")
    assert run(model_repo)["reused_extracts"] == []
    assert run(model_repo)["reused_extracts"] == [TABLE]

    # Only the rendered SQL and the sources count: a description is no reason to rebuild.
    edit_file(
        model_repo / "extracts" / "extract_inputs.yaml", "operator: sql", "operator: sql\n  description: positive x_0"
    )
    assert run(model_repo)["reused_extracts"] == [TABLE]


def test_sources_behind_aliases_and_ctes_are_tracked(model_repo):
    (model_repo / "extracts" / "training_data.sql").write_text(
        "WITH recent AS (SELECT * FROM sample_data AS s WHERE s.date >= DATE '2024-01-01')\n"
        "SELECT r.date, r.x_0, r.x_1, r.x_2, r.y FROM recent r ORDER BY r.date, r.x_0 LIMIT {{ limit }}\n"
    )
    run(model_repo)
    assert run(model_repo)["reused_extracts"] == [TABLE]
    seed = model_repo / "data" / "sample_data.csv"
    seed.write_text(seed.read_text() + "2024-12-31,0.1,0.2,0.3,0.4\n")
    assert run(model_repo)["reused_extracts"] == []


def test_an_extract_reading_files_directly_is_never_reused(model_repo):
    # modelyard cannot know when a file read by the SQL itself changes: it rebuilds every time.
    (model_repo / "extracts" / "training_data.sql").write_text(
        "SELECT date, x_0, x_1, x_2, y FROM read_csv_auto('data/sample_data.csv') LIMIT {{ limit }}\n"
    )
    assert run(model_repo)["reused_extracts"] == []
    assert run(model_repo)["reused_extracts"] == []


def stored_profiles(repo: Path) -> list[tuple[str, int]]:
    """(cache key, rows counted) of each profile kept with the extract's cache entry."""
    import duckdb

    with duckdb.connect(str(repo / ".modelyard" / "warehouse.duckdb"), read_only=True) as con:
        if not con.execute(
            "SELECT count(*) FROM information_schema.tables WHERE table_name = 'extract_profiles'"
        ).fetchone()[0]:
            return []
        rows = con.execute("SELECT cache_key, profile FROM _modelyard.extract_profiles WHERE table_name = ?", [TABLE])
        return [(key, json.loads(profile)["rows"]) for key, profile in rows.fetchall()]


def built_with(repo: Path) -> str:
    import duckdb

    with duckdb.connect(str(repo / ".modelyard" / "warehouse.duckdb"), read_only=True) as con:
        return con.execute("SELECT cache_key FROM _modelyard.extracts WHERE table_name = ?", [TABLE]).fetchone()[0]


def test_an_extract_is_profiled_when_a_version_is_registered_not_when_a_backtest_builds_it(model_repo):
    """A backtest never reads the profile, so it computes none; the run that registers a version
    does, keeps it with the cache entry (under the key the table was built with) and the envelope."""
    import pandas as pd

    backtest = cli("backtest", MODEL, "--format", "json", "--workers", "1", cwd=model_repo)
    assert backtest.returncode == 0, backtest
    assert stored_profiles(model_repo) == []

    csv_rows = len(pd.read_csv(model_repo / "data" / "sample_data.csv"))
    trained = run(model_repo)
    assert trained["reused_extracts"] == [TABLE]  # built by the backtest, profiled only now
    assert stored_profiles(model_repo) == [(built_with(model_repo), csv_rows)]
    envelope = json.loads(Path(trained["model_path"], "envelope.json").read_text())
    assert envelope["data_profiles"]["df"]["rows"] == csv_rows
