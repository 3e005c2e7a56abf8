"""checks/sql.py, checks/seeds.py and checks/cache.py in process: extract SQL bound in an
in-memory DuckDB against seed files the tests write (a tenth of a second each); every message,
rule and position written out (DuckDB's own messages as DuckDB words them, as in tests/cases/)."""

from __future__ import annotations

import dataclasses
import json

import pytest

from modelyard.checks.cache import BindingCache
from modelyard.checks.sql import check_sql
from modelyard.errors import Diagnostic, Position

SEED = "day,x\n2024-01-01,1.5\n2024-01-02,2.5\n"


def problem(path: str, line: int, col: int, rule: str, message: str, severity: str = "error") -> Diagnostic:
    return Diagnostic(Position(path, line, col), severity, rule, message)


@pytest.fixture
def repo(load_repo, model_yaml):
    """``repo(files)``: ``load_repo`` of a seed, ``extracts/rows.sql`` reading it and ``model_yaml()``
    reading that extract, ``files`` written over them."""

    def load(files: dict[str, str] | None = None):
        defaults = {
            "data/seed.csv": SEED,
            "extracts/rows.sql": "select day, x from seed\n",
            "models/m.yaml": model_yaml(),
        }
        return load_repo({**defaults, **(files or {})})

    return load


def check(repo, sql: str = "select day, x from seed\n", files: dict[str, str] | None = None) -> list[Diagnostic]:
    return list(check_sql(repo({"extracts/rows.sql": sql, **(files or {})})))


def test_sql_that_binds_against_the_seeds_passes(repo):
    assert check(repo) == []


def test_a_column_typo_is_placed_at_its_line_and_column(repo):
    assert check(repo, "select day,\n  xx\nfrom seed\n") == [
        problem(
            "extracts/rows.sql",
            2,
            3,
            "sql-binding",
            'Binder Error: Referenced column "xx" not found in FROM clause! Candidate bindings: "x" (extract rows)',
        )
    ]


def test_a_syntax_error(repo):
    assert check(repo, "select day\nform seed\n") == [
        problem(
            "extracts/rows.sql",
            2,
            6,
            "sql-syntax",
            'Parser Error: syntax error at or near "seed" (extract rows)',
        )
    ]


CHAIN = "rows:\n  operator: sql\n  sql_file: rows.sql\nrecent:\n  operator: sql\n  sql_file: recent.sql\n"


def test_an_extract_binds_against_the_columns_of_the_extract_it_reads(repo):
    recent = "select day, y from extracts.inputs__rows\n"
    assert check(repo, files={"extracts/inputs.yaml": CHAIN, "extracts/recent.sql": recent}) == [
        problem(
            "extracts/recent.sql",
            1,
            13,
            "sql-binding",
            'Binder Error: Referenced column "y" not found in FROM clause! Candidate bindings: "day" (extract recent)',
        )
    ]


def test_an_extract_reading_a_broken_or_unknown_table_is_not_reported_again(repo):
    broken = "select dya from seed\n"
    recent = "select * from extracts.inputs__rows\n"
    [only] = check(repo, broken, {"extracts/inputs.yaml": CHAIN, "extracts/recent.sql": recent})
    assert (only.position.path, only.rule) == ("extracts/rows.sql", "sql-binding")
    unknown = "select nothing from extracts.inputs__nope\n"
    assert check(repo, files={"extracts/inputs.yaml": CHAIN, "extracts/recent.sql": unknown}) == []


def test_two_extracts_of_one_table_are_not_bound_nor_what_reads_it(repo):
    # extracts/inputs.yaml and extracts/more/inputs.yaml both make extracts.inputs__rows: a duplicate-name
    files = {
        "extracts/more/inputs.yaml": "rows:\n  operator: sql\n  sql_file: typo.sql\n",
        "extracts/more/typo.sql": "select dya from seed\n",
        # bound first (its file sorts first): it asks for the table before the duplicates are seen
        "extracts/first.yaml": "z:\n  operator: sql\n  sql_file: z.sql\n",
        "extracts/z.sql": "select * from extracts.inputs__rows\n",
    }
    assert check(repo, files=files) == []


