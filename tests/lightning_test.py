"""PyTorch Lightning trainers (docs/lightning.md): the template's MLP trains with the real CLI on the
CPU; every metric the module logs is kept per step and per epoch in the run folder and the
envelope; the stored model predicts in a fresh process without modelyard; tuning and backtesting
run it unchanged; without torch every command that needs it says which pip command to run."""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
import textwrap
from pathlib import Path

from conftest import ROOT, cli, edit_file
from helpers.dash import components

MODEL = "models/model_mlp.yaml"
NAME = "sample_regression_model_v1_mlp"
ROWS = 2730  # data/sample_data.csv
EPOCHS, BATCH = 5, 64  # the template's model_mlp.yaml


def run_folder(repo: Path, workflow: str) -> Path:
    runs = sorted((repo / ".modelyard" / "runs" / workflow).iterdir())
    return runs[-1]


def python(script: str, *, cwd: Path, extra_path: list[Path] = (), **env: str) -> subprocess.CompletedProcess:
    """A fresh interpreter; ``extra_path`` goes first on its import path (planted modules)."""
    path = os.pathsep.join([*map(str, extra_path), os.environ.get("PYTHONPATH", "")])
    return subprocess.run(
        [sys.executable, "-c", textwrap.dedent(script)],
        cwd=cwd,
        env={**os.environ, "PYTHONPATH": path, **env},
        capture_output=True,
        text=True,
        timeout=300,
    )


def plant(folder: Path, module: str) -> Path:
    """A module ``module`` that fails to import exactly like a package that is not installed."""
    (folder / module).mkdir(parents=True)
    (folder / module / "__init__.py").write_text(
        f"raise ModuleNotFoundError(\"No module named '{module}'\", name={module!r})\n"
    )
    return folder


