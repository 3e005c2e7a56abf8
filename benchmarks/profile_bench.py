"""Cost of profiling an extract against the cost of building it, on a 1,000,000-row extract.

Building is what the extract node does on a fresh warehouse file: load the seed CSV (a million
rows of the template's shape: a date, three features, a label, plus a category and a column with
nulls) and materialize the extract's query. Profiling is what follows it: the profile computed
in the warehouse (``warehouse.profile.profile_table``). Both run in this process on the same
connection, one after the other as in the extract node; the median of ``--repeat`` runs of each is compared. Prints both times and the ratio, and
exits 1 when profiling costs more than 0.3x the build.

    python benchmarks/profile_bench.py [--rows 1000000] [--repeat 3]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

LIMIT = 0.3
EXTRACT_SQL = """
SELECT date, x_0, x_1, x_2, segment, x_0 * x_1 AS x_01, nullable, y
FROM sample_data
WHERE y IS NOT NULL
"""


def write_seed(path: Path, rows: int) -> None:
    import numpy as np
    import pandas as pd

    rng = np.random.default_rng(0)
    x = rng.normal(size=(rows, 3))
    frame = pd.DataFrame(
        {
            "date": pd.Timestamp("2024-01-01") + pd.to_timedelta(np.arange(rows) // 1000, unit="D"),
            "x_0": x[:, 0].round(6),
            "x_1": x[:, 1].round(6),
            "x_2": x[:, 2].round(6),
            "segment": rng.choice(["north", "south", "east", "west", "online"], size=rows),
            "nullable": np.where(rng.random(rows) < 0.1, np.nan, rng.random(rows).round(6)),
            "y": (x @ [1.5, -2.0, 0.5] + rng.normal(scale=0.1, size=rows)).round(6),
        }
    )
    frame.to_csv(path, index=False)


def build_then_profile(folder: Path, data: Path) -> tuple[float, float]:
    """As the extract node does: one connection builds the table, then profiles it."""
    from modelyard.warehouse import profile
    from modelyard.warehouse.duckdb_warehouse import DuckDBWarehouse as Warehouse

    path = folder / "warehouse.duckdb"
    path.unlink(missing_ok=True)
    with Warehouse(path) as wh:
        started = time.perf_counter()
        wh.sync_seeds(data)
        rows = wh.materialize("extracts.bench__rows", EXTRACT_SQL, "bench")
        built = time.perf_counter()
        computed = profile.profile_table(wh.con, "extracts.bench__rows")
        profile.save_profile(wh.con, "extracts.bench__rows", "bench", computed)
        profiled = time.perf_counter()
    check_profile(data / "sample_data.csv", rows, computed)
    return built - started, profiled - built


def check_profile(seed: Path, rows: int, computed: dict) -> None:
    """The build kept every row, and the profile says of them what pandas says of the seed file."""
    import math

    import pandas as pd

    frame = pd.read_csv(seed)
    columns = computed["columns"]
    assert rows == len(frame), (rows, len(frame))
    assert columns["nullable"]["nulls"] == int(frame["nullable"].isna().sum()), columns["nullable"]
    for name in ("x_0", "y"):
        assert math.isclose(columns[name]["mean"], frame[name].mean(), rel_tol=1e-9, abs_tol=1e-12), name


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        data = folder / "data"
        data.mkdir()
        write_seed(data / "sample_data.csv", args.rows)
        builds, profiles = [], []
        for _ in range(args.repeat):
            built, profiled = build_then_profile(folder, data)
            builds.append(built)
            profiles.append(profiled)
    built, profiled = statistics.median(builds), statistics.median(profiles)
    ratio = profiled / built
    print(f"{args.rows} rows: build {built:.3f}s, profile {profiled:.3f}s, ratio {ratio:.2f} (limit {LIMIT})")
    return 0 if ratio <= LIMIT else 1


if __name__ == "__main__":
    sys.exit(main())
