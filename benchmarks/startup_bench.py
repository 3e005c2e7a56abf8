"""Start-up: `modelyard --help` and `modelyard validate` of the template repo, as fresh processes.

A pre-commit hook runs `validate` on every commit, so its start is what a user waits for. The floor
is a Python process that does nothing (`python -c pass`). `validate` is timed on an unchanged repo
after a first validate (the usual pre-commit case: its caches hold) and cold (caches removed).
Target: at most 0.25 s each on an idle machine.

To compare two checkouts, run it with each one's `tooling/` on PYTHONPATH (the installed `modelyard`
script imports what PYTHONPATH points to).

Usage: python benchmarks/startup_bench.py [--repeat N]
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def timed(cmd: list[str], cwd: Path) -> float:
    started = time.perf_counter()
    subprocess.run(cmd, cwd=cwd, check=True, stdout=subprocess.DEVNULL)
    return time.perf_counter() - started


def main() -> int:
    from cookiecutter.main import cookiecutter

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=10)
    args = parser.parse_args()
    modelyard = str(Path(sys.executable).with_name("modelyard"))
    folder = Path(tempfile.mkdtemp(prefix="modelyard-startup-bench-"))
    try:
        repo = Path(cookiecutter(str(ROOT), no_input=True, output_dir=str(folder), extra_context={"repo_name": "r"}))
        timed([modelyard, "validate"], repo)  # bytecode written, caches filled
        runs: dict[str, list[float]] = {"python": [], "--help": [], "validate": [], "validate cold": []}
        for _ in range(args.repeat):  # interleaved, so machine noise hits every variant alike
            runs["python"].append(timed([sys.executable, "-c", "pass"], repo))
            runs["--help"].append(timed([modelyard, "--help"], repo))
            runs["validate"].append(timed([modelyard, "validate"], repo))
            shutil.rmtree(repo / ".modelyard" / "cache", ignore_errors=True)
            runs["validate cold"].append(timed([modelyard, "validate"], repo))
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    print(f"repeats: {args.repeat} (median seconds, min in brackets)")
    for name, times in runs.items():
        print(f"  {name:<14}{statistics.median(times):6.3f}s  ({min(times):.3f}s)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
