"""The intermediate representation: workflows as DAGs of typed nodes, as versioned JSON.

This module knows nothing of YAML, DuckDB or any orchestrator. Contract (see docs/architecture.md):
- a ``Node`` has an ``id`` unique in its workflow, a ``kind`` (registered in ``execute.node.KINDS``),
  ``upstream`` node ids, a JSON ``spec`` the runtime needs (its keys declared once per kind, by a
  ``NodeSpec`` subclass in the kind's ``workflows/<kind>/specs.py``), and ``hash_parts``: named
  content hashes (config, sql, trainer_code, ...). Its ``hash`` covers its parts and its upstream
  hashes, so a change anywhere upstream changes every node below it.
- a fan-out node (``fan_out`` true) runs once per item, fixed (``fixed_items``) or listed by the
  result of another node (``items_from``); backends map it (Airflow dynamic task mapping, local
  process pool).
- the document is deterministic: same inputs, same bytes (sorted keys, no timestamps).
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from collections.abc import Callable, Iterable
from typing import Any, ClassVar, Self

from modelyard.errors import ModelyardError

IR_VERSION = 1


def content_hash(value: Any) -> str:
    data = value if isinstance(value, bytes) else canonical_json(value).encode()
    return hashlib.sha256(data).hexdigest()


def canonical_json(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False)


def optional(default: Any = None) -> Any:
    """A spec field whose key the JSON leaves out while it holds ``default`` (so adding one keeps
    every compiled IR byte for byte)."""
    return dataclasses.field(default=default, metadata={"omit_default": True})


class SpecError(ModelyardError):
    """A node's JSON spec does not have the keys its kind's spec type declares: an IR written by
    another modelyard version, or edited by hand."""


@dataclasses.dataclass(frozen=True, kw_only=True)
class NodeSpec:
    """The typed ``spec`` of one node kind: each kind declares its name (``kind``) and its keys (the
    fields) once, in a subclass; builders construct it, executors and the UI parse it with ``of``."""

    kind: ClassVar[str]

    def to_json(self) -> dict[str, Any]:
        return {
            f.name: getattr(self, f.name)
            for f in dataclasses.fields(self)
            if not (f.metadata.get("omit_default") and getattr(self, f.name) == f.default)
        }

    @classmethod
    def from_json(cls, data: dict[str, Any], node_id: str | None = None) -> Self:
        fields = dataclasses.fields(cls)
        unknown = sorted(set(data) - {f.name for f in fields})
        missing = [f.name for f in fields if f.name not in data and f.default is dataclasses.MISSING]
        problems = [
            f"{what} key(s) {', '.join(keys)}" for what, keys in (("unknown", unknown), ("missing", missing)) if keys
        ]
        if problems:
            node = f"IR node {node_id!r}" if node_id else "an IR node"
            raise SpecError(
                f"{node} ({cls.kind}): spec with {'; '.join(problems)}",
                hint="recompile (or republish) with this modelyard version",
            )
        return cls(**data)

    @classmethod
    def of(cls, node: Node) -> Self:
        if node.kind != cls.kind:
            raise SpecError(f"IR node {node.id!r} is a {node.kind!r} node, not {cls.kind!r}")
        return cls.from_json(node.spec, node.id)


@dataclasses.dataclass(frozen=True, kw_only=True)
class FanOut(NodeSpec):
    """The keys of a fan-out node: its items fixed at compile time, or the node whose result lists them."""

    items: list | None = optional()
    items_from: str | None = optional()


@dataclasses.dataclass(frozen=True)
class Ahead:
    """Work a run may do for a later node (``node``) on a core that would idle otherwise, before
    that node can start: ``job(*args)`` does it on the guess that the result of ``upstream`` (a node
    ``node`` depends on) has ``field`` equal to ``value``, and leaves it in the run folder for the
    node to find. The node uses it only for that exact value; it computes anything else itself.
    ``scratch``: the folder the job writes in, removed when the run ends (used or not)."""

    node: str
    upstream: str
    field: str
    value: Any
    job: Callable[..., None]
    args: tuple
    scratch: str


@dataclasses.dataclass(frozen=True)
class NodeKind:
    """A node kind's contract, declared once beside its executor: the type of its nodes' ``spec``
    (which names the kind) and the function that runs one (registered in ``execute.node``)."""

    spec: type[NodeSpec]
    executor: Callable[..., dict]
    # A fan-out kind's guess at a later node's work, asked for when a lane has no item left to
    # take while others still run theirs: ``(workflow, node, ctx, finished results) -> Ahead | None``.
    ahead: Callable[..., Ahead | None] | None = None

    @property
    def name(self) -> str:
        return self.spec.kind


class GraphError(ValueError):
    """The IR is not a DAG or names unknown nodes; a compiler bug or a cycle in the user's files."""


