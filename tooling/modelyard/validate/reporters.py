"""Print a validation result: as compiler-style text lines for people, or as JSON for tools."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # `modelyard --help` lists the formats without loading the validator
    from modelyard.validate.files import ValidationResult


def _plural(count: int, word: str) -> str:
    return f"{count} {word}{'' if count == 1 else 's'}"


def summary(result: ValidationResult) -> str:
    return (
        f"{_plural(result.errors, 'error')}, {_plural(result.warnings, 'warning')} "
        f"in {_plural(len(result.files), 'file')}"
    )


def text(result: ValidationResult) -> str:
    """``path:line:col: severity[rule]: message`` per problem, sorted, then a summary line."""
    return "".join(f"{d}\n" for d in result.diagnostics) + summary(result) + "\n"


def as_json(result: ValidationResult) -> str:
    document = {
        "diagnostics": [d.as_json() for d in result.diagnostics],
        "summary": {"errors": result.errors, "warnings": result.warnings, "files": len(result.files)},
        "files": list(result.files),
    }
    return json.dumps(document, indent=2, sort_keys=True) + "\n"


REPORTERS: dict[str, Callable[[ValidationResult], str]] = {
    "text": text,
    "json": as_json,
}
