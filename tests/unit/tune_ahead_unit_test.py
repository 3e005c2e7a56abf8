"""workflows/tune/ahead.py: which retrain a run starts ahead, from a compiled adaptive study and a
run folder whose earlier rounds' results are written here (as the runner's nodes write them)."""

from __future__ import annotations

from pathlib import Path

from modelyard.engine.context import RunContext
from modelyard.engine.runfolder import write_result
from modelyard.workflows.tune.ahead import plan

TUNING = """\
model: m.yaml
tuning_type: gaussian_process
n_trials: 7
n_function_compute_workers: 2
objective:
  direction: maximize
  metric: r2
param_boundaries:
  alpha: [0.01, 1.0]
  depth: [1, 9]
"""


def _tune(compile_repo, tuning: str = TUNING):
    [workflow] = [w for w in compile_repo({"tuning/t.yaml": tuning}).workflows if w.kind == "tune"]
    assert [n.id for n in workflow.nodes if n.kind == "trials"] == ["trials_01", "trials_02", "trials_03"]
    return workflow


def run_folder(run_dir: Path) -> RunContext:
    """A run context whose run folder is ``run_dir`` (the plan reads nothing else of it)."""
    return RunContext(root=run_dir, warehouse_path=None, store_path=run_dir, data_dir=run_dir, run_dir=run_dir)


def trial(number: int, alpha: float, r2: float | None) -> dict:
    return {
        "trial": number,
        "params": {"alpha": alpha, "depth": 3},
        "metrics": {} if r2 is None else {"r2": r2},
        "status": "ok" if r2 is not None else "failed",
        "error": None if r2 is not None else "boom",
    }


def earlier_rounds(workflow, run: RunContext, scores: list[float]) -> None:
    """Results of rounds 1 and 2 (4 + 2 trials), r2 from ``scores``; round 3's point."""
    for index, r2 in enumerate(scores[:4]):
        write_result(run, "trials_01", index, trial(index + 1, 0.1 * (index + 1), r2))
    write_result(run, "propose_02", None, {"items": [{"alpha": 0.5, "depth": 3}, {"alpha": 0.6, "depth": 3}]})
    for index, r2 in enumerate(scores[4:]):
        write_result(run, "trials_02", index, trial(index + 5, 0.5 + 0.1 * index, r2))
    write_result(run, "propose_03", None, {"items": [{"alpha": 0.7, "depth": 3}]})


def test_the_last_round_retrains_the_best_of_every_round_so_far(compile_repo, tmp_path: Path):
    workflow = _tune(compile_repo)  # 7 trials in rounds of 4, 2, 1; r2, maximized
    run = run_folder(tmp_path)
    earlier_rounds(workflow, run, [0.1, 0.2, 0.9, 0.3, 0.4, 0.5])  # trial 3 (alpha 0.3) is the best
    ahead = plan(workflow, workflow.node("trials_03"), run, [])
    assert (ahead.node, ahead.upstream, ahead.field) == ("train", "select", "best_params")
    assert ahead.value == {"alpha": 0.30000000000000004, "depth": 3}  # 0.1 * 3, as written above
    assert ahead.args[1:] == ("train", run, ahead.value)
    assert Path(ahead.scratch) == tmp_path / "train" / "ahead"
    # a trial of the last round that has finished counts too
    better = plan(workflow, workflow.node("trials_03"), run, [trial(7, 0.7, 0.95)])
    assert better.value == {"alpha": 0.7, "depth": 3}


def test_no_retrain_ahead_before_the_last_round_or_without_a_score(compile_repo, tmp_path: Path):
    workflow = _tune(compile_repo)
    run = run_folder(tmp_path)
    assert plan(workflow, workflow.node("trials_01"), run, [trial(1, 0.1, 0.5)]) is None  # more rounds follow
    for index in range(4):
        write_result(run, "trials_01", index, trial(index + 1, 0.1, None))
    write_result(run, "propose_02", None, {"items": [{"alpha": 0.5, "depth": 3}, {"alpha": 0.6, "depth": 3}]})
    for index in range(2):
        write_result(run, "trials_02", index, trial(index + 5, 0.5, None))
    assert plan(workflow, workflow.node("trials_03"), run, [trial(7, 0.7, None)]) is None  # every trial failed


def test_a_minimized_metric_retrains_the_lowest(compile_repo, tmp_path: Path):
    workflow = _tune(compile_repo, TUNING.replace("direction: maximize", "direction: minimize"))
    run = run_folder(tmp_path)
    earlier_rounds(workflow, run, [0.1, 0.2, 0.9, 0.3, 0.4, 0.05])  # trial 6 (alpha 0.6) is the lowest
    assert plan(workflow, workflow.node("trials_03"), run, []).value == {"alpha": 0.6, "depth": 3}
