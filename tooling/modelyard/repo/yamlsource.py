"""Read a YAML file into plain data plus the position of every key and value.

PyYAML's composer gives nodes with marks; we build Python values from them ourselves so that
(1) every value knows its line and column, (2) duplicate keys are errors instead of silently
overwriting, (3) scalars follow YAML 1.2's core schema (``yes`` stays the string ``'yes'``), and
(4) hostile files (alias bombs, binary garbage, huge files) end in a clear error, quickly.
"""

from __future__ import annotations

import dataclasses
import math
import re
from pathlib import Path
from typing import Any

import yaml

from modelyard.errors import Diagnostic, Position

MAX_BYTES = 1_000_000
MAX_NODES = 100_000

try:
    _Loader = yaml.CSafeLoader
except AttributeError:  # PyYAML built without libyaml
    _Loader = yaml.SafeLoader

_INT = re.compile(r"^[-+]?(0|[1-9][0-9_]*)$|^0o[0-7]+$|^0x[0-9a-fA-F]+$")
_FLOAT = re.compile(r"^[-+]?(\.[0-9]+|[0-9][0-9_]*(\.[0-9_]*)?)([eE][-+]?[0-9]+)?$")

# What the safe resolver gives untagged nodes; any other tag was written by hand (!!python/object ...)
_PLAIN_TAGS = {
    f"tag:yaml.org,2002:{name}"
    for name in ("str", "int", "float", "bool", "null", "timestamp", "merge", "value", "seq", "map")
}

KeyPath = tuple  # tuple[str | int, ...]


@dataclasses.dataclass
class YamlDocument:
    """A parsed file: its data and where each part of it stands."""

    path: str  # as shown to the user, relative to the repo
    data: Any
    positions: dict[KeyPath, Position]  # value positions
    key_positions: dict[KeyPath, Position]  # positions of mapping keys

    def where(self, keypath: KeyPath, *, key: bool = False) -> Position:
        """The position of ``keypath``, or of its nearest ancestor that has one."""
        table = self.key_positions if key else self.positions
        keypath = tuple(keypath)
        while keypath:
            if keypath in table:
                return table[keypath]
            if keypath in self.positions:
                return self.positions[keypath]
            keypath = keypath[:-1]
        return self.positions.get((), Position(self.path, 1, 1))


class YamlSyntaxError(Exception):
    def __init__(self, diagnostic: Diagnostic):
        super().__init__(str(diagnostic))
        self.diagnostic = diagnostic


def _resolve_plain(text: str) -> Any:
    if text in ("", "~", "null", "Null", "NULL"):
        return None
    if text in ("true", "True", "TRUE"):
        return True
    if text in ("false", "False", "FALSE"):
        return False
    if _INT.match(text):
        if text.startswith("0o"):
            return int(text[2:], 8)
        if text.startswith("0x"):
            return int(text[2:], 16)
        return int(text.replace("_", ""))
    if _FLOAT.match(text) and any(ch.isdigit() for ch in text):
        return float(text.replace("_", ""))
    lowered = text.lower()
    if lowered in (".inf", "+.inf"):
        return math.inf
    if lowered == "-.inf":
        return -math.inf
    if lowered == ".nan":
        return math.nan
    return text


