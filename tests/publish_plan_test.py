"""modelyard plan: the repo compared with a published target, a manifest or a compiled ir.json."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import cli, git

EXTRACT = "extract__extract_inputs__training_data"


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    assert old in text, f"{old!r} not in {path}"
    path.write_text(text.replace(old, new))


def test_nothing_published_yet_means_every_workflow_is_added(model_repo: Path) -> None:
    result = cli("plan", cwd=model_repo)
    assert result.returncode == 0, result
    assert result.stdout.startswith("Nothing published yet: every workflow is new.")
    assert "no manifest.json or ir.json at " in result.stderr
    assert "+ model_linear_regression [train]" in result.stdout
    assert f"    + {EXTRACT}" in result.stdout
    assert "Plan: " in result.stdout and "0 to change, 0 to remove, 0 unchanged." in result.stdout


@pytest.mark.parametrize(
    "change, reasons, node_lines",
    [
        (
            ("extracts/training_data.sql", "ORDER BY date, x_0", "ORDER BY date, x_1"),
            "sql",
            [f"~ {EXTRACT} (sql)", "~ train (upstream)", "~ register (upstream)"],
        ),
        (
            ("extracts/extract_inputs.yaml", "limit: 10000", "limit: 5000"),
            "config, sql",
            [f"~ {EXTRACT} (config, sql)", "~ evaluate (upstream)"],
        ),
        (
            (
                "trainers/sklearn/sklearn_linear.py",
                "regression_model.fit(",
                "regression_model.fit(  # fit\n            ",
            ),
            "trainer_code",
            ["~ train (trainer_code)", "~ evaluate (trainer_code)", "~ register (upstream)"],
        ),
        (
            ("models/model_linear_regression.yaml", "fit_intercept: False", "fit_intercept: True"),
            "config",
            ["~ train (config)", "~ register (config)"],
        ),
        (
            ("models/model_linear_regression.yaml", "target_label: y", "target_label: y\nretries: 3"),
            "config, settings.retries",
            ["~ train (config)"],
        ),
    ],
)
def test_a_change_is_shown_with_its_reason(model_repo: Path, tmp_path: Path, change, reasons, node_lines) -> None:
    assert cli("compile", "--out", str(tmp_path / "before"), cwd=model_repo).returncode == 0
    edit(model_repo / change[0], change[1], change[2])

    result = cli("plan", "--target", str(tmp_path / "before"), cwd=model_repo)
    assert result.returncode == 0, result
    assert result.stdout.startswith(f"Compared with {tmp_path / 'before' / 'ir.json'} (no commit).")
    assert f"~ model_linear_regression [train] ({reasons})" in result.stdout
    for line in node_lines:
        assert f"\n    {line}\n" in result.stdout
    if change[0] == "models/model_linear_regression.yaml":
        assert f"    ~ {EXTRACT}" not in result.stdout  # the extract did not change
        assert "~ model_elastic_net" not in result.stdout


def test_added_and_removed_workflows_against_a_published_target(git_repo: Path) -> None:
    assert cli("publish", cwd=git_repo).returncode == 0
    model = git_repo / "models" / "model_linear_regression.yaml"
    copy = model.read_text().replace("canonical_name: ", "canonical_name: copy_of_")  # one name, one model
    (git_repo / "models" / "model_copy.yaml").write_text(copy)
    git(git_repo, "rm", "-q", "models/model_elastic_net.yaml", "tuning/tune_elastic_net.yaml")

    result = cli("plan", cwd=git_repo)
    assert result.returncode == 0, result
    head = git(git_repo, "rev-parse", "HEAD")
    published = git_repo / ".modelyard" / "published" / "current" / "manifest.json"
    assert result.stdout.startswith(f"Compared with {published} ({head[:12]}, published ")
    assert "+ model_copy [train]" in result.stdout
    assert "- model_elastic_net [train]" in result.stdout
    assert "    - register" in result.stdout
    assert "~ " not in result.stdout

    same = cli("plan", "--target", str(published), cwd=git_repo)  # the manifest file itself
    assert same.stdout == result.stdout


def test_plan_as_json(git_repo: Path, tmp_path: Path) -> None:
    assert cli("publish", "--target", str(tmp_path / "target"), cwd=git_repo).returncode == 0
    edit(git_repo / "extracts" / "training_data.sql", "ORDER BY date, x_0", "ORDER BY date, x_1")

    plan = cli("plan", "--target", str(tmp_path / "target"), "--format", "json", cwd=git_repo).json()
    assert plan["baseline"] == str(tmp_path / "target" / "current" / "manifest.json")
    assert plan["baseline_source"]["commit"] == git(git_repo, "rev-parse", "HEAD")
    workflows = {w["id"]: w for w in plan["workflows"]}
    linear = workflows["model_linear_regression"]
    assert (linear["change"], linear["kind"], linear["reasons"]) == ("changed", "train", ["sql"])
    assert {"id": EXTRACT, "change": "changed", "reasons": ["sql"]} in linear["nodes"]
    assert {"id": "train", "change": "changed", "reasons": ["upstream"]} in linear["nodes"]
    assert plan["summary"]["changed"] == sum(w["change"] == "changed" for w in plan["workflows"]) >= 2
    assert plan["summary"]["added"] == plan["summary"]["removed"] == 0


def test_no_changes(git_repo: Path) -> None:
    assert cli("publish", cwd=git_repo).returncode == 0
    result = cli("plan", cwd=git_repo)
    assert result.returncode == 0
    assert result.stdout.rstrip().endswith("workflow(s) up to date.")
    assert "\n+ " not in result.stdout and "\n~ " not in result.stdout and "\n- " not in result.stdout


def test_a_target_that_is_not_a_manifest_is_a_clear_error(model_repo: Path, tmp_path: Path) -> None:
    (tmp_path / "notes.json").write_text('{"hello": "world"}')
    (tmp_path / "broken.json").write_text('{"manifest_version": 1,')
    result = cli("plan", "--target", str(tmp_path / "notes.json"), cwd=model_repo)
    assert result.returncode == 1
    assert f"{tmp_path / 'notes.json'}: neither a modelyard manifest nor an IR document" in result.stderr
    broken = cli("plan", "--target", str(tmp_path / "broken.json"), cwd=model_repo)
    assert broken.returncode == 1 and f"{tmp_path / 'broken.json'}: cannot read" in broken.stderr
    assert "Traceback" not in result.stderr + broken.stderr
