"""pytest plugin: the order and grouping of tests under ``pytest -n 2`` (xdist's ``load``
distribution, which ``scripts/test.sh`` uses), so both workers finish together.

- The modules in ``FIRST`` (the longest, measured: docs/testing.md) start first; the short tests
  come after and fill the gaps, so no worker is left alone with a long test at the end.
- The modules of a group in ``ONE_WORKER`` run on one worker: xdist deals consecutive tests to
  alternate workers, and each worker would build a module-scoped fixture (a trained repo, a
  browser, an Airflow cluster) for itself; two Airflow clusters at once on 2 cores also slow each
  other down. Every other test is dealt on its own, to whichever worker is free.

Why not ``--dist loadgroup`` with ``xdist_group`` marks: pytest-xdist 3.8 tags the grouped tests
by assigning ``item._nodeid``, which pytest 9 no longer reads (a node id is ``item._id`` now), so
the marks are silently ignored. This plugin groups by module file on the controller instead,
through xdist's ``pytest_xdist_make_scheduler`` hook.

Grouping changes only where a test runs, never what it sees: every fixture is still built by the
worker that needs it, so any test passes alone, in any order, and without xdist.
"""

from __future__ import annotations

from pathlib import Path

import pytest

TESTS = Path(__file__).resolve().parent

# Longest first (the units of docs/testing.md's last measured run): the Airflow-cluster group, the
# airflow_test.py group, the other module-fixture groups, then the modules holding the longest
# single tests.
FIRST = (
    "cluster_e2e_test.py",
    "airflow_cluster_test.py",
    "airflow_test.py",
    "uptodate_test.py",
    "ui_test.py",
    "lightning_test.py",
    "backtest_test.py",
    "scoring_test.py",
    "extract_cache_test.py",
    "postgres_test.py",
    "export_test.py",
)

# group name -> the test modules whose tests run on one worker, one after another
ONE_WORKER = {
    # the migrated Airflow metadata database (airflow_database) and one cluster at a time
    "airflow-cluster": ("airflow_cluster_test.py", "cluster_e2e_test.py"),
    # module-scoped fixtures; the Airflow metadata database of airflow_env is migrated once
    "airflow": ("airflow_test.py", "scoring_test.py"),
    "backtest": ("backtest_test.py",),
    "uptodate": ("uptodate_test.py",),
    "ui": ("ui_test.py",),
    "template-ci": ("template_ci_test.py",),
}
GROUP_OF = {module: group for group, modules in ONE_WORKER.items() for module in modules}


def _check_names() -> None:
    missing = sorted(name for name in {*FIRST, *GROUP_OF} if not (TESTS / name).is_file())
    if missing:
        raise pytest.UsageError(f"{Path(__file__).name} names test files that do not exist: {missing}")


def _rank(item: pytest.Item) -> int:
    name = Path(item.path).name
    return FIRST.index(name) if name in FIRST else len(FIRST)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    _check_names()
    # Stable: within a rank, collection order. Under xdist each worker sorts its own collection
    # the same way, and the controller deals tests in that order.
    items.sort(key=_rank)


@pytest.hookimpl(optionalhook=True)  # defined by xdist; absent with -p no:xdist
def pytest_xdist_make_scheduler(config: pytest.Config, log):
    if config.getvalue("dist") != "load":
        return None  # an explicit --dist other than the default of -n keeps xdist's own
    from xdist.scheduler import LoadScopeScheduling

    class ModuleGroupScheduling(LoadScopeScheduling):
        """A unit of work is a whole ``ONE_WORKER`` group, or else a single test."""

        def _split_scope(self, nodeid: str) -> str:
            module = nodeid.split("::", 1)[0].rsplit("/", 1)[-1]
            return GROUP_OF.get(module, nodeid)

    _check_names()
    # Units in collection order (FIRST first), not largest group first as loadscope would.
    config.option.loadscopereorder = False
    return ModuleGroupScheduling(config, log)
