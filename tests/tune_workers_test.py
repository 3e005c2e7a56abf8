"""`--workers auto` and `n_function_compute_workers: auto`: one process for millisecond trials,
a pool for slow ones.

Which process ran each trial is observed from the trainer itself: it appends its process id (and
the rows it fits: the retrain of the best fits them all) to a file, so a pool shows up as ids
other than the command's own (which runs trials beside the pool's workers).
"""

from __future__ import annotations

import json
import re
from pathlib import Path

from conftest import cli
from helpers.workers import SMALL_AUTO_GRID, TWO_CORES, fitting_processes, pid_logging_repo


def test_auto_runs_millisecond_trials_in_one_process(model_repo: Path):
    log = pid_logging_repo(model_repo, sleep=0, wait_for_a_worker=False)
    result = cli(
        "tune", "tuning/tune_elastic_net.yaml", "--workers", "auto", "--format", "json", cwd=model_repo, env=TWO_CORES
    )
    assert result.returncode == 0, result
    out = result.json()
    assert out["workers"] == 1 and len(out["trials"]) == 40 and out["n_failed"] == 0
    trials, retrains = fitting_processes(log)
    assert len(trials) == 40 and len(retrains) == 1 and len(set(trials + retrains)) == 1  # all in the command's


def test_auto_fans_slow_trials_out_to_every_core_with_the_same_result(model_repo: Path):
    log = pid_logging_repo(model_repo, sleep=0.6)
    (model_repo / "tuning" / "small.yaml").write_text(SMALL_AUTO_GRID)
    result = cli("tune", "tuning/small.yaml", "--format", "json", cwd=model_repo, env=TWO_CORES)
    assert result.returncode == 0, result
    auto = result.json()
    assert auto["workers"] == 2 and len(auto["trials"]) == 9 and auto["n_failed"] == 0
    trials, retrains = fitting_processes(log)
    # the first two trials in the command's process, the other seven shared by it and one worker:
    # two processes on two cores (the retrain: in the command, or started ahead in a worker)
    assert len(trials) == 9 and trials[0] == trials[1] and len(set(trials)) == 2
    assert set(trials[2:]) == set(trials) and retrains

    log.unlink()
    pid_logging_repo(model_repo, sleep=0.6, wait_for_a_worker=False)  # one process: no worker to wait for
    result = cli("tune", "tuning/small.yaml", "--workers", "1", "--format", "json", cwd=model_repo, env=TWO_CORES)
    assert result.returncode == 0, result
    one = result.json()
    assert one["workers"] == 1 and len(set(sum(fitting_processes(log), []))) == 1
    assert [(t["params"], t["metrics"]) for t in one["trials"]] == [(t["params"], t["metrics"]) for t in auto["trials"]]
    assert (one["best_params"], one["best_objective"]) == (auto["best_params"], auto["best_objective"])


def test_two_workers_are_the_command_and_one_process_taking_trials_as_they_finish(model_repo: Path):
    log = pid_logging_repo(model_repo, sleep=0.3)
    (model_repo / "tuning" / "small.yaml").write_text(SMALL_AUTO_GRID.replace("auto", "2"))
    result = cli("tune", "tuning/small.yaml", "--format", "json", "--debug", cwd=model_repo, env=TWO_CORES)
    assert result.returncode == 0, result
    assert result.json()["workers"] == 2
    trials, _ = fitting_processes(log)
    # the command's process and one worker each ran some of the nine trials
    assert len(trials) == 9 and len(set(trials)) == 2
    # --debug: when each node started and ended, and each trial, in which lane (seconds since the run started)
    timed = re.findall(r"^debug: +[0-9]+\.[0-9]{2} s  (.+)$", result.stderr, re.MULTILINE)
    lanes = {line.split(" ended in ")[1] for line in timed if line.startswith("trials.")}
    assert lanes == {"this process", "pool lane 1"} and len([t for t in timed if t.startswith("trials.")]) == 9
    assert [line for line in timed if "ahead" not in line][-6:] == [
        f"{node} {event}" for node in ("select", "train", "register") for event in ("started", "ended")
    ]


THREAD_LOGGING_TRAINER = """

import os as _os

import threadpoolctl as _threadpoolctl


class ThreadLoggingElasticNetTrainer(PidLoggingElasticNetTrainer):
    def train(self, df: pd.DataFrame) -> TrainedObject[SKLearnLinearRegressionModel]:
        threads = sorted({{(pool["user_api"], pool["num_threads"]) for pool in _threadpoolctl.threadpool_info()}})
        with open({log!r}, "a") as log:
            log.write(f"{{_os.getpid()}} {{len(df)}} {{threads}}\\n")
        return super().train(df)
"""


