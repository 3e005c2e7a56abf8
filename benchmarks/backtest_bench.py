"""Overhead of `modelyard backtest` against a hand-written loop doing the same fits.

Both sides run as fresh processes (so both pay for importing pandas and scikit-learn) on the
template repo's sample data (30 rows a day, 2024-01-01 .. 2024-03-31), with the template's linear
regression trainer. The loop reads the CSV with pandas, computes the same windows and fits and
scores scikit-learn directly; its metrics are checked against modelyard's, window by window, before
anything is timed. Prints the median wall and CPU time of each side and the ratios modelyard / loop.

Caching: both sides cold for the data, warm for the operating system. The loop parses the CSV on
every run; modelyard starts every run without a warehouse (the file is deleted), so it loads the
seed CSV and builds the extract each time too. The reports folder (with its one copy of plotly.js)
stays, as it does for a user. Bytecode caching on for both sides, as in a user's installation (a
shell may turn it off for its checkout: then every modelyard run would compile modelyard's sources
again, about 0.1 s of CPU, while the loop's libraries were compiled when they were installed).

    python benchmarks/backtest_bench.py [--repeat 3]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

LOOP = r"""
import datetime as dt, json, sys
import pandas as pd
from sklearn import linear_model, metrics

days_backward, train_days, test_days, slide_days = map(int, sys.argv[1:5])
df = pd.read_csv("data/sample_data.csv", parse_dates=["date"]).sort_values(["date", "x_0"])
end = df["date"].max() + pd.Timedelta(days=1)
start = end - pd.Timedelta(days=days_backward)
results = []
test_end = end
while test_end - pd.Timedelta(days=test_days + train_days) >= start:
    test_start = test_end - pd.Timedelta(days=test_days)
    train_start = test_start - pd.Timedelta(days=train_days)
    train = df[(df["date"] >= train_start) & (df["date"] < test_start)]
    test = df[(df["date"] >= test_start) & (df["date"] < test_end)]
    features = ["x_0", "x_1", "x_2"]
    model = linear_model.LinearRegression(fit_intercept=False).fit(train[features], train["y"])
    predicted = model.predict(test[features])
    results.append({"test_start": test_start.isoformat(), "r2": metrics.r2_score(test["y"], predicted),
                    "mean_squared_error": metrics.mean_squared_error(test["y"], predicted)})
    test_end -= pd.Timedelta(days=slide_days)
print(json.dumps(sorted(results, key=lambda r: r["test_start"])))
"""

CASES = {  # name: (days_backward, train days, test days, slide days)
    "post example": (60, 10, 5, 2),
    "daily slide": (90, 14, 1, 1),
}


def generate_repo(out: Path) -> Path:
    from cookiecutter.main import cookiecutter

    return Path(cookiecutter(str(ROOT), no_input=True, output_dir=str(out)))


def configure(repo: Path, days_backward: int, train: int, test: int, slide: int) -> None:
    model = repo / "models" / "model_linear_regression.yaml"
    head = model.read_text().split("split_config:")[0]
    model.write_text(
        head + f"split_config:\n  train_param_name: df\n  strategy: sliding_time_window\n"
        f"  time_column: date\n  days_backward: {days_backward}\n  train_size: {{days: {train}}}\n"
        f"  test_size: {{days: {test}}}\n  slide_by: {{days: {slide}}}\n"
    )


def _cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)  # includes the pool workers, once reaped
    return usage.ru_utime + usage.ru_stime


def timed(command: list[str], cwd: Path) -> tuple[float, float, str]:
    """Wall and CPU seconds of one run: CPU time is less disturbed by other work on the machine.
    A modelyard run starts without a warehouse: as cold as the loop, which parses the CSV."""
    for leftover in (cwd / ".modelyard").glob("warehouse.duckdb*"):  # the file and its write-ahead log
        leftover.unlink()
    cpu, started = _cpu(), time.perf_counter()
    env = {**os.environ, "COLUMNS": "200", "PYTHONDONTWRITEBYTECODE": ""}
    proc = subprocess.run(command, cwd=cwd, capture_output=True, text=True, env=env)
    elapsed = time.perf_counter() - started
    if proc.returncode:
        sys.exit(f"{' '.join(command)} failed:\n{proc.stderr}")
    return elapsed, _cpu() - cpu, proc.stdout


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    modelyard = str(Path(sys.executable).with_name("modelyard"))
    with tempfile.TemporaryDirectory() as tmp:
        os.environ["HOME"] = tmp  # cookiecutter writes its replay files to ~
        repo = generate_repo(Path(tmp))
        print(f"{'case':<14}{'windows':>8}  {'command':<22}{'wall s':>8}{'ratio':>7}{'cpu s':>8}{'ratio':>7}")
        for name, sizes in CASES.items():
            configure(repo, *sizes)
            commands = {
                "hand-written loop": [sys.executable, "-c", LOOP, *map(str, sizes)],
                "modelyard, 1 worker": [
                    modelyard,
                    "backtest",
                    "models/model_linear_regression.yaml",
                    "--format",
                    "json",
                    "--workers",
                    "1",
                ],
            }
            commands["modelyard, 2 workers"] = commands["modelyard, 1 worker"][:-1] + ["2"]
            theirs = json.loads(timed(commands["hand-written loop"], repo)[2])
            for label in ("modelyard, 1 worker", "modelyard, 2 workers"):  # also the warm-up of each side
                ours = json.loads(timed(commands[label], repo)[2])["windows"]
                assert len(ours) == len(theirs), (label, len(ours), len(theirs))
                for a, b in zip(ours, theirs, strict=True):
                    assert a["test_start"] == b["test_start"], (label, a, b)
                    for metric in ("r2", "mean_squared_error"):
                        assert abs(a["metrics"][metric] - b[metric]) <= 1e-9 * max(1.0, abs(b[metric])), (label, a, b)
            runs: dict[str, list] = {label: [] for label in commands}
            for _ in range(args.repeat):  # interleaved, so a busy moment hits every command alike
                for label, cmd in commands.items():
                    runs[label].append(timed(cmd, repo)[:2])
            medians = {
                label: (statistics.median(w for w, _ in r), statistics.median(c for _, c in r))
                for label, r in runs.items()
            }
            base_wall, base_cpu = medians["hand-written loop"]
            for label, (wall, cpu) in medians.items():
                cpu_text = (
                    f"{cpu:>8.2f}{cpu / base_cpu:>7.2f}" if label != "modelyard, 2 workers" else f"{'n/a':>8}{'':>7}"
                )
                print(f"{name:<14}{len(ours):>8}  {label:<22}{wall:>8.2f}{wall / base_wall:>7.2f}{cpu_text}")
    print(
        f"median of {args.repeat} runs; ratio = modelyard / hand-written loop (both fresh processes, both "
        f"reading the CSV: no warehouse before a modelyard run); cpus: {os.cpu_count()}"
    )
    # pool workers are children of the forkserver, which is never reaped: their CPU time is invisible here
    print("cpu s: user+system time of the process and the children it waited for (n/a with a worker pool)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
