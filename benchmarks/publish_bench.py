"""Publishing cost against compiling: `publish` vs `compile` with the same backend on a repo of
N models, and a republish of the same commit (which writes nothing).

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
sys.path.insert(0, str(ROOT / "tooling"))


def make_repo(base: Path, models: int, backend: str) -> Path:
    from cookiecutter.main import cookiecutter

    repo = Path(cookiecutter(str(ROOT), no_input=True, output_dir=str(base), extra_context={"repo_name": "bench"}))
    settings = repo / "modelyard.yaml"
    settings.write_text(settings.read_text().replace("backend: airflow", f"backend: {backend}"))
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


def timed(fn, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--models", type=int, default=40)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()

    from modelyard.backends import BACKENDS, write_backend
    from modelyard.compile import compile_project
    from modelyard.gitinfo import source_info
    from modelyard.publish.target import publish
    from modelyard.validate.project import load_project

    backend = "airflow" if "airflow" in BACKENDS else "ir"
    with tempfile.TemporaryDirectory() as tmp:
        repo = make_repo(Path(tmp), args.models, backend)
        counter = iter(range(10**6))

        def compile_once():
            write_backend(backend, compile_project(load_project(repo), source_info(repo)), Path(tmp) / "compiled")

        def publish_fresh():  # a new target each time: a full publish
            document = compile_project(load_project(repo), source_info(repo))
            publish(document, backend, Path(tmp) / f"target{next(counter)}")

        def republish():
            publish(compile_project(load_project(repo), source_info(repo)), backend, Path(tmp) / "target0")

        compiled = timed(compile_once, args.repeat)
        published = timed(publish_fresh, args.repeat)
        again = timed(republish, args.repeat)
    print(f"{args.models} models, backend {backend!r}, median of {args.repeat}")
    print(f"compile:           {compiled * 1000:8.1f} ms")
    print(f"publish:           {published * 1000:8.1f} ms   ratio publish/compile = {published / compiled:.2f}x")
    print(f"republish (no-op): {again * 1000:8.1f} ms   ratio republish/compile = {again / compiled:.2f}x")


if __name__ == "__main__":
    main()
