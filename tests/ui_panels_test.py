"""The UI's read side on real files: statuses from the status record (as the worker writes it)
and the panels of fan-out and gather nodes, whose results lie in the run folder as the runtime
lays them out (``<run_dir>/<node>.<i>/result.json``). The browser flow is in ui_test.py."""

from __future__ import annotations

import json

from helpers.dash import components

from modelyard import ir
from modelyard.fsio import write_atomic
from modelyard.ui import data, layout, panels
from modelyard.ui.status import Recorder
from modelyard.validate.project import collect_project


def _backtest_workflow() -> ir.Workflow:
    nodes = [
        ir.Node("windows", "windows", (), {"items": [{"i": i} for i in range(3)]}, {"config": "c"}, fan_out=True),
        ir.Node("summary", "summary", ("windows",), {}, {"config": "c"}),
    ]
    return ir.Workflow("backtest__m", "backtest", (), {}, ir.seal(nodes))


def _by_id(tree, component_id):
    return next(c for c in components(tree) if getattr(c, "id", None) == component_id)


def test_fan_out_progress_and_interrupted_runs(model_repo):
    settings = collect_project(model_repo)[0].settings
    workflow = _backtest_workflow()
    recorder = Recorder(settings.state_dir, workflow.id, None)
    recorder.begin(workflow, None, settings.runs_dir / workflow.id / "r1")
    recorder.on_event({"event": "node_started", "node": "windows", "kind": "windows"})
    recorder.on_event({"event": "fan_out", "node": "windows", "total": 3})
    recorder.on_event({"event": "item_done", "node": "windows", "index": 1, "result": {}})

    states, _ = data.node_states(settings, workflow, alive=True)
    assert (states["windows"].status, states["windows"].progress) == ("running", "1/3")
    assert states["summary"].status == "never run"
    label = next(e for e in layout.elements(workflow, states) if e["data"]["id"] == "windows")["data"]
    assert label["fan_out"] and label["label"].endswith("running 1/3")

    states, _ = data.node_states(settings, workflow, alive=False)  # the worker died mid-run
    assert states["windows"].status == "failed" and "stopped" in states["windows"].error


def test_fan_out_and_gather_panels_show_items_plots_and_reports(model_repo):
    settings = collect_project(model_repo)[0].settings
    workflow = _backtest_workflow()
    run_dir = settings.runs_dir / workflow.id / "r1"
    for i in range(3):
        result = {"window": {"test_start": f"2024-02-0{i + 1}"}, "metrics": {"r2": 0.5 + i / 10, "mse": 1.0 - i / 10}}
        write_atomic(run_dir / f"windows.{i}" / "result.json", json.dumps(result).encode())
    write_atomic(run_dir / "summary" / "result.json", json.dumps({"metrics": {"r2_mean": 0.6}}).encode())
    write_atomic(settings.state_dir / "reports" / "backtest__m.html", b"<html></html>")
    state = data.NodeState("succeeded", run_dir)

    windows = panels.render(panels.NodeView(settings, workflow, workflow.node("windows"), state))
    table = _by_id(windows, "items-windows")
    assert [row["metrics.r2"] for row in table.data] == [0.5, 0.6, 0.7]
    assert table.data[2]["window.test_start"] == "2024-02-03"
    titles = [c.figure.layout.title.text for c in components(windows) if type(c).__name__ == "Graph"]
    assert titles == ["metrics.r2", "metrics.mse"]
    assert any(getattr(c, "href", None) == "/reports/backtest__m.html" for c in components(windows))

    summary = panels.render(panels.NodeView(settings, workflow, workflow.node("summary"), state))
    assert _by_id(summary, "gather-result").data == [{"key": "metrics.r2_mean", "value": 0.6}]
    assert len(_by_id(summary, "items-windows").data) == 3


