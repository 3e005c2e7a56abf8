"""The IR, in process: canonical JSON, content hashes, sealing and ordering, the document's
round trip. Hashes are computed here with hashlib over JSON text written out by hand."""

from __future__ import annotations

import hashlib

import pytest

from modelyard import ir
from modelyard.ir import Document, GraphError, Node, Workflow


def sha(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def node(node_id, kind="extract", upstream=(), parts=None, fan_out=False, hash=""):
    return Node(node_id, kind, tuple(upstream), {"n": node_id}, parts or {}, fan_out, hash)


def test_canonical_json_sorts_keys_has_no_spaces_and_keeps_non_ascii():
    assert ir.canonical_json({"b": 1, "a": ["é", 2.5]}) == '{"a":["é",2.5],"b":1}'


def test_canonical_json_refuses_nan():
    with pytest.raises(ValueError):
        ir.canonical_json({"x": float("nan")})


def test_content_hash_of_bytes_and_of_values():
    assert ir.content_hash(b"abc") == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
    assert ir.content_hash({"b": "é", "a": 1}) == sha('{"a":1,"b":"é"}')


def test_node_json_round_trip_and_fan_out_default():
    one = Node("t", "trials", ("a", "b"), {"items": [1]}, {"config": "c1"}, True, "h")
    data = one.to_json()
    assert data == {
        "id": "t",
        "kind": "trials",
        "upstream": ["a", "b"],
        "spec": {"items": [1]},
        "hash_parts": {"config": "c1"},
        "fan_out": True,
        "hash": "h",
    }
    assert Node.from_json(data) == one
    del data["fan_out"]
    assert Node.from_json(data).fan_out is False


def test_seal_hashes_each_node_from_its_kind_parts_and_upstream_hashes():
    sealed = ir.seal([node("b", "train", upstream=["a"]), node("a", parts={"sql": "x"})])
    first = sha('{"kind":"extract","parts":{"sql":"x"},"upstream":[]}')
    second = sha('{"kind":"train","parts":{},"upstream":["' + first + '"]}')
    assert [(n.id, n.hash) for n in sealed] == [("a", first), ("b", second)]
    assert sealed[1].spec == {"n": "b"}


def test_a_change_upstream_changes_the_hash_below():
    before = ir.seal([node("a", parts={"sql": "x"}), node("b", "train", upstream=["a"])])
    after = ir.seal([node("a", parts={"sql": "y"}), node("b", "train", upstream=["a"])])
    assert before[1].hash != after[1].hash


def test_topological_order_keeps_the_given_order_among_ready_nodes():
    nodes = [node("c", upstream=["a"]), node("a"), node("b"), node("d", upstream=["c", "b"])]
    assert [n.id for n in ir.topological_order(nodes)] == ["a", "b", "c", "d"]


def test_topological_order_waits_for_every_upstream():
    nodes = [node("z", upstream=["y", "x"]), node("y", upstream=["x"]), node("x")]
    assert [n.id for n in ir.topological_order(nodes)] == ["x", "y", "z"]


def test_topological_order_of_nothing_is_empty():
    assert ir.topological_order([]) == []


def test_duplicate_ids_are_refused():
    with pytest.raises(GraphError) as error:
        ir.topological_order([node("a"), node("a")])
    assert str(error.value) == "duplicate node ids"


def test_an_unknown_upstream_is_named():
    with pytest.raises(GraphError) as error:
        ir.topological_order([node("a"), node("b", upstream=["a", "ghost"])])
    assert str(error.value) == "node 'b' depends on unknown node 'ghost'"


def test_a_cycle_names_the_nodes_left():
    nodes = [node("ok"), node("q", upstream=["p"]), node("p", upstream=["q", "ok"])]
    with pytest.raises(GraphError) as error:
        ir.seal(nodes)
    assert str(error.value) == "cycle between nodes: p -> q"


def workflow():
    nodes = (node("a", hash="h1"), node("b", "train", upstream=["a"], parts={"config": "c"}, hash="h2"))
    return Workflow("models__m", "train", ("models/m.yaml",), {"retries": 1}, nodes)


def test_workflow_hash_covers_settings_and_node_hashes():
    assert workflow().hash == sha('{"nodes":["h1","h2"],"settings":{"retries":1}}')


def test_workflow_finds_a_node_or_names_the_missing_one():
    assert workflow().node("b").kind == "train"
    with pytest.raises(KeyError) as error:
        workflow().node("c")
    assert error.value.args[0] == "workflow 'models__m' has no node 'c'"


def test_workflow_to_json():
    data = workflow().to_json()
    assert {k: v for k, v in data.items() if k != "nodes"} == {
        "id": "models__m",
        "kind": "train",
        "source_files": ["models/m.yaml"],
        "settings": {"retries": 1},
        "hash": sha('{"nodes":["h1","h2"],"settings":{"retries":1}}'),
    }
    assert [n["id"] for n in data["nodes"]] == ["a", "b"]
    assert Workflow.from_json(data) == workflow()


def test_document_dumps_sorted_indented_text_and_loads_it_back():
    tiny = Workflow("w", "tune", (), {}, (Node("n", "propose", (), {}, {}, False, "h"),))
    document = Document((tiny,), {"commit": "abc", "dirty": False})
    text = document.dumps()
    hash_of_tiny = sha('{"nodes":["h"],"settings":{}}')
    assert text == (
        "{\n"
        '  "ir_version": 1,\n'
        '  "source": {\n    "commit": "abc",\n    "dirty": false\n  },\n'
        '  "workflows": [\n    {\n'
        f'      "hash": "{hash_of_tiny}",\n'
        '      "id": "w",\n'
        '      "kind": "tune",\n'
        '      "nodes": [\n        {\n'
        '          "fan_out": false,\n'
        '          "hash": "h",\n'
        '          "hash_parts": {},\n'
        '          "id": "n",\n'
        '          "kind": "propose",\n'
        '          "spec": {},\n'
        '          "upstream": []\n'
        "        }\n      ],\n"
        '      "settings": {},\n'
        '      "source_files": []\n'
        "    }\n  ]\n}\n"
    )
    assert Document.loads(text) == document


def test_document_keeps_non_ascii_text():
    document = Document((), {"commit": "é"})
    assert '"commit": "é"' in document.dumps()


def test_document_finds_a_workflow_or_raises_key_error():
    document = Document((workflow(),), {})
    assert document.workflow("models__m") == workflow()
    with pytest.raises(KeyError) as error:
        document.workflow("other")
    assert error.value.args == ("other",)


def test_loading_a_document_without_source_gives_an_empty_source():
    assert Document.loads('{"ir_version": 1, "workflows": []}') == Document((), {})


@pytest.mark.parametrize(("text", "found"), [('{"ir_version": 2, "workflows": []}', "2"), ("{}", "None")])
def test_loading_another_ir_version_asks_to_recompile(text, found):
    with pytest.raises(GraphError) as error:
        Document.loads(text)
    assert str(error.value) == f"IR version {found} is not supported (expected 1); recompile"
