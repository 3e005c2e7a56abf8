"""`modelyard validate`: output format, exit status, path selection, and staying light to import."""

from __future__ import annotations

import os
import subprocess
import sys

from conftest import cli


def test_template_repo_is_clean(model_repo):
    result = cli("validate", cwd=model_repo)
    assert result.returncode == 0, result
    assert result.stdout == "0 errors, 0 warnings in 15 files\n"


def _break_two_files(repo):
    model = repo / "models" / "model_linear_regression.yaml"
    model.write_text(
        model.read_text()
        .replace("fit_intercept: False", "fit_intercept: yes")
        .replace("target_label: y", "target_labell: y")
    )
    extract = repo / "extracts" / "extract_inputs.yaml"
    extract.write_text(extract.read_text() + "    unused: 1\n")


def test_text_output_is_sorted_compiler_style_with_summary(model_repo):
    _break_two_files(model_repo)
    result = cli("validate", cwd=model_repo)
    assert result.returncode == 1, result
    lines = result.stdout.splitlines()
    assert lines[:-1] == [
        "extracts/extract_inputs.yaml:10:5: warning[sql-unused-kwarg]: training_data.kwargs.unused is not used "
        "by extracts/training_data.sql",
        "models/model_linear_regression.yaml:9:18: error[arg-type]: constructor_args.fit_intercept: expected bool "
        "(trainers/sklearn/sklearn_linear.py:35), got string 'yes'",
        "models/model_linear_regression.yaml:14:3: error[unknown-arg]: constructor_args.target_labell: "
        "SKLearnLinearRegressionTrainer has no field 'target_labell'; did you mean 'target_label'?",
    ]
    assert lines[-1] == "2 errors, 1 warning in 15 files"
    assert result.stderr == ""


def test_warnings_alone_exit_zero(model_repo):
    extract = model_repo / "extracts" / "extract_inputs.yaml"
    extract.write_text(extract.read_text() + "    unused: 1\n")
    result = cli("validate", cwd=model_repo)
    assert result.returncode == 0, result
    assert result.stdout.endswith("0 errors, 1 warning in 15 files\n")


def test_json_format(model_repo):
    _break_two_files(model_repo)
    result = cli("validate", "--format", "json", cwd=model_repo)
    assert result.returncode == 1
    report = result.json()
    assert report["summary"] == {"errors": 2, "warnings": 1, "files": 15}
    assert report["diagnostics"][1] == {
        "path": "models/model_linear_regression.yaml",
        "line": 9,
        "col": 18,
        "severity": "error",
        "rule": "arg-type",
        "message": "constructor_args.fit_intercept: expected bool "
        "(trainers/sklearn/sklearn_linear.py:35), got string 'yes'",
    }


def test_paths_narrow_to_what_they_reference_or_what_references_them(model_repo):
    _break_two_files(model_repo)
    # the tuning file references the elastic net model only: the broken linear model is out of scope
    result = cli("validate", "tuning/tune_elastic_net.yaml", cwd=model_repo)
    assert result.returncode == 0, result
    assert (
        "models/model_elastic_net.yaml"
        in cli("validate", "--format", "json", "tuning/tune_elastic_net.yaml", cwd=model_repo).json()["files"]
    )
    # the SQL file is referenced by the extract file, which both models reference
    result = cli("validate", "extracts/training_data.sql", cwd=model_repo)
    assert result.returncode == 1
    assert "error[unknown-arg]" in result.stdout and "warning[sql-unused-kwarg]" in result.stdout
    # the trainer is referenced by both models (and, through the elastic net, by the tuning file)
    files = cli("validate", "--format", "json", "trainers/sklearn/sklearn_linear.py", cwd=model_repo).json()["files"]
    assert "tuning/tune_elastic_net.yaml" in files and "models/model_linear_regression.yaml" in files


def test_paths_outside_known_folders_are_ignored_quietly(model_repo):
    (model_repo / "README.md").write_text("# hello\n")
    result = cli("validate", "README.md", "data/sample_data.csv", "/etc/hostname", cwd=model_repo)
    assert result.returncode == 0, result
    assert result.stdout == "0 errors, 0 warnings in 0 files\n"


