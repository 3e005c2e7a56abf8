"""`modelyard run` of the example model on 1,000,000 rows against a hand-written script.

The baseline is what a data scientist writes without modelyard: one Python process that runs the
same DuckDB query straight on the seed CSV, fits the same scikit-learn model, evaluates it and
pickles it. Every variant runs as a fresh process (imports count: that is what a user waits for).

- cold: `modelyard run` in a fresh clone (no warehouse yet: the seed is loaded, the extract built);
  target: at most 1.2x the baseline.
- refresh: `modelyard run --refresh` (seed already loaded, extract recomputed).
- cached: `modelyard run --force` again (extract reused, model trained); target: at least 2x
  faster than cold.
- no-op: `modelyard run` again with nothing changed: the latest version is up to date, nothing is
  trained; target: at least 5x faster than cold. Both report the same stored version and metrics.
- many: a copy of the repo with N more model files (`--models`, default 40) all trained once; one
  model file changes and `modelyard run` (every model) runs again: it trains that one and finds
  the others up to date; target: at most 1.5x a cold `modelyard run` of that one model in a fresh
  copy. Both store the same metrics for it.
- floor: a process that only imports duckdb, pandas and scikit-learn: what every variant pays
  before doing any work; the ratios "above the floor" compare the work itself.

Usage: python benchmarks/run_bench.py [--rows N] [--repeat N] [--models N]
"""

from __future__ import annotations

import argparse
import json
import math
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
MODEL = "models/model_linear_regression.yaml"

BASELINE = """
import json, pickle, sys
import duckdb
from sklearn import linear_model, metrics

sql, csv, out = sys.argv[1:4]
df = duckdb.sql(sql.replace("FROM sample_data", f"FROM read_csv_auto('{csv}')")).df()
features = ["x_0", "x_1", "x_2"]
model = linear_model.LinearRegression(fit_intercept=False).fit(df[features], df["y"])
predicted = model.predict(df[features])
scores = {"mean_squared_error": metrics.mean_squared_error(df["y"], predicted),
          "r2": metrics.r2_score(df["y"], predicted)}
with open(out, "wb") as handle:
    pickle.dump(model, handle)
print(json.dumps({"coef": model.coef_.tolist(), **scores}))
"""


def same_model(repo: Path, trained: dict, baseline: dict) -> None:
    """The model modelyard stored (refit on every row, as the script fits) has the script's coefficients."""
    from modelyard.api import load_model

    stored_model = load_model(trained["canonical_name"], trained["version"], repo=repo)
    ours = stored_model.model.coef_.tolist()
    if not all(math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-12) for a, b in zip(ours, baseline["coef"], strict=True)):
        raise SystemExit(f"modelyard's stored model and the script's differ: {ours} vs {baseline['coef']}")


def make_repo(folder: Path, rows: int) -> Path:
    import duckdb
    from cookiecutter.main import cookiecutter

    repo = Path(cookiecutter(str(ROOT), no_input=True, output_dir=str(folder), extra_context={"repo_name": "bench"}))
    csv = repo / "data" / "sample_data.csv"
    duckdb.sql(f"""
        COPY (SELECT DATE '2020-01-01' + CAST(i // 1000 AS INTEGER) AS date,
                     random() - 0.5 AS x_0, random() - 0.5 AS x_1, random() - 0.5 AS x_2,
                     0.0 AS y
              FROM range({rows}) t(i)) TO '{csv}' (HEADER)""")
    duckdb.sql(f"""
        COPY (SELECT date, x_0, x_1, x_2, 3 * x_0 - 2 * x_1 + x_2 + (random() - 0.5) / 10 AS y
              FROM read_csv('{csv}')) TO '{csv}.tmp' (HEADER)""")
    Path(f"{csv}.tmp").replace(csv)
    extract = repo / "extracts" / "extract_inputs.yaml"
    extract.write_text(extract.read_text().replace("limit: 10000", f"limit: {rows}"))
    # the template's Lightning example would train a neural network on every row in the
    # many-models variant (many minutes at 1,000,000 rows), timing torch rather than modelyard
    (repo / "models" / "model_mlp.yaml").unlink()
    (repo / "tuning" / "tune_mlp.yaml").unlink()
    subprocess.run(["git", "init", "-q"], cwd=repo, check=True)
    subprocess.run(["git", "add", "-A"], cwd=repo, check=True)
    subprocess.run(["git", "-c", "user.name=b", "-c", "user.email=b@b", "commit", "-qm", "bench"], cwd=repo, check=True)
    return repo


def timed(cmd: list[str], cwd: Path) -> float:
    return timed_output(cmd, cwd)[0]


def timed_json(cmd: list[str], cwd: Path) -> tuple[float, object]:
    """Seconds a command takes, and its output read as JSON."""
    seconds, output = timed_output(cmd, cwd)
    return seconds, json.loads(output)


def timed_output(cmd: list[str], cwd: Path) -> tuple[float, str]:
    started = time.perf_counter()
    proc = subprocess.run(cmd, cwd=cwd, check=False, capture_output=True, text=True)
    seconds = time.perf_counter() - started
    if proc.returncode != 0:
        raise SystemExit(f"{' '.join(cmd)} failed ({proc.returncode}):\n{proc.stderr}")
    return seconds, proc.stdout


def stored(result: dict) -> tuple:
    """What a run stored, to check two variants agree: the model, its version and metrics."""
    return result["canonical_name"], result["version"], result["metrics"]