@dataclasses.dataclass(frozen=True)
class Node:
    id: str
    kind: str
    upstream: tuple[str, ...]
    spec: dict[str, Any]
    hash_parts: dict[str, str]
    fan_out: bool = False
    hash: str = ""

    @classmethod
    def of(cls, id: str, upstream: Iterable[str], spec: NodeSpec, hash_parts: dict[str, str]) -> Node:
        """A node of the kind ``spec``'s type declares; a fan-out node when that type is a ``FanOut``."""
        return cls(id, spec.kind, tuple(upstream), spec.to_json(), hash_parts, isinstance(spec, FanOut))

    @property
    def fixed_items(self) -> list | None:
        """A fan-out node's items when the compiler fixed them, else None (see ``items_from``)."""
        return self.spec.get("items")

    @property
    def items_from(self) -> str | None:
        """The node whose result lists a fan-out node's items, when they are known only at run time."""
        return self.spec.get("items_from") if self.fixed_items is None else None

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "kind": self.kind,
            "upstream": list(self.upstream),
            "spec": self.spec,
            "hash_parts": self.hash_parts,
            "fan_out": self.fan_out,
            "hash": self.hash,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Node:
        return cls(
            data["id"],
            data["kind"],
            tuple(data["upstream"]),
            data["spec"],
            data["hash_parts"],
            data.get("fan_out", False),
            data["hash"],
        )


@dataclasses.dataclass(frozen=True)
class Workflow:
    id: str
    kind: str  # train | tune | backtest
    source_files: tuple[str, ...]
    settings: dict[str, Any]  # schedule, retries, environment: what orchestrators need
    nodes: tuple[Node, ...]

    @property
    def hash(self) -> str:
        return content_hash({"settings": self.settings, "nodes": [n.hash for n in self.nodes]})

    def node(self, node_id: str) -> Node:
        for node in self.nodes:
            if node.id == node_id:
                return node
        raise KeyError(f"workflow {self.id!r} has no node {node_id!r}")

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "kind": self.kind,
            "source_files": list(self.source_files),
            "settings": self.settings,
            "hash": self.hash,
            "nodes": [n.to_json() for n in self.nodes],
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Workflow:
        return cls(
            data["id"],
            data["kind"],
            tuple(data["source_files"]),
            data["settings"],
            tuple(Node.from_json(n) for n in data["nodes"]),
        )


@dataclasses.dataclass(frozen=True)
class Document:
    workflows: tuple[Workflow, ...]
    source: dict[str, Any]  # commit, dirty: where the IR came from

    def workflow(self, workflow_id: str) -> Workflow:
        for workflow in self.workflows:
            if workflow.id == workflow_id:
                return workflow
        raise KeyError(workflow_id)

    def to_json(self) -> dict[str, Any]:
        return {"ir_version": IR_VERSION, "source": self.source, "workflows": [w.to_json() for w in self.workflows]}

    def dumps(self) -> str:
        return json.dumps(self.to_json(), sort_keys=True, indent=2, ensure_ascii=False) + "\n"

    @classmethod
    def loads(cls, text: str) -> Document:
        data = json.loads(text)
        if data.get("ir_version") != IR_VERSION:
            raise GraphError(
                f"IR version {data.get('ir_version')!r} is not supported (expected {IR_VERSION}); recompile"
            )
        return cls(tuple(Workflow.from_json(w) for w in data["workflows"]), data.get("source", {}))


def seal(nodes: Iterable[Node]) -> tuple[Node, ...]:
    """Check the graph and fill each node's hash from its parts and its upstream hashes."""
    ordered = topological_order(list(nodes))
    hashes: dict[str, str] = {}
    sealed = []
    for node in ordered:
        digest = content_hash(
            {"kind": node.kind, "parts": node.hash_parts, "upstream": [hashes[u] for u in node.upstream]}
        )
        hashes[node.id] = digest
        sealed.append(dataclasses.replace(node, hash=digest))
    return tuple(sealed)


def topological_order(nodes: list[Node]) -> list[Node]:
    """Kahn's algorithm, ties broken by the order given, so the result is deterministic."""
    by_id = {n.id: n for n in nodes}
    if len(by_id) != len(nodes):
        raise GraphError("duplicate node ids")
    for node in nodes:
        for up in node.upstream:
            if up not in by_id:
                raise GraphError(f"node {node.id!r} depends on unknown node {up!r}")
    remaining = {n.id: set(n.upstream) for n in nodes}
    done: list[Node] = []
    while remaining:
        ready = [n for n in nodes if n.id in remaining and not remaining[n.id]]
        if not ready:
            raise GraphError("cycle between nodes: " + " -> ".join(sorted(remaining)))
        for node in ready:
            del remaining[node.id]
            for deps in remaining.values():
                deps.discard(node.id)
            done.append(node)
    return done
