"""The walking skeleton end to end: a generated repo trains, evaluates and stores the example."""

from __future__ import annotations

import hashlib
import json
import math
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from conftest import ROOT, cli, edit_file

MODEL = "models/model_linear_regression.yaml"
NAME = "sample_regression_model_v1"
FEATURES = ["x_0", "x_1", "x_2"]


def sample_rows(repo: Path):
    """The rows the template's extract returns: all of its seed (its LIMIT is 10000)."""
    import pandas as pd

    return pd.read_csv(repo / "data" / "sample_data.csv")


def latest_fifth(frame):
    """The rows the template's ``evaluation: holdout: 0.2`` scores on: the latest 20% by date, the
    rows of the cut's day kept together."""
    cut = frame["date"].sort_values().iloc[len(frame) - math.ceil(len(frame) * 0.2)]
    return frame["date"] >= cut


TRUE_COEFFICIENTS = [1.5, -2.0, 0.5]  # how the template's data/sample_data.csv was generated


def _versions(repo: Path, name: str = NAME) -> list[str]:
    folder = repo / ".modelyard" / "models" / name
    return sorted(p.name for p in folder.iterdir() if not p.name.startswith(".")) if folder.is_dir() else []


def test_run_stores_model_with_envelope(model_repo: Path):
    result = cli("run", MODEL, "--format", "json", cwd=model_repo)
    assert result.returncode == 0, result
    out = result.json()
    assert out["canonical_name"] == NAME and out["version"] == 1
    assert set(out["metrics"]) == {"mean_squared_error", "r2"}
    # the template's trainer by hand: a linear regression without intercept, scored on the held rows
    from sklearn.linear_model import LinearRegression
    from sklearn.metrics import r2_score

    frame = sample_rows(model_repo)
    held = latest_fifth(frame)
    fitted = LinearRegression(fit_intercept=False).fit(frame.loc[~held, FEATURES], frame.loc[~held, "y"])
    expected = r2_score(frame.loc[held, "y"], fitted.predict(frame.loc[held, FEATURES]))
    assert out["metrics"]["r2"] == pytest.approx(expected, rel=1e-9)
    model_path = Path(out["model_path"])
    envelope = json.loads((model_path / "envelope.json").read_text())
    assert envelope["model_name"] == "A regression model"
    assert envelope["model_description"] == "This is a sample linear regression model."
    assert envelope["tags"] == {"canonical_name": NAME}
    assert envelope["canonical_name"] == NAME and envelope["version"] == 1
    assert envelope["metrics"] == out["metrics"]
    signature = envelope["signature"]
    assert signature["method"] == "predict"
    assert signature["inputs"]["x"]["columns"] == [{"name": f"x_{i}", "dtype": "float64"} for i in range(3)]
    assert signature["outputs"]["columns"] == [{"name": "y", "dtype": "float64"}]
    lineage = envelope["lineage"]
    assert lineage["git_commit"] is None  # the generated folder is not a git repo yet
    assert lineage["row_counts"] == {"df": 2730}
    assert lineage["trainer"] == "sklearn.sklearn_linear.SKLearnLinearRegressionTrainer"
    assert lineage["constructor_args"]["fit_intercept"] is False
    assert lineage["model_file_sha256"] == hashlib.sha256((model_repo / MODEL).read_bytes()).hexdigest()
    assert lineage["extracts"][0]["dataset"] == "training_data"
    # the sha256 of the SQL text that ran (as `sha256sum` gives it), read from the compiled IR
    assert cli("compile", cwd=model_repo).returncode == 0
    document = json.loads((model_repo / ".modelyard" / "compiled" / "ir" / "ir.json").read_text())
    workflow = next(w for w in document["workflows"] if w["id"] == "model_linear_regression")
    rendered = next(n["spec"]["sql"] for n in workflow["nodes"] if n["kind"] == "extract")
    assert "LIMIT 10000" in rendered  # the template's kwargs, rendered
    assert lineage["extracts"][0]["rendered_sql_sha256"] == hashlib.sha256(rendered.encode()).hexdigest()
    assert lineage["modelyard_version"] and lineage["created_at"]


