"""The package's shape holds: the layer contract in pyproject.toml (import-linter), and no import
cycle between modules, lazy imports inside functions included."""

from __future__ import annotations

import graphlib
import shutil
import subprocess
import sys
from pathlib import Path

import grimp

ROOT = Path(__file__).resolve().parents[1]


def test_layer_contract_is_kept() -> None:
    exe = shutil.which("lint-imports", path=str(Path(sys.executable).parent))
    proc = subprocess.run([exe, "--no-cache"], cwd=ROOT, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "0 broken" in proc.stdout


def module_cycles(graph) -> list[str]:
    """Every module's imports as a graph; a cycle makes graphlib say which modules form it."""
    sorter = graphlib.TopologicalSorter()
    for module in graph.modules:
        if module.startswith("modelyard."):
            sorter.add(
                module, *(m for m in graph.find_modules_directly_imported_by(module) if m.startswith("modelyard."))
            )
    try:
        sorter.prepare()
    except graphlib.CycleError as exc:
        return exc.args[1]
    return []


def test_no_module_imports_itself_back() -> None:
    graph = grimp.build_graph("modelyard")
    assert module_cycles(graph) == []


def test_a_planted_cycle_is_found() -> None:
    graph = grimp.build_graph("modelyard")
    graph.add_import(importer="modelyard.ir", imported="modelyard.execute.node")
    cycle = module_cycles(graph)
    assert "modelyard.ir" in cycle and "modelyard.execute.node" in cycle


def test_every_module_imports() -> None:
    """A name moved or renamed in one module and still imported by another fails here, in
    milliseconds, rather than as a traceback in some command."""
    import importlib
    import pkgutil

    import modelyard

    failed = {}
    for module in pkgutil.walk_packages(modelyard.__path__, "modelyard."):
        # __main__ runs the CLI; the MLflow model file is copied into exports and run by MLflow
        if module.name.endswith(("__main__", "mlflow_pyfunc")) or "bundled_template" in module.name:
            continue
        try:
            importlib.import_module(module.name)
        except Exception as exc:  # any import-time error is the finding
            failed[module.name] = repr(exc)
    assert failed == {}
