"""Publishing cost against compiling, with the Airflow backend: `modelyard publish` (the
template's `publish.backend: airflow`) vs `modelyard compile --backend airflow` on a repo of N
models, and a republish of the same commit (which writes nothing).

Both run as fresh processes, as a user runs them, with the same caching state: warm (a first,
untimed compile fills the caches `validate` keeps in `.modelyard/cache/`, which both commands read,
as after the pre-commit hook's validate). Publish does more on purpose: it writes the same
DAG and IR files (checked byte for byte against compile's output) plus the manifest, the repo files
workers need (`project/`), and swaps the target's `current` link.

    python benchmarks/publish_bench.py [--models 40] [--repeat 5]
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
MODELYARD = str(Path(sys.executable).with_name("modelyard"))


def make_repo(base: Path, models: int) -> Path:
    from cookiecutter.main import cookiecutter

    repo = Path(cookiecutter(str(ROOT), no_input=True, output_dir=str(base), extra_context={"repo_name": "bench"}))
    assert "backend: airflow" in (repo / "modelyard.yaml").read_text()
    source = (repo / "models" / "model_linear_regression.yaml").read_text()
    for i in range(models - 2):
        text = source.replace("canonical_name: ", f"canonical_name: m{i}_")
        (repo / "models" / f"model_{i:03d}.yaml").write_text(text)
    env = {
        "GIT_AUTHOR_NAME": "b",
        "GIT_AUTHOR_EMAIL": "b@b",
        "GIT_COMMITTER_NAME": "b",
        "GIT_COMMITTER_EMAIL": "b@b",
        "PATH": "/usr/bin:/bin",
    }
    for args in (["init", "-q"], ["add", "-A"], ["commit", "-q", "-m", "bench"]):
        subprocess.run(["git", *args], cwd=repo, env=env, check=True)
    return repo


def timed(command: list[str], cwd: Path) -> float:
    started = time.perf_counter()
    proc = subprocess.run(command, cwd=cwd, capture_output=True, text=True)
    elapsed = time.perf_counter() - started
    if proc.returncode:
        sys.exit(f"{' '.join(command)} failed:\n{proc.stderr}")
    return elapsed


def same_files(compiled: Path, published: Path) -> None:
    """Every file compile wrote is in the published set with the same bytes."""
    names = sorted(p.name for p in compiled.iterdir())
    assert any(name.endswith(".py") for name in names), names  # Airflow DAG files
    for name in names:
        assert (compiled / name).read_bytes() == (published / name).read_bytes(), name


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", type=int, default=40)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        repo = make_repo(Path(tmp), args.models)
        runs: dict[str, list[float]] = {"compile": [], "publish": [], "republish": []}
        timed([MODELYARD, "compile", "--backend", "airflow", "--out", str(Path(tmp) / "warm-up")], repo)
        for i in range(args.repeat):  # interleaved, so a busy moment hits every command alike
            out = Path(tmp) / f"compiled{i}"
            runs["compile"].append(timed([MODELYARD, "compile", "--backend", "airflow", "--out", str(out)], repo))
            target = Path(tmp) / f"target{i}"  # a new target each time: a full publish
            runs["publish"].append(timed([MODELYARD, "publish", "--target", str(target)], repo))
            runs["republish"].append(timed([MODELYARD, "publish", "--target", str(target)], repo))
            same_files(out, target / "current")
    compiled, published, again = (statistics.median(runs[k]) for k in ("compile", "publish", "republish"))
    print(f"{args.models} models, backend 'airflow', fresh processes, median of {args.repeat}")
    print(f"compile --backend airflow: {compiled * 1000:8.1f} ms")
    print(
        f"publish:                   {published * 1000:8.1f} ms   ratio publish/compile = {published / compiled:.2f}x"
    )
    print(f"republish (no-op):         {again * 1000:8.1f} ms   ratio republish/compile = {again / compiled:.2f}x")


if __name__ == "__main__":
    main()
