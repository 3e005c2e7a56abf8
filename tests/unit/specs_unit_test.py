"""Typed node specs, in process: each registered kind's spec reads and writes its IR JSON exactly
(the IR is a public format), and a spec with a key missing or unknown fails when it is read."""

from __future__ import annotations

import json

import pytest

from modelyard import ir
from modelyard.execute.node import EXECUTORS, KINDS, spec_of, trainer_files

TRAINER = {
    "trainer": "trainers.linear.LinearTrainer",
    "trainer_file": "trainers/linear.py",
    "trainer_files": ["trainers/linear.py"],
    "constructor_args": {"alpha": 0.5},
}
INPUTS = {"training_data": {"node": "extract__inputs__training_data", "table": "extracts.inputs__training_data"}}
VALIDATION = {
    "key": "evaluation",
    "dataset": "training_data",
    "strategy": "random",
    "fraction": 0.2,
    "time_column": "date",
    "seed": 0,
    "file": "models/m.yaml",
    "line": 22,
}
OBJECTIVE = {"metric": "r2", "direction": "maximize", "file": "tuning/t.yaml", "line": 9}
SPLIT_DATASET = {"param": "training_data", "table": "extracts.inputs__training_data", "time_column": "date"}

# one spec per kind as a compiled IR holds it, written out by hand
SAMPLES: dict[str, dict] = {
    "extract": {
        "table": "extracts.inputs__training_data",
        "sql": "SELECT * FROM seeds.houses",
        "extract_file": "extracts/inputs.yaml",
        "dataset": "training_data",
        "sql_file": "extracts/sql/training.sql",
        "line": 4,
    },
    "train": {**TRAINER, "inputs": INPUTS, "validation": VALIDATION},
    "evaluate": {
        **TRAINER,
        "inputs": INPUTS,
        "model_node": "train",
        "validation": VALIDATION,
        "metrics_source": {"kind": "holdout", "fraction": 0.2},
    },
    "register": {
        "canonical_name": "m",
        "model_name": "m",
        "model_description": None,
        "tags": {"team": "a"},
        "model_file": "models/m.yaml",
        "drift_thresholds": {},
        "lineage": {"trainer": "trainers.linear.LinearTrainer"},
        "model_node": "refit",
        "metrics_node": "evaluate",
        "constructor_args": {"alpha": 0.5},
        "row_count_inputs": INPUTS,
    },
    "trials": {
        **TRAINER,
        "inputs": INPUTS,
        "validation": VALIDATION,
        "objective": OBJECTIVE,
        "first_trial": 1,
        "round": 1,
        "items": [{"alpha": 0.1}, {"alpha": 0.2}],
    },
    "propose": {
        "strategy": "gaussian_process",
        "space": [{"name": "alpha", "low": 0.1, "high": 0.8, "step": None, "log": False, "integer": False}],
        "size": 3,
        "seed": 2,
        "objective": OBJECTIVE,
        "trial_nodes": ["trials_01"],
    },
    "select": {
        "trial_nodes": ["trials"],
        "objective": OBJECTIVE,
        "tuning_file": "tuning/t.yaml",
        "n_trials": 2,
        "table": "tuning.tune__t_trials",
        "constructor_args": {"alpha": 0.5},
        "lineage": {"workflow": "tune__t"},
        "log_params": [],
        "metrics_source": {"kind": "tuning_holdout"},
        "note": None,
    },
    "split": {
        **SPLIT_DATASET,
        "strategy": "sliding",
        "as_of": None,
        "sizes": {"days_backward": 30, "train_size": 7, "test_size": 1, "slide_by": 1},
        "model_file": "models/m.yaml",
        "lines": {"split_config": 30, "time_column": 31, "days_backward": 32, "as_of": 30},
    },
    "windows": {**TRAINER, **SPLIT_DATASET, "inputs": INPUTS, "items_from": "split"},
    "summary": {
        "windows_node": "windows",
        "table": "backtest.m_windows",
        "summary_table": "backtest.m_summary",
        "report": "backtest__m.html",
    },
    "score": {
        "canonical_name": "m",
        "version": None,
        "rows": {"node": "extract__scoring__new_rows", "table": "extracts.scoring__new_rows", "line": 3},
        "output": "scoring.m_predictions",
        "key": "id",
        "model_file": "models/m.yaml",
        "line": 40,
    },
    "monitor": {
        **TRAINER,
        "score_node": "score",
        "rows": {"node": "extract__scoring__new_rows", "table": "extracts.scoring__new_rows"},
        "train_param": "training_data",
        "drift_thresholds": {"psi_warn": 0.1},
        "labels": None,
        "metrics": {"r2": {"direction": "higher_is_better", "warn": 0.5, "fail": None}},
        "tables": {"drift": "monitoring.m_drift", "metrics": "monitoring.m_metrics"},
        "report": "score__m.html",
        "model_file": "models/m.yaml",
    },
}


