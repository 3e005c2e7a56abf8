"""`modelyard export --format mlflow`: the export loads in a process that has neither the model repo
nor modelyard, predicts like the stored model, and MLflow enforces the envelope's signature."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
import yaml
from conftest import cli, edit_file
from sklearn.linear_model import LinearRegression

MODEL = "models/model_linear_regression.yaml"
NAME = "sample_regression_model_v1"
FEATURES = ["x_0", "x_1", "x_2"]
TRAINER = "trainers/sklearn/sklearn_linear.py"


def outside(code: str, cwd: Path, *, block_modelyard: bool = True) -> dict:
    """Run ``code`` in a fresh Python in ``cwd``: no PYTHONPATH, modelyard not importable; it
    prints one JSON document."""
    cwd.mkdir(parents=True, exist_ok=True)
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    prelude = "import sys\nsys.modules['modelyard'] = None\n" if block_modelyard else ""
    proc = subprocess.run(
        [sys.executable, "-c", prelude + code], cwd=cwd, env=env, capture_output=True, text=True, timeout=300
    )
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout.strip().splitlines()[-1])


def rows(repo: Path) -> pd.DataFrame:
    return pd.read_csv(repo / "data" / "sample_data.csv").iloc[::97].reset_index(drop=True)


def fitted_by_hand(repo: Path) -> LinearRegression:
    """The template's model fitted with scikit-learn directly on the CSV the extract reads."""
    data = pd.read_csv(repo / "data" / "sample_data.csv")
    return LinearRegression(fit_intercept=False).fit(data[FEATURES], data["y"])


PREDICT_OUTSIDE = """
import json, sys, pandas as pd, mlflow.pyfunc
model = mlflow.pyfunc.load_model(sys.argv[1] if len(sys.argv) > 1 else {path!r})
frame = pd.DataFrame({frame})
out = {{"pred": model.predict(frame)["y"].tolist(), "metadata": model.metadata.metadata}}
try:
    model.predict(frame.assign(x_0=["a"] * len(frame)))
    out["wrong_type"] = "accepted"
except mlflow.exceptions.MlflowException as exc:
    out["wrong_type"] = str(exc)
out["loaded_modelyard"] = sorted(m for m in sys.modules if m.startswith("modelyard") and sys.modules[m])
print(json.dumps(out))
"""


def test_export_loads_without_repo_or_modelyard_and_predicts_like_load_model(trained_repo: Path, tmp_path: Path):
    out = tmp_path / "exported"
    result = cli("export", NAME, "--format", "mlflow", "--out", str(out), cwd=trained_repo)
    assert result.returncode == 0, result
    assert "flavors: python_function" in result.stdout and "note:" not in result.stderr

    frame = rows(trained_repo)
    got = outside(PREDICT_OUTSIDE.format(path=str(out), frame=frame[FEATURES].to_dict("list")), tmp_path / "elsewhere")
    from modelyard import load_model

    stored = load_model(NAME, repo=trained_repo)
    assert got["pred"] == pytest.approx(stored.predict(frame)["y"].tolist(), abs=1e-12)
    assert got["pred"] == pytest.approx(fitted_by_hand(trained_repo).predict(frame[FEATURES]).tolist(), abs=1e-9)
    assert "Incompatible input types for column x_0" in got["wrong_type"]
    assert got["loaded_modelyard"] == []

    envelope = json.loads((trained_repo / ".modelyard/models" / NAME / "1" / "envelope.json").read_text())
    ours = got["metadata"]["modelyard"]
    assert ours["metrics"] == envelope["metrics"] and ours["lineage"] == envelope["lineage"]
    assert ours["version"] == 1 and ours["canonical_name"] == NAME
    mlmodel = yaml.safe_load((out / "MLmodel").read_text())
    assert set(mlmodel["flavors"]) == {"python_function"}
    assert json.loads(mlmodel["signature"]["inputs"]) == [
        {"type": "double", "name": name, "required": True} for name in FEATURES
    ]
    assert json.loads(mlmodel["signature"]["outputs"]) == [{"type": "double", "name": "y", "required": True}]
    # the input example is the first rows the trainer saw: the extract orders by date, x_0
    example = json.loads((out / "input_example.json").read_text())
    first = pd.read_csv(trained_repo / "data" / "sample_data.csv").sort_values(["date", "x_0"]).head(5)
    assert example["columns"] == FEATURES and example["data"] == first[FEATURES].values.tolist()
    from importlib import metadata

    requirements = (out / "requirements.txt").read_text().split()
    assert f"scikit-learn=={metadata.version('scikit-learn')}" in requirements
    assert f"cloudpickle=={metadata.version('cloudpickle')}" in requirements
    assert not any(r.startswith("modelyard") for r in requirements)