def test_sql_that_cannot_render_is_left_to_the_other_checks(repo):
    assert check(repo, "select {{ undefined }} from seed\n") == []
    assert check(repo, "select {% if %} from seed\n") == []
    gone = "rows:\n  operator: sql\n  sql_file: gone.sql\n"
    outside = "rows:\n  operator: sql\n  sql_file: ../../outside.sql\n"
    assert check(repo, files={"extracts/inputs.yaml": gone}) == []
    assert check(repo, files={"extracts/inputs.yaml": outside}) == []


def test_sql_that_is_not_utf8_is_left_to_the_other_checks(repo, tmp_path):
    project = repo()
    (tmp_path / "extracts/rows.sql").write_bytes(b"select '\xff' as x\n")
    assert list(check_sql(project)) == []


def test_a_kwarg_of_the_wrong_shape_is_a_template_error(repo):
    extracts = "rows:\n  operator: sql\n  sql_file: rows.sql\n  kwargs:\n    cfg: 3\n"
    assert check(repo, "select {{ cfg.x }} as x\n", {"extracts/inputs.yaml": extracts}) == [
        problem(
            "extracts/rows.sql",
            1,
            0,
            "sql-template",
            "SQL template: 'int object' has no attribute 'x' (kwargs: extracts/inputs.yaml:4:3)",
        )
    ]


def test_sql_for_another_engine_is_not_bound_and_the_seeds_are_checked_without_duckdb(repo):
    settings = "state_dir: .modelyard\ntarget: prod\ntargets:\n  prod:\n    warehouse: {type: postgres, dbname: d}\n"
    assert check(repo, "select dya from seed\n", {"modelyard.yaml": settings, "data/empty.csv": ""}) == [
        problem(
            "data/empty.csv",
            0,
            0,
            "seed-empty",
            "data/empty.csv is empty (0 bytes): table empty would have no columns and no rows",
            "warning",
        )
    ]


def test_sql_for_an_unknown_target_is_neither_rendered_nor_bound(repo):
    # `unknown-target` is reported when the settings are read; the binding does not guess an engine,
    # and SQL that reads the target is not rendered for one (no second error about the same target)
    def check_for_unknown_target(sql: str, files: dict[str, str] | None = None) -> list[Diagnostic]:
        project = repo({"extracts/rows.sql": sql, **(files or {})})
        settings = dataclasses.replace(project.settings, default_target="nope")
        return list(check_sql(dataclasses.replace(project, settings=settings)))

    assert check_for_unknown_target("select dya from seed\n") == []
    assert check_for_unknown_target("select dya from seed -- on {{ target.name }}\n") == []
    # the extracts after one left unrendered are still rendered; a kwarg named target is the user's own
    extracts = "a:\n  operator: sql\n  sql_file: a.sql\nrows:\n  operator: sql\n  sql_file: rows.sql\n"
    extracts += "  kwargs:\n    target: 3\n"
    a = "select 1 -- on {{ target.name }}\n"
    [problem] = check_for_unknown_target(
        "select {{ target.x }}\n", {"extracts/inputs.yaml": extracts, "extracts/a.sql": a}
    )
    assert (problem.position, problem.rule) == (Position("extracts/rows.sql", 1, 0), "sql-template")


def test_sql_reading_exactly_its_kwargs_and_the_target_is_bound(repo):
    extracts = "rows:\n  operator: sql\n  sql_file: rows.sql\n  kwargs:\n    n: 1\n"
    sql = "select {{ n }} as n, '{{ target.type }}' as t, dya from seed\n"
    [typo] = check(repo, sql, {"extracts/inputs.yaml": extracts})
    assert (typo.position, typo.rule) == (Position("extracts/rows.sql", 1, 48), "sql-binding")


