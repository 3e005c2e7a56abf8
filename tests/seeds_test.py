"""Seeds and extract SQL at run time and in `validate`: a run loads only the seeds it reads, per-seed
options change how a file loads (and reload it), a 0-row extract stops before train() unless it
allows it, and the SQL check never opens the warehouse file nor imports DuckDB without SQL."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import duckdb
from conftest import cli

MODEL = "models/model_linear_regression.yaml"


def _column_types(repo: Path, table: str) -> dict[str, str]:
    con = duckdb.connect(str(repo / ".modelyard" / "warehouse.duckdb"), read_only=True)
    try:
        return dict(
            con.execute(
                f"SELECT column_name, data_type FROM information_schema.columns WHERE table_name = '{table}'"
            ).fetchall()
        )
    finally:
        con.close()


def test_a_broken_seed_no_extract_reads_does_not_block_a_run(model_repo: Path):
    (model_repo / "data" / "legacy.csv").write_bytes(b"\xff\xfe\x00a,b\n1,2\n")  # not UTF-8: DuckDB refuses it
    result = cli("run", MODEL, cwd=model_repo)
    assert result.returncode == 0, result
    con = duckdb.connect(str(model_repo / ".modelyard" / "warehouse.duckdb"), read_only=True)
    tables = {row[0] for row in con.execute("SELECT table_name FROM information_schema.tables").fetchall()}
    con.close()
    assert "sample_data" in tables and "legacy" not in tables


def test_seed_options_change_how_a_seed_loads_and_reload_it(trained_repo: Path):
    assert _column_types(trained_repo, "sample_data")["x_0"] == "DOUBLE"
    settings = trained_repo / "modelyard.yaml"
    settings.write_text(settings.read_text() + "seeds:\n  sample_data:\n    column_types: {x_0: VARCHAR}\n")
    result = cli("run", MODEL, cwd=trained_repo)
    # the trainer gets text now and fails; what matters is the seed was reloaded with the option
    assert _column_types(trained_repo, "sample_data")["x_0"] == "VARCHAR", result


def test_null_strings_read_a_stray_value_as_missing(model_repo: Path):
    csv = model_repo / "data" / "sample_data.csv"
    csv.write_text(csv.read_text().replace("2024-01-02,1.290367,", "2024-01-02,n/a,"))
    assert cli("validate", cwd=model_repo).returncode == 1
    settings = model_repo / "modelyard.yaml"
    settings.write_text(settings.read_text() + 'seeds:\n  sample_data:\n    null_strings: ["n/a"]\n')
    assert cli("validate", cwd=model_repo).returncode == 0
    cli("run", MODEL, cwd=model_repo)
    con = duckdb.connect(str(model_repo / ".modelyard" / "warehouse.duckdb"), read_only=True)
    nulls = con.execute("SELECT count(*) FROM sample_data WHERE x_0 IS NULL").fetchone()[0]
    kind = con.execute("SELECT typeof(x_0) FROM sample_data LIMIT 1").fetchone()[0]
    con.close()
    assert (nulls, kind) == (1, "DOUBLE")


def test_a_zero_row_extract_stops_before_train_unless_allowed(model_repo: Path):
    sql = model_repo / "extracts" / "training_data.sql"
    sql.write_text(sql.read_text().replace("ORDER BY date, x_0", "WHERE x_0 > 100\nORDER BY date, x_0"))
    result = cli("run", MODEL, cwd=model_repo)
    assert result.returncode == 1 and "returned 0 rows" in result.stderr, result
    assert "node 'extract__extract_inputs__training_data' failed" in result.stderr, result
    extract = model_repo / "extracts" / "extract_inputs.yaml"
    extract.write_text(extract.read_text().replace("  operator: sql\n", "  operator: sql\n  allow_empty: true\n"))
    result = cli("run", MODEL, cwd=model_repo)
    # now the empty frame goes on, and the model file's held-out evaluation is what refuses it
    assert "returned 0 rows" not in result.stderr, result
    assert "evaluation: dataset 'df' has 0 row(s); a held-out split needs at least 2" in result.stderr, result


def test_validate_binds_sql_while_a_run_holds_the_warehouse_lock(trained_repo: Path):
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import duckdb, sys, time; con = duckdb.connect(sys.argv[1]); print('ready', flush=True); time.sleep(60)",
            str(trained_repo / ".modelyard" / "warehouse.duckdb"),
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout.readline().strip() == "ready"
        sql = trained_repo / "extracts" / "training_data.sql"
        sql.write_text(sql.read_text().replace("x_2, y", "x_2, yy"))
        result = cli("validate", "--format", "json", cwd=trained_repo, timeout=30)
    finally:
        holder.kill()
        holder.wait()
    rules = [(d["rule"], d["path"], d["line"], d["col"]) for d in result.json()["diagnostics"]]
    assert rules == [("sql-binding", "extracts/training_data.sql", 3, 29)], result


def test_duckdb_is_imported_only_with_sql_to_bind(model_repo: Path):
    probe = (
        "import sys; from pathlib import Path; from modelyard.validate.project import collect_project; "
        "collect_project(Path(sys.argv[1])); print(json.dumps('duckdb' in sys.modules))"
    )
    env = {**os.environ}
    with_sql = subprocess.run(
        [sys.executable, "-c", "import json; " + probe, str(model_repo)], env=env, capture_output=True, text=True
    )
    assert json.loads(with_sql.stdout) is True, with_sql
    for sql in (model_repo / "extracts").glob("*.sql"):  # the template's scoring extracts bind SQL too
        sql.write_text("SELECT 1 AS x LIMIT {{ limit }}\n{% if %}")  # a template error
    without = subprocess.run(
        [sys.executable, "-c", "import json; " + probe, str(model_repo)], env=env, capture_output=True, text=True
    )
    assert json.loads(without.stdout) is False, without
