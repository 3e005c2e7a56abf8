"""Check a parsed YAML document against one of modelyard's JSON Schemas.

The schemas live in ``schemas/`` at the repo root and ship inside the package; editors use the
same files. Each jsonschema error becomes a positioned diagnostic, with "did you mean" for keys.
"""

from __future__ import annotations

import functools
import hashlib
import json
import re
from importlib import resources
from pathlib import Path

from modelyard.errors import Diagnostic
from modelyard.fsio import write_atomic
from modelyard.repo.yamlsource import YamlDocument
from modelyard.suggest import did_you_mean
from modelyard.version import __version__

SCHEMA_FILES = {
    "extract": "extract.schema.json",
    "model": "model.schema.json",
    "tuning": "tuning.schema.json",
    "settings": "settings.schema.json",
}


def schema_text(kind: str) -> str:
    return resources.files("modelyard").joinpath("schemas", SCHEMA_FILES[kind]).read_text("utf-8")


@functools.cache
def _validator(kind: str):
    import jsonschema

    schema = json.loads(schema_text(kind))
    return jsonschema.Draft202012Validator(schema)


def _describe_type(value) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, (int, float)):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "list"
    if isinstance(value, dict):
        return "mapping"
    return type(value).__name__


def _dotted(path) -> str:
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out or "(top level)"


_RULES = {
    "minimum": "out-of-range",
    "exclusiveMinimum": "out-of-range",
    "maximum": "out-of-range",
    "exclusiveMaximum": "out-of-range",
    "minLength": "empty",
    "minItems": "empty",
    "minProperties": "empty",
}


def _describe_value(value) -> str:
    kind = _describe_type(value)
    return kind if value is None else f"{kind} {json.dumps(value, default=str)[:60]}"


def _empty_mapping_above(doc: YamlDocument, path: tuple, key, schema: dict, instance: dict) -> str | None:
    """The nearest key above ``key`` whose value is empty but should be a mapping: lost indentation,
    as when YAML is pasted from a web page (``tags:`` then ``canonical_name: ...``)."""
    line = doc.where(path + (key,), key=True).line
    candidates = [
        (doc.where(path + (name,), key=True).line, name)
        for name, value in instance.items()
        if value is None and "object" in _types(schema.get("properties", {}).get(name, {}))
    ]
    above = [c for c in candidates if c[0] < line]
    return max(above)[1] if above else None


def _types(schema: dict) -> list[str]:
    kind = schema.get("type", [])
    return kind if isinstance(kind, list) else [kind]


