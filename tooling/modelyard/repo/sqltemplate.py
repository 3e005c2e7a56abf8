"""An extract's jinja-templated SQL: the variables it reads, the extract tables it reads, and its
rendering (sandboxed; an undefined variable is an error).

Validation runs in a pre-commit hook, so the common template (plain ``{{ name }}`` placeholders) is
read with a regex; jinja2 is imported only for anything richer, and for rendering.
"""

from __future__ import annotations

import functools
import re
from pathlib import Path

from modelyard.errors import ModelyardError, Position


@functools.cache
def _environment():
    from jinja2 import StrictUndefined
    from jinja2.sandbox import ImmutableSandboxedEnvironment

    return ImmutableSandboxedEnvironment(undefined=StrictUndefined, keep_trailing_newline=True, autoescape=False)


_PLACEHOLDER = re.compile(r"\{\{(.*?)\}\}", re.DOTALL)
_IDENTIFIER = re.compile(r"\s*([A-Za-z_][A-Za-z0-9_]*)\s*")


def _simple_variables(text: str) -> set[str] | None:
    """The variables of a template made only of ``{{ name }}`` placeholders; None otherwise."""
    if "{%" in text or "{#" in text:
        return None
    names = set()
    for match in _PLACEHOLDER.finditer(text):
        simple = _IDENTIFIER.fullmatch(match.group(1))
        if simple is None:
            return None
        names.add(simple.group(1))
    if "{{" in _PLACEHOLDER.sub("", text):
        return None  # an unclosed placeholder: let jinja report it
    return names


def template_variables(text: str) -> set[str]:
    """Names the template reads from its context (what ``kwargs`` must supply).

    Raises ``jinja2.TemplateSyntaxError`` for an invalid template.
    """
    return set(variable_uses(text))


def variable_uses(text: str) -> dict[str, Position]:
    """Each variable the template reads from its context, at its first use (line, and column when
    known; the path is left empty for the caller).

    Raises ``jinja2.TemplateSyntaxError`` for an invalid template.
    """
    if _simple_variables(text) is not None:
        uses: dict[str, Position] = {}
        for match in _PLACEHOLDER.finditer(text):
            name = match.group(1).strip()
            start = match.start(1) + match.group(1).index(name)
            line_start = text.rfind("\n", 0, start) + 1
            uses.setdefault(name, Position("", text.count("\n", 0, start) + 1, start - line_start + 1))
        return uses
    from jinja2 import meta, nodes

    tree = _environment().parse(text)
    undeclared = meta.find_undeclared_variables(tree)
    lines = text.splitlines()
    uses = {}
    for node in tree.find_all(nodes.Name):
        if node.name in undeclared and (node.name not in uses or node.lineno < uses[node.name].line):
            # jinja records lines only: the column is the name's first occurrence on that line
            found = (
                re.search(rf"\b{re.escape(node.name)}\b", lines[node.lineno - 1]) if node.lineno <= len(lines) else None
            )
            uses[node.name] = Position("", node.lineno, found.start() + 1 if found else 0)
    return uses


def render_sql(text: str, kwargs: dict, display: str, kwargs_at: Position | None = None) -> str:
    """The SQL ``text`` renders to; ``kwargs_at`` (the extract's kwargs) is named in the message
    of an undefined variable, which is placed at its line of the SQL file."""
    simple = _simple_variables(text)
    if simple is not None and simple <= set(kwargs):
        # jinja renders `{{ name }}` as str(value): the same without importing it (pre-commit speed)
        return _PLACEHOLDER.sub(lambda m: str(kwargs[m.group(1).strip()]), text)
    import jinja2

    try:
        return _environment().from_string(text).render(**kwargs)
    except jinja2.TemplateSyntaxError as exc:
        raise ModelyardError(f"SQL template syntax error: {exc.message}", Position(display, exc.lineno or 0)) from None
    except jinja2.UndefinedError as exc:
        # "'x' is undefined" is a missing kwarg; "'dict object' has no attribute 'y'" is not
        missing = (exc.message or "").endswith("is undefined")
        note = f" (kwargs: {kwargs_at})" if kwargs_at else ""
        raise ModelyardError(
            f"SQL template: {exc.message}{note}",
            Position(display, _template_line(exc)),
            hint="add the variable to the extract's kwargs"
            if missing
            else "check the attribute or key against the value in the extract's kwargs",
        ) from None
    except jinja2.exceptions.SecurityError as exc:
        raise ModelyardError(f"SQL template tried an unsafe operation: {exc}", Position(display)) from None


def _template_line(exc: BaseException) -> int:
    """The template line a rendering error happened on: jinja rewrites its traceback to point
    at the template's lines, in frames named ``<template>``."""
    line, tb = 0, exc.__traceback__
    while tb is not None:
        if tb.tb_frame.f_code.co_filename == "<template>":
            line = tb.tb_lineno
        tb = tb.tb_next
    return line


def template_position(template: str, rendered: str, line: int, col: int) -> tuple[int, int]:
    """Where, in the template, is line ``line`` column ``col`` (1-based) of its rendering.

    Rendering substitutes placeholders and drops or repeats blocks, so the two texts are aligned
    (lines, then characters on the line): text outside jinja keeps its place; text that jinja
    produced maps to the start of the template text that produced it.
    """
    import difflib

    source, output = template.splitlines(), rendered.splitlines()
    if not 1 <= line <= len(output):
        return line, col
    lines = difflib.SequenceMatcher(None, source, output, autojunk=False)
    for tag, s1, s2, o1, o2 in lines.get_opcodes():
        if o1 <= line - 1 < o2:
            if tag == "equal":
                return s1 + line - 1 - o1 + 1, col
            if s1 == s2:  # produced by jinja from no whole line (e.g. a loop): the line before
                return max(s1, 1), 0
            source_line = min(s1 + line - 1 - o1, s2 - 1)
            return source_line + 1, _column(source[source_line], output[line - 1], col)
    return line, col


def _column(source: str, output: str, col: int) -> int:
    import difflib

    chars = difflib.SequenceMatcher(None, source, output, autojunk=False)
    for tag, s1, _s2, o1, o2 in chars.get_opcodes():
        if o1 <= col - 1 < o2 or (o1 == o2 == col - 1):
            return (s1 + col - 1 - o1 if tag == "equal" else s1) + 1
    return len(source) + 1 if col > 0 else 0


def read_sql(root: Path, sql_file: str) -> str:
    return (root / sql_file).read_text("utf-8")


_COMMENT_OR_STRING = re.compile(r"--[^\n]*|/\*.*?\*/|'(?:[^']|'')*'", re.DOTALL)
_EXTRACT_TABLE = re.compile(r'(?<![\w."])"?extracts"?\s*\.\s*(?:"([^"\n]+)"|([A-Za-z_][A-Za-z0-9_]*))', re.IGNORECASE)


def extract_tables(sql: str) -> list[tuple[str, int]]:
    """Extract tables the SQL reads, as ``(extracts.<file stem>__<name>, line)``.

    Comments and string literals are ignored; a table name built by jinja is only seen in the
    rendered SQL.
    """
    blanked = _COMMENT_OR_STRING.sub(lambda m: re.sub(r"[^\n]", " ", m.group(0)), sql)
    return [
        (f"extracts.{m.group(1) or m.group(2)}", blanked.count("\n", 0, m.start()) + 1)
        for m in _EXTRACT_TABLE.finditer(blanked)
    ]
