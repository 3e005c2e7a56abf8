"""The airflow backend in real Airflow 3: generated DAG files import in a DagBag, `airflow dags
test` trains the example model through modelyard's runtime, fan-out nodes map, failures name the
workflow and node. Airflow runs in subprocesses with a temporary AIRFLOW_HOME (one `db migrate`)."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import NamedTuple

import pytest
from conftest import cli, edit_file, git_commit, warehouse_rows
from helpers.airflow import BIN, REPORT, DagTestRun, dag_test_runs, dags_test, recorded_run, run_folder_name, split_runs


def python(script: str, env: dict, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-c", textwrap.dedent(script), *args], env=env, capture_output=True, text=True, timeout=300
    )


DESCRIBE = """
    import json, sys
    from airflow.dag_processing.dagbag import DagBag

    for folder in sys.argv[1:]:  # per DAGs folder, a line "described: JSON" amid Airflow's logging
        bag = DagBag(dag_folder=folder)
        dags = {}
        for dag_id in bag.dag_ids:
            dag = bag.get_dag(dag_id)
            dags[dag_id] = {
                "schedule": str(dag.schedule) if dag.schedule else None,
                "tags": sorted(dag.tags),
                "doc_md": dag.doc_md,
                "tasks": {t.task_id: {"upstream": sorted(t.upstream_task_ids), "retries": t.retries,
                                      "pool_slots": t.pool_slots, "executor_config": t.executor_config,
                                      "mapped": t.is_mapped, "max_active": t.max_active_tis_per_dagrun}
                          for t in dag.tasks},
            }
        print("described:", json.dumps({"errors": {k: str(v) for k, v in bag.import_errors.items()}, "dags": dags}))
