"""Benchmark: `modelyard validate` (schemas + cross-file checks) against check-jsonschema (schemas only).

A generated repo with 200 models and 200 extracts (each with its SQL file). Both tools run as cold
processes, as a pre-commit hook runs them; check-jsonschema takes one schema per run, so it runs
once per schema (extracts, models, tuning, settings) on all the files of that kind, as a user
would run it, and its time is the sum. Same caching state: both cold (validate's caches in
`.modelyard/cache/` are removed before each of its runs; check-jsonschema keeps none for local
schema files). Both must accept the repo (exit status 0, every file checked), and both must reject
it, naming the same file, once a model file holds a key its schema does not allow. Median of RUNS.

    python benchmarks/validate_bench.py [--models 200] [--runs 5]
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
BIN = Path(sys.executable).parent


def generate(out: Path, count: int) -> Path:
    from cookiecutter.main import cookiecutter

    repo = Path(cookiecutter(str(ROOT), no_input=True, output_dir=str(out), extra_context={"repo_name": "bench"}))
    model = (repo / "models" / "model_linear_regression.yaml").read_text()
    extract = (repo / "extracts" / "extract_inputs.yaml").read_text()
    sql = (repo / "extracts" / "training_data.sql").read_text()
    for i in range(count):
        (repo / "extracts" / f"inputs_{i:03d}.yaml").write_text(
            extract.replace("training_data.sql", f"data_{i:03d}.sql").replace("limit: 10000", f"limit: {1000 + i}")
        )
        (repo / "extracts" / f"data_{i:03d}.sql").write_text(sql)
        (repo / "models" / f"model_{i:03d}.yaml").write_text(
            model.replace("extract_inputs.yaml", f"inputs_{i:03d}.yaml").replace(
                "canonical_name: ", f"canonical_name: m{i:03d}_"
            )
        )
    return repo


def timed(command: list[str], cwd: Path) -> float:
    started = time.perf_counter()
    proc = subprocess.run(command, cwd=cwd, capture_output=True, text=True)
    elapsed = time.perf_counter() - started
    if proc.returncode != 0:
        raise SystemExit(f"{' '.join(command[:3])} ... failed:\n{proc.stdout}\n{proc.stderr}")
    return elapsed


def same_verdicts(repo: Path, groups: dict[str, list[str]], schemas: Path) -> None:
    """Both tools accept the repo as generated, and both reject it, naming the same file, once one
    model holds a key its schema does not allow: they check the same thing before being timed."""
    model = repo / groups["model"][0]
    original = model.read_text()
    model.write_text(original + "not_a_model_key: 1\n")
    try:
        ours = subprocess.run([str(BIN / "modelyard"), "validate"], cwd=repo, capture_output=True, text=True)
        theirs = subprocess.run(
            [str(BIN / "check-jsonschema"), "--schemafile", str(schemas / "model.schema.json"), *groups["model"]],
            cwd=repo,
            capture_output=True,
            text=True,
        )
    finally:
        model.write_text(original)
    for name, proc in (("modelyard validate", ours), ("check-jsonschema", theirs)):
        output = proc.stdout + proc.stderr
        assert proc.returncode != 0 and groups["model"][0] in output and "not_a_model_key" in output, (name, output)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", type=int, default=200)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args(argv)
    work = Path(tempfile.mkdtemp(prefix="validate-bench-"))
    try:
        repo = generate(work, args.models)
        schemas = ROOT / "schemas"
        groups = {
            "extract": sorted(str(p.relative_to(repo)) for p in (repo / "extracts").glob("*.yaml")),
            "model": sorted(str(p.relative_to(repo)) for p in (repo / "models").glob("*.yaml")),
            "tuning": sorted(str(p.relative_to(repo)) for p in (repo / "tuning").glob("*.yaml")),
            "settings": ["modelyard.yaml"],
        }
        files = sum(len(v) for v in groups.values())
        same_verdicts(repo, groups, schemas)
        ours, theirs = [], []
        for _ in range(args.runs):
            # cold as check-jsonschema, which keeps nothing: without the answers validate remembers
            shutil.rmtree(repo / ".modelyard" / "cache", ignore_errors=True)
            ours.append(timed([str(BIN / "modelyard"), "validate"], repo))
            theirs.append(
                sum(
                    timed(
                        [str(BIN / "check-jsonschema"), "--schemafile", str(schemas / f"{kind}.schema.json"), *paths],
                        repo,
                    )
                    for kind, paths in groups.items()
                )
            )
        mine, baseline = statistics.median(ours), statistics.median(theirs)
        print(
            f"repo: {args.models} models, {args.models + 1} extract files, {files} YAML files; median of {args.runs} cold runs"
        )
        print(f"check-jsonschema (schemas only, {len(groups)} runs): {baseline:.3f}s")
        print(f"modelyard validate (schemas + cross-file checks): {mine:.3f}s")
        print(f"ratio: modelyard validate is {baseline / mine:.2f}x as fast as check-jsonschema")
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
