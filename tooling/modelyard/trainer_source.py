"""Read trainer modules as source, without importing them (they may import heavy libraries).

Used to hash a trainer's code (its file plus the modules of ``trainers/`` it imports) and, by the
validator, to check ``constructor_args`` and ``train()`` parameters against the class.
"""
from __future__ import annotations

import ast
from pathlib import Path


def _local_imports(tree: ast.Module, module: str) -> set[str]:
    """Dotted names (relative to trainers/) of local modules this module may import."""
    package = module.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".") if package else []
                base = base[: len(base) - (node.level - 1)] if node.level > 1 else base
                target = ".".join(base + ([node.module] if node.module else []))
                found.add(target)
                found.update(f"{target}.{alias.name}" if target else alias.name for alias in node.names)
            elif node.module:
                found.add(node.module)
                found.update(f"{node.module}.{alias.name}" for alias in node.names)
        elif isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
    return found


def trainer_code_files(root: Path, trainer_file: str) -> list[str]:
    """The trainer's file and every file under trainers/ it imports, transitively (repo-relative)."""
    trainers = root / "trainers"
    seen: set[str] = set()
    queue = [trainer_file]
    while queue:
        rel = queue.pop()
        if rel in seen or not (root / rel).is_file():
            continue
        seen.add(rel)
        module = Path(rel).relative_to("trainers").with_suffix("").as_posix().replace("/", ".")
        try:
            tree = ast.parse((root / rel).read_bytes())
        except (SyntaxError, ValueError):
            continue
        for name in _local_imports(tree, module):
            path = trainers / name.replace(".", "/")
            for candidate in (path.with_suffix(".py"), path / "__init__.py"):
                if candidate.is_file():
                    queue.append(candidate.relative_to(root).as_posix())
    return sorted(seen)


def library_imports(root: Path, files: list[str]) -> list[str]:
    """Modules the given trainer files import by absolute name: libraries, since trainers/ is
    imported under modelyard's own package name (its modules are imported relatively)."""
    names: set[str] = set()
    for rel in files:
        try:
            tree = ast.parse((root / rel).read_bytes())
        except (OSError, SyntaxError, ValueError):
            continue
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                names.update(alias.name for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names.add(node.module)
    return sorted(names)
