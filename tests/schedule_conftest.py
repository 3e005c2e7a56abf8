"""pytest plugin: the order and grouping of tests for ``pytest -n 2 --dist loadgroup
--no-loadscope-reorder`` (what ``scripts/test.sh`` runs), so both workers finish together.

- A module whose tests share a module-scoped fixture runs on one worker: xdist's default
  scheduling deals consecutive tests to alternate workers, and each worker would build the
  fixture (a trained repo, a browser, a whole Airflow cluster) for itself.
- Tests using a fixture in ``ONE_WORKER`` run on one worker whatever their module: a second
  worker would repeat its set-up, and two Airflow clusters at once on 2 cores slow each other.
- The modules in ``FIRST`` (the longest, measured: docs/testing.md) start first; the short tests
  come after and fill the gaps, so no worker is left alone with a long test at the end.

Grouping changes only where a test runs, never what it sees: every fixture is still built by the
worker that needs it, so any test passes alone, in any order, and without xdist.
"""

from __future__ import annotations

from pathlib import Path

import pytest

TESTS = Path(__file__).resolve().parent

# Session fixtures expensive enough to set up on one worker only (airflow_database migrates
# Airflow's schema and serves the clusters).
ONE_WORKER = ("airflow_database",)

# Longest first (by their total time in the last measured run).
FIRST = (
    "cluster_e2e_test.py",
    "airflow_cluster_test.py",
    "airflow_test.py",
    "workflows_test.py",
    "tune_search_test.py",
)


def _group(item: pytest.Item) -> str | None:
    for name in ONE_WORKER:
        if name in item.fixturenames:
            return name
    for definitions in item._fixtureinfo.name2fixturedefs.values():
        if definitions[-1].scope == "module":
            return item.module.__name__
    return None


def _rank(item: pytest.Item) -> int:
    name = Path(item.path).name
    return FIRST.index(name) if name in FIRST else len(FIRST)


@pytest.hookimpl(tryfirst=True)  # before xdist reads the xdist_group marks
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    missing = [name for name in FIRST if not (TESTS / name).is_file()]
    if missing:
        raise pytest.UsageError(f"{Path(__file__).name}: FIRST names missing test files {missing}; update the list")
    for item in items:
        group = _group(item)
        if group:
            item.add_marker(pytest.mark.xdist_group(group))
    items.sort(key=_rank)  # stable: within a rank, collection order
