"""compile/: a small repo read in process and compiled to the IR (milliseconds, no CLI).

Every expected value is written out here: the workflow ids and node graph the IR contract in
docs/architecture.md describes, the rendered SQL, and sha256 digests computed with hashlib over
the bytes the test wrote.
"""

from __future__ import annotations

import hashlib
import json

import pytest

SQL = "select {{ n }} as x from seed\n"
TRAINER = 'class Trainer:\n    """The trainer these tests hash."""\n'
EXTRACTS = "rows:\n  operator: sql\n  sql_file: rows.sql\n  kwargs:\n    n: 3\n"
TUNING = """\
model: m.yaml
tuning_type: grid
param_boundaries:
  alpha: [0.1, 0.3, 0.1]
  max_iter: [10, 20, 10]
"""


def _graph(workflow) -> list[tuple[str, str, tuple[str, ...], bool]]:
    return [(n.id, n.kind, n.upstream, n.fan_out) for n in workflow.nodes]


def _compile(compile_repo, files: dict[str, str] | None = None, **model):
    base = {"extracts/inputs.yaml": EXTRACTS, "extracts/rows.sql": SQL, "trainers/linear.py": TRAINER}
    return compile_repo({**base, **(files or {})}, **model)


def test_a_model_file_is_one_train_workflow(compile_repo):
    document = _compile(compile_repo)
    assert [(w.id, w.kind) for w in document.workflows] == [("m", "train")]
    extract = "extract__inputs__rows"
    assert _graph(document.workflows[0]) == [
        (extract, "extract", (), False),
        ("train", "train", (extract,), False),
        ("evaluate", "evaluate", ("train", extract), False),
        ("refit", "train", ("evaluate", extract), False),
        ("register", "register", ("refit", "evaluate"), False),
    ]


def test_the_extract_node_carries_the_rendered_sql_and_its_sha256(compile_repo):
    node = _compile(compile_repo).workflows[0].node("extract__inputs__rows")
    assert node.spec["sql"] == "select 3 as x from seed\n"
    assert node.spec["table"] == "extracts.inputs__rows"
    assert node.hash_parts["sql"] == hashlib.sha256(b"select 3 as x from seed\n").hexdigest()


def test_trainer_nodes_hash_the_trainer_file(compile_repo):
    workflow = _compile(compile_repo).workflows[0]
    # the IR's trainer_code: sha256 of the canonical JSON {file: sha256 of its bytes} (one file here)
    digest = hashlib.sha256(TRAINER.encode()).hexdigest()
    expected = hashlib.sha256(('{"trainers/linear.py":"' + digest + '"}').encode()).hexdigest()
    assert [n.id for n in workflow.nodes if n.hash_parts.get("trainer_code") == expected] == [
        "train",
        "evaluate",
        "refit",
    ]


def test_a_changed_trainer_changes_the_hash_of_its_nodes_and_their_downstream_only(compile_repo):
    before = {n.id: n.hash for n in _compile(compile_repo).workflows[0].nodes}
    edited = {"trainers/linear.py": TRAINER + "# edited\n"}
    after = {n.id: n.hash for n in _compile(compile_repo, edited).workflows[0].nodes}
    assert [node for node in before if before[node] != after[node]] == ["train", "evaluate", "refit", "register"]


def test_a_split_config_adds_a_backtest_workflow_mapping_windows_from_split(compile_repo):
    document = _compile(compile_repo, split=True)
    assert [(w.id, w.kind) for w in document.workflows] == [("backtest__m", "backtest"), ("m", "train")]
    backtest = document.workflows[0]
    extract = "extract__inputs__rows"
    assert _graph(backtest) == [
        (extract, "extract", (), False),
        ("split", "split", (extract,), False),
        ("windows", "windows", ("split", extract), True),
        ("summary", "summary", ("windows",), False),
    ]
    assert backtest.node("windows").spec["items_from"] == "split"


