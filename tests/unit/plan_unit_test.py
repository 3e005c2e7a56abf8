"""What publishing would change, in process: hand-written manifests compared workflow by workflow
and node by node, with the reasons and the Terraform-style lines expected written out."""

from __future__ import annotations

from modelyard.publish import plan
from modelyard.publish.plan import NodeChange, Plan, WorkflowChange


def wf(hash, nodes, kind="train", settings=None):
    entry = {"hash": hash, "kind": kind, "nodes": {n: {"hash": h, "hash_parts": p} for n, (h, p) in nodes.items()}}
    if settings is not None:
        entry["settings"] = settings
    return entry


def manifest(workflows, commit="0123456789abcdef", published_at="2026-01-01"):
    return {"source": {"commit": commit}, "published_at": published_at, "workflows": workflows}


BASE = {
    "models__kept": wf("k", {"x": ("kx", {})}),
    "models__gone": wf("g", {"a": ("ga", {}), "b": ("gb", {})}, kind="backtest"),
    "models__moved": wf(
        "m1",
        {
            "extract": ("e1", {"sql": "s1", "config": "c"}),
            "train": ("t1", {"code": "p1"}),
            "old": ("o1", {}),
        },
        settings={"retries": 1, "schedule": "@daily"},
    ),
}
CURRENT = {
    "models__kept": wf("k", {"x": ("kx", {})}),
    "models__new": wf("n", {"p": ("np", {}), "q": ("nq", {})}, kind="tune"),
    "models__moved": wf(
        "m2",
        {
            "extract": ("e2", {"sql": "s2", "config": "c", "params": "added"}),
            "train": ("t2", {"code": "p1"}),
            "fresh": ("f", {}),
        },
        settings={"retries": 2, "schedule": "@daily", "pool": "p"},
    ),
}


def test_diff_reports_added_removed_unchanged_and_changed_with_reasons():
    found = plan.diff(manifest(CURRENT), manifest(BASE), "target/manifest.json")
    assert found == Plan(
        "target/manifest.json",
        {"commit": "0123456789abcdef"},
        "2026-01-01",
        (
            WorkflowChange(
                "models__gone", "backtest", "removed", (), (NodeChange("a", "removed"), NodeChange("b", "removed"))
            ),
            WorkflowChange("models__kept", "train", "unchanged", (), ()),
            WorkflowChange(
                "models__moved",
                "train",
                "changed",
                ("nodes", "params", "settings.pool", "settings.retries", "sql"),
                (
                    NodeChange("extract", "changed", ("params", "sql")),
                    NodeChange("train", "changed", ("upstream",)),
                    NodeChange("fresh", "added"),
                    NodeChange("old", "removed"),
                ),
            ),
            WorkflowChange("models__new", "tune", "added", (), (NodeChange("p", "added"), NodeChange("q", "added"))),
        ),
    )
    assert (found.count("added"), found.count("changed"), found.count("removed"), found.count("unchanged")) == (
        1,
        1,
        1,
        1,
    )
    assert found.has_changes


def test_a_node_part_that_disappears_is_a_reason():
    old = manifest({"w": wf("1", {"n": ("a", {"sql": "s", "gone": "g"})})})
    new = manifest({"w": wf("2", {"n": ("b", {"sql": "s"})})})
    assert plan.diff(new, old).workflows[0].nodes == (NodeChange("n", "changed", ("gone",)),)


def test_a_node_without_parts_changed_upstream():
    old = manifest({"w": wf("1", {"n": ("a", {})})})
    new = manifest({"w": {"hash": "2", "kind": "train", "nodes": {"n": {"hash": "b"}}}})
    assert plan.diff(new, old).workflows[0].nodes == (NodeChange("n", "changed", ("upstream",)),)
    assert plan.diff(old, new).workflows[0].nodes == (NodeChange("n", "changed", ("upstream",)),)


