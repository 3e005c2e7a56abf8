"""Trainers for tests of local worker pools. A run with ``--workers 2`` runs items in the command's
process beside one worker, which takes items only once it is up (its server's imports take seconds
on a busy machine): these edits of the template's sklearn trainers keep the command's process from
running every item meanwhile, and log which process ran each fit."""

from __future__ import annotations

from pathlib import Path

FIT = "        regression_model.fit("


def command_waits_for_a_worker(repo: Path) -> str:
    """Edit the trainers so the command's process waits, before each fit, until a worker has
    fitted once (at most 2 minutes); returns the file's previous text, to restore for a run
    without workers."""
    trainer = repo / "trainers" / "sklearn" / "sklearn_linear.py"
    before = trainer.read_text()
    marker = str(repo / "worker_fitted")
    wait = f"""        if __import__("multiprocessing").parent_process():
            open({marker!r}, "w").close()
        else:
            for _ in range(2400):
                if __import__("os").path.exists({marker!r}):
                    break
                __import__("time").sleep(0.05)
"""
    assert FIT in before
    trainer.write_text(before.replace(FIT, wait + FIT))
    return before


TWO_CORES = {"MODELYARD_CPU_COUNT": "2"}

PID_LOGGING_TRAINER = """

import os as _os
import time as _time


def _wait_for_a_worker(log_path: str) -> None:
    # The command's process runs trials as they come while the pool's worker starts: from its
    # third trial on it waits until a worker has run one, so that the pool gets trials however
    # slowly the worker starts on a busy machine.
    me = str(_os.getpid())
    deadline = _time.monotonic() + 120
    while _time.monotonic() < deadline:
        with open(log_path) as log:
            pids = [line.split()[0] for line in log]
        if pids.count(me) <= 2 or set(pids) != {{me}}:
            return
        _time.sleep(0.05)


class PidLoggingElasticNetTrainer(SKLearnElasticNetTrainer):
    def train(self, df: pd.DataFrame) -> TrainedObject[SKLearnLinearRegressionModel]:
        with open({log!r}, "a") as log:
            log.write(f"{{_os.getpid()}} {{len(df)}}\\n")
        _time.sleep({sleep})
        if {wait}:
            _wait_for_a_worker({log!r})
        return super().train(df)
"""

SMALL_AUTO_GRID = """\
model: model_elastic_net.yaml
n_function_compute_workers: auto
tuning_type: grid
param_boundaries:
  alpha: [0.1, 0.3, 0.1]
  max_iter: [10, 30, 10]
"""


def pid_logging_repo(repo: Path, sleep: float, wait_for_a_worker: bool = True) -> Path:
    """The template repo whose elastic net trainer logs its process id and sleeps ``sleep`` s per
    fit (in the command's process, from its third trial on, until a worker has run one)."""
    log = repo / "train_pids.txt"
    trainer = repo / "trainers" / "sklearn" / "sklearn_linear.py"
    text = PID_LOGGING_TRAINER.format(log=str(log), sleep=sleep, wait=wait_for_a_worker)
    trainer.write_text(trainer.read_text() + text)
    model = repo / "models" / "model_elastic_net.yaml"
    model.write_text(model.read_text().replace("SKLearnElasticNetTrainer", "PidLoggingElasticNetTrainer"))
    return log


def fitting_processes(log: Path) -> tuple[list[str], list[str]]:
    """The process ids of the trials' fits and of the retrains' (the fits on the most rows), in order."""
    fits = [(pid, int(rows)) for pid, rows in map(str.split, log.read_text().splitlines())]
    most = max(rows for _, rows in fits)
    return [pid for pid, rows in fits if rows < most], [pid for pid, rows in fits if rows == most]