def test_a_scoring_block_adds_a_score_workflow(compile_repo):
    document = _compile(compile_repo, scoring=True)
    assert [(w.id, w.kind) for w in document.workflows] == [("m", "train"), ("score__m", "score")]
    kinds = [n.kind for n in document.workflows[1].nodes]
    assert kinds[-2:] == ["score", "monitor"]


def test_a_grid_tuning_file_fans_out_one_trial_per_combination(compile_repo):
    document = _compile(compile_repo, {"tuning/t.yaml": TUNING})
    assert [(w.id, w.kind) for w in document.workflows] == [("m", "train"), ("tune__t", "tune")]
    tune = document.workflows[1]
    extract = "extract__inputs__rows"
    assert [(node_id, kind) for node_id, kind, _, _ in _graph(tune)] == [
        (extract, "extract"),
        ("trials", "trials"),
        ("select", "select"),
        ("train", "train"),
        ("register", "register"),
    ]
    trials = tune.node("trials")
    assert trials.fan_out
    # alpha 0.1, 0.2, 0.3 x max_iter 10, 20, by hand
    points = sorted((round(item["alpha"], 9), item["max_iter"]) for item in trials.spec["items"])
    assert points == [(0.1, 10), (0.1, 20), (0.2, 10), (0.2, 20), (0.3, 10), (0.3, 20)]
    assert tune.node("train").spec["params_from"] == "select"


def test_compiling_twice_gives_the_same_bytes(compile_repo):
    first = _compile(compile_repo, {"tuning/t.yaml": TUNING}, split=True, scoring=True)
    second = _compile(compile_repo, {"tuning/t.yaml": TUNING}, split=True, scoring=True)
    assert json.dumps(first.to_json(), sort_keys=True) == json.dumps(second.to_json(), sort_keys=True)
    assert [w.id for w in first.workflows] == ["backtest__m", "m", "score__m", "tune__t"]


ROWS_INPUT = {"node": "extract__inputs__rows", "table": "extracts.inputs__rows"}
CHAINED = EXTRACTS + "recent:\n  operator: sql\n  sql_file: recent.sql\n"


def test_an_extract_reading_another_extracts_table_runs_after_it(compile_repo, model_yaml):
    model = model_yaml().replace("file_param_name: rows", "file_param_name: recent")
    files = {"extracts/inputs.yaml": CHAINED, "extracts/recent.sql": "select * from extracts.INPUTS__ROWS\n"}
    workflow = _compile(compile_repo, {**files, "models/m.yaml": model}).workflows[0]
    # the model reads only `recent`; `rows` joins the workflow because `recent` reads its table
    assert _graph(workflow)[:2] == [
        ("extract__inputs__rows", "extract", (), False),
        ("extract__inputs__recent", "extract", ("extract__inputs__rows",), False),
    ]
    assert workflow.node("train").upstream == ("extract__inputs__rows", "extract__inputs__recent")
    assert list(workflow.node("train").spec["inputs"]) == ["df"]
    assert workflow.source_files == (
        "extracts/inputs.yaml",
        "extracts/recent.sql",
        "extracts/rows.sql",
        "models/m.yaml",
        "trainers/linear.py",
    )


TRAINER_KEYS = {
    "trainer": "linear.Trainer",
    "trainer_file": "trainers/linear.py",
    "trainer_files": ["trainers/linear.py"],
    "constructor_args": {},
}
HOLDOUT = {
    "key": "evaluation",
    "dataset": "df",
    "strategy": "random",
    "fraction": 0.2,
    "time_column": "date",
    "seed": 0,
    "file": "models/m.yaml",
    "line": 9,  # the list under dependencies.data, where the split datasets are named
}
HOLDOUT_SOURCE = {
    "kind": "holdout",
    "fraction": 0.2,
    "seed": 0,
    "strategy": "random",
    "dataset": "df",
    "refit_on_all_rows": True,
}


