"""Checks of file references, in process, on repos the tests write: SQL files of extracts, model
dependencies, a tuning file's model and the editor schemas' copies; every message, rule and
position written out (lines and columns counted in the YAML below)."""

from __future__ import annotations

from modelyard.checks import references
from modelyard.errors import Diagnostic, Position


def error(path, line, col, rule, message):
    return Diagnostic(Position(path, line, col), "error", rule, message)


def warning(path, line, col, rule, message):
    return Diagnostic(Position(path, line, col), "warning", rule, message)


def extract(name: str, sql_file: str, kwargs: str = "") -> str:
    return f"{name}:\n  operator: sql\n  sql_file: {sql_file}\n" + (f"  kwargs:\n{kwargs}" if kwargs else "")


def test_sql_files_that_exist_and_use_their_kwargs_pass(load_repo):
    project = load_repo(
        {
            "extracts/a.yaml": extract("a", "a.sql", "    limit: 5\n"),
            "extracts/a.sql": "select * from t where target = '{{ target }}' limit {{ limit }}\n",
        }
    )
    assert list(references.check_extract_files(project)) == []


def test_sql_files_outside_the_repo_or_missing(load_repo):
    project = load_repo(
        {
            "extracts/a.yaml": extract("up", "../../up.sql") + extract("gone", "gone.sql"),
            "extracts/b.yaml": extract("root", "/etc/passwd"),
        }
    )
    assert list(references.check_extract_files(project)) == [
        error(
            "extracts/a.yaml",
            3,
            13,
            "path-escape",
            "up.sql_file: '../../up.sql' points outside the repo; name a file next to the extract file",
        ),
        error("extracts/a.yaml", 6, 13, "missing-file", "gone.sql_file: extracts/gone.sql does not exist"),
        error(
            "extracts/b.yaml",
            3,
            13,
            "path-escape",
            "root.sql_file: '/etc/passwd' points outside the repo; name a file next to the extract file",
        ),
    ]


def test_sql_files_that_are_not_text_or_not_a_template(load_repo, tmp_path):
    project = load_repo(
        {
            "extracts/a.yaml": extract("latin", "latin.sql") + extract("broken", "broken.sql"),
            "extracts/broken.sql": "select 1\n{% if %}\n",
            "extracts/z.yaml": extract("z", "z.sql"),
            "extracts/z.sql": "select {{ col }}\n",
        }
    )
    (tmp_path / "extracts/latin.sql").write_bytes(b"select '\xe9'\n")
    assert list(references.check_extract_files(project)) == [
        error("extracts/latin.sql", 0, 0, "file-encoding", "SQL file is not valid UTF-8 text"),
        error(
            "extracts/broken.sql",
            2,
            0,
            "sql-template",
            "SQL template syntax error: Expected an expression, got 'end of statement block'",
        ),
        error(
            "extracts/z.sql",
            1,
            11,
            "sql-undefined-variable",
            "{{ col }} is not defined: the kwargs of z (extracts/z.yaml:1:1) do not define 'col'",
        ),
    ]


def test_undefined_variables_and_unused_kwargs(load_repo):
    project = load_repo(
        {
            "extracts/a.yaml": extract("a", "a.sql", "    limitt: 5\n    unused: 1\n"),
            "extracts/a.sql": "select {{ b }}\nfrom t\nlimit {{ limit }}\n",
        }
    )
    assert list(references.check_extract_files(project)) == [
        error(
            "extracts/a.sql",
            1,
            11,
            "sql-undefined-variable",
            "{{ b }} is not defined: the kwargs of a (extracts/a.yaml:4:3) do not define 'b'",
        ),
        error(
            "extracts/a.sql",
            3,
            10,
            "sql-undefined-variable",
            "{{ limit }} is not defined: the kwargs of a (extracts/a.yaml:4:3) do not define 'limit'; "
            "did you mean 'limitt'?",
        ),
        warning("extracts/a.yaml", 5, 5, "sql-unused-kwarg", "a.kwargs.limitt is not used by extracts/a.sql"),
        warning("extracts/a.yaml", 6, 5, "sql-unused-kwarg", "a.kwargs.unused is not used by extracts/a.sql"),
    ]


DEPENDENCIES = """\
model_name: m
model_description: d
tags:
  canonical_name: m
model_trainer: linear.Trainer
dependencies:
  data:
"""


def dependency(param: str, file: str, dataset: str = "rows") -> str:
    return f"    - train_param_name: {param}\n      file: {file}\n      file_param_name: {dataset}\n"