SKIPPED = """\
a:
  operator: sql
  sql_file: a.sql
b:
  operator: sql
  sql_file: gone.sql
c:
  operator: sql
  sql_file: c.sql
d:
  operator: sql
  sql_file: {outside}
e:
  operator: sql
  sql_file: e.sql
f:
  operator: sql
  sql_file: f.sql
"""
READS_A_AND_E = """\
    - train_param_name: df
      file: skipped.yaml
      file_param_name: e
    - train_param_name: other
      file: skipped.yaml
      file_param_name: a
"""


def test_extracts_the_other_checks_report_are_skipped_and_the_rest_checked(repo, model_yaml, tmp_path_factory):
    outside = tmp_path_factory.mktemp("outside") / "typo.sql"
    outside.write_text("select dya from seed\n")  # bound if it were read: a binding error
    files = {
        "extracts/skipped.yaml": SKIPPED.format(outside=f"../../{outside.parent.name}/typo.sql"),
        "extracts/a.sql": "select {{ undefined }} from seed\n",
        "extracts/c.sql": "select {% if %} from seed\n",
        "extracts/e.sql": "select * from hollow\n",
        "extracts/f.sql": "select dya from seed\n",
        "data/hollow.csv": "day,x\n",
        # the model reads e (whose seed is header-only: an error) after a, which does not render
        "models/m.yaml": model_yaml().split("    - train_param_name")[0] + READS_A_AND_E,
    }
    project = repo(files)
    assert (
        not (project.root / "extracts" / f"../../{outside.parent.name}/typo.sql").resolve().is_relative_to(project.root)
    )
    assert [(d.position.path, d.severity, d.rule) for d in check_sql(project)] == [
        ("data/hollow.csv", "error", "seed-empty"),
        ("extracts/f.sql", "error", "sql-binding"),
    ]


THREE = "a:\n  operator: sql\n  sql_file: a.sql\nb:\n  operator: sql\n  sql_file: b.sql\n"
THREE += "c:\n  operator: sql\n  sql_file: c.sql\n"


def test_an_extract_whose_upstream_did_not_bind_is_not_bound(repo):
    # a reads b reads c: bound c first, then b, then a; c fails (a typo, or a header-only seed)
    files = {
        "extracts/chain.yaml": THREE,
        "extracts/a.sql": "select * from extracts.chain__b\n",
        "extracts/b.sql": "select * from extracts.chain__c\n",
    }
    typo = check(repo, files={**files, "extracts/c.sql": "select dya from seed\n"})
    assert [(d.position.path, d.rule) for d in typo] == [("extracts/c.sql", "sql-binding")]
    hollow = check(repo, files={**files, "extracts/c.sql": "select * from hollow\n", "data/hollow.csv": "day,x\n"})
    assert [(d.position.path, d.rule) for d in hollow] == [("data/hollow.csv", "seed-empty")]


def test_an_extract_read_after_it_was_bound_and_in_another_case(repo):
    z = "z:\n  operator: sql\n  sql_file: z.sql\n"
    files = {"extracts/inputs.yaml": "rows:\n  operator: sql\n  sql_file: rows.sql\n" + z}
    [typo] = check(repo, files={**files, "extracts/z.sql": "select dya from extracts.INPUTS__ROWS\n"})
    assert (typo.position, typo.rule) == (Position("extracts/z.sql", 1, 8), "sql-binding")


def test_extracts_reading_each_other_are_left_to_the_cycle_check(repo):
    files = {
        "extracts/cycle.yaml": "a:\n  operator: sql\n  sql_file: a.sql\nb:\n  operator: sql\n  sql_file: b.sql\n",
        "extracts/a.sql": "select * from extracts.cycle__b\n",
        "extracts/b.sql": "select * from extracts.cycle__a\n",
    }
    assert check(repo, files=files) == []


