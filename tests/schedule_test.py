"""tests/schedule_conftest.py under real xdist (``-n 2``): the tests of a module in a ONE_WORKER
group, and of two modules in one group, each run on a single worker; other tests spread over both.
The suite here names its modules like the real ones the plugin groups."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

from schedule_conftest import ONE_WORKER

TESTS = Path(__file__).resolve().parent

CONFTEST = """
pytest_plugins = ["schedule_conftest"]
"""

MODULE_FIXTURE = """
import os
import pytest


@pytest.fixture(scope="module")
def expensive():
    return "built once"


@pytest.mark.parametrize("n", range(6))
def test_shares(expensive, n, record):
    record("module_fixture")
"""

TWO_MODULES = """
import pytest


@pytest.mark.parametrize("n", range(3))
def test_cluster(n, record):
    record("one_worker")
"""

FREE = """
import time
import pytest


@pytest.mark.parametrize("n", range(8))
def test_free(n, record):
    time.sleep(0.2)  # long enough that the idle worker takes some
    record("free")
"""

RECORD = """
import os
import pytest


@pytest.fixture
def record(request):
    def write(kind):
        name = request.node.nodeid.replace("/", "_").replace(":", "_")
        out = os.path.join(os.environ["SCHEDULE_OUT"], f"{kind}-{name}")
        with open(out, "w") as f:
            f.write(os.environ["PYTEST_XDIST_WORKER"])
    return write
"""


def test_shared_fixtures_keep_their_tests_on_one_worker(tmp_path: Path) -> None:
    suite, out = tmp_path / "suite", tmp_path / "out"
    suite.mkdir()
    out.mkdir()
    (suite / "conftest.py").write_text(textwrap.dedent(CONFTEST + RECORD))
    (suite / "backtest_test.py").write_text(textwrap.dedent(MODULE_FIXTURE))
    for name in ONE_WORKER["airflow-cluster"]:
        (suite / name).write_text(textwrap.dedent(TWO_MODULES))
    (suite / "free_test.py").write_text(textwrap.dedent(FREE))
    env = {
        **os.environ,
        "SCHEDULE_OUT": str(out),
        "PYTHONPATH": os.pathsep.join([str(TESTS), os.environ.get("PYTHONPATH", "")]),
    }
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-p",
            "no:cacheprovider",
            "-o",
            "python_files=*_test.py",
            "-n",
            "2",
            "-q",
            str(suite),
        ],
        cwd=suite,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    workers: dict[str, set[str]] = {}
    for record in out.iterdir():
        workers.setdefault(record.name.split("-")[0], set()).add(record.read_text())
    assert sorted(len(list(out.glob(f"{kind}-*"))) for kind in workers) == [6, 6, 8]
    assert len(workers["module_fixture"]) == 1, workers
    assert len(workers["one_worker"]) == 1, workers
    assert workers["free"] == {"gw0", "gw1"}, workers
