"""The IR written by `modelyard compile`: schema, determinism, content hashes, and what compiling
must never do (touch the warehouse, write output for a repo that does not validate)."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import jsonschema
import pytest
from conftest import ROOT, cli, edit_file, git_commit


def compile_ir(repo: Path, out: Path) -> dict:
    result = cli("compile", "--out", str(out), cwd=repo)
    assert result.returncode == 0, result
    return json.loads((out / "ir.json").read_text())


def folder_bytes(folder: Path) -> dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def strings(value):
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for key, item in value.items():
            yield key
            yield from strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from strings(item)


def test_compiled_ir_validates_against_its_schema(model_repo, tmp_path):
    git_commit(model_repo)
    schema = json.loads((ROOT / "schemas" / "ir.schema.json").read_text())
    jsonschema.Draft202012Validator.check_schema(schema)
    document = compile_ir(model_repo, tmp_path / "ir")
    jsonschema.Draft202012Validator(schema).validate(document)
    assert document["source"]["commit"] and document["source"]["dirty"] is False
    assert [w["id"] for w in document["workflows"]] == [
        "backtest__model_linear_regression",
        "model_elastic_net",
        "model_linear_regression",
        "model_mlp",  # the Lightning example: compiled without torch (trainers are read as source)
        "score__model_linear_regression",
        "tune__tune_elastic_net",
        "tune__tune_mlp",
    ]
    # The IR travels to other machines (Airflow workers): no path of this one may leak into it.
    assert not [s for s in strings(document) if s.startswith("/") or str(tmp_path) in s]

    assert cli("compile", "--backend", "airflow", "--out", str(tmp_path / "dags"), cwd=model_repo).returncode == 0
    for path in sorted((tmp_path / "dags").glob("*.ir.json")):
        jsonschema.Draft202012Validator(schema).validate(json.loads(path.read_text()))


def test_schema_rejects_a_fan_out_node_without_items(model_repo, tmp_path):
    schema = json.loads((ROOT / "schemas" / "ir.schema.json").read_text())
    document = compile_ir(model_repo, tmp_path / "ir")
    document["workflows"][0]["nodes"][1]["fan_out"] = True
    with pytest.raises(jsonschema.ValidationError, match="items"):
        jsonschema.Draft202012Validator(schema).validate(document)


def test_every_compiled_node_reads_back_as_its_kinds_typed_spec(model_repo, tmp_path):
    """What a worker reads (``spec_of``) is what the compiler wrote, key for key."""
    from modelyard import ir
    from modelyard.execute.node import spec_of

    document = compile_ir(model_repo, tmp_path / "ir")
    nodes = [node for workflow in document["workflows"] for node in workflow["nodes"]]
    assert {node["kind"] for node in nodes} >= {"extract", "train", "evaluate", "register", "trials", "select"}
    for data in nodes:
        assert spec_of(ir.Node.from_json(data)).to_json() == data["spec"], data["id"]


@pytest.mark.parametrize("backend", ["ir", "airflow"])
def test_compiling_is_deterministic_across_runs_and_clones(model_repo, tmp_path, backend):
    git_commit(model_repo)
    first, second, cloned = tmp_path / "first", tmp_path / "second", tmp_path / "cloned"
    assert cli("compile", "--backend", backend, "--out", str(first), cwd=model_repo).returncode == 0
    assert cli("compile", "--backend", backend, "--out", str(second), cwd=model_repo).returncode == 0
    clone = tmp_path / "clone"
    subprocess.run(["git", "clone", "-q", str(model_repo), str(clone)], check=True)
    assert cli("compile", "--backend", backend, "--out", str(cloned), cwd=clone).returncode == 0
    expected = folder_bytes(first)
    assert expected and folder_bytes(second) == expected
    assert folder_bytes(cloned) == expected


def nodes_of(document: dict, workflow: str) -> dict[str, dict]:
    flow = next(w for w in document["workflows"] if w["id"] == workflow)
    return {n["id"]: n for n in flow["nodes"]}


EXTRACT = "extract__extract_inputs__training_data"


def changed(before: dict, after: dict, workflow: str) -> dict[str, set[str]]:
    """Per node: which hash parts changed, plus "hash" if its overall hash did."""
    old, new = nodes_of(before, workflow), nodes_of(after, workflow)
    out = {}
    for node_id in old:
        parts = {
            k for k in old[node_id]["hash_parts"] if old[node_id]["hash_parts"][k] != new[node_id]["hash_parts"][k]
        }
        if old[node_id]["hash"] != new[node_id]["hash"]:
            parts.add("hash")
        out[node_id] = parts
    return out


CHANGES = {
    "sql": (
        "extracts/training_data.sql",
        "ORDER BY date, x_0",
        "ORDER BY date, x_1",
        {EXTRACT: {"sql", "hash"}, "train": {"hash"}, "evaluate": {"hash"}, "refit": {"hash"}, "register": {"hash"}},
    ),
    "kwargs": (
        "extracts/extract_inputs.yaml",
        "limit: 10000",
        "limit: 500",
        {
            EXTRACT: {"config", "sql", "hash"},
            "train": {"hash"},
            "evaluate": {"hash"},
            "refit": {"hash"},
            "register": {"hash"},
        },
    ),
    "model config": (
        "models/model_linear_regression.yaml",
        "fit_intercept: False",
        "fit_intercept: True",
        {
            EXTRACT: set(),
            "train": {"config", "hash"},
            "evaluate": {"config", "hash"},
            "refit": {"config", "hash"},
            "register": {"config", "hash"},
        },
    ),
    "trainer code": (
        "trainers/sklearn/sklearn_linear.py",
        "features = df[self.feature_columns]\n        regression_model.fit",
        "features = df[list(self.feature_columns)]\n        regression_model.fit",
        {
            EXTRACT: set(),
            "train": {"trainer_code", "hash"},
            "evaluate": {"trainer_code", "hash"},
            "refit": {"trainer_code", "hash"},
            "register": {"hash"},
        },
    ),
    "a comment": (
        "models/model_linear_regression.yaml",
        "# required -- ",
        "# still required -- ",
        {EXTRACT: set(), "train": set(), "evaluate": set(), "refit": set(), "register": set()},
    ),
}


@pytest.mark.parametrize("change", sorted(CHANGES))
def test_a_change_rehashes_the_nodes_it_affects(model_repo, tmp_path, change):
    path, old, new, expected = CHANGES[change]
    before = compile_ir(model_repo, tmp_path / "before")
    edit_file(model_repo / path, old, new)
    after = compile_ir(model_repo, tmp_path / "after")
    assert changed(before, after, "model_linear_regression") == expected
    if change in ("sql", "kwargs"):
        assert (
            nodes_of(after, "model_linear_regression")["register"]["spec"]["lineage"]["extracts"][0][
                "rendered_sql_sha256"
            ]
            == nodes_of(after, "model_linear_regression")[EXTRACT]["hash_parts"]["sql"]
        )
    other = changed(before, after, "model_elastic_net")
    if "model" in change or "comment" in change:
        assert other == {n: set() for n in other}, "another model's file changed nothing of this workflow"


def test_compiling_never_touches_the_warehouse(model_repo):
    assert cli("compile", cwd=model_repo).returncode == 0
    assert cli("compile", "--backend", "airflow", cwd=model_repo).returncode == 0
    state = model_repo / ".modelyard"
    # compiled files, and validate's cache of its SQL check (an in-memory DuckDB, never the warehouse)
    assert {p.name for p in state.iterdir()} <= {"compiled", "cache"}
    assert not list(model_repo.rglob("*.duckdb*"))


def test_a_repo_that_does_not_validate_compiles_to_nothing(model_repo, tmp_path):
    out = tmp_path / "dags"
    assert cli("compile", "--backend", "airflow", "--out", str(out), cwd=model_repo).returncode == 0
    before = folder_bytes(out)
    edit_file(model_repo / "models/model_linear_regression.yaml", "model_name:", "modle_name:")
    edit_file(model_repo / "extracts/extract_inputs.yaml", "operator: sql", "operator: 7")
    for target in (out, tmp_path / "absent"):
        result = cli("compile", "--backend", "airflow", "--out", str(target), cwd=model_repo)
        assert result.returncode == 1, result
        assert "Traceback" not in result.stderr
        assert "models/model_linear_regression.yaml:" in result.stderr
        assert "extracts/extract_inputs.yaml:" in result.stderr
        assert result.stdout == ""
    assert folder_bytes(out) == before
    assert not (tmp_path / "absent").exists()
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []


def test_a_backend_failure_names_the_workflow_and_node(model_repo, tmp_path):
    extracts = model_repo / "extracts"
    (extracts / "extract_inputs.yaml").rename(extracts / "extract inputs.yaml")
    edit_file(
        model_repo / "models/model_linear_regression.yaml", "file: extract_inputs.yaml", "file: extract inputs.yaml"
    )
    edit_file(model_repo / "models/model_elastic_net.yaml", "file: extract_inputs.yaml", "file: extract inputs.yaml")
    edit_file(model_repo / "models/model_mlp.yaml", "file: extract_inputs.yaml", "file: extract inputs.yaml")
    assert cli("compile", "--out", str(tmp_path / "ir"), cwd=model_repo).returncode == 0
    result = cli("compile", "--backend", "airflow", "--out", str(tmp_path / "dags"), cwd=model_repo)
    assert result.returncode == 1, result
    assert (
        "workflow 'backtest__model_linear_regression', node 'extract__extract inputs__training_data' failed:\n"
        "'extract__extract inputs__training_data' is not a valid Airflow task id"
    ) in result.stderr
    assert "Traceback" not in result.stderr
    assert not (tmp_path / "dags").exists()


@pytest.mark.parametrize("backend", ["ir", "airflow"])
def test_compile_json_lists_the_files_and_workflows_it_wrote(model_repo, backend):
    result = cli("compile", "--backend", backend, "--format", "json", cwd=model_repo)
    assert result.returncode == 0, result
    out = result.json()  # stdout is the JSON alone; the log line goes to stderr
    assert "compiled 7 workflow(s)" in result.stderr
    folder = model_repo / ".modelyard" / "compiled" / backend
    assert out["backend"] == backend and out["out"] == str(folder.resolve())
    assert out["files"] == sorted(folder_bytes(folder))
    assert out["workflows"] == [
        "backtest__model_linear_regression",
        "model_elastic_net",
        "model_linear_regression",
        "model_mlp",  # the Lightning example: compiled without torch (trainers are read as source)
        "score__model_linear_regression",
        "tune__tune_elastic_net",
        "tune__tune_mlp",
    ]
    if backend == "ir":
        assert out["files"] == ["ir.json"]
        assert [w["id"] for w in json.loads((folder / "ir.json").read_text())["workflows"]] == out["workflows"]
    else:
        assert out["files"] == sorted(f"{w}{suffix}" for w in out["workflows"] for suffix in (".ir.json", ".py"))