class _Builder:
    def __init__(self, path: str):
        self.path = path
        self.positions: dict[KeyPath, Position] = {}
        self.key_positions: dict[KeyPath, Position] = {}
        self.count = 0

    def pos(self, node: yaml.Node) -> Position:
        return Position(self.path, node.start_mark.line + 1, node.start_mark.column + 1)

    def fail(self, node: yaml.Node, rule: str, message: str):
        raise YamlSyntaxError(Diagnostic(self.pos(node), "error", rule, message))

    def build(self, node: yaml.Node, keypath: KeyPath, depth: int = 0) -> Any:
        self.count += 1
        if self.count > MAX_NODES:
            self.fail(
                node,
                "yaml-too-large",
                f"the document expands to more than {MAX_NODES} values "
                "(an alias bomb?); simplify the file or drop the anchors",
            )
        if depth > 100:
            self.fail(node, "yaml-too-deep", "the document nests more than 100 levels deep")
        self.positions.setdefault(keypath, self.pos(node))
        if node.tag not in _PLAIN_TAGS:
            self.fail(node, "yaml-tag", f"YAML tags are not supported: {node.tag.replace('tag:yaml.org,2002:', '!!')}")
        if isinstance(node, yaml.ScalarNode):
            if not node.style:  # plain scalar: resolve by the core schema
                return _resolve_plain(node.value)
            return node.value
        if isinstance(node, yaml.SequenceNode):
            return [self.build(item, keypath + (i,), depth + 1) for i, item in enumerate(node.value)]
        if isinstance(node, yaml.MappingNode):
            result: dict[Any, Any] = {}
            for key_node, value_node in node.value:
                if key_node.tag == "tag:yaml.org,2002:merge":
                    self.fail(key_node, "yaml-merge-key", "merge keys (<<) are not supported; write the keys out")
                if not isinstance(key_node, yaml.ScalarNode):
                    self.fail(key_node, "yaml-key", "mapping keys must be plain strings")
                key = key_node.value if key_node.style else _resolve_plain(key_node.value)
                if isinstance(key, (bool, float)) or key is None:
                    key = key_node.value
                if key in result:
                    first = self.key_positions[keypath + (key,)]
                    self.fail(
                        key_node,
                        "yaml-duplicate-key",
                        f"duplicate key {key!r} (first defined at line {first.line}); remove one of them",
                    )
                self.key_positions[keypath + (key,)] = self.pos(key_node)
                result[key] = self.build(value_node, keypath + (key,), depth + 1)
            return result
        self.fail(node, "yaml-syntax", "unsupported YAML node")


def parse_yaml(text: str, path: str) -> YamlDocument:
    """Parse one YAML document; raise ``YamlSyntaxError`` carrying a positioned diagnostic."""
    if "\t" in text:
        for number, line in enumerate(text.splitlines(), 1):
            indent = line[: len(line) - len(line.lstrip(" \t"))]
            if "\t" in indent:
                raise YamlSyntaxError(
                    Diagnostic(
                        Position(path, number, indent.index("\t") + 1),
                        "error",
                        "yaml-tab",
                        "tab character in indentation; YAML indents with spaces only",
                    )
                )
    try:
        node = yaml.compose(text, Loader=_Loader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        position = Position(path, mark.line + 1, mark.column + 1) if mark else Position(path)
        problem = exc.problem or exc.context or "invalid YAML"
        raise YamlSyntaxError(Diagnostic(position, "error", "yaml-syntax", f"invalid YAML: {problem}")) from None
    except yaml.YAMLError as exc:
        raise YamlSyntaxError(
            Diagnostic(Position(path, 1, 1), "error", "yaml-syntax", f"invalid YAML: {exc}")
        ) from None
    builder = _Builder(path)
    data = builder.build(node, ()) if node is not None else None
    if node is None:
        builder.positions[()] = Position(path, 1, 1)
    return YamlDocument(path, data, builder.positions, builder.key_positions)


def read_yaml(file: Path, display: str) -> YamlDocument:
    """Read and parse ``file``; size, encoding and syntax problems become diagnostics."""
    try:
        size = file.stat().st_size
        if size > MAX_BYTES:
            raise YamlSyntaxError(
                Diagnostic(
                    Position(display),
                    "error",
                    "file-too-large",
                    f"file is {size:,} bytes; YAML config files may be at most {MAX_BYTES:,}",
                )
            )
        raw = file.read_bytes()
    except OSError as exc:
        raise YamlSyntaxError(
            Diagnostic(Position(display), "error", "file-unreadable", f"cannot read file: {exc.strerror}")
        ) from None
    if b"\x00" in raw:
        raise YamlSyntaxError(
            Diagnostic(Position(display), "error", "file-binary", "file holds binary data (NUL bytes), not YAML text")
        )
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise YamlSyntaxError(
            Diagnostic(Position(display, line), "error", "file-encoding", "file is not valid UTF-8 text")
        ) from None
    return parse_yaml(text, display)