def test_trials_chart_metrics_by_parameter_and_select_explores_its_table(model_repo):
    import pandas as pd

    from modelyard.warehouse.duckdb_warehouse import DuckDBWarehouse

    settings = collect_project(model_repo)[0].settings
    nodes = [
        ir.Node("trials", "trials", (), {"items": [{"alpha": a} for a in (0.1, 0.2, 0.3)]}, {}, fan_out=True),
        ir.Node("select", "select", ("trials",), {}, {}),
    ]
    workflow = ir.Workflow("tune__t", "tune", (), {}, ir.seal(nodes))
    run_dir = settings.runs_dir / workflow.id / "r1"
    for i, alpha in enumerate((0.1, 0.2, 0.3)):
        result = {"params": {"alpha": alpha}, "metrics": {"mse": alpha * 2}}
        write_atomic(run_dir / f"trials.{i}" / "result.json", json.dumps(result).encode())
    selected = {"best_params": {"alpha": 0.1}, "trials": [{"params": {"alpha": 0.1}}], "table": "tuning.t_trials"}
    write_atomic(run_dir / "select" / "result.json", json.dumps(selected).encode())
    with DuckDBWarehouse(settings.warehouse_path) as wh:
        wh.write_dataframe(
            "tuning.t_trials", pd.DataFrame({"param_alpha": [0.1, 0.2, 0.3], "objective": [0.2, 0.4, 0.6]})
        )
    state = data.NodeState("succeeded", run_dir)

    trials = panels.render(panels.NodeView(settings, workflow, workflow.node("trials"), state))
    titles = [c.figure.layout.title.text for c in components(trials) if type(c).__name__ == "Graph"]
    assert titles == ["metrics.mse", "metrics.mse by params.alpha"]

    select = panels.render(panels.NodeView(settings, workflow, workflow.node("select"), state))
    assert {"key": "trials", "value": "[1 records]"} in _by_id(select, "gather-result").data
    assert _by_id(select, "dataset-name").data == "tuning.t_trials"
    profile = _by_id(select, "dataset-profile").data
    assert [(row["column_name"], row["column_type"]) for row in profile] == [
        ("param_alpha", "DOUBLE"),
        ("objective", "DOUBLE"),
    ]


def test_an_extract_a_real_run_built_shows_as_cached_in_another_workflow(trained_repo):
    from modelyard.workflows.train.build import train_workflow

    project, _ = collect_project(trained_repo)
    # the elastic net reads the same extract but never ran: its extract node is cached, if and only
    # if the UI computes the key as the extract node did
    workflow = train_workflow(project, project.models["models/model_elastic_net.yaml"])
    states, messages = data.node_states(project.settings, workflow, alive=False)
    assert messages == []
    assert states["extract__extract_inputs__training_data"].status == "cached"
    assert states["train"].status == "never run"
    # and an edit to the SQL (a new key) is no longer cached
    sql = trained_repo / "extracts" / "training_data.sql"
    sql.write_text(sql.read_text().replace("ORDER BY date, x_0", "ORDER BY date, x_1"))
    project, _ = collect_project(trained_repo)
    workflow = train_workflow(project, project.models["models/model_elastic_net.yaml"])
    states, _ = data.node_states(project.settings, workflow, alive=False)
    assert states["extract__extract_inputs__training_data"].status == "never run"


def test_monitoring_panel_shows_drift_per_column_and_metrics_over_time(trained_repo):
    from conftest import cli

    assert cli("run", "models/model_linear_regression.yaml", "--force", cwd=trained_repo).returncode == 0
    for _ in range(2):
        assert cli("score", "models/model_linear_regression.yaml", cwd=trained_repo).returncode == 0
    view = data.load_repo(trained_repo)
    workflow = view.workflow("score__model_linear_regression")
    settings = view.settings
    states, _ = data.node_states(settings, workflow, alive=False)
    panel = panels.render(panels.NodeView(settings, workflow, workflow.node("monitor"), states["monitor"]))
    drift = {row["column_name"]: row for row in _by_id(panel, "monitoring-drift").data}
    assert set(drift) == {"x_0", "x_1", "x_2", "y"} and drift["x_1"]["level"] == "warn"
    assert {row["metric"] for row in _by_id(panel, "monitoring-metrics").data} == {"r2", "mean_squared_error"}
    graphs = [c.figure for c in components(panel) if type(c).__name__ == "Graph"]
    assert [g.layout.title.text for g in graphs] == ["PSI per column over scoring runs", "metrics over scoring runs"]
    assert [len(trace.x) for trace in graphs[1].data] == [2, 2]  # two scoring runs, one point each
    assert any(getattr(c, "href", None) == "/reports/score__model_linear_regression.html" for c in components(panel))

    train = view.workflow("model_linear_regression")
    states, _ = data.node_states(settings, train, alive=False)
    register = panels.render(panels.NodeView(settings, train, train.node("register"), states["register"]))
    assert {row["column"] for row in _by_id(register, "training-drift").data} == {"x_0", "x_1", "x_2", "y"}
