"""What the UI costs per page update, against compiling the repo (what `modelyard compile` does).

    python benchmarks/ui_bench.py [--repeat 20]

Generates a model repo with the real cookiecutter, runs one workflow (so the warehouse and run
folders exist), then times: compiling the repo (baseline), one poll (the change token the page
asks for every 0.7 s) and one redraw (read + check + compile the repo, node statuses with the
warehouse cache check). Prints median milliseconds and the ratio to the baseline.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def median_ms(func, repeat: int) -> float:
    func()  # warm imports and caches
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        func()
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=20)
    args = parser.parse_args()

    from cookiecutter.main import cookiecutter

    from modelyard.compile import compile_project
    from modelyard.ui import data
    from modelyard.validate.project import collect_project

    with tempfile.TemporaryDirectory() as tmp:
        repo = Path(cookiecutter(str(ROOT), no_input=True, output_dir=tmp, extra_context={"repo_name": "bench"}))
        subprocess.run(
            [sys.executable, "-m", "modelyard", "-C", str(repo), "run", "models/model_linear_regression.yaml"],
            check=True,
            capture_output=True,
        )
        settings = collect_project(repo)[0].settings

        def redraw():
            view = data.load_repo(repo)
            data.node_states(view.settings, view.workflow("model_linear_regression"), alive=False)

        # the redraw shows the very workflow the compiler makes
        compiled = compile_project(collect_project(repo)[0]).workflow("model_linear_regression")
        if data.load_repo(repo).workflow("model_linear_regression") != compiled:
            raise SystemExit("the UI's workflow differs from the compiled one")
        baseline = median_ms(lambda: compile_project(collect_project(repo)[0]), args.repeat)
        poll = median_ms(lambda: data.repo_token(repo, settings, "model_linear_regression"), args.repeat)
        full = median_ms(redraw, args.repeat)
    print(f"compile the repo (baseline): {baseline:8.2f} ms")
    print(f"UI poll (change token):      {poll:8.2f} ms  ratio {poll / baseline:.2f}x")
    print(f"UI redraw (graph + status):  {full:8.2f} ms  ratio {full / baseline:.2f}x")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