def test_a_stored_scikit_learn_estimator_gets_the_native_flavor(model_repo: Path, tmp_path: Path):
    edit_file(
        model_repo / TRAINER,
        """        # The sample input and output derive the stored model's signature.
        return TrainedObject(
            model,""",
        """        return TrainedObject(
            regression_model, features.head(5), regression_model.predict(features.head(5)), "predict"
        )
        return TrainedObject(
            model,""",
    )
    edit_file(
        model_repo / TRAINER,
        """        predicted = model.predict(df[self.feature_columns])[self.target_label]
        return {
            "mean_squared_error": metrics.mean_squared_error(df[self.target_label], predicted),
            "r2": metrics.r2_score(df[self.target_label], predicted),
        }


@dataclass
class SKLearnElasticNetTrainer""",
        """        predicted = model.predict(df[self.feature_columns])
        return {"r2": metrics.r2_score(df[self.target_label], predicted)}


@dataclass
class SKLearnElasticNetTrainer""",
    )
    assert cli("run", MODEL, cwd=model_repo).returncode == 0
    out = tmp_path / "exported"
    result = cli("export", NAME, "--format", "mlflow", "--out", str(out), cwd=model_repo)
    assert result.returncode == 0, result
    assert set(yaml.safe_load((out / "MLmodel").read_text())["flavors"]) == {"python_function", "sklearn"}
    frame = rows(model_repo)[FEATURES]
    code = f"""
import json, pandas as pd, mlflow.sklearn
estimator = mlflow.sklearn.load_model({str(out)!r})
print(json.dumps({{"coef": estimator.coef_.tolist(), "pred": estimator.predict(pd.DataFrame({frame.to_dict("list")})).tolist()}}))
"""
    got = outside(code, tmp_path / "elsewhere")
    by_hand = fitted_by_hand(model_repo)
    assert got["coef"] == pytest.approx(by_hand.coef_.tolist(), abs=1e-9)
    assert got["pred"] == pytest.approx(by_hand.predict(frame).tolist(), abs=1e-9)


def test_log_and_register_on_a_local_tracking_store(trained_repo: Path, tmp_path: Path):
    uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    result = cli(
        "export", NAME, "--format", "mlflow", "--tracking-uri", uri, "--register", "regression", cwd=trained_repo
    )
    assert result.returncode == 0, result
    assert "registered as 'regression' version 1" in result.stdout
    envelope = json.loads((trained_repo / ".modelyard/models" / NAME / "1" / "envelope.json").read_text())
    frame = rows(trained_repo)[FEATURES]
    code = f"""
import json, pandas as pd, mlflow
mlflow.set_tracking_uri({uri!r})
client = mlflow.MlflowClient()
version = client.get_model_version("regression", "1")
run = client.get_run(version.run_id)
model = mlflow.pyfunc.load_model("models:/regression/1")
print(json.dumps({{"metrics": run.data.metrics, "params": run.data.params, "tags": run.data.tags,
    "pred": model.predict(pd.DataFrame({frame.to_dict("list")}))["y"].tolist()}}))
"""
    got = outside(code, tmp_path / "elsewhere")
    assert got["metrics"] == envelope["metrics"]
    assert got["params"]["fit_intercept"] == "false" and got["params"]["feature_columns"] == json.dumps(FEATURES)
    assert got["tags"]["modelyard.canonical_name"] == NAME and got["tags"]["modelyard.version"] == "1"
    assert got["pred"] == pytest.approx(fitted_by_hand(trained_repo).predict(frame).tolist(), abs=1e-9)