def test_the_default_evaluation_holds_out_a_random_fifth_and_refits(compile_repo):
    workflow = _compile(compile_repo).workflows[0]
    validation = workflow.node("train").spec["validation"]
    assert validation == HOLDOUT
    assert workflow.node("evaluate").spec["metrics_source"] == HOLDOUT_SOURCE
    assert workflow.node("register").spec["model_node"] == "refit"
    assert "validation" not in workflow.node("refit").spec  # the stored model sees every row


def test_a_split_config_makes_the_held_out_rows_the_latest(compile_repo):
    workflow = _compile(compile_repo, split=True).workflows[1]
    source = workflow.node("evaluate").spec["metrics_source"]
    assert (source["strategy"], source["time_column"]) == ("time", "day")


def test_in_sample_evaluation_has_no_split_and_no_refit(compile_repo, model_yaml):
    model = model_yaml() + "evaluation: in_sample\n"
    workflow = _compile(compile_repo, {"models/m.yaml": model}).workflows[0]
    assert [n.id for n in workflow.nodes] == ["extract__inputs__rows", "train", "evaluate", "register"]
    assert "validation" not in workflow.node("train").spec
    assert workflow.node("evaluate").spec["metrics_source"] == {"kind": "in_sample"}
    assert workflow.node("register").upstream == ("train", "evaluate")


def test_refit_false_stores_the_model_that_was_scored(compile_repo, model_yaml):
    model = model_yaml() + "evaluation:\n  holdout: 0.3\n  seed: 7\n  refit: false\n"
    workflow = _compile(compile_repo, {"models/m.yaml": model}).workflows[0]
    assert [n.id for n in workflow.nodes] == ["extract__inputs__rows", "train", "evaluate", "register"]
    assert workflow.node("register").spec["model_node"] == "train"
    source = workflow.node("evaluate").spec["metrics_source"]
    assert (source["fraction"], source["seed"], source["refit_on_all_rows"]) == (0.3, 7, False)


def test_the_register_node_records_the_lineage_by_hand(compile_repo, model_yaml):
    model = model_yaml().replace("tags:\n  canonical_name: m", "tags:\n  canonical_name: m\n  team: risk")
    workflow = _compile(compile_repo, {"models/m.yaml": model}).workflows[0]
    spec = workflow.node("register").spec
    assert (spec["canonical_name"], spec["model_name"], spec["model_description"]) == ("m", "m", "d")
    assert spec["tags"] == {"canonical_name": "m", "team": "risk"}
    assert (spec["model_file"], spec["metrics_node"]) == ("models/m.yaml", "evaluate")
    assert spec["row_count_inputs"] == {"df": ROWS_INPUT}
    lineage = spec["lineage"]
    assert lineage["model_file_sha256"] == hashlib.sha256(model.encode()).hexdigest()
    assert lineage["trainer"] == "linear.Trainer"
    assert lineage["extracts"] == [
        {
            "extract_file": "extracts/inputs.yaml",
            "dataset": "rows",
            "extract_file_sha256": hashlib.sha256(EXTRACTS.encode()).hexdigest(),
            "rendered_sql_sha256": hashlib.sha256(b"select 3 as x from seed\n").hexdigest(),
            "table": "extracts.inputs__rows",
        }
    ]


def test_schedule_and_retries_come_from_the_model_file(compile_repo, model_yaml):
    model = model_yaml() + "schedule: '@daily'\nretries: 3\n"
    workflow = _compile(compile_repo, {"models/m.yaml": model}).workflows[0]
    assert workflow.settings == {"schedule": "@daily", "retries": 3, "environment": {}}
    default = _compile(compile_repo).workflows[0]
    assert default.settings == {"schedule": None, "retries": 1, "environment": {}}