def test_dependencies_that_exist_pass(load_repo):
    project = load_repo({"models/m.yaml": DEPENDENCIES + dependency("df", "inputs.yaml")})
    assert list(references.check_model_dependencies(project)) == []


def test_dependencies_mapped_twice_outside_missing_or_without_the_dataset(load_repo):
    text = (
        DEPENDENCIES
        + dependency("df", "../../up.yaml")
        + dependency("df", "input.yaml")
        + dependency("other", "two.yaml", "row")
        + dependency("sql", "rows.sql")  # a file, but no extract file: nothing more to say here
        + dependency("abs", "/etc/x.yaml")
    )
    two = "rows:\n  operator: sql\n  sql_file: rows.sql\nmore:\n  operator: sql\n  sql_file: rows.sql\n"
    project = load_repo({"models/m.yaml": text, "extracts/two.yaml": two})
    where = "models/m.yaml"
    assert list(references.check_model_dependencies(project)) == [
        error(
            where,
            9,
            13,
            "path-escape",
            "dependencies.data[0].file: '../../up.yaml' points outside extracts/; name a file in extracts/",
        ),
        error(where, 11, 25, "duplicate-param", "train_param_name 'df' is mapped twice"),
        error(
            where,
            12,
            13,
            "missing-file",
            "dependencies.data[1].file: extracts/input.yaml does not exist; did you mean 'inputs.yaml'?",
        ),
        error(
            where,
            16,
            24,
            "unknown-dataset",
            "dependencies.data[2].file_param_name: extracts/two.yaml has no dataset 'row'; did you mean 'rows'? "
            "(it has: rows, more)",
        ),
        error(
            where,
            21,
            13,
            "path-escape",
            "dependencies.data[4].file: '/etc/x.yaml' points outside extracts/; name a file in extracts/",
        ),
    ]


def test_a_missing_dependency_with_nothing_close(load_repo):
    project = load_repo({"models/m.yaml": DEPENDENCIES + dependency("df", "zzz.yaml")})
    assert [d.message for d in references.check_model_dependencies(project)] == [
        "dependencies.data[0].file: extracts/zzz.yaml does not exist"
    ]


def test_the_tuning_files_model(load_repo, model_yaml):
    tuning = "model: {}\ntuning_type: grid\nparam_boundaries:\n  x: [1, 2, 1]\n"
    project = load_repo(
        {
            "models/m.yaml": model_yaml(),
            "tuning/a.yaml": tuning.format("m.yaml"),
            "tuning/b.yaml": tuning.format("../../m.yaml"),
            "tuning/c.yaml": tuning.format("n.yaml"),
            "tuning/d.yaml": tuning.format("/m.yaml"),
            "tuning/e.yaml": tuning.format("completely_different_name.yaml"),
        }
    )
    assert list(references.check_tuning_model(project)) == [
        error("tuning/b.yaml", 1, 8, "path-escape", "model: '../../m.yaml' points outside models/"),
        error("tuning/c.yaml", 1, 8, "missing-file", "model: models/n.yaml does not exist; did you mean 'm.yaml'?"),
        error("tuning/d.yaml", 1, 8, "path-escape", "model: '/m.yaml' points outside models/"),
        error("tuning/e.yaml", 1, 8, "missing-file", "model: models/completely_different_name.yaml does not exist"),
    ]


def test_editor_schema_copies_that_differ_or_are_missing(load_repo, tmp_path):
    from modelyard.repo.schemas import SCHEMA_FILES, schema_text

    project = load_repo({})
    assert list(references.check_editor_schemas(project)) == []
    (tmp_path / ".schemas").mkdir()
    for kind, name in SCHEMA_FILES.items():
        (tmp_path / ".schemas" / name).write_text(schema_text(kind), encoding="utf-8")
    assert list(references.check_editor_schemas(project)) == []
    (tmp_path / ".schemas/model.schema.json").write_text("{}", encoding="utf-8")
    (tmp_path / ".schemas/tuning.schema.json").unlink()
    advice = "differs from this modelyard's schema; run `modelyard schemas` to refresh it"
    assert sorted(references.check_editor_schemas(project)) == [
        warning(".schemas/model.schema.json", 0, 0, "stale-schema", f".schemas/model.schema.json {advice}"),
        warning(".schemas/tuning.schema.json", 0, 0, "stale-schema", f".schemas/tuning.schema.json {advice}"),
    ]