def _diagnostics_for(error, doc: YamlDocument) -> list[Diagnostic]:
    path = tuple(error.absolute_path)
    where = _dotted(path)
    validator = error.validator
    if validator == "additionalProperties" and isinstance(error.instance, dict):
        allowed = list(error.schema.get("properties", {}))
        patterns = error.schema.get("patternProperties", {})
        extra = [k for k in error.instance if k not in allowed and not any(re.match(p, str(k)) for p in patterns)]
        out = []
        for key in extra:
            message = f"{_dotted(path + (key,))}: unknown key{did_you_mean(key, allowed)}"
            if parent := _empty_mapping_above(doc, path, key, error.schema, error.instance):
                message += f"; to put it under {parent!r} (empty at line {doc.where(path + (parent,), key=True).line}), indent it"
            elif not did_you_mean(key, allowed) and allowed:
                message += f" (allowed here: {', '.join(allowed)})"
            out.append(Diagnostic(doc.where(path + (key,), key=True), "error", "unknown-key", message))
        return out
    if validator == "required":
        missing = [k for k in error.validator_value if isinstance(error.instance, dict) and k not in error.instance]
        return [
            Diagnostic(doc.where(path, key=True), "error", "missing-key", f"{where}: missing required key {k!r}")
            for k in missing
        ]
    if validator == "type":
        expected = error.validator_value
        expected = " or ".join(expected) if isinstance(expected, list) else expected
        return [
            Diagnostic(
                doc.where(path),
                "error",
                "wrong-type",
                f"{where}: expected {expected}, got {_describe_value(error.instance)}",
            )
        ]
    if validator == "enum":
        return [
            Diagnostic(
                doc.where(path),
                "error",
                "unknown-value",
                f"{where}: {error.instance!r} is not one of {', '.join(map(str, error.validator_value))}"
                + did_you_mean(error.instance, error.validator_value),
            )
        ]
    if "propertyNames" in error.relative_schema_path:  # jsonschema reports the key's own failure
        return [
            Diagnostic(
                doc.where(path + (error.instance,), key=True),
                "error",
                "bad-name",
                f"{where}: {error.instance!r} is not a valid name (letters, digits and underscores)",
            )
        ]
    if validator == "pattern":
        return [
            Diagnostic(
                doc.where(path),
                "error",
                "bad-format",
                f"{where}: {error.instance!r} does not have the expected form: "
                f"{error.schema.get('description', error.message)}",
            )
        ]
    if validator == "not" and "x-secret-env" in error.schema:
        variable = error.schema["x-secret-env"]
        return [
            Diagnostic(
                doc.where(path, key=True),
                "error",
                "secret-in-repo",
                f"{where}: a secret does not belong in the repo (everyone who can read the repo could use it); "
                f"delete it and set the environment variable {variable} where modelyard runs "
                "(or name another variable with the matching `*_env` key), or a `conn_id` in Airflow",
            )
        ]
    if validator in _RULES:
        return [Diagnostic(doc.where(path), "error", _RULES[validator], f"{where}: {error.message}")]
    if validator == "oneOf" and error.context:
        # the branch of the right shape failed deeper down: report that, not "is not of type 'object'"
        depth = len(path)
        shapes = ("type", "enum")  # a branch that is a type or a list of values: `integer` or `auto`
        deeper = [e for e in error.context if not (e.validator in shapes and len(e.absolute_path) == depth)]
        if deeper:
            return _diagnostics_for(max(deeper, key=lambda e: len(e.absolute_path)), doc)
        expected = " or ".join(
            str(e.validator_value) if e.validator == "type" else " or ".join(map(str, e.validator_value))
            for e in error.context
            if e.validator in shapes
        )
        return [
            Diagnostic(
                doc.where(path),
                "error",
                "wrong-type",
                f"{where}: expected {expected}, got {_describe_type(error.instance)}",
            )
        ]
    return [Diagnostic(doc.where(path), "error", "schema", f"{where}: {error.message}")]


def check_schema(kind: str, doc: YamlDocument) -> list[Diagnostic]:
    out: list[Diagnostic] = []
    for error in _validator(kind).iter_errors(doc.data):
        out.extend(_diagnostics_for(error, doc))
    return out


VALID_CACHE = "cache/schema-valid.json"


class SchemaChecker:
    """``check_schema`` that remembers, in ``<state_dir>/cache/schema-valid.json``, the documents
    found valid: a repo whose files did not change validates without importing jsonschema (its
    import is the largest part of a pre-commit hook's start). A document is known by a hash of its
    kind, its schema, its parsed data and modelyard's version, so any change checks it again;
    only valid documents are kept (an invalid one's diagnostics need the checker anyway)."""

    def __init__(self, state_dir: Path | None):
        self.path = state_dir / VALID_CACHE if state_dir is not None else None
        self.known = self._read()
        self.valid: set[str] = set()

    def _read(self) -> set[str]:
        if self.path is None:
            return set()
        try:
            return set(json.loads(self.path.read_text("utf-8"))["valid"])
        except (OSError, ValueError, KeyError, TypeError):
            return set()

    def check(self, kind: str, doc: YamlDocument) -> list[Diagnostic]:
        key = _document_key(kind, doc.data)
        problems = [] if key in self.known else check_schema(kind, doc)
        if not problems:
            self.valid.add(key)
        return problems

    def save(self) -> None:
        """Keep the documents valid now (the cache never grows past the repo's files)."""
        if self.path is None or self.valid == self.known:
            return
        try:
            write_atomic(self.path, json.dumps({"valid": sorted(self.valid)}).encode())
        except OSError:  # a read-only checkout still validates, only slower
            pass


def _document_key(kind: str, data) -> str:
    # types stay apart: a YAML date and the string of it, true and 1, validate differently
    text = json.dumps(data, sort_keys=True, default=lambda value: f"<{type(value).__name__}:{value!r}>")
    return hashlib.sha256("\0".join([__version__, kind, schema_text(kind), text]).encode()).hexdigest()
