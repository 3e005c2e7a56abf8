"""An extract may read another extract's table: it compiles with an upstream edge and runs after it."""

from __future__ import annotations

import json

from conftest import cli
from helpers.extracts import chain_extracts


def test_chained_extract_compiles_with_upstream_edge(model_repo):
    chain_extracts(model_repo)
    assert cli("validate", cwd=model_repo).returncode == 0
    result = cli("compile", "--out", "out", cwd=model_repo)
    assert result.returncode == 0, result
    document = json.loads((model_repo / "out" / "ir.json").read_text())
    workflow = next(w for w in document["workflows"] if w["id"] == "model_linear_regression")
    nodes = {n["id"]: n for n in workflow["nodes"]}
    assert nodes["extract__features__features"]["upstream"] == ["extract__extract_inputs__training_data"]
    assert nodes["extract__extract_inputs__training_data"]["upstream"] == []
    order = [n["id"] for n in workflow["nodes"]]
    assert order.index("extract__extract_inputs__training_data") < order.index("extract__features__features")


def test_chained_extract_runs_upstream_first(model_repo):
    chain_extracts(model_repo)
    result = cli("run", "models/model_linear_regression.yaml", "--format", "json", cwd=model_repo)
    assert result.returncode == 0, result
    rows = result.json()
    envelope_tables = {
        e["table"]
        for e in json.loads(
            (
                model_repo / ".modelyard" / "models" / rows["canonical_name"] / str(rows["version"]) / "envelope.json"
            ).read_text()
        )["lineage"]["extracts"]
    }
    assert envelope_tables == {"extracts.extract_inputs__training_data", "extracts.features__features"}
    # unchanged upstream and downstream: both reused on the second run
    again = cli("run", "models/model_linear_regression.yaml", "--format", "json", "--force", cwd=model_repo)
    assert sorted(again.json()["reused_extracts"]) == [
        "extracts.extract_inputs__training_data",
        "extracts.features__features",
    ]


def test_cycle_between_extracts_is_reported_with_the_cycle(model_repo):
    chain_extracts(model_repo)
    (model_repo / "extracts" / "training_data.sql").write_text(
        "SELECT * FROM sample_data WHERE x_0 IN (SELECT x_0 FROM extracts.features__features) LIMIT {{ limit }}\n"
    )
    result = cli("validate", cwd=model_repo)
    assert result.returncode == 1, result
    assert (
        "extracts/extract_inputs.yaml:5:1: error[cycle]: extracts read each other in a cycle: "
        "extracts/extract_inputs.yaml:training_data -> extracts/features.yaml:features -> "
        "extracts/extract_inputs.yaml:training_data"
    ) in result.stdout