"""


def fan_out_document(source: dict):
    from modelyard import ir

    nodes = ir.seal(
        [
            ir.Node("plan", "plan_windows", (), {"count": 2}, {"config": ir.content_hash("plan")}),
            ir.Node("windows", "windows", ("plan",), {"items_from": "plan"}, {"config": ir.content_hash("w")}, True),
            ir.Node("summary", "summary", ("windows",), {"gather": "windows"}, {"config": ir.content_hash("s")}),
            ir.Node(
                "trials",
                "trials",
                (),
                {"items": [{"alpha": 0.1}, {"alpha": 0.2}, {"alpha": 0.3}]},
                {"config": ir.content_hash("t")},
                True,
            ),
            ir.Node("select", "select", ("trials", "summary"), {"gather": "trials"}, {"config": ir.content_hash("b")}),
        ]
    )
    settings = {"schedule": "@daily", "retries": 0, "environment": {"cpu": 1500, "memory": 2048}}
    return ir.Document((ir.Workflow("fanout_check", "tune", ("tuning/check.yaml",), settings, nodes),), source)


def test_every_generated_dag_imports_in_a_dagbag(model_repo, tmp_path, airflow_env):
    from modelyard.backends import render, replace_folder

    git_commit(model_repo)
    dags = tmp_path / "dags"
    assert cli("compile", "--backend", "airflow", "--out", str(dags), cwd=model_repo).returncode == 0
    assert cli("compile", "--out", str(tmp_path / "ir"), cwd=model_repo).returncode == 0
    document = json.loads((tmp_path / "ir" / "ir.json").read_text())
    extra = tmp_path / "fanout"
    replace_folder(extra, render("airflow", fan_out_document(document["source"])))

    proc = python(DESCRIBE, airflow_env, str(dags), str(extra))
    assert proc.returncode == 0, proc.stderr[-3000:]
    found, fan_out = (
        json.loads(line.removeprefix("described:"))
        for line in proc.stdout.splitlines()
        if line.startswith("described:")
    )
    assert found["errors"] == {}
    assert sorted(found["dags"]) == [w["id"] for w in document["workflows"]]
    for workflow in document["workflows"]:
        dag = found["dags"][workflow["id"]]
        assert dag["tags"] == sorted(["modelyard", workflow["kind"]])
        assert f"`{workflow['id']}.ir.json`" in dag["doc_md"]
        expected = {}
        for node in workflow["nodes"]:
            upstream = set(node["upstream"])
            if "items_from" in node["spec"]:  # a task lists the items, the mapped task expands over them
                upstream.add(f"{node['id']}__items")
                expected[f"{node['id']}__items"] = [node["spec"]["items_from"]]
            expected[node["id"]] = sorted(upstream)
            assert dag["tasks"][node["id"]]["mapped"] == node["fan_out"], node["id"]
        assert {t: d["upstream"] for t, d in dag["tasks"].items()} == expected
        environment = workflow["settings"]["environment"]
        cores = -(-environment.get("cpu", 1000) // 1000)
        for node in workflow["nodes"]:
            task = dag["tasks"][node["id"]]
            assert (task["retries"], task["pool_slots"]) == (1, cores)  # defaults.retries; cores from environment
            assert task["max_active"] == workflow["settings"].get("workers")  # n_function_compute_workers
            assert task["executor_config"] == {
                "resources": {
                    "cpu_millicores": environment.get("cpu", 1000),
                    "memory_mb": environment.get("memory", 1024),
                }
            }
        header = (dags / f"{workflow['id']}.py").read_text().splitlines()[:12]
        assert f"# commit:   {document['source']['commit']}" in header
        assert f"#   {next(f for f in workflow['source_files'] if f.startswith('models/'))}" in header

    assert fan_out["errors"] == {}
    tasks = fan_out["dags"]["fanout_check"]["tasks"]
    assert {t for t, d in tasks.items() if d["mapped"]} == {"trials", "windows"}
    assert tasks["windows"]["upstream"] == ["plan", "windows__items"]
    assert tasks["windows__items"]["upstream"] == ["plan"]
    assert tasks["select"]["upstream"] == ["summary", "trials"]
    assert fan_out["dags"]["fanout_check"]["schedule"] == "@daily"
    for task in tasks.values():
        assert (task["retries"], task["pool_slots"]) == (0, 2)
        assert task["executor_config"] == {"resources": {"cpu_millicores": 1500, "memory_mb": 2048}}


def long_names_document():
    """Names long enough to force every way the backend wraps a line."""
    from modelyard import ir

    def workflow(name: str, upstream: list[str], node: str) -> ir.Workflow:
        nodes = [ir.Node(u, "extract", (), {}, {"config": ir.content_hash(u)}) for u in upstream]
        nodes.append(
            ir.Node(node, "trials", tuple(upstream), {"items": [1, 2]}, {"config": ir.content_hash(node)}, True)
        )
        return ir.Workflow(name, "tune", (f"tuning/{name}.yaml",), {}, ir.seal(nodes))

    return ir.Document(
        (
            workflow(
                "exploded", [f"extract__a_long_extract_file_name_for_wrapping__dataset_{i}" for i in range(3)], "t" * 95
            ),
            workflow("single", ["u" * 70], "w" * 40),
            workflow("pair", ["u" * 45, "v" * 45], "w" * 10),
        ),
        {"commit": None, "dirty": False},
    )


def test_generated_dag_files_are_formatted(model_repo, tmp_path):
    from modelyard.backends import render, replace_folder

    assert cli("compile", "--backend", "airflow", "--out", str(tmp_path / "dags"), cwd=model_repo).returncode == 0
    replace_folder(tmp_path / "dags" / "fanout", render("airflow", fan_out_document({"commit": None, "dirty": False})))
    replace_folder(tmp_path / "dags" / "long", render("airflow", long_names_document()))
    files = sorted(str(p) for p in (tmp_path / "dags").rglob("*.py"))
    assert len(files) == 11  # 7 workflows of the template, 2 fan-out, 2 long-name DAGs
    ruff = str(BIN / "ruff")
    for args in (["format", "--check", "--line-length", "100"], ["check", "--select", "E,F,W,I", "--ignore", "E501"]):
        # --isolated: generated DAGs are judged by ruff's defaults, not by this repo's own settings
        proc = subprocess.run([ruff, *args, "--isolated", "--no-cache", *files], capture_output=True, text=True)
        assert proc.returncode == 0, proc.stdout + proc.stderr


def test_airflow_dags_test_trains_the_example_like_a_local_run(model_repo, tmp_path, airflow_env):
    dags_test(model_repo, tmp_path, airflow_env, "model_linear_regression")

    listed = cli("models", "list", "--format", "json", cwd=model_repo)
    assert listed.returncode == 0, listed
    assert [(m["canonical_name"], m["version"]) for m in listed.json()] == [("sample_regression_model_v1", 1)]
    assert "sample_regression_model_v1" in cli("models", "list", cwd=model_repo).stdout

    local = cli("run", "models/model_linear_regression.yaml", "--format", "json", "--force", cwd=model_repo)
    assert local.returncode == 0, local
    assert local.json()["version"] == 2
    store = model_repo / ".modelyard" / "models" / "sample_regression_model_v1"
    from_airflow, from_local = (json.loads((store / v / "envelope.json").read_text()) for v in ("1", "2"))
    # the second version has the first to compare its data with: drift (none) only it can report
    assert from_airflow["drift"] is None and from_local["drift"]["against_version"] == 1
    assert shape({**from_airflow, "drift": None}) == shape({**from_local, "drift": None})
    for key in ("canonical_name", "metrics", "signature", "tags", "model_name", "data_profiles"):
        assert from_airflow[key] == from_local[key]
    ignored = {"created_at"}
    assert {k: v for k, v in from_airflow["lineage"].items() if k not in ignored} == {
        k: v for k, v in from_local["lineage"].items() if k not in ignored
    }
    assert from_airflow["lineage"]["git_commit"] is not None


def shape(value):
    if isinstance(value, dict):
        return {k: shape(v) for k, v in value.items()}
    return type(value).__name__ if value is not None else None


def test_a_failing_task_names_the_workflow_and_node(dag_test_outcomes):
    _, outcomes = dag_test_outcomes
    _, run = outcomes[UNDEPLOYED]
    assert run.state == "failed"  # what makes `airflow dags test` exit non-zero
    assert (
        "workflow 'model_linear_regression', node 'extract__extract_inputs__training_data' failed:\n"
        "the environment variable MODELYARD_PROJECT_DIR is not set"
    ) in run.output
    assert "deploy the set `modelyard publish` writes" in run.output
    assert "or set MODELYARD_PROJECT_DIR on the workers to a checkout of the model repo" in run.output
    assert "AirflowFailException" in run.output  # a deployment mistake: failed at once, not retried


# the fan-out DAG run once per repo in argv[2], with Airflow's [core] max_map_length as given there
FAN_OUT_RUNS = """
    import json, os, sys
    from modelyard.engine import runfolder
    from modelyard.execute.node import EXECUTORS

    def plan(workflow, node, ctx, index):
        return {"items": [f"window-{i}" for i in range(node.spec["count"])]}

    def item(workflow, node, ctx, index):
        return {"item": runfolder.fan_out_items(workflow, node, ctx)[index], "index": index}

    def gather(workflow, node, ctx, index):
        return {"gathered": runfolder.item_results(workflow, node.spec["gather"], ctx)}

    EXECUTORS.update(plan_windows=plan, windows=item, trials=item, summary=gather, select=gather)

    from airflow.dag_processing.dagbag import DagBag

    for repo, max_map_length in json.loads(sys.argv[2]):
        os.environ["MODELYARD_PROJECT_DIR"] = repo
        os.environ.pop("AIRFLOW__CORE__MAX_MAP_LENGTH", None)  # Airflow reads it at run time
        if max_map_length:
            os.environ["AIRFLOW__CORE__MAX_MAP_LENGTH"] = str(max_map_length)
        report(DagBag(dag_folder=sys.argv[1]).get_dag("fanout_check").test())
