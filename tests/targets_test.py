"""Targets and the model store / run folders on S3: the template model trained with a target whose
store and runs are on a real S3 server (SeaweedFS, credentials on), the warehouse still the local
DuckDB file, and loaded back from elsewhere with only environment credentials."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from conftest import cli
from helpers.workers import SMALL_AUTO_GRID, TWO_CORES, fitting_processes, pid_logging_repo

MODEL = "models/model_linear_regression.yaml"
NAME = "sample_regression_model_v1"


@pytest.fixture
def shared(model_repo: Path, s3_server):
    """The repo with a target `shared` on S3 under a fresh prefix; the env with the S3 keys."""
    prefix = f"{s3_server.bucket}/team-{uuid.uuid4().hex[:8]}"
    with open(model_repo / "modelyard.yaml", "a") as handle:
        handle.write(
            "\ntargets:\n  shared:\n"
            f"    store: s3://{prefix}/models\n    runs: s3://{prefix}/runs\n"
            f"    s3:\n      endpoint_url: {s3_server.endpoint_url}\n"
        )
    env = {"AWS_ACCESS_KEY_ID": s3_server.access_key, "AWS_SECRET_ACCESS_KEY": s3_server.secret_key}
    return model_repo, prefix, env


def raw_fs(s3_server):
    import s3fs

    return s3fs.S3FileSystem(**s3_server.storage_options(), skip_instance_cache=True)


def load_elsewhere(tmp_path: Path, s3_server, prefix: str, env: dict, code: str) -> subprocess.CompletedProcess:
    """Run ``code`` in a folder outside any repo, the store known only from the environment."""
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir(exist_ok=True)
    full = {
        **{k: v for k, v in os.environ.items() if not k.startswith("MODELYARD_")},
        **env,
        "MODELYARD_STORE": f"s3://{prefix}/models",
        "AWS_ENDPOINT_URL": s3_server.endpoint_url,
    }
    return subprocess.run([sys.executable, "-c", code], cwd=elsewhere, env=full, capture_output=True, text=True)


def test_train_on_s3_and_load_from_elsewhere(shared, s3_server, tmp_path: Path):
    repo, prefix, env = shared
    result = cli("--target", "shared", "run", MODEL, "--format", "json", cwd=repo, env=env)
    assert result.returncode == 0, result
    out = result.json()
    assert out["version"] == 1
    assert out["model_path"] == f"s3://{prefix}/models/{NAME}/1"
    assert out["run_dir"].startswith(f"s3://{prefix}/runs/model_linear_regression/")
    assert not (repo / ".modelyard" / "models").exists() and not (repo / ".modelyard" / "runs").exists()

    fs = raw_fs(s3_server)
    version = f"{prefix}/models/{NAME}/1"
    envelope = json.loads(fs.cat_file(f"{version}/envelope.json"))
    artifact = fs.cat_file(f"{version}/model.pkl")
    assert envelope["artifact"]["sha256"] == hashlib.sha256(artifact).hexdigest()
    assert str(repo) not in json.dumps(envelope) and "/tmp" not in json.dumps(envelope)  # no machine paths
    run = out["run_dir"].removeprefix("s3://")
    assert {"train/trained.pkl", "evaluate/metrics.json", "register/result.json"} <= {
        p.removeprefix(run + "/") for p in fs.find(run)
    }

    # another machine: no repo, only the store URL and the S3 credentials in its environment
    x = [[1.0, 2.0, 3.0], [0.5, -1.0, 4.0]]
    code = (
        "import cloudpickle, json, pandas as pd\n"
        "from modelyard import load_model\n"
        f"x = pd.DataFrame({x!r}, columns=['x_0', 'x_1', 'x_2'])\n"
        f"print(json.dumps(load_model({NAME!r}).predict(x).to_numpy().ravel().tolist()))\n"
    )
    proc = load_elsewhere(tmp_path, s3_server, prefix, env, code)
    assert proc.returncode == 0, proc.stderr
    import cloudpickle
    import pandas as pd

    direct = cloudpickle.loads(artifact).predict(pd.DataFrame(x, columns=["x_0", "x_1", "x_2"]))
    assert json.loads(proc.stdout) == pytest.approx(direct.to_numpy().ravel().tolist())


def test_concurrent_runs_on_s3_get_distinct_versions(shared, s3_server):
    repo, prefix, env = shared
    with ThreadPoolExecutor(2) as pool:
        args = ("--target", "shared", "run", MODEL, "--format", "json")
        results = list(pool.map(lambda _: cli(*args, cwd=repo, env=env), range(2)))
    assert all(r.returncode == 0 for r in results), results
    assert sorted(r.json()["version"] for r in results) == [1, 2]
    fs = raw_fs(s3_server)
    committed = sorted(p.rsplit("/", 2)[1] for p in fs.glob(f"{prefix}/models/{NAME}/*/envelope.json"))
    assert committed == ["1", "2"]


def test_a_tune_with_runs_on_s3_starts_no_retrain_ahead(shared, s3_server):
    """Two lanes, the run folder on S3: adopting a retrain started ahead is a rename in a run folder
    on disk, so none is started; train fits the best itself, once, and the study stores the model."""
    repo, prefix, env = shared
    log = pid_logging_repo(repo, sleep=0.3)  # trials long enough that one lane idles while the other runs
    (repo / "tuning" / "small.yaml").write_text(SMALL_AUTO_GRID.replace("auto", "2"))
    args = ("--target", "shared", "tune", "tuning/small.yaml", "--format", "json", "--debug")
    result = cli(*args, cwd=repo, env={**env, **TWO_CORES})
    assert result.returncode == 0, result
    out = result.json()
    assert out["workers"] == 2 and out["run_dir"].startswith(f"s3://{prefix}/runs/")
    assert "started ahead" not in result.stderr, result.stderr
    trials, retrains = fitting_processes(log)
    assert len(trials) == 9 and len(set(trials)) == 2 and len(retrains) == 1, (trials, retrains)
    train = json.loads(raw_fs(s3_server).cat_file(out["run_dir"].removeprefix("s3://") + "/train/result.json"))
    assert "fitted_ahead" not in train


def test_wrong_credentials_fail_clearly_and_write_nothing(shared, s3_server):
    repo, prefix, env = shared
    result = cli("--target", "shared", "run", MODEL, cwd=repo, env={**env, "AWS_SECRET_ACCESS_KEY": "wrong"})
    assert result.returncode == 1, result
    assert "Traceback" not in result.stderr
    assert "target 'shared': the object store refused the credentials" in result.stderr
    assert "set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY" in result.stderr
    assert raw_fs(s3_server).find(prefix) == []


def test_tampered_and_deleted_artifacts_on_s3_are_refused(shared, s3_server, tmp_path: Path):
    repo, prefix, env = shared
    assert cli("--target", "shared", "run", MODEL, cwd=repo, env=env).returncode == 0
    fs = raw_fs(s3_server)
    artifact = f"{prefix}/models/{NAME}/1/model.pkl"
    fs.pipe_file(artifact, fs.cat_file(artifact) + b"tampered")
    code = f"from modelyard import load_model\nload_model({NAME!r})\n"
    proc = load_elsewhere(tmp_path, s3_server, prefix, env, code)
    assert proc.returncode != 0 and "does not match its envelope" in proc.stderr, proc.stderr
    fs.rm_file(artifact)
    proc = load_elsewhere(tmp_path, s3_server, prefix, env, code)
    assert proc.returncode != 0 and "is missing although its envelope is there" in proc.stderr, proc.stderr


def test_a_claimed_version_without_envelope_stays_invisible(shared, s3_server, tmp_path: Path):
    """A writer that died after claiming version 1 (and even after uploading its artifact): readers
    never see it, and the next run takes version 2."""
    repo, prefix, env = shared
    fs = raw_fs(s3_server)
    fs.pipe_file(f"{prefix}/models/{NAME}/1/.claim", b"crashed")
    fs.pipe_file(f"{prefix}/models/{NAME}/1/model.pkl", b"half")
    code = f"from modelyard import load_model\nload_model({NAME!r})\n"
    proc = load_elsewhere(tmp_path, s3_server, prefix, env, code)
    assert proc.returncode != 0 and f"no stored model named {NAME!r}" in proc.stderr, proc.stderr
    result = cli("--target", "shared", "run", MODEL, "--format", "json", cwd=repo, env=env)
    assert result.returncode == 0, result
    assert result.json()["version"] == 2


def test_unknown_target_names_the_targets(shared):
    repo, _, env = shared
    result = cli("--target", "sahred", "run", MODEL, cwd=repo, env=env)
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert "unknown target 'sahred' (from --target or MODELYARD_TARGET); did you mean 'shared'?" in result.stderr
    assert "the targets of modelyard.yaml are: local, shared" in result.stderr
    result = cli("run", MODEL, cwd=repo, env={**env, "MODELYARD_TARGET": "prod"})
    assert result.returncode == 1 and "unknown target 'prod' (from --target or MODELYARD_TARGET)" in result.stderr


def test_conn_id_outside_airflow_needs_the_environment(shared):
    repo, _, _ = shared
    text = (repo / "modelyard.yaml").read_text()
    (repo / "modelyard.yaml").write_text(text.replace("    s3:\n", "    s3:\n      conn_id: team_s3\n"))
    env = {"AWS_ACCESS_KEY_ID": "", "AWS_SECRET_ACCESS_KEY": ""}
    result = cli("--target", "shared", "run", MODEL, cwd=repo, env=env)
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert "conn_id 'team_s3' is an Airflow connection, read only inside Airflow tasks" in result.stderr
    assert "set the environment variable(s) AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY" in result.stderr


def test_sql_sees_the_target_and_a_task_on_another_target_refuses_it(shared, tmp_path: Path):
    repo, _, env = shared
    sql = repo / "extracts" / "training_data.sql"
    sql.write_text(
        sql.read_text().replace("FROM sample_data", "FROM sample_data -- {{ target.name }}/{{ target.type }}")
    )
    assert cli("validate", cwd=repo).returncode == 0
    out = tmp_path / "ir"
    assert cli("--target", "shared", "compile", "--out", str(out), cwd=repo, env=env).returncode == 0
    (ir_file,) = out.glob("*.json")
    assert "-- shared/duckdb" in ir_file.read_text()
    assert str(repo) not in ir_file.read_text() and "s3://" not in ir_file.read_text()  # resolved at run time
    # an orchestrator task of that IR on the local target: refused, never run with the wrong SQL
    code = (
        "from modelyard.execute.task import run_node\n"
        f"run_node({str(ir_file)!r}, 'model_linear_regression', 'extract__extract_inputs__training_data')\n"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code],
        env={**os.environ, **env, "MODELYARD_PROJECT_DIR": str(repo), "MODELYARD_TARGET": "local"},
        capture_output=True,
        text=True,
    )
    assert proc.returncode != 0
    assert "was compiled for target 'shared' (duckdb), but this run is on target 'local' (duckdb)" in proc.stderr
