"""A publish target's manifest, in process: its entries, what carries over from the previous
manifest, its bytes, and reading one (or an IR document) from files the test writes."""

from __future__ import annotations

import hashlib
import json

import pytest

from modelyard.errors import ModelyardError
from modelyard.ir import Document, Node, Workflow
from modelyard.publish import manifest

NOW, BEFORE = "2026-02-01T00:00:00Z", "2026-01-01T00:00:00Z"


def hash_of(node_hashes: list[str], settings_json: str = "{}") -> str:
    """A workflow's hash, from JSON written out here: its settings and its nodes' hashes."""
    nodes = ",".join(f'"{h}"' for h in node_hashes)
    return hashlib.sha256(f'{{"nodes":[{nodes}],"settings":{settings_json}}}'.encode()).hexdigest()


def workflow(wid="w1", node_hash="h1", kind="train"):
    nodes = (Node("extract", "extract", (), {"sql": "select 1"}, {"sql": "s1"}, False, node_hash),)
    return Workflow(wid, kind, ("models/m.yaml",), {}, nodes)


def document(*workflows, commit="c2"):
    return Document(workflows, {"commit": commit, "dirty": False})


def entry(node_hash="h1", kind="train"):
    return {
        "hash": hash_of([node_hash]),
        "kind": kind,
        "source_files": ["models/m.yaml"],
        "settings": {},
        "nodes": {"extract": {"hash": node_hash, "hash_parts": {"sql": "s1"}}},
    }


def test_from_document_lists_each_workflow_without_publication_facts():
    found = manifest.from_document(document(workflow(), workflow("w2", "h2", "tune")))
    assert found == {
        "manifest_version": 1,
        "backend": None,
        "source": {"commit": "c2", "dirty": False},
        "published_at": None,
        "workflows": {"w1": entry(), "w2": entry("h2", "tune")},
    }


def test_a_first_publish_stamps_every_workflow_with_this_commit_and_now():
    found = manifest.build(document(workflow()), "airflow", {"w1": ["dags/w1.py"]}, None, NOW)
    assert found == {
        "manifest_version": 1,
        "backend": "airflow",
        "source": {"commit": "c2", "dirty": False},
        "published_at": NOW,
        "workflows": {"w1": {**entry(), "files": ["dags/w1.py"], "commit": "c2", "published_at": NOW}},
    }


def previous(node_hash="h1", published_at=BEFORE, backend="airflow", commit="c2"):
    return {
        "manifest_version": 1,
        "backend": backend,
        "source": {"commit": commit, "dirty": False},
        "published_at": published_at,
        "workflows": {"w1": {**entry(node_hash), "files": ["dags/w1.py"], "commit": "c1", "published_at": BEFORE}},
    }


def test_an_unchanged_workflow_keeps_its_commit_and_date_and_a_changed_one_gets_new_ones():
    found = manifest.build(
        document(workflow(), workflow("w2")), "airflow", {"w1": ["dags/w1.py"], "w2": ["b"]}, previous(), NOW
    )
    assert (found["workflows"]["w1"]["commit"], found["workflows"]["w1"]["published_at"]) == ("c1", BEFORE)
    assert (found["workflows"]["w2"]["commit"], found["workflows"]["w2"]["published_at"]) == ("c2", NOW)
    changed = manifest.build(document(workflow(node_hash="h9")), "airflow", {"w1": ["a"]}, previous(), NOW)
    assert (changed["workflows"]["w1"]["commit"], changed["workflows"]["w1"]["published_at"]) == ("c2", NOW)


def test_a_previous_entry_without_a_hash_counts_as_changed():
    old = previous()
    del old["workflows"]["w1"]["hash"]
    found = manifest.build(document(workflow()), "airflow", {"w1": ["dags/w1.py"]}, old, NOW)
    assert (found["workflows"]["w1"]["commit"], found["workflows"]["w1"]["published_at"]) == ("c2", NOW)


def test_republishing_the_same_content_changes_no_byte():
    old = {
        **previous(),
        "workflows": {"w1": {**entry(), "files": ["dags/w1.py"], "commit": "c1", "published_at": BEFORE}},
    }
    again = manifest.build(document(workflow()), "airflow", {"w1": ["dags/w1.py"]}, old, NOW)
    assert manifest.dumps(again) == manifest.dumps(old)


