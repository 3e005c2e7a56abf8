"""Make the template's sklearn trainers keep the command's process from running every item while
a pool's worker starts: a run with ``--workers 2`` runs items in the command's process beside one
worker, which takes items only once it is up (its server's imports take seconds on a busy machine).
Tests that need the worker to run some items use this."""

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
