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


def imports_of_test_modules(files, root: Path = ROOT) -> list[str]:
    """``file:line module`` for each import of a ``*_test`` module, inside functions too."""
    import ast

    found = []
    for path in files:
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0:
                names = [node.module or ""]
            else:
                continue
            found += [(str(path.relative_to(root)), node.lineno, n) for n in names if n.endswith("_test")]
    return [f"{file}:{line} {module}" for file, line, module in sorted(found)]


def test_no_test_file_imports_another() -> None:
    """Shared helpers live in tests/conftest.py or tests/helpers/: a test file imported by another
    runs its tests' module-level code twice and ties the two files' layouts together."""
    files = sorted([*(ROOT / "tests").rglob("*.py"), *(ROOT / "benchmarks").glob("*.py")])
    assert len(files) > 50
    assert imports_of_test_modules(files) == []


def test_an_import_of_a_test_file_is_found(tmp_path: Path) -> None:
    planted = tmp_path / "planted.py"
    planted.write_text("def f():\n    from tune_test import FEATURES\n\n\nimport helpers.diabetes, publish_test\n")
    assert imports_of_test_modules([planted], tmp_path) == ["planted.py:2 tune_test", "planted.py:5 publish_test"]
