"""Bad input and failures during `modelyard run`: one clear message, exit 1, nothing stored."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from conftest import cli

MODEL = "models/model_linear_regression.yaml"
TRAINER = "trainers/sklearn/sklearn_linear.py"


def _fails_cleanly(repo: Path, *args: str, expect: list[str]):
    result = cli(*(args or ("run", MODEL)), cwd=repo)
    assert result.returncode == 1, result
    assert "Traceback" not in result.stderr, result
    for text in expect:
        assert text in result.stderr, result
    assert not (repo / ".modelyard" / "models").exists() or not any(
        p for p in (repo / ".modelyard" / "models").rglob("envelope.json")
    ), "a model version was written"
    return result


def test_missing_model_file(model_repo: Path):
    _fails_cleanly(model_repo, "run", "models/nope.yaml", expect=["models/nope.yaml: no such file"])


def test_missing_extract_file(model_repo: Path):
    (model_repo / "extracts" / "extract_inputs.yaml").rename(model_repo / "extracts" / "inputs.yaml")
    _fails_cleanly(
        model_repo, expect=[f"{MODEL}:19:13: error[missing-file]", "extracts/extract_inputs.yaml does not exist"]
    )


def test_bad_yaml_reports_line(model_repo: Path):
    path = model_repo / MODEL
    path.write_text(path.read_text().replace("  fit_intercept: False", "  fit_intercept: [False"))
    _fails_cleanly(model_repo, expect=[f"{MODEL}:", "error[yaml-syntax]"])


def test_wrong_type_names_key(model_repo: Path):
    path = model_repo / MODEL
    path.write_text(path.read_text().replace("model_name: A regression model", "model_name: [1, 2]"))
    _fails_cleanly(model_repo, expect=[f"{MODEL}:2:13: error[wrong-type]: model_name: expected string"])


def test_unknown_trainer(model_repo: Path):
    path = model_repo / MODEL
    path.write_text(
        path.read_text().replace(
            "sklearn.sklearn_linear.SKLearnLinearRegressionTrainer", "sklearn.sklearn_linear.NoSuchTrainer"
        )
    )
    _fails_cleanly(model_repo, expect=["NoSuchTrainer"])


def test_unknown_trainer_module(model_repo: Path):
    path = model_repo / MODEL
    path.write_text(path.read_text().replace("sklearn.sklearn_linear.", "sklearn.nowhere."))
    _fails_cleanly(model_repo, expect=[f"{MODEL}:", "trainers/sklearn/nowhere.py"])


def test_sql_error_is_refused_before_the_run(model_repo: Path):
    (model_repo / "extracts" / "training_data.sql").write_text(
        "SELECT no_such_column FROM sample_data LIMIT {{ limit }}\n"
    )
    _fails_cleanly(
        model_repo,
        expect=[
            'extracts/training_data.sql:1:8: error[sql-binding]: Binder Error: Referenced column "no_such_column" '
            "not found in FROM clause! Candidate bindings: ",
        ],
    )


def test_sql_error_at_run_time_names_sql_file_and_extract(model_repo: Path):
    # binds fine; only the rows show the cast fails
    (model_repo / "extracts" / "training_data.sql").write_text(
        "SELECT date, x_0, x_1, x_2, y\nFROM sample_data\nWHERE CAST(date AS VARCHAR)::INT > 0\nLIMIT {{ limit }}\n"
    )
    _fails_cleanly(
        model_repo,
        expect=[
            "extract__extract_inputs__training_data",
            "extracts/training_data.sql:3:28: extract 'training_data' (extracts/extract_inputs.yaml:5): "
            "Conversion Error: Could not convert string '2024-01-01' to INT32",
        ],
    )


def test_undefined_sql_variable(model_repo: Path):
    (model_repo / "extracts" / "training_data.sql").write_text("SELECT * FROM sample_data LIMIT {{ lmit }}\n")
    _fails_cleanly(model_repo, expect=["lmit"])


def test_exception_inside_train_points_at_user_line(model_repo: Path):
    path = model_repo / TRAINER
    source = path.read_text().replace(
        "        regression_model = linear_model.LinearRegression(fit_intercept=self.fit_intercept)",
        "        raise ValueError('bad training data')",
    )
    path.write_text(source)
    line = next(i for i, text in enumerate(source.splitlines(), 1) if "bad training data" in text)
    _fails_cleanly(model_repo, expect=[f"{TRAINER}:{line}", "ValueError: bad training data", "node 'train'"])


def test_import_error_in_trainer_module(model_repo: Path):
    path = model_repo / TRAINER
    source = path.read_text().replace("import pandas as pd\n", "import pandas as pd\nimport no_such_package_xyz\n")
    path.write_text(source)
    line = source.splitlines().index("import no_such_package_xyz") + 1
    _fails_cleanly(model_repo, expect=[f"{TRAINER}:{line}", "No module named 'no_such_package_xyz'"])


def test_syntax_error_in_trainer_module(model_repo: Path):
    path = model_repo / TRAINER
    source = path.read_text().replace("def train(self, df: pd.DataFrame)", "def train(self, df: pd.DataFrame", 1)
    path.write_text(source)
    line = next(i for i, text in enumerate(source.splitlines(), 1) if "def train(self, df: pd.DataFrame ->" in text)
    _fails_cleanly(model_repo, expect=[f"{TRAINER}:{line}:", "error[trainer-syntax]", "syntax error"])


def test_train_returning_wrong_type(model_repo: Path):
    path = model_repo / TRAINER
    path.write_text(
        path.read_text().replace(
            "        return TrainedObject(\n            model,\n",
            "        return model\n        return TrainedObject(\n            model,\n",
            1,
        )
    )
    _fails_cleanly(model_repo, expect=["expected modelyard.TrainedObject"])


def test_not_a_model_repo(tmp_path: Path):
    result = cli("run", MODEL, cwd=tmp_path)
    assert result.returncode == 1 and "no modelyard.yaml" in result.stderr and "Traceback" not in result.stderr


def test_a_file_of_another_kind_is_named_as_such(model_repo: Path):
    for args, expect in (
        (("run", "tuning/tune_elastic_net.yaml"), "tuning/tune_elastic_net.yaml is not a model file"),
        (("backtest", "tuning/tune_elastic_net.yaml"), "is not a model file"),
        (("tune", MODEL), f"{MODEL} is not a tuning file"),
    ):
        _fails_cleanly(model_repo, *args, expect=[expect])


def test_unwritable_output_folder_and_missing_path(model_repo: Path):
    _fails_cleanly(model_repo, "compile", "--out", "/proc/modelyard-out", expect=["cannot write /proc/modelyard-out"])
    result = cli("validate", "no_such_file.yaml", cwd=model_repo)
    assert (
        result.returncode == 1
        and "no_such_file.yaml: error[missing-file]: no_such_file.yaml: no such file" in result.stdout
    )


def test_ui_without_its_extra_says_how_to_install_it(model_repo: Path):
    # dash is installed here; hide it the way a base install lacks it (an import finder that knows no dash)
    code = (
        "import sys\n"
        "import importlib.machinery as m\n"
        "class Hide(m.PathFinder):\n"
        "    @classmethod\n"
        "    def find_spec(cls, name, path=None, target=None):\n"
        "        if name.split('.')[0] in ('dash', 'dash_cytoscape'):\n"
        "            return None\n"
        "        return m.PathFinder.find_spec(name, path, target)\n"
        "sys.meta_path = [Hide if f is m.PathFinder else f for f in sys.meta_path]\n"
        "from modelyard.cli import main\n"
        "raise SystemExit(main(['ui']))\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], cwd=model_repo, capture_output=True, text=True)
    assert proc.returncode == 1, proc.stderr
    assert "modelyard ui needs dash and dash_cytoscape" in proc.stderr and "modelyard[ui]" in proc.stderr
    assert "Traceback" not in proc.stderr


def _break_train(repo: Path) -> int:
    path = repo / TRAINER
    source = path.read_text().replace(
        "        regression_model = linear_model.LinearRegression(fit_intercept=self.fit_intercept)",
        "        raise ValueError('bad training data')",
    )
    path.write_text(source)
    return next(i for i, text in enumerate(source.splitlines(), 1) if "bad training data" in text)


def test_failed_node_saves_its_traceback_and_says_where(model_repo: Path):
    line = _break_train(model_repo)
    result = _fails_cleanly(model_repo, expect=["node 'train' failed"])
    saved = Path(result.stderr.split("traceback: ", 1)[1].split()[0])
    assert saved.name == "error.txt" and saved.parent.name == "train", result
    assert saved.parent.parent.parent == model_repo / ".modelyard" / "runs" / "model_linear_regression"
    text = saved.read_text()
    # the trainer's own frame, hidden from the one-line message by the TrainerError that replaced it
    assert f'{TRAINER}", line {line}, in train' in text, text
    assert "raise ValueError('bad training data')" in text
    assert text.rstrip().endswith("ValueError: bad training data"), text


def test_debug_prints_the_full_traceback(model_repo: Path):
    line = _break_train(model_repo)
    for args, env in (
        (("--debug", "run", MODEL), None),
        (("run", MODEL, "--debug"), None),
        (("run", MODEL), {"MODELYARD_DEBUG": "1"}),
    ):
        result = cli(*args, cwd=model_repo, env=env)
        assert result.returncode == 1, result
        assert "Traceback (most recent call last)" in result.stderr, result
        assert f'{TRAINER}", line {line}, in train' in result.stderr, result
        # the short message still comes last
        assert result.stderr.rstrip().splitlines()[-1].startswith("  traceback: "), result
    quiet = cli("run", MODEL, cwd=model_repo, env={"MODELYARD_DEBUG": "0"})
    assert quiet.returncode == 1 and "Traceback" not in quiet.stderr, quiet


def test_an_unrelated_broken_file_is_a_warning_for_run_and_an_error_for_validate(model_repo: Path):
    other = model_repo / "models" / "model_elastic_net.yaml"
    other.write_text(other.read_text().replace("model_name: An elastic net regression model", "model_name: [1]"))
    ran = cli("run", MODEL, cwd=model_repo)
    assert ran.returncode == 0, ran
    assert "warning: 1 error(s) in files models/model_linear_regression.yaml does not use" in ran.stderr, ran
    assert "models/model_elastic_net.yaml:2:13: error[wrong-type]" in ran.stderr, ran
    for command in (("validate",), ("compile",), ("publish", "--allow-dirty")):
        strict = cli(*command, cwd=model_repo)
        assert strict.returncode == 1, (command, strict)
        assert "models/model_elastic_net.yaml:2:13: error[wrong-type]" in strict.stdout + strict.stderr
    # and a broken file the model does use still stops it
    extract = model_repo / "extracts" / "extract_inputs.yaml"
    extract.write_text(extract.read_text().replace("operator: sql", "operator: nosql"))
    stopped = cli("run", MODEL, cwd=model_repo)
    assert stopped.returncode == 1 and "Traceback" not in stopped.stderr, stopped
    assert "extracts/extract_inputs.yaml:" in stopped.stderr and "error[unknown-value]" in stopped.stderr, stopped
