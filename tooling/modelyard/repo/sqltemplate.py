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
    simple = _simple_variables(text)
    if simple is not None:
        return simple
    from jinja2 import meta

    return set(meta.find_undeclared_variables(_environment().parse(text)))


def render_sql(text: str, kwargs: dict, display: str) -> str:
    import jinja2

    try:
        return _environment().from_string(text).render(**kwargs)
    except jinja2.TemplateSyntaxError as exc:
        raise ModelyardError(f"SQL template syntax error: {exc.message}", Position(display, exc.lineno or 0)) from None
    except jinja2.UndefinedError as exc:
        # "'x' is undefined" is a missing kwarg; "'dict object' has no attribute 'y'" is not
        missing = (exc.message or "").endswith("is undefined")
        raise ModelyardError(
            f"SQL template: {exc.message}",
            Position(display),
            hint="add the variable to the extract's kwargs"
            if missing
            else "check the attribute or key against the value in the extract's kwargs",
        ) from None
    except jinja2.exceptions.SecurityError as exc:
        raise ModelyardError(f"SQL template tried an unsafe operation: {exc}", Position(display)) from None


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