@pytest.mark.parametrize("change", [{"backend": "local"}, {"commit": "c3"}])
def test_any_other_difference_dates_the_manifest_now(change):
    old = previous(**change)
    found = manifest.build(document(workflow()), "airflow", {"w1": ["dags/w1.py"]}, old, NOW)
    assert found["published_at"] == NOW


def test_dumps_sorted_indented_utf8_with_a_final_newline():
    assert manifest.dumps({"b": "é", "a": [1]}) == '{\n  "a": [\n    1\n  ],\n  "b": "é"\n}\n'.encode()


def test_read_a_manifest(tmp_path):
    path = tmp_path / "manifest.json"
    path.write_text(json.dumps(previous()), encoding="utf-8")
    assert manifest.read(path) == previous()


def test_read_an_ir_document_as_a_manifest(tmp_path):
    path = tmp_path / "ir.json"
    path.write_text(document(workflow()).dumps(), encoding="utf-8")
    assert manifest.read(path)["workflows"] == {"w1": entry()}


TARGET_HINT = "point --target at a publish target, a manifest.json or a compiled ir.json"


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"{not json", "cannot read: Expecting property name enclosed in double quotes: line 1 column 2 (char 1)"),
        (b'"\xff"', "cannot read: 'utf-8' codec can't decode byte 0xff in position 1: invalid start byte"),
        (b"[1]", "neither a modelyard manifest nor an IR document"),
        (b'{"workflows": {}}', "neither a modelyard manifest nor an IR document"),
    ],
)
def test_unreadable_files_say_what_to_point_at(tmp_path, content, message):
    path = tmp_path / "m.json"
    path.write_bytes(content)
    with pytest.raises(ModelyardError) as error:
        manifest.read(path)
    assert (error.value.message, error.value.hint) == (f"{path}: {message}", TARGET_HINT)


def test_a_missing_file_cannot_be_read(tmp_path):
    with pytest.raises(ModelyardError) as error:
        manifest.read(tmp_path / "gone.json")
    assert error.value.message.startswith(f"{tmp_path / 'gone.json'}: cannot read: [Errno 2] No such file")
    assert error.value.hint == TARGET_HINT


def test_another_manifest_version_asks_for_an_upgrade(tmp_path):
    path = tmp_path / "manifest.json"
    path.write_text('{"manifest_version": 2}', encoding="utf-8")
    with pytest.raises(ModelyardError) as error:
        manifest.read(path)
    assert error.value.message == f"{path}: manifest version 2 is not supported (expected 1)"
    assert error.value.hint == "upgrade modelyard"


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ('{"ir_version": 2, "workflows": []}', "IR version 2 is not supported (expected 1); recompile"),
        ('{"ir_version": 1}', "'workflows'"),
        ('{"ir_version": 1, "workflows": [1]}', "'int' object is not subscriptable"),
    ],
)
def test_an_unusable_ir_document_asks_to_recompile(tmp_path, text, reason):
    path = tmp_path / "ir.json"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ModelyardError) as error:
        manifest.read(path)
    assert (error.value.message, error.value.hint) == (f"{path}: not a usable IR document: {reason}", "recompile it")


def test_locate_prefers_the_live_set_then_a_manifest_then_an_ir(tmp_path):
    assert manifest.locate(tmp_path) is None
    (tmp_path / "ir.json").write_text("{}")
    assert manifest.locate(tmp_path) == tmp_path / "ir.json"
    (tmp_path / "manifest.json").write_text("{}")
    assert manifest.locate(tmp_path) == tmp_path / "manifest.json"
    (tmp_path / "current").mkdir()
    assert manifest.locate(tmp_path) == tmp_path / "manifest.json"
    (tmp_path / "current" / "manifest.json").write_text("{}")
    assert manifest.locate(tmp_path) == tmp_path / "current" / "manifest.json"
    assert manifest.locate(tmp_path / "ir.json") == tmp_path / "ir.json"
    assert manifest.locate(str(tmp_path / "ir.json")) == tmp_path / "ir.json"
