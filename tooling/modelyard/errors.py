"""The one exception root and the diagnostics every command reports.

A user's mistake is never a traceback: anything raised as a ``ModelyardError`` is caught once,
in ``cli.main``, printed with its place (``path:line:col``) and turned into exit status 1.
"""

from __future__ import annotations

import dataclasses
from typing import Literal

Severity = Literal["error", "warning"]


@dataclasses.dataclass(frozen=True, order=True)
class Position:
    """A place in a user's file; ``line`` and ``col`` are 1-based, 0 when unknown."""

    path: str
    line: int = 0
    col: int = 0

    def __str__(self) -> str:
        if self.line and self.col:
            return f"{self.path}:{self.line}:{self.col}"
        if self.line:
            return f"{self.path}:{self.line}"
        return self.path


@dataclasses.dataclass(frozen=True, order=True)
class Diagnostic:
    position: Position
    severity: Severity
    rule: str
    message: str

    @classmethod
    def error(cls, position: Position, rule: str, message: str) -> Diagnostic:
        return cls(position, "error", rule, message)

    def __str__(self) -> str:
        return f"{self.position}: {self.severity}[{self.rule}]: {self.message}"

    def as_json(self) -> dict:
        return {
            "path": self.position.path,
            "line": self.position.line,
            "col": self.position.col,
            "severity": self.severity,
            "rule": self.rule,
            "message": self.message,
        }


class ModelyardError(Exception):
    """Root of every error a user can cause; the CLI prints it without a traceback."""

    def __init__(self, message: str, position: Position | None = None, hint: str | None = None):
        super().__init__(message)
        self.message = message
        self.position = position
        self.hint = hint

    def __str__(self) -> str:
        text = f"{self.position}: {self.message}" if self.position else self.message
        return f"{text}\n  hint: {self.hint}" if self.hint else text


class ConfigError(ModelyardError):
    """The model repo's files do not validate; carries every diagnostic found."""

    def __init__(self, diagnostics: list[Diagnostic]):
        self.diagnostics = sorted(diagnostics)
        errors = [d for d in self.diagnostics if d.severity == "error"]
        super().__init__("\n".join(str(d) for d in self.diagnostics) + f"\n{len(errors)} error(s)")

    def __str__(self) -> str:
        return self.message


class RepoNotFoundError(ModelyardError):
    """No model repo (a folder with ``modelyard.yaml``) at or above the working directory."""


class WarehouseError(ModelyardError):
    """The DuckDB warehouse failed: an SQL error, a locked file, a missing table."""


class StoreError(ModelyardError):
    """The model store refused an operation: unknown model, corrupted artifact."""


class TrainerError(ModelyardError):
    """User trainer code failed: import error, exception inside ``train`` or ``evaluate``."""


class DeploymentError(ModelyardError):
    """Where a run is set up wrong (target, credentials, connection, published files): retrying
    the same task cannot help, so an orchestrator fails it at once instead of retrying."""


class PublishError(ModelyardError):
    """Publishing refused or failed: a dirty tree, a foreign target folder, a failing backend."""


class ExportError(ModelyardError):
    """A stored model cannot be exported: a signature the format cannot express, a missing extra."""


class NodeError(ModelyardError):
    """A node of a workflow failed; names the workflow and node around the cause."""

    def __init__(self, workflow: str, node: str, cause: ModelyardError | str):
        self.workflow, self.node = workflow, node
        # a deployment or settings mistake fails the same way on every try: an orchestrator should not retry
        self.retryable = not isinstance(cause, (DeploymentError, ConfigError))
        detail = str(cause)
        # execute.node saved the full traceback in the run folder: say where, so the cause is one open away
        saved = getattr(cause, "traceback_file", None)
        where = f"\n  traceback: {saved}" if saved else ""
        super().__init__(f"workflow {workflow!r}, node {node!r} failed:\n{detail}{where}")


def full_traceback(exc: BaseException) -> str:
    """Every exception in ``exc``'s chain, oldest first, including the ones a ``raise ... from None``
    hides: a trainer's own frames sit behind the TrainerError that replaced its exception."""
    import traceback

    chain, seen, current = [], set(), exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        chain.append(current)
        current = current.__cause__ or current.__context__
    parts = ["".join(traceback.format_exception(type(e), e, e.__traceback__, chain=False)) for e in reversed(chain)]
    return "\nDuring handling of the above exception, another exception occurred:\n\n".join(parts)


def _rebuild(cls, state):
    error = cls.__new__(cls)
    Exception.__init__(error, state.get("message", ""))
    error.__dict__.update(state)
    return error


# Errors cross process boundaries (parallel trials and windows): keep position and hint intact.
ModelyardError.__reduce__ = lambda self: (_rebuild, (type(self), dict(self.__dict__)))


class CompileError(ModelyardError):
    """A rule only compiling a workflow can check; ``validate`` reports it under ``rule``."""

    def __init__(self, rule: str, message: str, position: Position | None = None, hint: str | None = None):
        super().__init__(message, position, hint)
        self.rule = rule
