"""workflows/tune/build.py: tuning files compiled in process, every expected spec written out by
hand (config hashes with hashlib over canonical JSON typed here)."""

from __future__ import annotations

import hashlib

import pytest

from modelyard.errors import ModelyardError

TUNING = """\
model: m.yaml
tuning_type: gaussian_process
n_trials: 7
n_function_compute_workers: 2
seed: 5
objective:
  direction: maximize
  metric: r2
environment:
  memory: 512
validation:
  fraction: 0.3
  seed: 2
param_boundaries:
  alpha: {min: 0.01, max: 1.0, log: true}
  depth: [1, 9]
"""
TUNING_JSON = (
    '{"environment":{"memory":512},"model":"m.yaml","n_function_compute_workers":2,"n_trials":7,'
    '"objective":{"direction":"maximize","metric":"r2"},"param_boundaries":{"alpha":{"log":true,"max":1.0,'
    '"min":0.01},"depth":[1,9]},"seed":5,"tuning_type":"gaussian_process","validation":{"fraction":0.3,"seed":2}}'
)
SPACE = [
    {"name": "alpha", "low": 0.01, "high": 1.0, "step": None, "log": True, "integer": False},
    {"name": "depth", "low": 1, "high": 9, "step": None, "log": False, "integer": True},
]
GOAL = {"metric": "r2", "direction": "maximize", "file": "tuning/t.yaml", "line": 8}
VALIDATION = {
    "dataset": "df",
    "strategy": "random",
    "fraction": 0.3,
    "time_column": "date",
    "seed": 2,
    "file": "tuning/t.yaml",
    "line": 12,
}
EXTRACT = "extract__inputs__rows"
TRIAL_KEYS = {
    "trainer": "linear.Trainer",
    "trainer_file": "trainers/linear.py",
    "trainer_files": ["trainers/linear.py"],
    "constructor_args": {},
    "inputs": {"df": {"node": EXTRACT, "table": "extracts.inputs__rows"}},
}