def test_the_mlp_trains_logs_every_step_and_epoch_and_its_stored_model_loads_anywhere(model_repo, tmp_path):
    epochs = 3  # fewer than the template's 5 (each fit costs time), enough to see the loss fall
    edit_file(model_repo / MODEL, f"max_epochs: {EPOCHS}", f"max_epochs: {epochs}")
    first = cli("run", MODEL, "--format", "json", cwd=model_repo)
    assert first.returncode == 0, first
    assert "Traceback" not in first.stderr and "LeafSpec" not in first.stderr
    assert list(first.json()["metrics"]) == ["val_loss"]  # what the module's validation_step logs

    # the stored model is the refit on all rows: 20% of them validate, the rest train in batches of 64
    val_rows = round(ROWS * 0.2)
    steps_per_epoch = math.ceil((ROWS - val_rows) / BATCH)
    log = json.loads((run_folder(model_repo, "model_mlp") / "refit" / "training_log.json").read_text())
    history = log["history"]
    assert sorted(history) == ["train_loss_epoch", "train_loss_step", "val_loss"]
    assert len(history["train_loss_step"]["value"]) == epochs * steps_per_epoch
    assert history["train_loss_step"]["epoch"] == [e for e in range(epochs) for _ in range(steps_per_epoch)]
    for per_epoch in ("train_loss_epoch", "val_loss"):
        assert history[per_epoch]["epoch"] == list(range(epochs))
    assert history["train_loss_epoch"]["value"][-1] < history["train_loss_epoch"]["value"][0]  # it learns
    assert log["final"] == {name: series["value"][-1] for name, series in history.items()}
    # the holdout fit (train node) logged its own curves in its own folder
    assert (run_folder(model_repo, "model_mlp") / "train" / "training_log.json").is_file()

    envelope_file = model_repo / ".modelyard" / "models" / NAME / "1" / "envelope.json"
    envelope = json.loads(envelope_file.read_text())
    assert envelope["training"] == log
    assert envelope["signature"]["outputs"]["columns"] == [{"name": "y", "dtype": "float32"}]

    # the last val_loss, recomputed with torch from the stored module on the validation rows
    # LightningTrainer.split draws: a numpy permutation seeded with `seed` (0), its first 20%
    recompute = python(
        """
        import json
        import numpy as np, pandas as pd, torch
        from modelyard import load_model

        frame = pd.read_csv("data/sample_data.csv").sort_values(["date", "x_0"], kind="stable").reset_index(drop=True)
        chosen = np.random.default_rng(0).permutation(len(frame))[:__VAL_ROWS__]
        rows = frame.iloc[np.sort(chosen)]
        model = load_model("__NAME__")
        with torch.no_grad():
            out = model.module(torch.tensor(rows[["x_0", "x_1", "x_2"]].to_numpy(dtype="float32")))
        mse = torch.nn.functional.mse_loss(out, torch.tensor(rows[["y"]].to_numpy(dtype="float32"))).item()
        print(json.dumps({"mse": mse, "predictions": model.predict(frame.head(20))["y"].tolist()}))
        """.replace("__VAL_ROWS__", str(val_rows)).replace("__NAME__", NAME),
        cwd=model_repo,
    )
    assert recompute.returncode == 0, recompute.stderr
    recomputed = json.loads(recompute.stdout)
    assert math.isclose(recomputed["mse"], log["final"]["val_loss"], rel_tol=1e-5)

    # without modelyard (a planted one fails to import) and outside the repo: cloudpickle, torch, pandas
    artifact = model_repo / ".modelyard" / "models" / NAME / "1" / "model.pkl"
    bare = python(
        f"""
        import json, cloudpickle, pandas as pd
        with open({str(artifact)!r}, "rb") as handle:
            model = cloudpickle.load(handle)
        frame = pd.read_csv({str(model_repo / "data" / "sample_data.csv")!r})
        frame = frame.sort_values(["date", "x_0"], kind="stable").reset_index(drop=True)
        print(json.dumps(model.predict(frame.head(20))["y"].tolist()))
        """,
        cwd=tmp_path,
        extra_path=[plant(tmp_path / "no_modelyard", "modelyard")],
    )
    assert bare.returncode == 0, bare.stderr
    assert json.loads(bare.stdout) == recomputed["predictions"]

    # without torch, loading says what to install
    no_torch = python(
        f"""
        from modelyard import load_model
        load_model({NAME!r})
        """,
        cwd=model_repo,
        extra_path=[plant(tmp_path / "no_torch", "torch")],
    )
    assert no_torch.returncode == 1
    assert "No module named 'torch'" in no_torch.stderr and "pip install 'modelyard[torch]'" in no_torch.stderr

    # the UI draws the refit node's curves from its run folder
    from modelyard import ir
    from modelyard.ui import data, panels
    from modelyard.validate.project import collect_project

    settings = collect_project(model_repo)[0].settings
    trainer = {"trainer": "neural.mlp.MLPTrainer", "trainer_file": "trainers/neural/mlp.py"}
    spec = {**trainer, "trainer_files": ["trainers/neural/mlp.py"], "constructor_args": {}, "inputs": {}}
    workflow = ir.Workflow("model_mlp", "train", (), {}, ir.seal([ir.Node("refit", "train", (), spec, {"c": "c"})]))
    state = data.NodeState("succeeded", run_folder(model_repo, "model_mlp"))
    panel = panels.render(panels.NodeView(settings, workflow, workflow.node("refit"), state))
    graphs = {c.figure.layout.title.text: c.figure for c in components(panel) if type(c).__name__ == "Graph"}
    assert sorted(graphs) == sorted(history)
    assert list(graphs["val_loss"].data[0].y) == history["val_loss"]["value"]
    assert list(graphs["train_loss_step"].data[0].x) == history["train_loss_step"]["step"]

    # seeded and deterministic: a second run gives the same metrics and the same curves
    second = cli("run", MODEL, "--force", "--format", "json", cwd=model_repo)
    assert second.returncode == 0, second
    assert second.json()["metrics"] == first.json()["metrics"]
    again = json.loads((model_repo / ".modelyard" / "models" / NAME / "2" / "envelope.json").read_text())
    assert again["training"] == envelope["training"]