def test_fitted_coefficients_and_prediction_after_load(trained_repo: Path):
    code = (
        "import json, pandas as pd\n"
        "from modelyard import load_model\n"
        f"model = load_model({NAME!r})\n"
        "frame = pd.DataFrame({'x_0': [1.0, 0.0], 'x_1': [0.0, 1.0], 'x_2': [0.0, 0.0]})\n"
        "print(json.dumps({'coef': list(model.model.coef_), 'pred': model.predict(frame)['y'].tolist()}))\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], cwd=trained_repo, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout)
    assert out["coef"] == pytest.approx(TRUE_COEFFICIENTS, abs=0.02)
    assert out["pred"] == pytest.approx([1.5, -2.0], abs=0.02)


def test_text_output_names_metrics_and_location(model_repo: Path):
    result = cli("run", MODEL, cwd=model_repo)
    assert result.returncode == 0, result
    assert "mean_squared_error" in result.stdout
    assert str(model_repo / ".modelyard" / "models" / NAME / "1") in result.stdout


def test_git_commit_recorded_in_lineage(model_repo: Path):
    import git

    repo = git.Repo.init(model_repo)
    repo.git.add(A=True)
    commit = repo.index.commit(
        "initial", author=git.Actor("t", "t@example.com"), committer=git.Actor("t", "t@example.com")
    )
    out = cli("run", MODEL, "--format", "json", cwd=model_repo).json()
    envelope = json.loads((Path(out["model_path"]) / "envelope.json").read_text())
    assert envelope["lineage"]["git_commit"] == commit.hexsha


def test_models_list_and_show(trained_repo: Path):
    assert cli("run", MODEL, "--force", cwd=trained_repo).returncode == 0
    listing = cli("models", "list", "--format", "json", cwd=trained_repo)
    assert listing.returncode == 0, listing
    rows = listing.json()
    assert [(r["canonical_name"], r["version"]) for r in rows] == [(NAME, 1), (NAME, 2)]
    text = cli("models", "list", cwd=trained_repo)
    assert NAME in text.stdout and "mean_squared_error" in text.stdout
    shown = cli("models", "show", NAME, "--version", "1", "--format", "json", cwd=trained_repo).json()
    assert shown["version"] == 1 and shown["canonical_name"] == NAME
    missing = cli("models", "show", "nope", cwd=trained_repo)
    assert missing.returncode == 1 and "no stored model named 'nope'" in missing.stderr


def test_trainer_changing_its_input_in_place_does_not_change_evaluate_input(model_repo: Path):
    """train and evaluate read the extract once (a cached frame); each gets its own copy."""
    edit_file(
        model_repo / "trainers" / "sklearn" / "sklearn_linear.py",
        "        # df maps to train_param_name in the model file\n",
        "        df.loc[:, self.target_label] = 0.0\n"
        '        df["x_0"] *= 1000\n'
        "        df.drop(index=df.index[:100], inplace=True)\n",
    )
    result = cli("run", MODEL, "--format", "json", cwd=model_repo)
    assert result.returncode == 0, result
    # the model fits y = 0 and predicts 0, scored on evaluate's untouched frame: the true y of the
    # latest 20% of rows (the template's holdout), by hand with pandas and scikit-learn
    from sklearn.metrics import r2_score

    frame = sample_rows(model_repo)
    held = frame.loc[latest_fifth(frame), "y"]
    metrics = result.json()["metrics"]
    assert metrics["mean_squared_error"] == pytest.approx((held**2).mean(), rel=1e-9), metrics
    assert metrics["r2"] == pytest.approx(r2_score(held, [0.0] * len(held)), rel=1e-9), metrics
    envelope = json.loads((Path(result.json()["model_path"]) / "envelope.json").read_text())
    assert envelope["lineage"]["row_counts"] == {"df": 2730}


def test_seed_reloaded_when_file_changes(model_repo: Path):
    first = cli("run", MODEL, "--format", "json", cwd=model_repo).json()
    csv = model_repo / "data" / "sample_data.csv"
    lines = csv.read_text().splitlines()
    csv.write_text("\n".join(lines[:1001]) + "\n")  # header + 1000 rows
    second = cli("run", MODEL, "--format", "json", cwd=model_repo).json()
    assert second["reused_extracts"] == [] and first["version"] == 1 and second["version"] == 2
    envelope = json.loads((Path(second["model_path"]) / "envelope.json").read_text())
    assert envelope["lineage"]["row_counts"] == {"df": 1000}


def test_concurrent_runs_get_distinct_versions(model_repo: Path):
    results = []

    def run():
        results.append(cli("run", MODEL, "--format", "json", "--force", cwd=model_repo))

    threads = [threading.Thread(target=run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert all(r.returncode == 0 for r in results), results
    assert sorted(r.json()["version"] for r in results) == [1, 2]
    assert _versions(model_repo) == ["1", "2"]


def test_tampered_artifact_is_refused(model_repo: Path):
    out = cli("run", MODEL, "--format", "json", cwd=model_repo).json()
    artifact = Path(out["model_path"]) / "model.pkl"
    artifact.write_bytes(artifact.read_bytes() + b"tampered")
    code = f"from modelyard import load_model\nload_model({NAME!r})\n"
    proc = subprocess.run([sys.executable, "-c", code], cwd=model_repo, capture_output=True, text=True)
    assert proc.returncode != 0
    assert "does not match its envelope" in proc.stderr


def test_public_interface_runs_the_posts_trainer(model_repo: Path):
    """The reference post's trainer, with import lines added and its two non-existent fields
    (``normalize``, ``n_jobs``) dropped, trains unchanged otherwise."""
    post = (ROOT / "tests" / "data" / "post_trainer.py").read_text()
    (model_repo / "trainers" / "sklearn" / "sklearn_linear.py").write_text(post)
    (model_repo / "models" / "model_elastic_net.yaml").unlink()  # its trainer is not in the post
    (model_repo / "tuning" / "tune_elastic_net.yaml").unlink()
    result = cli("run", MODEL, "--format", "json", cwd=model_repo)
    assert result.returncode == 0, result
    assert set(result.json()["metrics"]) == {"mean_squared_error"}


def test_cookiecutter_interactive(tmp_path: Path):
    """Answering the prompts (template choice, then every variable) generates a repo."""
    exe = Path(sys.executable).with_name("cookiecutter")
    answers = "\n".join(["1", "interactive-repo", "my_model_v2", "", ""]) + "\n"
    proc = subprocess.run(
        [str(exe), str(ROOT), "-o", str(tmp_path)], input=answers, capture_output=True, text=True, timeout=120
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    repo = tmp_path / "interactive-repo"
    assert "canonical_name: my_model_v2" in (repo / "models" / "model_linear_regression.yaml").read_text()
    assert "{{ limit }}" in (repo / "extracts" / "training_data.sql").read_text()


def test_cookiecutter_from_git_url(tmp_path: Path):
    """`cookiecutter git+file://...` clones this repo (as it would from GitHub) and generates."""
    exe = Path(sys.executable).with_name("cookiecutter")
    proc = subprocess.run(
        [str(exe), "--no-input", f"git+file://{ROOT}", "-o", str(tmp_path / "out"), "repo_name=from-git"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert (tmp_path / "out" / "from-git" / "models" / "model_linear_regression.yaml").is_file()


def test_repo_found_from_a_subfolder_or_given_with_dash_c(model_repo: Path, tmp_path: Path):
    from_subfolder = cli("run", "models/model_linear_regression.yaml", "--format", "json", cwd=model_repo / "trainers")
    assert from_subfolder.returncode == 0, from_subfolder
    listing = cli("-C", str(model_repo), "models", "list", "--format", "json", cwd=tmp_path)
    assert listing.returncode == 0, listing
    assert [row["version"] for row in listing.json()] == [from_subfolder.json()["version"]]


def test_what_a_trainer_prints_goes_to_stderr_so_json_stays_parseable(model_repo: Path):
    trainer = model_repo / "trainers" / "sklearn" / "sklearn_linear.py"
    trainer.write_text(
        trainer.read_text()
        .replace(
            "from modelyard import AbstractTrainer, TrainedObject\n",
            "from modelyard import AbstractTrainer, TrainedObject\nprint('imported the trainer')\n",
        )
        .replace(
            "        features = df[self.feature_columns]\n",
            "        print('training on', len(df), 'rows')\n        features = df[self.feature_columns]\n",
            1,
        )
    )
    result = cli("run", MODEL, "--format", "json", cwd=model_repo)
    assert result.returncode == 0, result
    assert result.json()["version"] == 1
    assert "imported the trainer" in result.stderr and "training on 2730 rows" in result.stderr