def test_sql_that_reads_the_target_is_rendered_for_it_and_records_it(compile_repo):
    sql = {"extracts/rows.sql": "select '{{ target.type }}' as t, '{{ target.name }}' as n\n"}
    node = _compile(compile_repo, sql).workflows[0].node("extract__inputs__rows")
    assert node.spec["sql"] == "select 'duckdb' as t, 'local' as n\n"
    assert node.spec["target"] == {"name": "local", "type": "duckdb"}
    # SQL that does not read the target records none: it runs the same on every target
    plain = _compile(compile_repo).workflows[0].node("extract__inputs__rows")
    assert "target" not in plain.spec


def test_a_kwarg_named_target_is_the_users_not_the_warehouse_target(compile_repo):
    files = {
        "extracts/inputs.yaml": "rows:\n  operator: sql\n  sql_file: rows.sql\n  kwargs:\n    target: t1\n",
        "extracts/rows.sql": "select * from {{ target }}\n",
    }
    node = _compile(compile_repo, files).workflows[0].node("extract__inputs__rows")
    assert node.spec["sql"] == "select * from t1\n"
    assert "target" not in node.spec


def test_extracts_reading_each_other_are_a_cycle_error_naming_both(compile_repo):
    from modelyard.errors import ConfigError

    files = {
        "extracts/inputs.yaml": "rows:\n  operator: sql\n  sql_file: rows.sql\nother:\n  operator: sql\n  sql_file: other.sql\n",
        "extracts/rows.sql": "select * from extracts.inputs__other\n",
        "extracts/other.sql": "select * from extracts.inputs__rows\n",
    }
    with pytest.raises(ConfigError) as raised:
        _compile(compile_repo, files)
    [diagnostic] = raised.value.diagnostics
    assert (diagnostic.rule, diagnostic.severity) == ("cycle", "error")
    assert diagnostic.message == (
        "extracts read each other in a cycle: "
        "extracts/inputs.yaml:rows -> extracts/inputs.yaml:other -> extracts/inputs.yaml:rows"
    )
    assert (diagnostic.position.path, diagnostic.position.line) == ("extracts/inputs.yaml", 1)