def test_a_missing_path_in_a_known_folder_is_an_error(model_repo):
    result = cli("validate", "models/nope.yaml", cwd=model_repo)
    assert result.returncode == 1
    assert "models/nope.yaml: error[missing-file]: models/nope.yaml: no such file" in result.stdout


def test_a_yaml_file_symlinked_from_outside_the_repo_is_a_path_escape(model_repo, tmp_path):
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    links = {
        "models/borrowed.yaml": "models/model_elastic_net.yaml",
        "extracts/borrowed.yaml": "extracts/extract_inputs.yaml",
        "tuning/borrowed.yaml": "tuning/tune_elastic_net.yaml",
    }
    for link, original in links.items():
        target = elsewhere / link.replace("/", "_")
        target.write_text((model_repo / original).read_text())
        (model_repo / link).symlink_to(target)
    (model_repo / "models" / "alias.yaml").symlink_to("model_elastic_net.yaml")  # inside the repo: fine
    result = cli("validate", "--format", "json", cwd=model_repo)
    assert result.returncode == 1, result
    escapes = [d for d in result.json()["diagnostics"] if d["rule"] == "path-escape"]
    assert sorted(d["path"] for d in escapes) == sorted(links)
    assert all("outside the repo" in d["message"] and str(elsewhere) in d["message"] for d in escapes)
    assert "Traceback" not in result.stderr
    text = cli("validate", "models/borrowed.yaml", cwd=model_repo)
    assert (
        text.returncode == 1
        and "models/borrowed.yaml: error[path-escape]: models/borrowed.yaml is a symlink" in text.stdout
    )


def test_validate_imports_nothing_heavy(model_repo):
    """A pre-commit hook must start fast: no pandas, sklearn, rich, jinja2 or trainer module; no DuckDB
    while nothing the SQL check reads changed, and no jsonschema while no YAML file changed."""
    code = (
        "import sys\n"
        "from modelyard.cli import main\n"
        "code = main(['validate'])\n"
        "heavy = sorted({m.split('.')[0] for m in sys.modules} & {'pandas', 'sklearn', 'duckdb', 'numpy', 'rich',"
        " 'jinja2', 'pyarrow', 'cloudpickle', 'git', 'modelyard_user_trainers', 'jsonschema'})\n"
        "print(heavy, code)\n"
    )

    def imports() -> str:
        proc = subprocess.run(
            [sys.executable, "-c", code],
            cwd=model_repo,
            capture_output=True,
            text=True,
            env={**os.environ},
            timeout=120,
        )
        assert proc.returncode == 0 or "error" in proc.stdout, proc.stderr
        return proc.stdout.splitlines()[-1]

    # the first validate binds the extracts' SQL in DuckDB and checks every file's schema; later
    # ones of an unchanged repo reuse both answers; a changed SQL file binds again, a changed YAML
    # file is checked again
    assert imports() == "['duckdb', 'jsonschema'] 0"
    assert imports() == "[] 0"
    sql = model_repo / "extracts" / "training_data.sql"
    sql.write_text(sql.read_text() + "\n")
    assert imports() == "['duckdb'] 0"
    model = model_repo / "models" / "model_elastic_net.yaml"
    model.write_text(model.read_text().replace("max_iter: 100", "max_iter: 200"))
    assert imports() == "['jsonschema'] 0"
    assert imports() == "[] 0"
    # a file known valid that breaks is checked, not taken from the cache
    model.write_text(model.read_text() + "schedul: daily\n")
    broken = imports()
    assert "'jsonschema'" in broken and broken.endswith("] 1"), broken
    assert "schedul" in cli("validate", cwd=model_repo).stdout


