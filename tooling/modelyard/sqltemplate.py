"""Render an extract's jinja-templated SQL: sandboxed, and an undefined variable is an error."""
from __future__ import annotations

import functools
from pathlib import Path

from .errors import ModelyardError, Position


@functools.cache
def _environment():
    from jinja2 import StrictUndefined
    from jinja2.sandbox import ImmutableSandboxedEnvironment

    return ImmutableSandboxedEnvironment(undefined=StrictUndefined, keep_trailing_newline=True, autoescape=False)


def template_variables(text: str) -> set[str]:
    """Names the template reads from its context (what ``kwargs`` must supply)."""
    from jinja2 import meta

    return set(meta.find_undeclared_variables(_environment().parse(text)))


def render_sql(text: str, kwargs: dict, display: str) -> str:
    import jinja2

    try:
        return _environment().from_string(text).render(**kwargs)
    except jinja2.TemplateSyntaxError as exc:
        raise ModelyardError(f"SQL template syntax error: {exc.message}", Position(display, exc.lineno or 0)) from None
    except jinja2.UndefinedError as exc:
        raise ModelyardError(f"SQL template: {exc.message}", Position(display),
                             hint="add the variable to the extract's kwargs") from None
    except jinja2.exceptions.SecurityError as exc:
        raise ModelyardError(f"SQL template tried an unsafe operation: {exc}", Position(display)) from None


def read_sql(root: Path, sql_file: str) -> str:
    return (root / sql_file).read_text("utf-8")