def _sha256(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def test_config_hashes_are_the_sha256_of_each_files_data(compile_repo, model_json):
    workflow = _compile(compile_repo).workflows[0]
    config = {n.id: n.hash_parts["config"] for n in workflow.nodes}
    model = _sha256(model_json)
    assert config == {
        "extract__inputs__rows": _sha256('{"kwargs":{"n":3},"operator":"sql","sql_file":"rows.sql"}'),
        "train": model,
        "evaluate": model,
        "refit": model,
        "register": model,
    }


def test_the_evaluate_and_refit_specs_by_hand(compile_repo):
    workflow = _compile(compile_repo).workflows[0]
    assert workflow.node("evaluate").spec == {
        **TRAINER_KEYS,
        "inputs": {"df": ROWS_INPUT},
        "model_node": "train",
        "validation": HOLDOUT,
        "metrics_source": HOLDOUT_SOURCE,
    }
    assert workflow.node("train").spec == {**TRAINER_KEYS, "inputs": {"df": ROWS_INPUT}, "validation": HOLDOUT}
    assert workflow.node("refit").spec == {**TRAINER_KEYS, "inputs": {"df": ROWS_INPUT}}


def test_an_extract_node_names_its_file_dataset_and_line(compile_repo, model_yaml):
    # a dot in the file's stem stays in the table's name (the warehouse quotes the part after the schema)
    extracts = "first:\n  operator: sql\n  sql_file: rows.sql\nrows:\n  operator: sql\n  sql_file: rows.sql\n  allow_empty: true\n"
    model = model_yaml().replace("file: inputs.yaml", "file: daily.v2.yaml")
    workflow = compile_repo({"extracts/daily.v2.yaml": extracts, "models/m.yaml": model}).workflows[0]
    node = workflow.nodes[0]
    assert node.id == "extract__daily.v2__rows"
    assert node.spec == {
        "table": "extracts.daily.v2__rows",
        "sql": "select 1 as x\n",
        "extract_file": "extracts/daily.v2.yaml",
        "dataset": "rows",
        "sql_file": "extracts/rows.sql",
        "line": 4,
        "allow_empty": True,
    }
    assert node.hash_parts["config"] == _sha256('{"allow_empty":true,"operator":"sql","sql_file":"rows.sql"}')


def test_sql_reading_no_target_renders_with_none(load_repo):
    from modelyard.workflows.train.build import render_extract

    project = load_repo({})
    [spec] = project.extracts.values()
    assert render_extract(project, spec) == ("select 1 as x\n", "select 1 as x\n", None)


def test_an_undefined_sql_variable_names_the_sql_file_line_and_the_kwargs(compile_repo):
    from modelyard.errors import ModelyardError

    with pytest.raises(ModelyardError) as raised:
        _compile(compile_repo, {"extracts/rows.sql": "select {{ n }} as x\nfrom {{ missing }}\n"})
    error = raised.value
    assert error.message == "SQL template: 'missing' is undefined (kwargs: extracts/inputs.yaml:4:3)"
    assert (error.position.path, error.position.line) == ("extracts/rows.sql", 2)


def test_the_register_node_carries_the_drift_thresholds_and_constructor_args(compile_repo, model_yaml):
    model = model_yaml().replace("constructor_args: {}", "constructor_args: {alpha: 0.5}")
    model += "monitoring:\n  drift: {psi_warn: 0.2}\n"
    spec = _compile(compile_repo, {"models/m.yaml": model}).workflows[0].node("register").spec
    assert (spec["drift_thresholds"], spec["constructor_args"]) == ({"psi_warn": 0.2}, {"alpha": 0.5})


TWO_DATASETS = "      file_param_name: rows\n    - train_param_name: labels\n      file: inputs.yaml\n      file_param_name: rows\n"


def _two_datasets(model: str) -> str:
    return model.replace("      file_param_name: rows\n", TWO_DATASETS, 1)


def _holdout_error(compile_repo, model: str):
    from modelyard.errors import ModelyardError

    with pytest.raises(ModelyardError) as raised:
        _compile(compile_repo, {"models/m.yaml": model})
    error = raised.value
    return error.message, error.position.line, error.hint


def test_a_declared_evaluation_dataset_is_held_out_and_checked_at_its_line(compile_repo, model_yaml):
    model = _two_datasets(model_yaml()) + "evaluation:\n  holdout: 0.25\n  dataset: labels\n"
    validation = _compile(compile_repo, {"models/m.yaml": model}).workflows[0].node("train").spec["validation"]
    assert (validation["dataset"], validation["fraction"], validation["line"]) == ("labels", 0.25, 17)
    unknown = model.replace("dataset: labels", "dataset: label")
    assert _holdout_error(compile_repo, unknown) == (
        "evaluation.dataset: train() has no dataset 'label'; did you mean 'labels'?",
        17,
        "the model's datasets: df, labels",
    )


def test_two_datasets_and_no_evaluation_ask_which_one_to_hold_out(compile_repo, model_yaml):
    assert _holdout_error(compile_repo, _two_datasets(model_yaml())) == (
        "evaluation.dataset: the model trains on 2 datasets (df, labels); name the one to hold rows out of "
        "(or a list of those to split together)",
        9,
        "add `evaluation: {holdout: 0.2, dataset: NAME}` to the model file "
        "(or `evaluation: in_sample` to score on the training rows)",
    )


def test_two_datasets_and_a_split_config_hold_out_the_split_dataset(compile_repo, model_yaml):
    model = _two_datasets(model_yaml(split=True))
    train = _compile(compile_repo, {"models/m.yaml": model}).workflows[1].node("train")
    assert tuple(train.spec["validation"][k] for k in ("dataset", "strategy", "time_column")) == ("df", "time", "day")


def test_the_document_records_the_source_it_is_given(load_repo):
    from modelyard.compile import compile_project

    project = load_repo({})
    assert compile_project(project, {"commit": "abc123", "dirty": True}).source == {"commit": "abc123", "dirty": True}
    assert compile_project(project).source == {}
