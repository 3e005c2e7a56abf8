"""`modelyard run` skips a model whose latest version is up to date, and only then: every input a
model depends on that changes (files, seeds, upstream extracts, trainer helpers, evaluation,
modelyard's version, the artifact itself) makes it train again."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import cli, commit_repo, edit_file, git
from helpers.extracts import chain_extracts

MODEL = "models/model_linear_regression.yaml"
NAME = "sample_regression_model_v1"
HELPER = "SCALE = 1.0\n"


def _with_helper(repo: Path) -> Path:
    """The trainer imports a helper module of its own (trainers/sklearn/helpers.py)."""
    (repo / "trainers" / "sklearn" / "helpers.py").write_text(HELPER)
    edit_file(
        repo / "trainers" / "sklearn" / "sklearn_linear.py",
        "from modelyard import AbstractTrainer, TrainedObject\n",
        "from modelyard import AbstractTrainer, TrainedObject\n\nfrom .helpers import SCALE  # noqa: F401\n",
    )
    return repo


def run(repo: Path, *extra: str) -> dict:
    result = cli("run", MODEL, "--format", "json", *extra, cwd=repo)
    assert result.returncode == 0, result
    return result.json()


@pytest.fixture(scope="module")
def trained(template_repo, tmp_path_factory) -> Path:
    """The template with a trainer helper module, its linear model trained once (version 1)."""
    repo = tmp_path_factory.mktemp("trained") / "repo"
    shutil.copytree(template_repo, repo)
    # these tests choose among scikit-learn models; the Lightning example (tested in lightning_test)
    # would only add its training time to every "run everything"
    (repo / "models" / "model_mlp.yaml").unlink()
    (repo / "tuning" / "tune_mlp.yaml").unlink()
    _with_helper(repo)
    assert run(repo)["version"] == 1
    return repo


@pytest.fixture
def repo(trained, tmp_path) -> Path:
    copy = tmp_path / "repo"
    shutil.copytree(trained, copy)  # copy2: sizes and modification times stay
    return copy


def envelope(repo: Path, version: int) -> dict:
    return json.loads((repo / ".modelyard" / "models" / NAME / str(version) / "envelope.json").read_text())


def test_an_unchanged_model_is_not_trained_again_nor_are_pandas_sklearn_or_duckdb_imported(repo):
    warehouse = repo / ".modelyard" / "warehouse.duckdb"
    before = warehouse.stat().st_mtime_ns
    code = (
        "import sys\n"
        "from modelyard.cli import main\n"
        f"code = main(['run', {MODEL!r}, '--format', 'json'])\n"
        "heavy = sorted({m.split('.')[0] for m in sys.modules} & {'pandas', 'sklearn', 'duckdb', 'numpy', "
        "'pyarrow', 'cloudpickle', 'modelyard_user_trainers'})\n"
        "print(heavy, code)\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], cwd=repo, capture_output=True, text=True, env={**os.environ})
    assert proc.returncode == 0, proc.stderr
    output, last = proc.stdout.rsplit("\n", 2)[0], proc.stdout.splitlines()[-1]
    assert last == "[] 0"
    result = json.loads(output)
    assert (result["status"], result["reused"], result["version"]) == ("up_to_date", True, 1)
    assert result["metrics"] == envelope(repo, 1)["metrics"]
    assert warehouse.stat().st_mtime_ns == before
    assert not (repo / ".modelyard" / "models" / NAME / "2").exists()
    assert envelope(repo, 1)["reused"]["times"] == 1

    text = cli("run", MODEL, cwd=repo)
    assert text.returncode == 0, text
    assert f"{NAME} version 1 is up to date" in text.stdout
    assert envelope(repo, 1)["reused"]["times"] == 2


def test_the_envelope_records_what_the_decision_needs(repo):
    lineage = envelope(repo, 1)["lineage"]
    assert len(lineage["workflow_hash"]) == 64
    seed = repo / "data" / "sample_data.csv"
    import hashlib

    recorded = lineage["inputs"]["seeds"]["sample_data"]
    assert recorded["sha256"] == hashlib.sha256(seed.read_bytes()).hexdigest()
    assert recorded["file"] == "sample_data.csv"


def test_force_trains_and_refresh_rebuilds_and_trains(repo):
    forced = run(repo, "--force")
    assert (forced["status"], forced["reused"], forced["version"]) == ("trained", False, 2)
    assert forced["reused_extracts"] == ["extracts.extract_inputs__training_data"]
    refreshed = run(repo, "--refresh")
    assert (refreshed["status"], refreshed["version"], refreshed["reused_extracts"]) == ("trained", 3, [])
    assert run(repo)["status"] == "up_to_date"


def _delete_artifact(repo: Path) -> None:
    (repo / ".modelyard" / "models" / NAME / "1" / "model.pkl").unlink()


def _tamper_artifact(repo: Path) -> None:
    artifact = repo / ".modelyard" / "models" / NAME / "1" / "model.pkl"
    data = bytearray(artifact.read_bytes())
    data[-2] ^= 1  # same size: only the sha256 tells
    artifact.write_bytes(bytes(data))


def _change_seed(repo: Path) -> None:
    seed = repo / "data" / "sample_data.csv"
    seed.write_text(seed.read_text() + "2024-12-31,0.1,0.2,0.3,0.4\n")


def _change_seed_keeping_size_and_time(repo: Path) -> None:
    seed = repo / "data" / "sample_data.csv"
    stat = seed.stat()
    text = seed.read_text()
    last_digit = len(text.rstrip("\n")) - 1
    changed = text[:last_digit] + ("1" if text[last_digit] != "1" else "2") + text[last_digit + 1 :]
    seed.write_text(changed)
    os.utime(seed, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    # the size and time are as recorded: the fast path trusts them, like the warehouse does
    assert seed.stat().st_size == stat.st_size


def _change_seed_options(repo: Path) -> None:
    settings = repo / "modelyard.yaml"
    settings.write_text(settings.read_text() + "seeds:\n  sample_data:\n    null_strings: ['NA']\n")


def _change_helper(repo: Path) -> None:
    (repo / "trainers" / "sklearn" / "helpers.py").write_text("SCALE = 2.0\n")


def _change_evaluation(repo: Path) -> None:
    edit_file(repo / MODEL, "  holdout: 0.2", "  holdout: 0.3")


def _older_modelyard(repo: Path) -> None:
    path = repo / ".modelyard" / "models" / NAME / "1" / "envelope.json"
    data = json.loads(path.read_text())
    data["lineage"]["modelyard_version"] = "0.0.1"
    path.write_text(json.dumps(data))


def _break_envelope(repo: Path) -> None:
    (repo / ".modelyard" / "models" / NAME / "1" / "envelope.json").write_text("{")


def _change_extract_kwargs(repo: Path) -> None:
    edit_file(repo / "extracts" / "extract_inputs.yaml", "limit: 10000", "limit: 2000")


CHANGES = {
    "deleted artifact": (_delete_artifact, "is missing although its envelope is there"),
    "tampered artifact": (_tamper_artifact, "does not match its envelope"),
    "changed seed file": (_change_seed, "seed file data/sample_data.csv or its options in modelyard.yaml changed"),
    "changed seed options": (_change_seed_options, "seed file data/sample_data.csv or its options"),
    "changed trainer helper": (_change_helper, "or the settings differ from what it was trained with"),
    "changed evaluation": (_change_evaluation, "or the settings differ from what it was trained with"),
    "changed extract": (_change_extract_kwargs, "or the settings differ from what it was trained with"),
    "other modelyard version": (_older_modelyard, "trained by modelyard 0.0.1, this is"),
    "unreadable envelope": (_break_envelope, "cannot read envelope"),
}


@pytest.mark.parametrize("change", sorted(CHANGES))
def test_any_change_trains_again(repo, change):
    edit, reason = CHANGES[change]
    edit(repo)
    result = run(repo)
    assert (result["status"], result["reused"], result["version"]) == ("trained", False, 2), result
    assert result["reason"].startswith("version 1: ") and reason in result["reason"], result["reason"]
    assert envelope(repo, 2)["lineage"]["modelyard_version"] != "0.0.1"
    again = run(repo)
    assert (again["status"], again["version"]) == ("up_to_date", 2)


def test_the_helper_module_is_among_the_trainer_files(repo):
    """What makes `changed trainer helper` fail for the right reason: the helper is hashed."""
    result = cli("compile", "--out", "out", cwd=repo)
    assert result.returncode == 0, result
    document = json.loads((repo / "out" / "ir.json").read_text())
    workflow = next(w for w in document["workflows"] if w["id"] == "model_linear_regression")
    train = next(n for n in workflow["nodes"] if n["id"] == "train")
    assert "trainers/sklearn/helpers.py" in train["spec"]["trainer_files"]


def test_a_touched_seed_with_the_same_content_is_still_up_to_date(repo):
    seed = repo / "data" / "sample_data.csv"
    seed.write_bytes(seed.read_bytes())  # new modification time, same bytes
    assert run(repo)["status"] == "up_to_date"


def test_a_changed_upstream_extract_trains_again(model_repo):
    """The model reads extract `features`, which reads extract `training_data`."""
    chain_extracts(model_repo)
    assert run(model_repo)["version"] == 1
    assert run(model_repo)["status"] == "up_to_date"
    _change_extract_kwargs(model_repo)  # the upstream extract, not the one the model reads
    result = run(model_repo)
    assert (result["status"], result["version"]) == ("trained", 2)
    assert "extracts/extract_inputs.yaml" in result["reason"]


def test_an_extract_reading_a_file_directly_always_trains(model_repo):
    """modelyard cannot fingerprint what a table function reads: it never calls such a model up to date."""
    (model_repo / "extracts" / "training_data.sql").write_text(
        "SELECT date, x_0, x_1, x_2, y FROM read_csv_auto('data/sample_data.csv') LIMIT {{ limit }}\n"
    )
    assert run(model_repo)["version"] == 1
    again = run(model_repo)
    assert (again["status"], again["version"]) == ("trained", 2)
    assert "cannot fingerprint" in again["reason"]


def test_only_the_latest_version_counts(repo):
    _change_evaluation(repo)
    assert run(repo)["version"] == 2
    edit_file(repo / MODEL, "  holdout: 0.3", "  holdout: 0.2")  # back to what version 1 was trained with
    result = run(repo)
    assert (result["status"], result["version"]) == ("trained", 3)


def _break_elastic_net(repo: Path) -> None:
    edit_file(repo / "models" / "model_elastic_net.yaml", "alpha: 0.5", "alpha: -1.0")


def test_run_without_files_runs_every_model_and_goes_on_after_a_failure(repo):
    _break_elastic_net(repo)
    shutil.copy(repo / MODEL, repo / "models" / "model_copy.yaml")
    edit_file(repo / "models" / "model_copy.yaml", f"canonical_name: {NAME}\n", "canonical_name: copied_model\n")
    (repo / "models" / "model_broken.yaml").write_text("model_name: [unclosed\n")
    result = cli("run", "--format", "json", cwd=repo)
    assert result.returncode == 1, result
    outcomes = {o["model_file"]: o for o in result.json()}
    assert list(outcomes) == [
        "models/model_copy.yaml",
        "models/model_elastic_net.yaml",
        "models/model_linear_regression.yaml",
    ]
    assert (outcomes["models/model_copy.yaml"]["status"], outcomes["models/model_copy.yaml"]["version"]) == (
        "trained",
        1,
    )
    assert outcomes["models/model_elastic_net.yaml"]["status"] == "failed"
    assert "alpha" in outcomes["models/model_elastic_net.yaml"]["error"]
    assert outcomes["models/model_linear_regression.yaml"]["status"] == "up_to_date"
    assert all(o["seconds"] >= 0 for o in outcomes.values())

    text = cli("run", cwd=repo)
    assert text.returncode == 1, text
    rows = [line.split() for line in text.stdout.splitlines()]
    assert rows[0] == ["workflow", "status", "version", "seconds"]
    assert rows[1][:5] == ["model_copy", "up", "to", "date", "copied_model"]
    assert rows[2][:2] == ["model_elastic_net", "failed"]
    assert rows[3][:5] == ["model_linear_regression", "up", "to", "date", NAME]
    assert rows[-1] == ["0", "trained,", "2", "up", "to", "date,", "1", "failed"]
    assert "alpha" in text.stderr


def test_a_model_file_with_an_error_fails_alone(repo):
    edit_file(repo / "models" / "model_elastic_net.yaml", "alpha: 0.5", "alpha: 0.5\n  not_an_arg: 1")
    result = cli("run", "models/model_elastic_net.yaml", MODEL, "--format", "json", cwd=repo)
    assert result.returncode == 1, result
    elastic, linear = result.json()
    assert elastic["status"] == "failed" and "models/model_elastic_net.yaml:" in elastic["error"]
    assert "not_an_arg" in elastic["error"]
    assert linear["status"] == "up_to_date"


def test_select_changed_since_a_commit(repo):
    commit_repo(repo)
    assert cli("run", cwd=repo).returncode == 0  # trains the elastic net too
    nothing = cli("run", "--select", "changed-since:HEAD", "--format", "json", cwd=repo)
    assert nothing.returncode == 0 and nothing.json() == [], nothing

    edit_file(repo / "models" / "model_elastic_net.yaml", "alpha: 0.5", "alpha: 0.25")
    changed = cli("run", "--select", "changed-since:HEAD", "--format", "json", cwd=repo)
    assert [(o["model_file"], o["status"]) for o in changed.json()] == [("models/model_elastic_net.yaml", "trained")]

    git(repo, "commit", "-qam", "smaller alpha")
    _change_seed(repo)  # both models read it
    both = cli("run", "--select", "changed-since:HEAD", "--format", "json", cwd=repo)
    assert [o["status"] for o in both.json()] == ["trained", "trained"], both

    unknown = cli("run", "--select", "changed-since:nope", cwd=repo)
    assert unknown.returncode == 1 and "'nope' is not a commit" in unknown.stderr, unknown
    bad = cli("run", "--select", "everything", cwd=repo)
    assert bad.returncode == 1 and "--select everything: not a selector" in bad.stderr, bad


def test_a_batch_opens_the_warehouse_once(repo):
    """Every node of every model of one `run` uses one warehouse connection: the file is opened
    once (by the first model that trains), not once per node."""
    shutil.copy(repo / MODEL, repo / "models" / "model_copy.yaml")
    edit_file(repo / "models" / "model_copy.yaml", f"canonical_name: {NAME}\n", "canonical_name: copied_model\n")
    result = cli("run", "--force", "--format", "json", cwd=repo, env={"MODELYARD_DEBUG": "1"})
    assert result.returncode == 0, result
    assert [o["status"] for o in result.json()] == ["trained"] * 3
    opened = [line for line in result.stderr.splitlines() if line.startswith("debug: warehouse ")]
    assert opened == [f"debug: warehouse {repo / '.modelyard' / 'warehouse.duckdb'} opened for writing"], result.stderr