def test_an_error_duckdb_places_nowhere_is_at_the_sql_file(repo):
    [error] = check(repo, "select day from seed\nunion\nselect day, x from seed\n")
    assert (error.position, error.rule) == (Position("extracts/rows.sql", 0, 0), "sql-binding")
    assert error.message.startswith("Binder Error: Set operations can only apply to expressions with the same number")


def test_two_seed_files_of_one_table_stop_the_binding(repo):
    assert check(repo, "select dya from seed\n", {"data/Seed.parquet": "not read"}) == [
        problem(
            "data/seed.csv",
            0,
            0,
            "duplicate-name",
            "data/Seed.parquet and data/seed.csv would both be warehouse table 'Seed'; keep one of them, or rename "
            "one (the file name is the table name)",
        )
    ]


def test_options_for_a_seed_no_file_provides(repo):
    settings = "state_dir: .modelyard\nseeds:\n  sede:\n    delimiter: ','\n"
    assert check(repo, files={"modelyard.yaml": settings}) == [
        problem(
            "modelyard.yaml",
            3,
            3,
            "unknown-seed",
            "seeds.sede: no seed file sede.csv or sede.parquet in data/; did you mean 'seed'?",
        )
    ]


SIDE = "rows:\n  operator: sql\n  sql_file: rows.sql\nside:\n  operator: sql\n  sql_file: side.sql\n"


def test_empty_seeds_are_errors_where_a_model_reads_them_and_warnings_elsewhere(repo):
    # `rows` (read by the model) reads `seed` through main.; `side` (read by no model) reads `other`
    files = {
        "extracts/inputs.yaml": SIDE,
        "extracts/side.sql": "select * from other\n",
        "data/seed.csv": "day,x\n\n",
        "data/other.csv": "",
    }
    assert check(repo, "select * from main.seed\n", files) == [
        problem(
            "data/other.csv",
            0,
            0,
            "seed-empty",
            "data/other.csv is empty (0 bytes): table other would have no columns and no rows",
            "warning",
        ),
        problem(
            "data/seed.csv",
            1,
            0,
            "seed-empty",
            "data/seed.csv has a header but no rows: table seed would be empty (and its columns typed as text)",
        ),
    ]


def test_a_stray_text_value_in_a_number_column(repo):
    seed = SEED + "2024-01-03,n/a\n"
    assert check(repo, files={"data/seed.csv": seed}) == [
        problem(
            "data/seed.csv",
            4,
            0,
            "seed-mixed-type",
            "column 'x' looks numeric but loads as text: 'n/a' (line 4) is not a number; fix the value, or set "
            'seeds: {seed: {null_strings: ["n/a"]}} or column_types in modelyard.yaml',
        )
    ]
    # as many text values as numbers: a text column, not a typo
    assert check(repo, files={"data/seed.csv": seed + "2024-01-04,none\n"}) == []


def test_a_seed_duckdb_cannot_read_and_the_seeds_after_it(repo, tmp_path):
    project = repo({"extracts/rows.sql": "select * from seed\n", "data/z.csv": SEED + "2024-01-03,n/a\n"})
    (tmp_path / "data/seed.csv").write_bytes(b"day,x\n2024-01-01,\xff\xfe\n")
    unreadable, mixed = check_sql(project)
    assert (mixed.position, mixed.rule) == (Position("data/z.csv", 4), "seed-mixed-type")
    assert (unreadable.position, unreadable.severity, unreadable.rule) == (
        Position("data/seed.csv"),
        "error",
        "seed-unreadable",
    )
    assert unreadable.message.startswith("DuckDB cannot read data/seed.csv: Invalid Input Error: ")


def test_options_duckdb_refuses_are_reported_at_the_options(repo):
    settings = "state_dir: .modelyard\nseeds:\n  seed:\n    column_types: {x: DUBLE}\n"
    # DuckDB's wording of an unknown type varies with its version: the start of the message is ours
    [refused] = check(repo, files={"modelyard.yaml": settings})
    assert (refused.position, refused.severity, refused.rule) == (
        Position("modelyard.yaml", 3, 3),
        "error",
        "seed-options",
    )
    assert refused.message.startswith("seeds.seed: DuckDB cannot read data/seed.csv with these options: ")