def test_a_workflow_whose_nodes_are_equal_changed_its_settings_or_upstream():
    same_nodes = {"n": ("a", {"sql": "s"})}
    old = manifest({"w": wf("1", same_nodes, settings={"retries": 1})})
    new = manifest({"w": wf("2", same_nodes, settings={"retries": 1})})
    assert plan.diff(new, old).workflows[0].reasons == ("upstream",)
    newer = manifest({"w": wf("2", same_nodes, settings={})})
    assert plan.diff(newer, old).workflows[0].reasons == ("settings.retries",)
    # an old manifest without settings: nothing to compare them with
    assert plan.diff(newer, manifest({"w": wf("1", same_nodes)})).workflows[0].reasons == ("upstream",)


def test_a_workflow_whose_only_change_is_an_upstream_node_says_so():
    old = manifest({"w": wf("1", {"a": ("a1", {"sql": "s"}), "b": ("b1", {})})})
    new = manifest({"w": wf("2", {"a": ("a1", {"sql": "s"}), "b": ("b2", {})})})
    found = plan.diff(new, old).workflows[0]
    assert (found.reasons, found.nodes) == (("upstream",), (NodeChange("b", "changed", ("upstream",)),))


def test_nothing_published_yet():
    found = plan.diff(manifest({"w": wf("1", {"n": ("a", {})})}), None)
    assert (found.baseline, found.baseline_source, found.baseline_published_at) == (None, {}, None)
    assert found.workflows == (WorkflowChange("w", "train", "added", (), (NodeChange("n", "added"),)),)


def test_a_baseline_without_source_or_date():
    found = plan.diff(manifest({}), {"workflows": {}, "source": None}, "m.json")
    assert (found.baseline, found.baseline_source, found.baseline_published_at) == ("m.json", {}, None)
    assert not found.has_changes


def test_to_json_lists_changes_and_a_summary():
    found = plan.diff(manifest({"w": wf("1", {"n": ("a", {})})}), None).to_json()
    assert found == {
        "baseline": None,
        "baseline_source": {},
        "baseline_published_at": None,
        "workflows": [
            {
                "id": "w",
                "kind": "train",
                "change": "added",
                "reasons": (),
                "nodes": ({"id": "n", "change": "added", "reasons": ()},),
            }
        ],
        "summary": {"added": 1, "changed": 0, "removed": 0, "unchanged": 0},
    }


def test_text_lines_of_a_plan():
    found = plan.diff(manifest(CURRENT), manifest(BASE), "target/manifest.json")
    assert plan.text_lines(found) == [
        "Compared with target/manifest.json (0123456789ab, published 2026-01-01).",
        "",
        "- models__gone [backtest]",
        "    - a",
        "    - b",
        "~ models__moved [train] (nodes, params, settings.pool, settings.retries, sql)",
        "    ~ extract (params, sql)",
        "    ~ train (upstream)",
        "    + fresh",
        "    - old",
        "+ models__new [tune]",
        "    + p",
        "    + q",
        "",
        "Plan: 1 to add, 1 to change, 1 to remove, 1 unchanged.",
    ]
    assert plan.text_lines(found, applied=True)[-1] == "Published: 1 added, 1 changed, 1 removed, 1 unchanged."


def test_text_lines_when_nothing_is_published_or_nothing_changed():
    first = plan.diff(manifest({"w": wf("1", {})}), None)
    assert plan.text_lines(first) == [
        "Nothing published yet: every workflow is new.",
        "",
        "+ w [train]",
        "",
        "Plan: 1 to add, 0 to change, 0 to remove, 0 unchanged.",
    ]
    same = manifest({"w": wf("1", {}), "v": wf("2", {})})
    baseline = manifest({"w": wf("1", {}), "v": wf("2", {})}, commit=None, published_at=None)
    assert plan.text_lines(plan.diff(same, baseline, "ir.json")) == [
        "Compared with ir.json (no commit).",
        "",
        "No changes: 2 workflow(s) up to date.",
    ]
