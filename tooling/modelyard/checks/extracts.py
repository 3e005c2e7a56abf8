"""Extract-to-extract references: an extract's SQL may read another extract's table
(``extracts.<file stem>__<name>``). The table must exist, and the references must not form a cycle.
"""

from __future__ import annotations

from collections.abc import Iterable

from modelyard.errors import Diagnostic, Position
from modelyard.repo.project import ExtractSpec, Project
from modelyard.repo.sqltemplate import extract_tables
from modelyard.suggest import did_you_mean

Key = tuple[str, str]  # (extract file, dataset name)


def extract_references(project: Project) -> dict[Key, list[tuple[Key | str, int]]]:
    """For each SQL extract: the extracts its raw SQL reads (a key, or the unknown table name) and the line."""
    by_table = {spec.table.lower(): key for key, spec in project.extracts.items()}
    references: dict[Key, list[tuple[Key | str, int]]] = {}
    texts: dict[str, str | None] = {}
    for key, spec in project.extracts.items():
        if spec.operator != "sql" or not spec.sql_file:
            continue
        if spec.sql_file not in texts:
            try:
                texts[spec.sql_file] = (project.root / spec.sql_file).read_text("utf-8")
            except (OSError, UnicodeDecodeError):
                texts[spec.sql_file] = None  # reported by check_extract_files
        text = texts[spec.sql_file]
        if text is not None:
            references[key] = [(by_table.get(table.lower(), table), line) for table, line in extract_tables(text)]
    return references


def _label(spec: ExtractSpec) -> str:
    return f"{spec.file}:{spec.name}"


def check_extract_references(project: Project) -> Iterable[Diagnostic]:
    references = extract_references(project)
    tables = sorted(spec.table for spec in project.extracts.values())
    for key, found in references.items():
        spec = project.extracts[key]
        for target, line in found:
            if isinstance(target, str):
                yield Diagnostic(
                    Position(spec.sql_file, line),
                    "error",
                    "unknown-extract",
                    f"{spec.sql_file} reads {target}, which no extract file defines" + did_you_mean(target, tables),
                )
    yield from _cycles(project, {k: [t for t, _ in v if not isinstance(t, str)] for k, v in references.items()})


def _cycles(project: Project, graph: dict[Key, list[Key]]) -> Iterable[Diagnostic]:
    """Each cycle once, reported at its first extract (in sorted order), spelled out in full."""
    seen: set[frozenset[Key]] = set()
    state: dict[Key, str] = {}
    stack: list[Key] = []

    def visit(node: Key) -> Iterable[list[Key]]:
        state[node] = "open"
        stack.append(node)
        for nxt in sorted(set(graph.get(node, []))):
            if state.get(nxt) == "open":
                yield stack[stack.index(nxt) :] + [nxt]
            elif nxt not in state:
                yield from visit(nxt)
        stack.pop()
        state[node] = "done"

    for start in sorted(graph):
        if start in state:
            continue
        for cycle in visit(start):
            members = frozenset(cycle)
            if members in seen:
                continue
            seen.add(members)
            first = min(cycle[:-1])
            i = cycle.index(first)
            ordered = cycle[i:-1] + cycle[:i] + [first]
            spec = project.extracts[first]
            yield Diagnostic(
                spec.position,
                "error",
                "cycle",
                "extracts read each other in a cycle: "
                + " -> ".join(_label(project.extracts[k]) for k in ordered)
                + "; an extract cannot read itself, even through others",
            )
