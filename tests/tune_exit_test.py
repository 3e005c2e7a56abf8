"""`modelyard tune` and `modelyard backtest` end without the interpreter's teardown (freeing every
module one by one), yet do what a normal exit does for others: a trainer's exit handler (an
experiment tracker flushing its run) still runs."""

from __future__ import annotations

from pathlib import Path

from conftest import cli

EXIT_HANDLER = """

import atexit as _atexit

_atexit.register(lambda: open({path!r}, "w").write("flushed"))


class _FreedAtTeardown:
    def __del__(self, _open=open):  # bound now: the teardown may have freed the builtins by then
        _open({path!r} + ".teardown", "w").write("torn down")


_freed_at_teardown = _FreedAtTeardown()
"""


def test_exit_handlers_of_trainer_code_run_before_tune_exits(model_repo: Path):
    flushed = model_repo / "flushed.txt"
    trainer = model_repo / "trainers" / "sklearn" / "sklearn_linear.py"
    trainer.write_text(trainer.read_text() + EXIT_HANDLER.format(path=str(flushed)))
    result = cli("tune", "tuning/tune_elastic_net.yaml", "--workers", "1", "--format", "json", cwd=model_repo)
    assert result.returncode == 0, result
    assert result.json()["n_trials"] == 40  # the whole output was flushed
    assert flushed.read_text() == "flushed"


def test_backtest_ends_without_teardown_after_exit_handlers(model_repo: Path):
    flushed = model_repo / "flushed.txt"
    trainer = model_repo / "trainers" / "sklearn" / "sklearn_linear.py"
    trainer.write_text(trainer.read_text() + EXIT_HANDLER.format(path=str(flushed)))
    args = ("backtest", "models/model_linear_regression.yaml", "--workers", "1", "--format", "json")
    result = cli(*args, cwd=model_repo)
    assert result.returncode == 0, result
    assert len(result.json()["windows"]) == 23  # the whole output was flushed
    assert flushed.read_text() == "flushed"
    assert not Path(f"{flushed}.teardown").exists()  # the trainer module was never freed
