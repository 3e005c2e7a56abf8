"""`modelyard run` of the example model on 1,000,000 rows against a hand-written script.

The baseline is what a data scientist writes without modelyard: one Python process that runs the
same DuckDB query straight on the seed CSV, fits the same scikit-learn model, evaluates it and
pickles it. Every variant runs as a fresh process (imports count: that is what a user waits for).

- cold: `modelyard run` in a fresh clone (no warehouse yet: the seed is loaded, the extract built);
  target: at most 1.2x the baseline.
- refresh: `modelyard run --refresh` (seed already loaded, extract recomputed).
- cached: `modelyard run` again (extract reused); target: at least 2x faster than cold.
- floor: a process that only imports duckdb, pandas and scikit-learn: what every variant pays
  before doing any work; the ratios "above the floor" compare the work itself.

Usage: python benchmarks/run_bench.py [--rows N] [--repeat N]
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
MODEL = "models/model_linear_regression.yaml"

BASELINE = """
import pickle, sys
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
print(scores)
"""


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
    subprocess.run(["git", "init", "-q"], cwd=repo, check=True)
    subprocess.run(["git", "add", "-A"], cwd=repo, check=True)
    subprocess.run(["git", "-c", "user.name=b", "-c", "user.email=b@b", "commit", "-qm", "bench"], cwd=repo, check=True)
    return repo


def timed(cmd: list[str], cwd: Path) -> float:
    started = time.perf_counter()
    subprocess.run(cmd, cwd=cwd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - started


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=3)
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
        runs: dict[str, list[float]] = {"floor": [], "baseline": [], "cold": [], "refresh": [], "cached": []}
        for _ in range(args.repeat):  # interleaved, so machine noise hits every variant alike
            runs["floor"].append(timed(floor_cmd, repo))
            runs["baseline"].append(timed(baseline_cmd, repo))
            shutil.rmtree(repo / ".modelyard", ignore_errors=True)
            runs["cold"].append(timed([modelyard, "run", MODEL], repo))
            runs["refresh"].append(timed([modelyard, "run", "--refresh", MODEL], repo))
            runs["cached"].append(timed([modelyard, "run", MODEL], repo))
        median = {name: statistics.median(times) for name, times in runs.items()}
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    print(f"rows: {args.rows:,}  repeats: {args.repeat} (median seconds)")
    for name, seconds in median.items():
        print(f"  {name:<9}{seconds:7.2f}s")
    cold, cached, floor = median["cold"], median["cached"], median["floor"]
    print(f"cold / baseline:    {cold / median['baseline']:.2f}x  (target <= 1.2x)")
    print(f"refresh / baseline: {median['refresh'] / median['baseline']:.2f}x")
    print(f"cold / cached:      {cold / cached:.2f}x  (target >= 2x)")
    print(
        f"above the floor: cold / baseline {(cold - floor) / (median['baseline'] - floor):.2f}x, "
        f"cold / cached {(cold - floor) / (cached - floor):.2f}x"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