def node(kind: str, spec: dict, hash_parts: dict | None = None) -> ir.Node:
    return ir.Node(kind, kind, (), spec, hash_parts or {"config": "c"})


def test_every_registered_kind_has_a_sample_and_an_executor() -> None:
    assert sorted(KINDS) == sorted(SAMPLES)
    assert all(EXECUTORS[name] is kind.executor for name, kind in KINDS.items())


@pytest.mark.parametrize("kind", sorted(SAMPLES))
def test_a_spec_writes_back_the_json_it_read(kind: str) -> None:
    sample = SAMPLES[kind]
    spec = spec_of(node(kind, sample))
    assert type(spec) is KINDS[kind].spec and spec.kind == kind
    assert json.dumps(spec.to_json(), sort_keys=True) == json.dumps(sample, sort_keys=True)


# keys of the samples a spec may go without: an in-sample evaluation has no validation split, a
# fan-out node's items are fixed (items) or come from another node (items_from)
OPTIONAL = {"train": {"validation"}, "evaluate": {"validation"}, "trials": {"items"}, "windows": {"items_from"}}


@pytest.mark.parametrize("kind", sorted(SAMPLES))
def test_a_missing_key_is_named_when_the_spec_is_read(kind: str) -> None:
    for key in SAMPLES[kind].keys() - OPTIONAL.get(kind, set()):
        broken = {k: v for k, v in SAMPLES[kind].items() if k != key}
        with pytest.raises(ir.SpecError) as caught:
            spec_of(node(kind, broken))
        assert caught.value.message == f"IR node {kind!r} ({kind}): spec with missing key(s) {key}"


@pytest.mark.parametrize("kind", sorted(SAMPLES))
def test_an_unknown_key_is_named_when_the_spec_is_read(kind: str) -> None:
    with pytest.raises(ir.SpecError) as caught:
        spec_of(node(kind, {**SAMPLES[kind], "typo_key": 1}))
    assert caught.value.message == f"IR node {kind!r} ({kind}): spec with unknown key(s) typo_key"
    assert caught.value.hint == "recompile (or republish) with this modelyard version"


def test_optional_keys_stay_out_of_the_json_while_unset() -> None:
    extract = SAMPLES["extract"]
    assert "allow_empty" not in spec_of(node("extract", extract)).to_json()
    with_target = {**extract, "allow_empty": True, "target": {"name": "prod", "type": "postgres"}}
    assert spec_of(node("extract", with_target)).to_json() == with_target
    in_sample = {k: v for k, v in SAMPLES["train"].items() if k != "validation"}
    assert spec_of(node("train", in_sample)).to_json() == in_sample


def test_a_node_of_another_kind_is_refused() -> None:
    train_spec = KINDS["train"].spec
    with pytest.raises(ir.SpecError, match="IR node 'evaluate' is a 'evaluate' node, not 'train'"):
        train_spec.of(node("evaluate", SAMPLES["evaluate"]))


def test_a_node_built_from_a_spec_takes_its_kind_and_fan_out() -> None:
    windows = ir.Node.of("windows", ["split"], KINDS["windows"].spec.from_json(SAMPLES["windows"]), {"config": "c"})
    assert (windows.kind, windows.fan_out, windows.upstream) == ("windows", True, ("split",))
    assert (windows.fixed_items, windows.items_from) == (None, "split")
    trials = ir.Node.of("trials", [], KINDS["trials"].spec.from_json(SAMPLES["trials"]), {"config": "c"})
    assert (trials.fixed_items, trials.items_from) == ([{"alpha": 0.1}, {"alpha": 0.2}], None)
    register = ir.Node.of("register", [], KINDS["register"].spec.from_json(SAMPLES["register"]), {"config": "c"})
    assert (register.kind, register.fan_out) == ("register", False)


def test_trainer_files_are_those_of_nodes_that_hash_trainer_code() -> None:
    assert trainer_files(node("train", SAMPLES["train"], {"trainer_code": "h"})) == ["trainers/linear.py"]
    assert trainer_files(node("register", SAMPLES["register"])) == []
    # a node of a kind this version does not know, which hashes no trainer code, is not read
    assert trainer_files(node("plan_windows", {"count": 2})) == []