def _sha256(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def _tune(compile_repo, tuning: str = TUNING, **model):
    [workflow] = [w for w in compile_repo({"tuning/t.yaml": tuning}, **model).workflows if w.kind == "tune"]
    return workflow


def test_an_adaptive_search_unrolls_into_rounds_fixed_at_compile_time(compile_repo):
    workflow = _tune(compile_repo)
    # 7 trials on 2 workers: 4 random points first (4 rounded up to whole rounds of 2), then 2, then 1
    assert [(n.id, n.kind, n.upstream) for n in workflow.nodes] == [
        (EXTRACT, "extract", ()),
        ("trials_01", "trials", (EXTRACT,)),
        ("propose_02", "propose", ("trials_01",)),
        ("trials_02", "trials", ("propose_02", EXTRACT)),
        ("propose_03", "propose", ("trials_01", "trials_02")),
        ("trials_03", "trials", ("propose_03", EXTRACT)),
        ("select", "select", ("trials_01", "trials_02", "trials_03")),
        ("train", "train", ("select", EXTRACT)),
        ("register", "register", ("train", "select")),
    ]
    first = workflow.node("trials_01").spec
    assert len(first.pop("items")) == 4
    assert first == {**TRIAL_KEYS, "validation": VALIDATION, "objective": GOAL, "first_trial": 1, "round": 1}
    assert workflow.node("trials_03").spec == {
        **TRIAL_KEYS,
        "validation": VALIDATION,
        "objective": GOAL,
        "first_trial": 7,
        "round": 3,
        "items_from": "propose_03",
    }
    assert workflow.node("trials_02").spec["first_trial"] == 5
    assert workflow.node("propose_03").spec == {
        "strategy": "gaussian_process",
        "space": SPACE,
        "size": 1,
        "seed": 8,
        "objective": GOAL,
        "trial_nodes": ["trials_01", "trials_02"],
    }
    assert (workflow.node("propose_02").spec["size"], workflow.node("propose_02").spec["seed"]) == (2, 7)


def test_select_train_and_register_of_a_study(compile_repo):
    workflow = _tune(compile_repo)
    assert workflow.node("select").spec == {
        "trial_nodes": ["trials_01", "trials_02", "trials_03"],
        "objective": GOAL,
        "tuning_file": "tuning/t.yaml",
        "n_trials": 7,
        "table": "tuning.tune__t_trials",
        "constructor_args": {},
        "lineage": {
            "workflow": "tune__t",
            "tuning_file": "tuning/t.yaml",
            "tuning_type": "gaussian_process",
            "tuning_file_sha256": _sha256(TUNING),
            "validation": {"dataset": "df", "strategy": "random", "fraction": 0.3, "time_column": "date", "seed": 2},
        },
        "log_params": ["alpha"],
        "metrics_source": {
            "kind": "tuning_holdout",
            "fraction": 0.3,
            "seed": 2,
            "strategy": "random",
            "dataset": "df",
            "refit_on_all_rows": True,
        },
        "note": None,
    }
    assert workflow.node("train").spec == {**TRIAL_KEYS, "params_from": "select"}
    register = workflow.node("register").spec
    assert (register["model_node"], register["metrics_node"], register["lineage_from"]) == ("train", "select", "select")
    assert register["row_count_inputs"] == TRIAL_KEYS["inputs"]


def test_the_config_hash_covers_the_tuning_and_the_model_file(compile_repo, model_json):
    workflow = _tune(compile_repo)
    config = _sha256('{"model":' + model_json + ',"tuning":' + TUNING_JSON + "}")
    assert {n.id: n.hash_parts["config"] for n in workflow.nodes if n.kind != "extract"} == {
        node: config
        for node in ("trials_01", "propose_02", "trials_02", "propose_03", "trials_03", "select", "train", "register")
    }
    assert [n.id for n in workflow.nodes if "trainer_code" in n.hash_parts] == [
        "trials_01",
        "trials_02",
        "trials_03",
        "train",
    ]


def test_settings_and_source_files_of_a_study(compile_repo):
    workflow = _tune(compile_repo)
    assert workflow.settings == {
        "schedule": None,
        "retries": 1,
        "environment": {"memory": 512},
        "workers": 2,
    }
    assert workflow.source_files == (
        "extracts/inputs.yaml",
        "extracts/rows.sql",
        "models/m.yaml",
        "trainers/linear.py",
        "tuning/t.yaml",
    )


def test_auto_workers_make_rounds_of_one_whatever_the_machine(compile_repo):
    workflow = _tune(compile_repo, TUNING.replace("n_function_compute_workers: 2", "n_function_compute_workers: auto"))
    assert [n.id for n in workflow.nodes if n.kind == "trials"] == ["trials_01", "trials_02", "trials_03", "trials_04"]
    assert [len(workflow.node("trials_01").spec["items"])] + [
        workflow.node(f"propose_0{number}").spec["size"] for number in (2, 3, 4)
    ] == [4, 1, 1, 1]
    assert workflow.settings["workers"] == "auto"


def test_a_space_smaller_than_the_trials_asked_for_is_noted(compile_repo):
    small = "model: m.yaml\ntuning_type: gaussian_process\nn_trials: 5\nparam_boundaries:\n  depth: [1, 3]\n"
    workflow = _tune(compile_repo, small)
    select = workflow.node("select").spec
    assert select["note"] == (
        "the search space holds only 3 distinct points, so the study runs 3 trials, not 5: a point is never tried twice"
    )
    assert (select["n_trials"], select["objective"]["line"]) == (3, 1)  # no objective: the file's first line
    # no validation: a random fifth, seed 0
    validation = workflow.node("trials").spec["validation"]
    assert (validation["fraction"], validation["seed"], validation["line"]) == (0.2, 0, 1)


def test_the_first_rounds_points_follow_the_tuning_seed(compile_repo):
    def points(tuning: str) -> list:
        return _tune(compile_repo, tuning).node("trials_01").spec["items"]

    assert points(TUNING) == points(TUNING)
    assert points(TUNING) != points(TUNING.replace("seed: 5", "seed: 6"))


def test_a_model_with_a_split_config_holds_out_the_latest_rows_of_its_split_dataset(compile_repo):
    validation = _tune(compile_repo, split=True).node("trials_01").spec["validation"]
    assert (validation["dataset"], validation["strategy"], validation["time_column"]) == ("df", "time", "day")
    given = TUNING.replace("  seed: 2\n", "  seed: 2\n  dataset: df\n  strategy: random\n  time_column: ts\n")
    validation = _tune(compile_repo, given, split=True).node("trials_01").spec["validation"]
    assert (validation["strategy"], validation["time_column"], validation["line"]) == ("random", "ts", 14)


def _error(compile_repo, tuning: str, **model) -> tuple[str, str, int]:
    with pytest.raises(ModelyardError) as raised:
        _tune(compile_repo, tuning, **model)
    return raised.value.message, raised.value.position.path, raised.value.position.line


GRID = "model: m.yaml\ntuning_type: grid\nparam_boundaries:\n  alpha: [0.1, 0.3, 0.1]\n  beta: [0.3, 0.1, 0.1]\n"


def test_a_bad_range_is_reported_at_its_parameter(compile_repo):
    assert _error(compile_repo, GRID) == ("param_boundaries.beta: min 0.3 is above max 0.1", "tuning/t.yaml", 5)


def test_a_grid_too_large_is_reported_at_param_boundaries(compile_repo):
    large = GRID.replace("[0.1, 0.3, 0.1]", "[0, 199, 1]").replace("[0.3, 0.1, 0.1]", "[0, 199, 1]")
    message = "param_boundaries: the grid has 40,000 points; at most 10000 are allowed"
    assert _error(compile_repo, large) == (message, "tuning/t.yaml", 4)


def test_an_unknown_validation_dataset_is_reported_at_its_line(compile_repo):
    unknown = TUNING.replace("  seed: 2\n", "  seed: 2\n  dataset: dff\n")
    message = "validation.dataset: train() has no dataset 'dff'; did you mean 'df'?"
    assert _error(compile_repo, unknown) == (message, "tuning/t.yaml", 14)


SECOND = "  data:\n    - train_param_name: labels\n      file: inputs.yaml\n      file_param_name: rows\n"


def test_of_two_datasets_the_split_configs_is_held_out_else_the_file_must_say(compile_repo, model_yaml):
    split = model_yaml(split=True).replace("  data:\n", SECOND) + "evaluation: in_sample\n"
    tune = compile_repo({"tuning/t.yaml": TUNING, "models/m.yaml": split}).workflow("tune__t")
    assert tune.node("trials_01").spec["validation"]["dataset"] == "df"
    no_split = model_yaml().replace("  data:\n", SECOND) + "evaluation: in_sample\n"
    with pytest.raises(ModelyardError) as raised:
        compile_repo({"tuning/t.yaml": TUNING, "models/m.yaml": no_split})
    assert raised.value.message == (
        "validation.dataset: the model trains on 2 datasets (labels, df); name the one to hold rows out of "
        "(or a list of those to split together)"
    )
