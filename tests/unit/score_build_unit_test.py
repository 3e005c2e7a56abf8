"""workflows/score/build.py: a model with ``scoring:`` (and ``monitoring:``) compiled in process,
every spec and hash written out by hand (hashes with hashlib over canonical JSON typed here)."""

from __future__ import annotations

import hashlib

EXTRACTS = (
    "rows:\n  operator: sql\n  sql_file: rows.sql\n"
    "fresh:\n  operator: sql\n  sql_file: rows.sql\n"
    "truth:\n  operator: sql\n  sql_file: rows.sql\n"
)
SCORED = """\
scoring:
  data:
    file: inputs.yaml
    file_param_name: fresh
    train_param_name: df
  output: out
  key: id
  schedule: '@hourly'
monitoring:
  labels:
    file: inputs.yaml
    file_param_name: truth
  key: id
  drift: {psi_warn: 0.2, psi_fail: 0.5}
  metrics:
    r2: {direction: higher_is_better, warn: 0.8, fail: 0.5}
"""
CONFIG_JSON = (
    '{"monitoring":{"drift":{"psi_fail":0.5,"psi_warn":0.2},"key":"id","labels":{"file":"inputs.yaml",'
    '"file_param_name":"truth"},"metrics":{"r2":{"direction":"higher_is_better","fail":0.5,"warn":0.8}}},'
    '"scoring":{"data":{"file":"inputs.yaml","file_param_name":"fresh","train_param_name":"df"},"key":"id",'
    '"output":"out","schedule":"@hourly"}}'
)
FRESH, TRUTH = "extract__inputs__fresh", "extract__inputs__truth"
ROWS = {"node": FRESH, "table": "extracts.inputs__fresh", "extract_file": "extracts/inputs.yaml", "dataset": "fresh"}


def _sha256(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


# a model whose first dataset is not the one scoring names (scored in sample: two datasets, no holdout)
TWO_DATASETS = "  data:\n    - train_param_name: first\n      file: inputs.yaml\n      file_param_name: rows\n"


def _score(compile_repo, model_yaml, scored: str = SCORED, model: str = ""):
    model = model or model_yaml().replace("  data:\n", TWO_DATASETS) + "evaluation: in_sample\n"
    document = compile_repo({"extracts/inputs.yaml": EXTRACTS, "models/m.yaml": model + scored})
    assert [w.id for w in document.workflows] == ["m", "score__m"]
    return document.workflows[1]


def test_score_then_monitor_against_the_labels(compile_repo, model_yaml):
    workflow = _score(compile_repo, model_yaml)
    assert [(n.id, n.kind, n.upstream) for n in workflow.nodes] == [
        (FRESH, "extract", ()),
        (TRUTH, "extract", ()),
        ("score", "score", (FRESH,)),
        ("monitor", "monitor", ("score", TRUTH)),
    ]
    score = workflow.node("score")
    assert score.spec == {
        "canonical_name": "m",
        "version": None,
        "rows": {**ROWS, "line": 4},  # `fresh:` in the extract file
        "output": "predictions.out",  # a table without a schema goes to `predictions`
        "key": "id",
        "model_file": "models/m.yaml",
        "line": 16,  # `scoring:`
    }
    assert score.hash_parts == {"config": _sha256(CONFIG_JSON)}
    assert workflow.settings == {"schedule": "@hourly", "retries": 1, "environment": {}}
    assert workflow.source_files == ("extracts/inputs.yaml", "extracts/rows.sql", "models/m.yaml", "trainers/linear.py")


def test_the_monitor_node_names_its_thresholds_tables_and_report(compile_repo, model_yaml):
    monitor = _score(compile_repo, model_yaml).node("monitor")
    assert monitor.spec == {
        "trainer": "linear.Trainer",
        "trainer_file": "trainers/linear.py",
        "trainer_files": ["trainers/linear.py"],
        "constructor_args": {},
        "score_node": "score",
        "rows": ROWS,
        "train_param": "df",
        "drift_thresholds": {"psi_warn": 0.2, "psi_fail": 0.5},
        "labels": {"table": "extracts.inputs__truth", "key": "id"},
        "metrics": {"r2": {"direction": "higher_is_better", "warn": 0.8, "fail": 0.5}},
        "tables": {"drift": "monitoring.m_drift", "metrics": "monitoring.m_metrics"},
        "report": "score__m.html",
        "model_file": "models/m.yaml",
    }
    trainer = hashlib.sha256(b"class Trainer:\n    pass\n").hexdigest()
    assert monitor.hash_parts == {
        "config": _sha256(CONFIG_JSON),
        "trainer_code": _sha256('{"trainers/linear.py":"' + trainer + '"}'),
    }


def test_without_monitoring_the_rows_stand_for_the_models_only_dataset(compile_repo, model_yaml):
    scored = "scoring:\n  data:\n    file: inputs.yaml\n    file_param_name: fresh\n  output: s.out\n"
    workflow = _score(compile_repo, model_yaml, scored, model_yaml())
    assert [(n.id, n.upstream) for n in workflow.nodes] == [(FRESH, ()), ("score", (FRESH,)), ("monitor", ("score",))]
    monitor = workflow.node("monitor").spec
    assert (monitor["train_param"], monitor["labels"], monitor["metrics"]) == ("df", None, {})
    config = '{"monitoring":null,"scoring":{"data":{"file":"inputs.yaml","file_param_name":"fresh"},"output":"s.out"}}'
    assert workflow.node("score").hash_parts == {"config": _sha256(config)}
    assert (workflow.node("score").spec["output"], workflow.node("score").spec["key"]) == ("s.out", None)
    assert workflow.settings["schedule"] is None


def test_a_pinned_version_is_scored(load_repo, model_yaml):
    from modelyard.workflows.score.build import score_workflow

    project = load_repo({"trainers/linear.py": "", "models/m.yaml": model_yaml(scoring=True)})
    workflow = score_workflow(project, project.models["models/m.yaml"], version=3)
    assert workflow.node("score").spec["version"] == 3