def test_the_command_runs_its_trials_with_a_workers_share_of_the_threads(model_repo: Path):
    """Two lanes on two cores: one OpenMP and one BLAS thread each, in the worker (by its
    environment) and in the command's process (cut while it runs trials beside the worker)."""
    pid_logging_repo(model_repo, sleep=0.3)
    log = model_repo / "threads.txt"
    trainer = model_repo / "trainers" / "sklearn" / "sklearn_linear.py"
    trainer.write_text(trainer.read_text() + THREAD_LOGGING_TRAINER.format(log=str(log)))
    model = model_repo / "models" / "model_elastic_net.yaml"
    model.write_text(model.read_text().replace("PidLoggingElasticNetTrainer", "ThreadLoggingElasticNetTrainer"))
    (model_repo / "tuning" / "small.yaml").write_text(SMALL_AUTO_GRID.replace("auto", "2"))
    result = cli("tune", "tuning/small.yaml", "--format", "json", cwd=model_repo, env=TWO_CORES)
    assert result.returncode == 0, result
    fits = [line.split(" ", 2) for line in log.read_text().splitlines()]
    trials = [(pid, threads) for pid, rows, threads in fits if int(rows) < max(int(f[1]) for f in fits)]
    assert len(trials) == 9 and len({pid for pid, _ in trials}) == 2, trials
    assert {threads for _, threads in trials} == {"[('blas', 1), ('openmp', 1)]"}, trials


def test_a_worker_process_that_dies_fails_the_study_clearly_and_stores_nothing(model_repo: Path):
    pid_logging_repo(model_repo, sleep=0.3)
    trainer = model_repo / "trainers" / "sklearn" / "sklearn_linear.py"
    # a native crash or the kernel's out-of-memory killer, as a pool's worker process meets it
    trainer.write_text(
        trainer.read_text().replace(
            "        _time.sleep(",
            "        if __import__('multiprocessing').parent_process():\n            _os._exit(3)\n        _time.sleep(",
        )
    )
    (model_repo / "tuning" / "small.yaml").write_text(SMALL_AUTO_GRID.replace("auto", "2"))
    result = cli("tune", "tuning/small.yaml", cwd=model_repo, env=TWO_CORES)
    assert result.returncode == 1, result
    assert "Traceback" not in result.stderr, result
    assert "node 'trials' failed:\nthe worker process running item " in result.stderr, result
    assert "ended without a result" in result.stderr and "rerun with --workers 1" in result.stderr, result
    assert not (model_repo / ".modelyard" / "models" / "sample_regression_model_v1_elastic_net").exists()


SLOW_TEARDOWN_LIBRARY = """\
import atexit, sys, time

if sys.argv[0] == "-c":  # the forkserver (python -c ...), not the command: its teardown takes 5 s
    atexit.register(time.sleep, 5)
"""


