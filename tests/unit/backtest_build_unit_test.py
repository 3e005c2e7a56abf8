"""workflows/backtest/build.py: a model with a ``split_config`` compiled in process, every spec
and hash written out by hand (hashes with hashlib over canonical JSON typed here)."""

from __future__ import annotations

import hashlib

EXTRACTS = "rows:\n  operator: sql\n  sql_file: rows.sql\nother:\n  operator: sql\n  sql_file: rows.sql\n"
# model_yaml(split=True) with these two keys added to its split_config
SPLIT_MORE = '  slide_by: {days: 1}\n  as_of: "2024-01-31"\n'
SPLIT_JSON = (
    '{"as_of":"2024-01-31","days_backward":10,"slide_by":{"days":1},"strategy":"sliding_time_window",'
    '"test_size":{"days":2},"time_column":"day","train_param_name":"df","train_size":{"days":3}}'
)
# the model reads `other` first: the split dataset is not the first one
OTHER = "    - train_param_name: other\n      file: inputs.yaml\n      file_param_name: other\n"
MODEL_JSON = (
    '{"constructor_args":{},"dependencies":{"data":[{"file":"inputs.yaml","file_param_name":"other",'
    '"train_param_name":"other"},{"file":"inputs.yaml","file_param_name":"rows","train_param_name":"df"}]},'
    '"model_description":"d","model_name":"m","model_trainer":"linear.Trainer","split_config":'
    + SPLIT_JSON
    + ',"tags":{"canonical_name":"m"}}'
)
ROWS, OTHER_ROWS = "extract__inputs__rows", "extract__inputs__other"
DATASET = {"param": "df", "table": "extracts.inputs__rows", "time_column": "day"}


def _sha256(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def _backtest(compile_repo, model_yaml):
    model = model_yaml(split=True).replace("  data:\n", "  data:\n" + OTHER) + SPLIT_MORE
    document = compile_repo({"extracts/inputs.yaml": EXTRACTS, "models/m.yaml": model})
    assert [w.id for w in document.workflows] == ["backtest__m", "m"]
    return document.workflows[0]


def test_the_split_node_reads_the_split_dataset_only_and_records_the_split_config(compile_repo, model_yaml):
    workflow = _backtest(compile_repo, model_yaml)
    assert [(n.id, n.upstream) for n in workflow.nodes] == [
        (OTHER_ROWS, ()),
        (ROWS, ()),
        ("split", (ROWS,)),
        ("windows", ("split", OTHER_ROWS, ROWS)),
        ("summary", ("windows",)),
    ]
    split = workflow.node("split")
    assert split.spec == {
        **DATASET,
        "strategy": "sliding_time_window",
        "as_of": "2024-01-31",
        # 3, 2 and 1 days in seconds
        "sizes": {
            "days_backward": 10,
            "train_size_seconds": 259200.0,
            "test_size_seconds": 172800.0,
            "slide_by_seconds": 86400.0,
        },
        "model_file": "models/m.yaml",
        # the `split_config:` key, and the lines of the keys a run-time error points at
        "lines": {"split_config": 15, "time_column": 18, "days_backward": 19, "as_of": 23},
    }
    assert split.hash_parts == {"config": _sha256(SPLIT_JSON)}


def test_windows_fan_out_from_split_and_summary_names_the_tables(compile_repo, model_yaml):
    workflow = _backtest(compile_repo, model_yaml)
    trainer = hashlib.sha256(b"class Trainer:\n    pass\n").hexdigest()
    windows = workflow.node("windows")
    assert windows.fan_out
    assert windows.spec == {
        "trainer": "linear.Trainer",
        "trainer_file": "trainers/linear.py",
        "trainer_files": ["trainers/linear.py"],
        "constructor_args": {},
        **DATASET,
        "inputs": {
            "other": {"node": OTHER_ROWS, "table": "extracts.inputs__other"},
            "df": {"node": ROWS, "table": "extracts.inputs__rows"},
        },
        "items_from": "split",
    }
    assert windows.hash_parts == {
        "config": _sha256(MODEL_JSON),
        "trainer_code": _sha256('{"trainers/linear.py":"' + trainer + '"}'),
    }
    summary = workflow.node("summary")
    assert summary.spec == {
        "windows_node": "windows",
        "table": "backtest.m_windows",
        "summary_table": "backtest.m_summary",
        "report": "backtest__m.html",
    }
    assert summary.hash_parts == {"config": _sha256(MODEL_JSON)}
    assert workflow.settings == {"schedule": None, "retries": 1, "environment": {}}
    assert workflow.source_files == ("extracts/inputs.yaml", "extracts/rows.sql", "models/m.yaml", "trainers/linear.py")