"""

# name -> [core] max_map_length (None: Airflow's default)
FAN_OUT_LIMITS = {"default": None, "max_map_length=1": 1}


@pytest.fixture(scope="module")
def fan_out_runs(template_repo, tmp_path_factory, airflow_env) -> dict[str, tuple[Path, DagTestRun]]:
    """The fan-out DAG run by Airflow once per ``FAN_OUT_LIMITS``, each on a copy of the template of
    its own, all in one Python process (Airflow's start-up is paid once)."""
    from modelyard.backends import render, replace_folder

    root = tmp_path_factory.mktemp("fan_out")
    dags = root / "dags"
    replace_folder(dags, render("airflow", fan_out_document({"commit": None, "dirty": False})))
    repos = {name: root / name / template_repo.name for name in FAN_OUT_LIMITS}
    for repo in repos.values():
        shutil.copytree(template_repo, repo)
    order = json.dumps([[str(repos[name]), limit] for name, limit in FAN_OUT_LIMITS.items()])
    proc = python(
        REPORT + textwrap.dedent(FAN_OUT_RUNS),
        {**airflow_env, "AIRFLOW__CORE__DAGS_FOLDER": str(dags)},
        str(dags),
        order,
    )
    runs = split_runs(proc, len(FAN_OUT_LIMITS))
    return {name: (repos[name], run) for name, run in zip(FAN_OUT_LIMITS, runs, strict=True)}


def test_fan_out_nodes_run_as_mapped_tasks(fan_out_runs):
    repo, run = fan_out_runs["default"]
    assert run.state == "success", run.output[-5000:]
    run_dir = repo / ".modelyard" / "runs" / "fanout_check" / run_folder_name(run.run_id)
    summary = json.loads((run_dir / "summary" / "result.json").read_text())
    assert summary["gathered"] == [{"item": "window-0", "index": 0}, {"item": "window-1", "index": 1}]
    select = json.loads((run_dir / "select" / "result.json").read_text())
    assert [r["item"] for r in select["gathered"]] == [{"alpha": 0.1}, {"alpha": 0.2}, {"alpha": 0.3}]


GP_TUNING = """\
model: model_elastic_net.yaml
n_function_compute_workers: 2
tuning_type: gaussian_process
n_trials: 6
param_boundaries:
  alpha: [0.01, 1.0]
  max_iter: [10, 50]
"""


def short_backtest(repo: Path) -> None:
    # 20 days back from 03-31, 10 days of training and 5 of test slid by 2: trains start 03-13, 03-15, 03-17
    edit_file(repo / "models" / "model_linear_regression.yaml", "days_backward: 60", "days_backward: 20")


def small_grid(repo: Path) -> None:
    tuning = repo / "tuning" / "tune_elastic_net.yaml"
    edit_file(tuning, "- 0.8", "- 0.2")  # 2 x 2 grid
    edit_file(tuning, "- 50", "- 20")


def two_short_lightning_trials(repo: Path) -> None:
    tuning = repo / "tuning" / "tune_mlp.yaml"
    edit_file(tuning, "- 0.03", "- 0.02")  # learning_rate 0.01, 0.02
    edit_file(tuning, "- 16\n    - 8\n", "- 16\n    - 16\n")  # x hidden_size 8 (a step of 16 passes 16)
    # 2 epochs, not 5: Airflow and a local tune must agree however long the trials train
    edit_file(repo / "models" / "model_mlp.yaml", "max_epochs: 5", "max_epochs: 2")


def gaussian_process_tuning(repo: Path) -> None:
    (repo / "tuning" / "tune_gp.yaml").write_text(GP_TUNING)


# DAG id -> how its repo differs from the template
DAG_RUNS = {
    "backtest__model_linear_regression": short_backtest,
    "tune__tune_elastic_net": small_grid,
    "tune__tune_mlp": two_short_lightning_trials,
    "tune__tune_gp": gaussian_process_tuning,
}


class DagRun(NamedTuple):
    repo: Path
    dags: Path
    run_dir: Path
    instances: dict[str, list]


def no_retries(repo: Path) -> None:
    edit_file(repo / "modelyard.yaml", "retries: 1", "retries: 0")


# run with neither MODELYARD_PROJECT_DIR nor a published set beside the DAG file, and no retries
UNDEPLOYED = "model_linear_regression"


@pytest.fixture(scope="module")
def dag_test_outcomes(template_repo, tmp_path_factory, airflow_env) -> tuple[Path, dict[str, tuple[Path, DagTestRun]]]:
    """The DAGs folder, and per dag id its repo and run: each DAG of ``DAG_RUNS`` run once by
    Airflow in a repo of its own (one test reads each run and goes on to change its repo), then
    ``UNDEPLOYED``; all in one Python process, which pays Airflow's start-up once."""
    root = tmp_path_factory.mktemp("dag_runs")
    repos = {}
    for dag_id, prepare in {**DAG_RUNS, UNDEPLOYED: no_retries}.items():
        repos[dag_id] = root / dag_id / template_repo.name
        shutil.copytree(template_repo, repos[dag_id])
        prepare(repos[dag_id])
    order = [(repo, dag_id) for dag_id, repo in repos.items()]
    runs = dag_test_runs(order, root / "dags", airflow_env, undeployed={UNDEPLOYED})
    return root / "dags", {dag_id: (repos[dag_id], run) for dag_id, run in zip(repos, runs, strict=True)}


@pytest.fixture(scope="module")
def dag_runs(dag_test_outcomes, airflow_env) -> dict[str, DagRun]:
    """The runs of ``DAG_RUNS``, each of which must have succeeded, as Airflow recorded them."""
    dags, outcomes = dag_test_outcomes
    return {
        dag_id: DagRun(repo, dags, *recorded_run(repo, airflow_env, dag_id, run.run_id))
        for dag_id, (repo, run) in outcomes.items()
        if dag_id in DAG_RUNS
    }


def mapped(instances: dict[str, list], task_id: str, count: int, pool_slots: int = 1) -> None:
    assert instances[task_id] == [(i, "success", pool_slots) for i in range(count)]


def test_backtest_dag_maps_every_window_and_matches_a_local_backtest(dag_runs):
    model_repo, _, run_dir, instances = dag_runs["backtest__model_linear_regression"]
    mapped(instances, "windows", 3)  # windows listed at run time by split, one mapped task instance each
    from_airflow = json.loads((run_dir / "summary" / "result.json").read_text())
    tables = "SELECT * FROM backtest.model_linear_regression_{} ORDER BY 1"
    airflow_tables = [warehouse_rows(model_repo, tables.format(t)) for t in ("windows", "summary")]
    assert len(airflow_tables[0]) == 3 and [r[0] for r in airflow_tables[1]] == ["mean_squared_error", "r2"]
    report = Path(from_airflow["report"])
    assert report == model_repo / ".modelyard" / "reports" / "backtest__model_linear_regression.html"
    assert "r2" in report.read_text()

    local = cli("backtest", "models/model_linear_regression.yaml", "--format", "json", cwd=model_repo)
    assert local.returncode == 0, local
    assert local.json()["windows"] == from_airflow["windows"]
    assert local.json()["summary"] == from_airflow["summary"]
    assert [warehouse_rows(model_repo, tables.format(t)) for t in ("windows", "summary")] == airflow_tables


def comparable(trials: list[dict]) -> list[tuple]:
    return [(t["trial"], t["round"], t["params"], t["metrics"], t["status"]) for t in trials]


def test_grid_tuning_dag_maps_trials_and_stores_the_best_model_like_a_local_tune(dag_runs, monkeypatch):
    model_repo, dags, run_dir, instances = dag_runs["tune__tune_elastic_net"]
    mapped(instances, "trials", 4, pool_slots=2)  # environment.cpu 2000 reaches every trial
    study = json.loads((run_dir / "select" / "result.json").read_text())
    run_id = run_dir.name
    assert study["n_trials"] == 4 and study["run_id"] == run_id
    assert Path(study["report"]) == model_repo / ".modelyard" / "reports" / "tune__tune_elastic_net" / f"{run_id}.html"
    assert "over trials" in Path(study["report"]).read_text()
    count = f"SELECT count(*) FROM tuning.tune__tune_elastic_net_trials WHERE run_id = '{run_id}'"
    assert warehouse_rows(model_repo, count) == [(4,)]
    store = model_repo / ".modelyard" / "models" / "sample_regression_model_v1_elastic_net"
    envelope = json.loads((store / "1" / "envelope.json").read_text())
    assert envelope["lineage"]["tuning"]["run_id"] == run_id
    assert envelope["lineage"]["tuning"]["best_params"] == study["best_params"]
    assert envelope["lineage"]["tuning"]["trials_table"] == "tuning.tune__tune_elastic_net_trials"

    # an Airflow retry (or clear) of select runs the same call again: same table, no duplicate rows
    from modelyard.execute.task import run_node

    monkeypatch.setenv("MODELYARD_PROJECT_DIR", str(model_repo))
    again = run_node(dags / "tune__tune_elastic_net.ir.json", "tune__tune_elastic_net", "select", run_id=run_id)
    assert again["best_params"] == study["best_params"]
    assert warehouse_rows(model_repo, count) == [(4,)]

    local = cli("tune", "tuning/tune_elastic_net.yaml", "--format", "json", cwd=model_repo)
    assert local.returncode == 0, local
    out = local.json()
    assert comparable(out["trials"]) == comparable(study["trials"])
    assert (out["best_params"], out["best_objective"], out["version"]) == (
        study["best_params"],
        study["best_objective"],
        2,
    )
    assert Path(out["plot"]).is_file() and Path(out["plot"]).name == f"{out['run_id']}.html"
    local_envelope = json.loads(Path(out["model_path"], "envelope.json").read_text())
    assert local_envelope["metrics"] == envelope["metrics"]
    assert local_envelope["lineage"]["constructor_args"] == envelope["lineage"]["constructor_args"]


def test_lightning_tuning_dag_maps_trials_and_matches_a_local_tune(dag_runs):
    model_repo, _, run_dir, instances = dag_runs["tune__tune_mlp"]
    mapped(instances, "trials", 2, pool_slots=2)
    study = json.loads((run_dir / "select" / "result.json").read_text())
    for i in range(2):  # each mapped task logged its training's curves into its own folder
        assert (run_dir / f"trials.{i}" / "training_log.json").is_file()
    local = cli("tune", "tuning/tune_mlp.yaml", "--format", "json", cwd=model_repo)
    assert local.returncode == 0, local
    # seeded, deterministic training: the same metrics in Airflow tasks and local worker processes
    assert comparable(local.json()["trials"]) == comparable(study["trials"])


def test_gaussian_process_dag_proposes_rounds_like_a_local_tune(dag_runs):
    model_repo, _, run_dir, instances = dag_runs["tune__tune_gp"]
    mapped(instances, "trials_01", 4)  # a first round of at least 4 points, then rounds of 2 workers
    assert instances["propose_02"] == [(-1, "success", 1)]
    mapped(instances, "trials_02", 2)
    study = json.loads((run_dir / "select" / "result.json").read_text())
    assert [t["round"] for t in study["trials"]] == [1, 1, 1, 1, 2, 2]

    local = cli("tune", "tuning/tune_gp.yaml", "--format", "json", cwd=model_repo)
    assert local.returncode == 0, local
    assert comparable(local.json()["trials"]) == comparable(study["trials"])


def test_more_items_than_airflow_maps_fail_naming_the_setting(fan_out_runs):
    _, run = fan_out_runs["max_map_length=1"]  # the plan node lists 2 windows
    assert run.state == "failed", run.output[-5000:]
    assert (
        "workflow 'fanout_check', node 'windows' failed:\n"
        "2 items to map, more than Airflow maps ([core] max_map_length = 1)"
    ) in run.output
    assert "raise AIRFLOW__CORE__MAX_MAP_LENGTH" in run.output