def test_the_output_ends_with_the_command_not_with_the_worker_server(model_repo: Path, tmp_path: Path):
    """A caller reading the command's output (a CI log, subprocess.run) is not kept waiting by the
    server the workers fork from: it holds stdout and stderr too, and its interpreter's teardown
    (a library's exit handler here; freeing pandas and scikit-learn module by module in real life)
    would run after the command has ended."""
    import os
    import subprocess
    import sys
    import time

    (tmp_path / "slow_teardown.py").write_text(SLOW_TEARDOWN_LIBRARY)
    pid_logging_repo(model_repo, sleep=0)
    trainer = model_repo / "trainers" / "sklearn" / "sklearn_linear.py"
    trainer.write_text(trainer.read_text() + "\nimport slow_teardown  # noqa: E402, F401\n")
    (model_repo / "tuning" / "small.yaml").write_text(SMALL_AUTO_GRID.replace("auto", "2"))
    env = {**os.environ, **TWO_CORES, "PYTHONPATH": f"{os.environ.get('PYTHONPATH', '')}:{tmp_path}"}
    exe = Path(sys.executable).with_name("modelyard")
    proc = subprocess.Popen(
        [str(exe), "tune", "tuning/small.yaml", "--format", "json"],
        cwd=model_repo,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    assert proc.wait(timeout=300) == 0, proc.stderr.read()
    ended = time.monotonic()
    out, _ = proc.communicate(timeout=30)
    assert time.monotonic() - ended < 2.5  # 5 s with the server's teardown
    assert b'"workers": 2' in out


def test_trials_do_not_wait_for_a_worker_still_starting(model_repo: Path, tmp_path: Path):
    """A pool lane takes a trial only once its worker is up: when the command's process runs them
    all first (the worker server's imports take 5 s here), the study does not wait for the pool."""
    import os

    (tmp_path / "slow_start.py").write_text('import sys, time\n\nif sys.argv[0] == "-c":\n    time.sleep(5)\n')
    log = pid_logging_repo(model_repo, sleep=0, wait_for_a_worker=False)
    trainer = model_repo / "trainers" / "sklearn" / "sklearn_linear.py"
    trainer.write_text(trainer.read_text() + "\nimport slow_start  # noqa: E402, F401\n")
    (model_repo / "tuning" / "small.yaml").write_text(SMALL_AUTO_GRID.replace("auto", "2"))
    env = {**TWO_CORES, "PYTHONPATH": f"{os.environ.get('PYTHONPATH', '')}:{tmp_path}"}
    result = cli("tune", "tuning/small.yaml", "--format", "json", cwd=model_repo, env=env)
    assert result.returncode == 0, result
    trials, retrains = fitting_processes(log)
    assert len(trials) == 9 and len(retrains) == 1 and len(set(trials + retrains)) == 1  # all in the command's
    assert result.json()["workers"] == 1  # the processes that ran trials: the pool ran none


def test_a_worker_that_cannot_start_fails_the_study_clearly_and_stores_nothing(model_repo: Path, tmp_path: Path):
    """The server the workers fork from dies while importing the trainer's libraries (here a library
    that ends it; a native crash or the out-of-memory killer in real life)."""
    import os

    (tmp_path / "server_crash.py").write_text('import os, sys\n\nif sys.argv[0] == "-c":\n    os._exit(7)\n')
    pid_logging_repo(model_repo, sleep=0.5, wait_for_a_worker=False)
    trainer = model_repo / "trainers" / "sklearn" / "sklearn_linear.py"
    trainer.write_text(trainer.read_text() + "\nimport server_crash  # noqa: E402, F401\n")
    (model_repo / "tuning" / "small.yaml").write_text(SMALL_AUTO_GRID.replace("auto", "2"))
    env = {**TWO_CORES, "PYTHONPATH": f"{os.environ.get('PYTHONPATH', '')}:{tmp_path}"}
    result = cli("tune", "tuning/small.yaml", cwd=model_repo, env=env)
    assert result.returncode == 1, result
    assert "Traceback" not in result.stderr, result
    assert "node 'trials' failed:\na worker process could not start: the server it forks from ended" in result.stderr
    assert "hint: rerun with --workers 1" in result.stderr, result
    assert not (model_repo / ".modelyard" / "models" / "sample_regression_model_v1_elastic_net").exists()


LAST_POINT_SLOW_TRAINER = """

import dataclasses as _dataclasses
import multiprocessing as _multiprocessing
import os as _os
import time as _time

import threadpoolctl as _threadpoolctl


class LastPointSlowTrainer(SKLearnElasticNetTrainer):
    # Every fit logs its process (the command's or a pool worker), rows, alpha and thread counts.
    # The trial of alpha {slow} (the grid's last point) runs until a fit on more rows than its own
    # (the retrain on all rows) has started: the other lane has no trial left meanwhile (in a run
    # of two lanes: $WAIT_FOR_RETRAIN set).
    def train(self, df: pd.DataFrame) -> TrainedObject[SKLearnLinearRegressionModel]:
        with open({log!r}, "a") as log:
            process = "worker" if _multiprocessing.parent_process() else "command"
            threads = sorted({{(p["user_api"], p["num_threads"]) for p in _threadpoolctl.threadpool_info()}})
            log.write(f"{{process}} {{len(df)}} {{self.alpha}} {{threads}}\\n")
        with open({log!r}) as log:
            fitted = [line.split() for line in log]
        first_fit_of_slow = [float(alpha) for _, _, alpha, *_ in fitted].count({slow}) == 1
        if process == "worker" and any(int(rows) < len(df) for _, rows, *_ in fitted):
            _time.sleep(1.5)  # a retrain started ahead outlasts the last trial: the command waits for it
        if self.alpha == {slow} and first_fit_of_slow and _os.environ.get("WAIT_FOR_RETRAIN"):  # its trial
            deadline = _time.monotonic() + 120
            while _time.monotonic() < deadline:
                with open({log!r}) as log:
                    if any(int(line.split()[1]) > len(df) for line in log):
                        break
                _time.sleep(0.05)
        if {last_wins} and self.alpha == {slow}:
            # a nearly unregularised fit: the last point is the study's best
            return SKLearnElasticNetTrainer.train(_dataclasses.replace(self, alpha=1e-4), df)
        return super().train(df)
"""

ALPHA_GRID = """\
model: model_elastic_net.yaml
n_function_compute_workers: 1
tuning_type: grid
param_boundaries:
  alpha: [0.1, 0.5, 0.1]
"""


def last_point_slow_repo(repo: Path, last_wins: bool) -> Path:
    """The template repo tuning alpha over five points, the last one slow (and the best when
    ``last_wins``); the log of every fit."""
    log = repo / "fits.txt"
    trainer = repo / "trainers" / "sklearn" / "sklearn_linear.py"
    text = LAST_POINT_SLOW_TRAINER.format(log=str(log), slow=0.5, last_wins=last_wins)
    trainer.write_text(trainer.read_text() + text)
    model = repo / "models" / "model_elastic_net.yaml"
    model.write_text(model.read_text().replace("SKLearnElasticNetTrainer", "LastPointSlowTrainer"))
    (repo / "tuning" / "alpha.yaml").write_text(ALPHA_GRID)
    return log


def fits(log: Path) -> list[tuple[str, int, float]]:
    """(process, rows, alpha) of every fit, in order."""
    lines = [line.split(" ", 3) for line in log.read_text().splitlines()]
    return [(where, int(rows), float(alpha)) for where, rows, alpha, _ in lines]


def retrain_threads(log: Path) -> list[str]:
    """The thread counts of each fit on the most rows (a retrain)."""
    lines = [line.split(" ", 3) for line in log.read_text().splitlines()]
    most = max(int(rows) for _, rows, _, _ in lines)
    return [threads for _, rows, _, threads in lines if int(rows) == most]


def tune_alpha(repo: Path, workers: int) -> dict:
    env = {**TWO_CORES, "WAIT_FOR_RETRAIN": "1" if workers > 1 else ""}
    result = cli("tune", "tuning/alpha.yaml", "--workers", str(workers), "--format", "json", cwd=repo, env=env)
    assert result.returncode == 0, result
    return result.json()


def stored_coefficients(repo: Path, out: dict) -> list[float]:
    from modelyard.api import load_model

    return list(load_model(out["canonical_name"], out["version"], repo=repo).model.coef_)


def test_the_retrain_of_the_best_starts_on_the_idle_core_while_the_last_trial_runs(model_repo: Path):
    """The last trial is slow and not the best: the lane with no trial left retrains the best so
    far on all rows, in a pool process, and that very fit is the stored model, the model one
    process stores."""
    log = last_point_slow_repo(model_repo, last_wins=False)
    one = tune_alpha(model_repo, 1)
    assert one["best_params"] != {"alpha": 0.5}  # the slow last point is not the best
    full_rows = max(rows for _, rows, _ in fits(log))
    [threads] = retrain_threads(log)
    log.unlink()

    two = tune_alpha(model_repo, 2)
    assert two["best_params"] == one["best_params"]
    # with the command's own thread counts, not a worker's share: the same fit
    assert retrain_threads(log) == [threads] and "('openmp', 1)" not in threads, threads
    retrains = [(where, alpha) for where, rows, alpha in fits(log) if rows == full_rows]
    assert retrains == [("worker", one["best_params"]["alpha"])], fits(log)
    train = json.loads((Path(two["run_dir"]) / "train" / "result.json").read_text())
    assert train["fitted_ahead"] is True and train["rows"] == {"df": full_rows}
    assert not (Path(two["run_dir"]) / "train" / "ahead").exists()  # the scratch folder is gone
    assert stored_coefficients(model_repo, two) == stored_coefficients(model_repo, one)


def test_a_retrain_started_ahead_is_dropped_when_the_last_trial_wins(model_repo: Path):
    """The slow last trial beats the best so far: the fit started ahead is not the stored model;
    the command retrains the new best, as one process would."""
    log = last_point_slow_repo(model_repo, last_wins=True)
    one = tune_alpha(model_repo, 1)
    assert one["best_params"] == {"alpha": 0.5}
    full_rows = max(rows for _, rows, _ in fits(log))
    log.unlink()

    two = tune_alpha(model_repo, 2)
    assert two["best_params"] == {"alpha": 0.5} and two["best_objective"] == one["best_objective"]
    retrains = [(where, alpha) for where, rows, alpha in fits(log) if rows == full_rows]
    # the guess (another alpha) on the idle core, then the best in the command's process
    assert len(retrains) == 2 and retrains[0][0] == "worker" and retrains[0][1] != 0.5, fits(log)
    assert retrains[1] == ("command", 0.5), fits(log)
    train = json.loads((Path(two["run_dir"]) / "train" / "result.json").read_text())
    assert "fitted_ahead" not in train
    assert not (Path(two["run_dir"]) / "train" / "ahead").exists()
    assert stored_coefficients(model_repo, two) == stored_coefficients(model_repo, one)
