"""A check's diagnostics kept between runs under the state folder, keyed by everything they depend
on; a different key, an unreadable file or a write that fails means checking again, never a stale
answer."""

from __future__ import annotations

import json
from pathlib import Path

from modelyard.errors import Diagnostic, Position
from modelyard.fsio import write_atomic

CACHE_FILE = "cache/sql-binding.json"


class BindingCache:
    def __init__(self, state_dir: Path, key: str):
        self.path = state_dir / CACHE_FILE
        self.key = key

    def read(self) -> list[Diagnostic] | None:
        try:
            data = json.loads(self.path.read_text("utf-8"))
            if not isinstance(data, dict) or data.get("key") != self.key:
                return None
            return [
                Diagnostic(Position(*d["position"]), d["severity"], d["rule"], d["message"])
                for d in data["diagnostics"]
            ]
        except (OSError, ValueError, KeyError, TypeError):
            return None

    def write(self, diagnostics: list[Diagnostic]) -> None:
        entries = [
            {
                "position": [d.position.path, d.position.line, d.position.col],
                "severity": d.severity,
                "rule": d.rule,
                "message": d.message,
            }
            for d in diagnostics
        ]
        try:
            write_atomic(self.path, json.dumps({"key": self.key, "diagnostics": entries}).encode())
        except OSError:  # a read-only checkout still validates, only slower
            pass