def test_validate_loads_no_run_time_module(model_repo):
    """validate compiles the repo, which needs the builders only: the executors, stores and the
    run folders are the run-time half and load on the first run (the SQL check binds in a DuckDB
    sandbox, so the warehouse package may load)."""
    code = (
        "import sys\n"
        "from modelyard.cli import main\n"
        "code = main(['validate'])\n"
        "run_time = ('modelyard.engine', 'modelyard.store', 'modelyard.execute')\n"
        "print(sorted(m for m in sys.modules if m.startswith(run_time) or m.startswith('modelyard.') and m.endswith('.nodes')), code)\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], cwd=model_repo, capture_output=True, text=True, timeout=120)
    assert proc.stdout.splitlines()[-1] == "[] 0", proc.stderr


def test_yaml_pasted_without_indentation_gets_an_indent_hint(model_repo):
    """The post's model file as a web page flattens it: every nested key lands at the top level."""
    (model_repo / "models" / "model_linear_regression.yaml").write_text(
        "model_name: A regression model\n"
        "tags: # for integrating with model envelope indexing\n"
        "canonical_name: sample_regression_model_v1\n"
        "model_trainer: sklearn.sklearn_linear.SKLearnLinearRegressionTrainer\n"
        "constructor_args:\n"
        "fit_intercept: False\n"
        "dependencies:\n"
        "data:\n"
        "- train_param_name: df\n"
    )
    result = cli("validate", "models/model_linear_regression.yaml", cwd=model_repo)
    assert result.returncode == 1, result
    lines = result.stdout.splitlines()
    assert "models/model_linear_regression.yaml:2:6: error[wrong-type]: tags: expected object, got null" in lines
    assert (
        "models/model_linear_regression.yaml:3:1: error[unknown-key]: canonical_name: unknown key; "
        "to put it under 'tags' (empty at line 2), indent it"
    ) in lines
    assert any(
        line.startswith(
            "models/model_linear_regression.yaml:6:1: error[unknown-key]: fit_intercept: "
            "unknown key; to put it under 'constructor_args' (empty at line 5)"
        )
        for line in lines
    )


def test_the_sql_check_cache_never_answers_for_changed_files(model_repo):
    """The SQL binding check keeps its answer between runs; each input it depends on, changed,
    makes it check again."""
    assert cli("validate", cwd=model_repo).returncode == 0
    sql = model_repo / "extracts" / "training_data.sql"
    good = sql.read_text()
    sql.write_text(good.replace("x_2", "x_22", 1))
    typo = cli("validate", cwd=model_repo)
    assert typo.returncode == 1 and "error[sql-binding]" in typo.stdout and '"x_22"' in typo.stdout
    sql.write_text(good)
    assert cli("validate", cwd=model_repo).returncode == 0
    seed = model_repo / "data" / "sample_data.csv"
    rows = seed.read_text().splitlines()
    header = rows[0].split(",")
    renamed = rows[0].replace("x_2", "x_9", 1)
    assert "x_2" in header
    seed.write_text("\n".join([renamed, *rows[1:]]) + "\n")
    moved = cli("validate", cwd=model_repo)
    assert moved.returncode == 1 and "error[sql-binding]" in moved.stdout, moved


def test_help_imports_nothing_heavy(model_repo):
    """`modelyard --help` lists the commands without loading what they run: no YAML, JSON Schema,
    rich, pandas, DuckDB or the trainer API."""
    code = (
        "import sys\n"
        "from modelyard.cli import main\n"
        "try:\n"
        "    main(['--help'])\n"
        "except SystemExit as exit:\n"
        "    code = exit.code\n"
        "heavy = sorted({m.split('.')[0] for m in sys.modules} & {'pandas', 'sklearn', 'duckdb', 'numpy', 'rich',"
        " 'jinja2', 'yaml', 'jsonschema', 'pyarrow', 'cloudpickle'}"
        " | {m for m in sys.modules if m in ('modelyard.repo.trainers', 'modelyard.validate.files', 'importlib.metadata')})\n"
        "print(heavy, code)\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], cwd=model_repo, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert "run" in proc.stdout and "validate" in proc.stdout
    assert proc.stdout.splitlines()[-1] == "[] 0"
