"""The airflow backend in real Airflow 3: generated DAG files import in a DagBag, `airflow dags
test` trains the example model through modelyard's runtime, fan-out nodes map, failures name the
workflow and node. Airflow runs in subprocesses with a temporary AIRFLOW_HOME (one `db migrate`)."""
from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from conftest import ROOT, cli, edit_file, git_commit

BIN = Path(sys.executable).parent


@pytest.fixture(scope="session")
def airflow_env(tmp_path_factory) -> dict[str, str]:
    home = tmp_path_factory.mktemp("airflow_home")
    env = {**os.environ, "AIRFLOW_HOME": str(home), "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
           "AIRFLOW__CORE__DAGS_FOLDER": str(home / "dags"),
           "PYTHONPATH": os.pathsep.join([str(ROOT / "tooling"), os.environ.get("PYTHONPATH", "")])}
    env.pop("MODELYARD_PROJECT_DIR", None)
    proc = subprocess.run([str(BIN / "airflow"), "db", "migrate"], env=env, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return env


def python(script: str, env: dict, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", textwrap.dedent(script), *args], env=env,
                          capture_output=True, text=True, timeout=300)


DESCRIBE = """
    import json, sys
    from airflow.dag_processing.dagbag import DagBag

    bag = DagBag(dag_folder=sys.argv[1])
    dags = {}
    for dag_id in bag.dag_ids:
        dag = bag.get_dag(dag_id)
        dags[dag_id] = {
            "schedule": str(dag.schedule) if dag.schedule else None,
            "tags": sorted(dag.tags),
            "doc_md": dag.doc_md,
            "tasks": {t.task_id: {"upstream": sorted(t.upstream_task_ids), "retries": t.retries,
                                  "pool_slots": t.pool_slots, "executor_config": t.executor_config,
                                  "mapped": t.is_mapped}
                      for t in dag.tasks},
        }
    print(json.dumps({"errors": {k: str(v) for k, v in bag.import_errors.items()}, "dags": dags}))
"""


def fan_out_document(source: dict):
    from modelyard import ir

    nodes = ir.seal([
        ir.Node("plan", "plan_windows", (), {"count": 2}, {"config": ir.content_hash("plan")}),
        ir.Node("windows", "windows", ("plan",), {"items_from": "plan"}, {"config": ir.content_hash("w")}, True),
        ir.Node("summary", "summary", ("windows",), {"gather": "windows"}, {"config": ir.content_hash("s")}),
        ir.Node("trials", "trials", (), {"items": [{"alpha": 0.1}, {"alpha": 0.2}, {"alpha": 0.3}]},
                {"config": ir.content_hash("t")}, True),
        ir.Node("select", "select", ("trials", "summary"), {"gather": "trials"}, {"config": ir.content_hash("b")}),
    ])
    settings = {"schedule": "@daily", "retries": 0, "environment": {"cpu": 1500, "memory": 2048}}
    return ir.Document((ir.Workflow("fanout_check", "tune", ("tuning/check.yaml",), settings, nodes),), source)


def test_every_generated_dag_imports_in_a_dagbag(model_repo, tmp_path, airflow_env):
    from modelyard.backends import replace_folder, render

    git_commit(model_repo)
    dags = tmp_path / "dags"
    assert cli("compile", "--backend", "airflow", "--out", str(dags), cwd=model_repo).returncode == 0
    assert cli("compile", "--out", str(tmp_path / "ir"), cwd=model_repo).returncode == 0
    document = json.loads((tmp_path / "ir" / "ir.json").read_text())
    extra = tmp_path / "fanout"
    replace_folder(extra, render("airflow", fan_out_document(document["source"])))

    proc = python(DESCRIBE, airflow_env, str(dags))
    assert proc.returncode == 0, proc.stderr[-3000:]
    found = json.loads(proc.stdout.splitlines()[-1])
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
            assert task["executor_config"] == {"resources": {"cpu_millicores": environment.get("cpu", 1000),
                                                             "memory_mb": environment.get("memory", 1024)}}
        header = (dags / f"{workflow['id']}.py").read_text().splitlines()[:12]
        assert f"# commit:   {document['source']['commit']}" in header
        assert f"#   {next(f for f in workflow['source_files'] if f.startswith('models/'))}" in header

    proc = python(DESCRIBE, airflow_env, str(extra))
    assert proc.returncode == 0, proc.stderr[-3000:]
    found = json.loads(proc.stdout.splitlines()[-1])
    assert found["errors"] == {}
    tasks = found["dags"]["fanout_check"]["tasks"]
    assert {t for t, d in tasks.items() if d["mapped"]} == {"trials", "windows"}
    assert tasks["windows"]["upstream"] == ["plan", "windows__items"]
    assert tasks["windows__items"]["upstream"] == ["plan"]
    assert tasks["select"]["upstream"] == ["summary", "trials"]
    assert found["dags"]["fanout_check"]["schedule"] == "@daily"
    for task in tasks.values():
        assert (task["retries"], task["pool_slots"]) == (0, 2)
        assert task["executor_config"] == {"resources": {"cpu_millicores": 1500, "memory_mb": 2048}}


def long_names_document():
    """Names long enough to force every way the backend wraps a line."""
    from modelyard import ir

    def workflow(name: str, upstream: list[str], node: str) -> ir.Workflow:
        nodes = [ir.Node(u, "extract", (), {}, {"config": ir.content_hash(u)}) for u in upstream]
        nodes.append(ir.Node(node, "trials", tuple(upstream), {"items": [1, 2]}, {"config": ir.content_hash(node)}, True))
        return ir.Workflow(name, "tune", (f"tuning/{name}.yaml",), {}, ir.seal(nodes))

    return ir.Document((
        workflow("exploded", [f"extract__a_long_extract_file_name_for_wrapping__dataset_{i}" for i in range(3)], "t" * 95),
        workflow("single", ["u" * 70], "w" * 40),
        workflow("pair", ["u" * 45, "v" * 45], "w" * 10),
    ), {"commit": None, "dirty": False})


def test_generated_dag_files_are_formatted(model_repo, tmp_path):
    from modelyard.backends import replace_folder, render

    assert cli("compile", "--backend", "airflow", "--out", str(tmp_path / "dags"), cwd=model_repo).returncode == 0
    replace_folder(tmp_path / "dags" / "fanout", render("airflow", fan_out_document({"commit": None, "dirty": False})))
    replace_folder(tmp_path / "dags" / "long", render("airflow", long_names_document()))
    files = sorted(str(p) for p in (tmp_path / "dags").rglob("*.py"))
    assert len(files) == 8  # 4 workflows of the template, 2 fan-out, 2 long-name DAGs
    ruff = str(BIN / "ruff")
    for args in (["format", "--check", "--line-length", "100"], ["check", "--select", "E,F,W,I", "--ignore", "E501"]):
        proc = subprocess.run([ruff, *args, "--no-cache", *files], capture_output=True, text=True)
        assert proc.returncode == 0, proc.stdout + proc.stderr


def test_airflow_dags_test_trains_the_example_like_a_local_run(model_repo, tmp_path, airflow_env):
    git_commit(model_repo)
    dags = tmp_path / "dags"
    assert cli("compile", "--backend", "airflow", "--out", str(dags), cwd=model_repo).returncode == 0
    env = {**airflow_env, "AIRFLOW__CORE__DAGS_FOLDER": str(dags), "MODELYARD_PROJECT_DIR": str(model_repo)}
    proc = subprocess.run([str(BIN / "airflow"), "dags", "test", "model_linear_regression"], env=env,
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, (proc.stdout + proc.stderr)[-5000:]

    listed = cli("models", "list", "--format", "json", cwd=model_repo)
    assert listed.returncode == 0, listed
    assert [(m["canonical_name"], m["version"]) for m in listed.json()] == [("sample_regression_model_v1", 1)]
    assert "sample_regression_model_v1" in cli("models", "list", cwd=model_repo).stdout

    local = cli("run", "models/model_linear_regression.yaml", "--format", "json", cwd=model_repo)
    assert local.returncode == 0, local
    assert local.json()["version"] == 2
    store = model_repo / ".modelyard" / "models" / "sample_regression_model_v1"
    from_airflow, from_local = (json.loads((store / v / "envelope.json").read_text()) for v in ("1", "2"))
    assert shape(from_airflow) == shape(from_local)
    for key in ("canonical_name", "metrics", "signature", "tags", "model_name"):
        assert from_airflow[key] == from_local[key]
    ignored = {"created_at"}
    assert {k: v for k, v in from_airflow["lineage"].items() if k not in ignored} == {
        k: v for k, v in from_local["lineage"].items() if k not in ignored}
    assert from_airflow["lineage"]["git_commit"] is not None
    runs = model_repo / ".modelyard" / "runs" / "model_linear_regression"
    assert any(p.name.startswith("manual__") for p in runs.iterdir())


def shape(value):
    if isinstance(value, dict):
        return {k: shape(v) for k, v in value.items()}
    return type(value).__name__ if value is not None else None


def test_a_failing_task_names_the_workflow_and_node(model_repo, tmp_path, airflow_env):
    edit_file(model_repo / "modelyard.yaml", "retries: 1", "retries: 0")
    dags = tmp_path / "dags"
    assert cli("compile", "--backend", "airflow", "--out", str(dags), cwd=model_repo).returncode == 0
    env = {**airflow_env, "AIRFLOW__CORE__DAGS_FOLDER": str(dags)}  # no MODELYARD_PROJECT_DIR
    proc = subprocess.run([str(BIN / "airflow"), "dags", "test", "model_linear_regression"], env=env,
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode != 0
    output = proc.stdout + proc.stderr
    assert ("workflow 'model_linear_regression', node 'extract__extract_inputs__training_data' failed:\n"
            "the environment variable MODELYARD_PROJECT_DIR is not set") in output
    assert "set it on the workers to a checkout of the model repo" in output


FAN_OUT_RUN = """
    import json, sys
    from modelyard import runtime

    def plan(workflow, node, ctx, index):
        return {"items": [f"window-{i}" for i in range(node.spec["count"])]}

    def item(workflow, node, ctx, index):
        return {"item": runtime.fan_out_items(workflow, node, ctx)[index], "index": index}

    def gather(workflow, node, ctx, index):
        return {"gathered": runtime.item_results(workflow, node.spec["gather"], ctx)}

    runtime.EXECUTORS.update(plan_windows=plan, windows=item, trials=item, summary=gather, select=gather)

    from airflow.dag_processing.dagbag import DagBag

    dag = DagBag(dag_folder=sys.argv[1]).get_dag("fanout_check")
    run = dag.test()
    print(json.dumps({"state": str(run.state), "run_id": run.run_id}))
"""


def test_fan_out_nodes_run_as_mapped_tasks(model_repo, tmp_path, airflow_env):
    from modelyard.backends import replace_folder, render
    from modelyard.orchestrated import safe_run_id

    dags = tmp_path / "dags"
    replace_folder(dags, render("airflow", fan_out_document({"commit": None, "dirty": False})))
    env = {**airflow_env, "AIRFLOW__CORE__DAGS_FOLDER": str(dags), "MODELYARD_PROJECT_DIR": str(model_repo)}
    proc = python(FAN_OUT_RUN, env, str(dags))
    assert proc.returncode == 0, (proc.stdout + proc.stderr)[-5000:]
    outcome = json.loads(proc.stdout.strip().splitlines()[-1])
    assert outcome["state"].endswith("success"), (proc.stdout + proc.stderr)[-5000:]
    run_dir = model_repo / ".modelyard" / "runs" / "fanout_check" / safe_run_id(outcome["run_id"])
    summary = json.loads((run_dir / "summary" / "result.json").read_text())
    assert summary["gathered"] == [{"item": "window-0", "index": 0}, {"item": "window-1", "index": 1}]
    select = json.loads((run_dir / "select" / "result.json").read_text())
    assert [r["item"] for r in select["gathered"]] == [{"alpha": 0.1}, {"alpha": 0.2}, {"alpha": 0.3}]