TYPO = problem(
    "extracts/rows.sql",
    1,
    8,
    "sql-binding",
    'Binder Error: Referenced column "dya" not found in FROM clause! Candidate bindings: "day" (extract rows)',
)


def test_the_binding_is_kept_until_what_it_depends_on_changes(repo, model_yaml, tmp_path):
    from modelyard.repo.project import read_project

    assert list(check_sql(repo({"extracts/rows.sql": "select dya from seed\n"}))) == [TYPO]
    cache = tmp_path / ".modelyard/cache/sql-binding.json"
    assert json.loads(cache.read_text())["diagnostics"] == [
        {
            "position": ["extracts/rows.sql", 1, 8],
            "severity": "error",
            "rule": "sql-binding",
            "message": TYPO.message,
        }
    ]
    settings = "state_dir: .modelyard\nseeds:\n  seed:\n    delimiter: ','\n"
    twice = model_yaml() + "    - train_param_name: again\n      file: inputs.yaml\n      file_param_name: rows\n"
    # each file below, changed alone, is another key: bound again
    for path, text in (
        ("data/seed.csv", SEED + "2024-01-03,3.5\n"),
        ("modelyard.yaml", settings),
        ("models/m.yaml", twice),
    ):
        # an answer planted under the current key is what the next check gives: it did not bind again
        kept = json.loads(cache.read_text())
        kept["diagnostics"][0]["message"] = "kept"
        cache.write_text(json.dumps(kept))
        assert [d.message for d in check_sql(read_project(tmp_path)[0])] == ["kept"]
        (tmp_path / path).write_text(text)
        assert list(check_sql(read_project(tmp_path)[0])) == [TYPO], path


def test_a_cache_that_cannot_be_read_or_written_means_checking_again(tmp_path):
    cache = BindingCache(tmp_path, "key")
    assert cache.read() is None  # no file yet
    cache.write([TYPO])
    assert cache.read() == [TYPO]
    assert BindingCache(tmp_path, "other key").read() is None
    for broken in ("not json", "[]", '{"key": "key"}', '{"key": "key", "diagnostics": [{"position": 3}]}'):
        cache.path.write_text(broken)
        assert cache.read() is None, broken
    (tmp_path / "file").write_text("")
    BindingCache(tmp_path / "file", "key").write([TYPO])  # a state folder that is a file: no cache, no error


def test_a_seed_too_broken_to_type_is_not_bound_against_and_the_next_seed_is_still_checked(repo):
    # a header-only Broken.csv would type `x` as text, and `x + 1` would then fail to bind: noise
    files = {"data/Broken.csv": "day,x\n", "data/z.csv": SEED + "2024-01-03,n/a\n"}
    found = check(repo, "select x + 1 as y from broken\n", files)
    assert [(d.position.path, d.rule) for d in found] == [
        ("data/Broken.csv", "seed-empty"),
        ("data/z.csv", "seed-mixed-type"),
    ]


def test_a_seed_is_checked_for_text_values_with_its_options(repo):
    settings = "state_dir: .modelyard\nseeds:\n  seed:\n    column_types: {x: VARCHAR}\n    null_strings: [n/a]\n"
    # x is text by the user's choice, and n/a its null: no value is out of place
    assert check(repo, files={"modelyard.yaml": settings, "data/seed.csv": SEED + "2024-01-03,n/a\n"}) == []


def test_a_header_only_seed_is_reported_once_even_if_duckdb_cannot_read_it(repo, tmp_path):
    project = repo()
    (tmp_path / "data/seed.csv").write_bytes(b"day,\xff\n")
    assert [(d.position.path, d.rule) for d in check_sql(project)] == [("data/seed.csv", "seed-empty")]
