"""What publishing would change: the compiled IR compared with a published manifest, workflow by
workflow and node by node, with the reason for every change (the ``hash_parts`` that differ).

A node whose own parts are equal but whose hash moved changed because of a node ``upstream``;
a workflow whose nodes are all equal changed its ``settings`` (schedule, retries, environment).
"""

from __future__ import annotations

import dataclasses
from typing import Any

from modelyard.publish.manifest import Manifest

ADDED, CHANGED, REMOVED, UNCHANGED = "added", "changed", "removed", "unchanged"
MARKS = {ADDED: "+", CHANGED: "~", REMOVED: "-", UNCHANGED: " "}


@dataclasses.dataclass(frozen=True)
class NodeChange:
    id: str
    change: str
    reasons: tuple[str, ...] = ()


@dataclasses.dataclass(frozen=True)
class WorkflowChange:
    id: str
    kind: str
    change: str
    reasons: tuple[str, ...]
    nodes: tuple[NodeChange, ...]


@dataclasses.dataclass(frozen=True)
class Plan:
    baseline: str | None  # the file compared against; None when nothing is published yet
    baseline_source: dict[str, Any]
    baseline_published_at: str | None
    workflows: tuple[WorkflowChange, ...]

    def count(self, change: str) -> int:
        return sum(1 for w in self.workflows if w.change == change)

    @property
    def has_changes(self) -> bool:
        return any(w.change != UNCHANGED for w in self.workflows)

    def to_json(self) -> dict[str, Any]:
        return {
            "baseline": self.baseline,
            "baseline_source": self.baseline_source,
            "baseline_published_at": self.baseline_published_at,
            "workflows": [dataclasses.asdict(w) for w in self.workflows],
            "summary": {c: self.count(c) for c in (ADDED, CHANGED, REMOVED, UNCHANGED)},
        }


def _node_reasons(new: dict[str, Any], old: dict[str, Any]) -> tuple[str, ...]:
    parts_new, parts_old = new.get("hash_parts", {}), old.get("hash_parts", {})
    reasons = sorted(k for k in parts_new.keys() | parts_old.keys() if parts_new.get(k) != parts_old.get(k))
    return tuple(reasons) or ("upstream",)


def _nodes(new: dict[str, Any], old: dict[str, Any]) -> tuple[NodeChange, ...]:
    changes = []
    for node_id, node in new.items():
        if node_id not in old:
            changes.append(NodeChange(node_id, ADDED))
        elif node["hash"] != old[node_id]["hash"]:
            changes.append(NodeChange(node_id, CHANGED, _node_reasons(node, old[node_id])))
    changes += [NodeChange(node_id, REMOVED) for node_id in old if node_id not in new]
    return tuple(changes)


def _workflow_reasons(new: dict[str, Any], old: dict[str, Any], nodes: tuple[NodeChange, ...]) -> tuple[str, ...]:
    reasons = {r for n in nodes for r in n.reasons if r != "upstream"}
    if any(n.change in (ADDED, REMOVED) for n in nodes):
        reasons.add("nodes")
    if "settings" in old and new["settings"] != old["settings"]:  # a current manifest always has settings
        keys = new["settings"].keys() | old["settings"].keys()
        reasons.update(f"settings.{k}" for k in keys if new["settings"].get(k) != old["settings"].get(k))
    return tuple(sorted(reasons)) or ("upstream",)


def diff(current: Manifest, baseline: Manifest | None, baseline_path: str | None = None) -> Plan:
    """Compare ``current`` (what would be published) with ``baseline`` (what is published)."""
    old = (baseline or {}).get("workflows", {})
    new = current["workflows"]
    changes = []
    for wid in sorted(new.keys() | old.keys()):
        if wid not in old:
            nodes = tuple(NodeChange(n, ADDED) for n in new[wid]["nodes"])
            changes.append(WorkflowChange(wid, new[wid]["kind"], ADDED, (), nodes))
        elif wid not in new:
            nodes = tuple(NodeChange(n, REMOVED) for n in old[wid]["nodes"])
            changes.append(WorkflowChange(wid, old[wid]["kind"], REMOVED, (), nodes))
        elif new[wid]["hash"] == old[wid]["hash"]:
            changes.append(WorkflowChange(wid, new[wid]["kind"], UNCHANGED, (), ()))
        else:
            nodes = _nodes(new[wid]["nodes"], old[wid]["nodes"])
            changes.append(
                WorkflowChange(wid, new[wid]["kind"], CHANGED, _workflow_reasons(new[wid], old[wid], nodes), nodes)
            )
    return Plan(
        baseline_path, (baseline or {}).get("source") or {}, (baseline or {}).get("published_at"), tuple(changes)
    )


def _suffix(reasons: tuple[str, ...]) -> str:
    return f" ({', '.join(reasons)})" if reasons else ""


def text_lines(plan: Plan, applied: bool = False) -> list[str]:
    """Terraform-style lines: ``+`` added, ``~`` changed (why), ``-`` removed, then a summary
    (of what a publish would do, or with ``applied``, of what it did)."""
    if plan.baseline is None:
        lines = ["Nothing published yet: every workflow is new.", ""]
    else:
        commit = (plan.baseline_source.get("commit") or "no commit")[:12]
        when = f", published {plan.baseline_published_at}" if plan.baseline_published_at else ""
        lines = [f"Compared with {plan.baseline} ({commit}{when}).", ""]
    for workflow in plan.workflows:
        if workflow.change == UNCHANGED:
            continue
        lines.append(f"{MARKS[workflow.change]} {workflow.id} [{workflow.kind}]{_suffix(workflow.reasons)}")
        lines += [f"    {MARKS[n.change]} {n.id}{_suffix(n.reasons)}" for n in workflow.nodes]
    if plan.has_changes:
        lines.append("")
        counts = [plan.count(c) for c in (ADDED, CHANGED, REMOVED, UNCHANGED)]
        template = (
            "Published: {} added, {} changed, {} removed, {} unchanged."
            if applied
            else "Plan: {} to add, {} to change, {} to remove, {} unchanged."
        )
        lines.append(template.format(*counts))
    else:
        lines.append(f"No changes: {plan.count(UNCHANGED)} workflow(s) up to date.")
    return lines