def test_tuning_and_backtesting_run_a_lightning_trainer_unchanged(model_repo):
    tuning = model_repo / "tuning" / "tune_mlp.yaml"
    edit_file(tuning, "- 0.03", "- 0.02")  # learning_rate 0.01, 0.02 x hidden_size 8, 16: 4 trials
    epochs = 2  # not the template's 5 nor LightningTrainer's default 10: what the trials read
    edit_file(model_repo / MODEL, f"max_epochs: {EPOCHS}", f"max_epochs: {epochs}")
    tuned = cli("tune", "tuning/tune_mlp.yaml", "--format", "json", cwd=model_repo)
    assert tuned.returncode == 0, tuned
    study = tuned.json()
    trials = study["trials"]
    assert sorted((t["params"]["learning_rate"], t["params"]["hidden_size"]) for t in trials) == [
        (0.01, 8),
        (0.01, 16),
        (0.02, 8),
        (0.02, 16),
    ]
    assert all(t["status"] == "ok" for t in trials)
    best = min(trials, key=lambda t: t["metrics"]["val_loss"])
    assert study["best_params"] == best["params"]
    run = run_folder(model_repo, "tune__tune_mlp")
    for i in range(4):  # each trial's training logged its own curves, max_epochs from constructor_args
        log = json.loads((run / f"trials.{i}" / "training_log.json").read_text())
        assert log["history"]["val_loss"]["epoch"] == list(range(epochs))
    stored = json.loads((model_repo / ".modelyard" / "models" / NAME / "1" / "envelope.json").read_text())
    assert {k: stored["lineage"]["constructor_args"][k] for k in best["params"]} == best["params"]
    assert stored["training"]["history"]["val_loss"]["epoch"] == list(range(epochs))

    model = model_repo / MODEL
    model.write_text(
        model.read_text()
        + textwrap.dedent(
            """
            split_config:
              train_param_name: df
              strategy: sliding_time_window
              time_column: date
              days_backward: 30
              train_size:
                days: 10
              test_size:
                days: 5
              slide_by:
                days: 10
            """
        )
    )
    backtest = cli("backtest", MODEL, "--format", "json", cwd=model_repo)
    assert backtest.returncode == 0, backtest
    windows = json.loads((run_folder(model_repo, "backtest__model_mlp") / "summary" / "result.json").read_text())
    assert len(windows["windows"]) == 2  # 30 days back from 03-31: trains start 03-02 and 03-12 (not 02-21)
    assert [w["test_rows"] for w in windows["windows"]] == [150, 150]  # 5 days x 30 rows
    assert all(w["metrics"]["val_loss"] > 0 for w in windows["windows"])


def test_without_torch_validate_passes_and_training_names_the_pip_command(model_repo, tmp_path):
    env = {"PYTHONPATH": os.pathsep.join([str(plant(tmp_path / "planted", "torch")), str(ROOT / "tooling")])}
    validated = cli("validate", cwd=model_repo, env=env)
    assert validated.returncode == 0, validated  # trainers are read as source, never imported

    light = python(
        """
        import sys
        import modelyard
        from modelyard import LightningTrainer
        assert "torch" not in sys.modules and "lightning" not in sys.modules, sorted(sys.modules)
        """,
        cwd=tmp_path,
        extra_path=[tmp_path / "planted"],
    )
    assert light.returncode == 0, light.stderr

    run = cli("run", MODEL, cwd=model_repo, env=env)
    assert run.returncode == 1
    assert "Traceback" not in run.stderr
    assert (
        "trainers/neural/mlp.py:12: importing trainer module for 'neural.mlp.MLPTrainer' failed: "
        "ModuleNotFoundError: No module named 'torch'\n  hint: pip install 'modelyard[torch]'" in run.stderr
    ), run.stderr
    assert "pip install 'modelyard[torch]'" in run.stderr

    # a trainer file that imports torch only where it builds the module: train() says it
    (model_repo / "trainers" / "neural" / "lazy.py").write_text(
        textwrap.dedent(
            """
            from dataclasses import dataclass

            from modelyard import LightningTrainer


            @dataclass(kw_only=True)
            class LazyTrainer(LightningTrainer):
                def build_module(self):
                    from torch import nn

                    return nn.Linear(3, 1)
            """
        )
    )
    edit_file(model_repo / MODEL, "neural.mlp.MLPTrainer", "neural.lazy.LazyTrainer")
    edit_file(model_repo / MODEL, "  hidden_size: 16\n", "")
    lazy = cli("run", MODEL, cwd=model_repo, env=env)
    assert lazy.returncode == 1 and "Traceback" not in lazy.stderr
    assert "LazyTrainer.train() raised ImportError: a LightningTrainer needs torch and lightning" in lazy.stderr
    assert "pip install 'modelyard[torch]'" in lazy.stderr