def test_unknown_model_or_version_is_a_clear_error(trained_repo: Path, tmp_path: Path):
    out = tmp_path / "exported"
    unknown = cli("export", "no_such_model", "--format", "mlflow", "--out", str(out), cwd=trained_repo)
    assert unknown.returncode == 1 and "Traceback" not in unknown.stderr
    assert "no stored model named 'no_such_model'" in unknown.stderr and NAME in unknown.stderr
    version = cli("export", NAME, "--version", "7", "--format", "mlflow", "--out", str(out), cwd=trained_repo)
    assert version.returncode == 1 and "Traceback" not in version.stderr
    assert f"model {NAME!r} has no version 7 (versions: 1)" in version.stderr
    assert not out.exists()
    nothing = cli("export", NAME, "--format", "mlflow", cwd=trained_repo)
    assert nothing.returncode == 1 and "name a folder with --out" in nothing.stderr


def test_a_non_empty_out_folder_is_refused_and_left_alone(trained_repo: Path, tmp_path: Path):
    out = tmp_path / "exported"
    out.mkdir()
    (out / "keep.txt").write_text("mine")
    result = cli("export", NAME, "--format", "mlflow", "--out", str(out), cwd=trained_repo)
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert f"{out}: exists and is not an empty folder" in result.stderr
    assert [p.name for p in out.iterdir()] == ["keep.txt"] and (out / "keep.txt").read_text() == "mine"
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([trained_repo.name, "exported"])
    empty = tmp_path / "empty"
    empty.mkdir()
    assert cli("export", NAME, "--format", "mlflow", "--out", str(empty), cwd=trained_repo).returncode == 0
    assert (empty / "MLmodel").is_file()


def test_a_dtype_mlflow_cannot_express_is_refused_and_nothing_written(model_repo: Path, tmp_path: Path):
    edit_file(
        model_repo / TRAINER,
        'sample_input_data={"x": features.head(5)},',
        'sample_input_data={"x": features.head(5).astype({"x_1": "category"})},',
    )
    assert cli("run", MODEL, cwd=model_repo).returncode == 0
    out = tmp_path / "exported"
    result = cli("export", NAME, "--format", "mlflow", "--out", str(out), cwd=model_repo)
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert (
        f"model {NAME!r} version 1: input column 'x_1' has dtype 'category', which has no exact MLflow column type"
        in result.stderr
    )
    assert "hint: cast the column" in result.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == [model_repo.name]


def test_a_version_stored_before_sample_rows_exports_with_a_note(trained_repo: Path, tmp_path: Path):
    envelope_path = trained_repo / ".modelyard/models" / NAME / "1" / "envelope.json"
    envelope = json.loads(envelope_path.read_text())
    del envelope["sample_input"]
    envelope_path.write_text(json.dumps(envelope))
    out = tmp_path / "exported"
    result = cli("export", NAME, "--format", "mlflow", "--out", str(out), cwd=trained_repo)
    assert result.returncode == 0, result
    assert "stored without sample input rows" in result.stderr and "retrain to include one" in result.stderr
    assert (out / "MLmodel").is_file() and not (out / "input_example.json").exists()


def test_without_mlflow_installed_the_command_says_how_to_install_it(trained_repo: Path, tmp_path: Path):
    shadow = tmp_path / "no_mlflow"
    shadow.mkdir()
    (shadow / "mlflow.py").write_text("raise ModuleNotFoundError(\"No module named 'mlflow'\", name='mlflow')\n")
    env = {"PYTHONPATH": os.pathsep.join([str(shadow), os.environ.get("PYTHONPATH", "")])}
    result = cli("export", NAME, "--format", "mlflow", "--out", str(tmp_path / "x"), cwd=trained_repo, env=env)
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert "needs MLflow, which is not installed" in result.stderr
    assert "pip install 'modelyard[mlflow]'" in result.stderr
    assert not (tmp_path / "x").exists()