def add_models(repo: Path, count: int) -> str:
    """``count`` more model files like the example (each its own canonical name), committed; the
    path of the one the benchmark changes."""
    source = (repo / MODEL).read_text()
    for i in range(count):
        text = source.replace("canonical_name: sample_regression_model_v1", f"canonical_name: bench_model_{i:02d}")
        (repo / "models" / f"bench_model_{i:02d}.yaml").write_text(text)
    subprocess.run(["git", "add", "-A"], cwd=repo, check=True)
    subprocess.run(
        ["git", "-c", "user.name=b", "-c", "user.email=b@b", "commit", "-qm", "models"], cwd=repo, check=True
    )
    return "models/bench_model_00.yaml"


def change_model(repo: Path, model: str, step: int) -> None:
    """A change that trains a different model: the holdout fraction."""
    path = repo / model
    text = path.read_text()
    fraction = f"holdout: 0.{3 + step % 5}"
    path.write_text(text[: text.index("holdout: ")] + fraction + text[text.index("holdout: ") + len(fraction) :])


def many_models(repo: Path, modelyard: str, count: int, repeat: int) -> dict[str, list[float]]:
    """The many-models variant in two copies of ``repo``: re-running every model after one changed,
    against a cold run of that model alone in a fresh copy."""
    folder = repo.parent
    many, single = folder / "many", folder / "single"
    for copy in (many, single):
        shutil.copytree(repo, copy, ignore=shutil.ignore_patterns(".modelyard"))
    changed = add_models(many, count)
    add_models(single, count)
    timed([modelyard, "run"], many)  # every model trained once
    times: dict[str, list[float]] = {"many": [], "single cold": []}
    for step in range(repeat):
        for copy in (many, single):
            change_model(copy, changed, step)
        seconds, outcomes = timed_json([modelyard, "run", "--format", "json"], many)
        times["many"].append(seconds)
        statuses = sorted(o["status"] for o in outcomes)
        if statuses != ["trained"] + ["up_to_date"] * (len(outcomes) - 1):
            raise SystemExit(f"expected one model trained and the others up to date, got {statuses}")
        shutil.rmtree(single / ".modelyard", ignore_errors=True)
        seconds, alone = timed_json([modelyard, "run", "--format", "json", changed], single)
        times["single cold"].append(seconds)
        trained = next(o for o in outcomes if o["status"] == "trained")
        if trained["model_file"] != changed or trained["metrics"] != alone["metrics"]:
            raise SystemExit(f"the two runs of {changed} disagree: {trained} vs {alone}")
    return times


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--models", type=int, default=40, help="model files of the many-models variant")
    args = parser.parse_args()
    modelyard = str(Path(sys.executable).with_name("modelyard"))
    folder = Path(tempfile.mkdtemp(prefix="modelyard-run-bench-"))
    try:
        repo = make_repo(folder, args.rows)
        sql = (repo / "extracts" / "training_data.sql").read_text().replace("{{ limit }}", str(args.rows))
        script = folder / "baseline.py"
        script.write_text(BASELINE)
        baseline_cmd = [
            sys.executable,
            str(script),
            sql,
            str(repo / "data" / "sample_data.csv"),
            str(folder / "baseline.pkl"),
        ]
        floor_cmd = [sys.executable, "-c", "import duckdb, pandas, sklearn.linear_model, sklearn.metrics"]
        runs: dict[str, list[float]] = {
            "floor": [],
            "baseline": [],
            "cold": [],
            "refresh": [],
            "cached": [],
            "no-op": [],
        }
        run = [modelyard, "run", "--format", "json", MODEL]
        for _ in range(args.repeat):  # interleaved, so machine noise hits every variant alike
            runs["floor"].append(timed(floor_cmd, repo))
            seconds, baseline = timed_json(baseline_cmd, repo)
            runs["baseline"].append(seconds)
            shutil.rmtree(repo / ".modelyard", ignore_errors=True)
            seconds, cold = timed_json(run, repo)
            runs["cold"].append(seconds)
            same_model(repo, cold, baseline)
            runs["refresh"].append(timed([*run, "--refresh"], repo))
            cached, trained = timed_json([*run, "--force"], repo)
            runs["cached"].append(cached)
            noop, reused = timed_json(run, repo)
            runs["no-op"].append(noop)
            if reused["status"] != "up_to_date" or stored(reused) != stored(trained):
                raise SystemExit(f"the no-op run did not report the stored version: {reused} vs {trained}")
        runs.update(many_models(repo, modelyard, args.models, args.repeat))
        median = {name: statistics.median(times) for name, times in runs.items()}
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    print(f"rows: {args.rows:,}  repeats: {args.repeat} (median seconds)")
    for name, seconds in median.items():
        print(f"  {name:<12}{seconds:7.2f}s")
    cold, cached, floor = median["cold"], median["cached"], median["floor"]
    print(f"cold / baseline:    {cold / median['baseline']:.2f}x  (target <= 1.2x)")
    print(f"refresh / baseline: {median['refresh'] / median['baseline']:.2f}x")
    print(f"cold / cached:      {cold / cached:.2f}x  (target >= 2x)")
    print(f"cold / no-op:       {cold / median['no-op']:.2f}x  (target >= 5x)")
    print(
        f"{args.models} models, one changed / that model alone, cold: "
        f"{median['many'] / median['single cold']:.2f}x  (target <= 1.5x)"
    )
    print(
        f"above the floor: cold / baseline {(cold - floor) / (median['baseline'] - floor):.2f}x, "
        f"cold / cached {(cold - floor) / (cached - floor):.2f}x"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
