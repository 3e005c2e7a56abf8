"""Storing and loading a model on S3 through the model store vs raw s3fs put/get of the same bytes.

A real S3 server (SeaweedFS, credentials on, from tests/servers.py). The model is a fitted
scikit-learn random forest pickled with cloudpickle (a few MB, like a real artifact). Both sides
end with an object that predicts: the raw side unpickles what it got, the store side loads the
model; their predictions are checked equal. The store side does more on purpose: it lists the
versions, claims one with a conditional PUT, writes the envelope after the artifact and checks
the sha256 on load. Goal: at most 1.2x raw.

    PYTHONPATH=tooling:tests python benchmarks/store_bench.py [--repeat 5]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))


def fitted_model():
    import numpy as np
    from sklearn.datasets import load_diabetes
    from sklearn.ensemble import RandomForestRegressor

    x, y = load_diabetes(return_X_y=True)
    return RandomForestRegressor(n_estimators=200, random_state=0).fit(x, y), x[:20], np.asarray


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()

    import cloudpickle
    import s3fs
    import servers
    from upath import UPath

    from modelyard.store.models import ModelStore

    model, sample, asarray = fitted_model()
    data = cloudpickle.dumps(model)
    expected = model.predict(sample)
    with servers.seaweedfs_s3() as s3:
        fs = s3fs.S3FileSystem(**s3.storage_options())
        prefix = f"{s3.bucket}/bench-{uuid.uuid4().hex[:6]}"
        store = ModelStore(UPath(f"s3://{prefix}/models", **s3.storage_options()))
        raw_times, store_times = [], []
        for i in range(args.repeat):
            started = time.perf_counter()
            fs.pipe_file(f"{prefix}/raw/{i}/model.pkl", data)
            raw = cloudpickle.loads(fs.cat_file(f"{prefix}/raw/{i}/model.pkl"))
            raw_times.append(time.perf_counter() - started)

            started = time.perf_counter()
            version, _ = store.save("bench_model", data, {"canonical_name": "bench_model"})
            stored = store.load("bench_model", version)
            store_times.append(time.perf_counter() - started)

            assert version == i + 1
            assert (asarray(raw.predict(sample)) == expected).all()
            assert (asarray(stored.predict(sample)) == expected).all()
    raw_s, store_s = statistics.median(raw_times), statistics.median(store_times)
    print(f"model: {len(data) / 1e6:.1f} MB, {args.repeat} rounds of store + load (median)")
    print(f"raw s3fs put+get   {raw_s * 1000:8.1f} ms")
    print(f"model store        {store_s * 1000:8.1f} ms")
    print(f"ratio              {store_s / raw_s:8.2f}x (goal <= 1.2x)")


if __name__ == "__main__":
    main()
