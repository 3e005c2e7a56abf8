"""Editor support: the generated repo carries the schemas offline and maps them to its files."""

from __future__ import annotations

import json

import jsonschema
import pytest
from conftest import ROOT, cli

from modelyard.repo.editor_schemas import vscode_settings

TEMPLATE = ROOT / "template" / "{{cookiecutter.repo_name}}"
# by hand: the schema each folder's files follow (the repo's settings file follows settings.schema.json)
SCHEMA_OF_FOLDER = {"extracts": "extract.schema.json", "models": "model.schema.json", "tuning": "tuning.schema.json"}
SCHEMAS = sorted([*SCHEMA_OF_FOLDER.values(), "settings.schema.json"])


def _described(schema, where="") -> list[str]:
    """Places in a schema where a property (or a mapping's values) has no description."""
    missing = []
    for name, sub in schema.get("properties", {}).items():
        if "description" not in sub:
            missing.append(f"{where}.{name}")
        missing += _described(sub, f"{where}.{name}")
    for key in ("additionalProperties", "items"):
        sub = schema.get(key)
        if isinstance(sub, dict):
            if "description" not in sub:
                missing.append(f"{where}.{key}")
            missing += _described(sub, f"{where}.{key}")
    for key in ("oneOf", "anyOf"):
        for i, sub in enumerate(schema.get(key, [])):
            missing += _described(sub, f"{where}.{key}[{i}]")
    for name, sub in schema.get("$defs", {}).items():
        missing += _described(sub, f"{where}.$defs.{name}")
    return missing


@pytest.mark.parametrize("name", SCHEMAS)
def test_schemas_are_valid_2020_12_and_every_property_is_described(name):
    schema = json.loads((ROOT / "schemas" / name).read_text())
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    jsonschema.Draft202012Validator.check_schema(schema)
    assert _described(schema) == []


def test_template_settings_are_generated():
    assert (TEMPLATE / ".vscode" / "settings.json").read_text() == vscode_settings(), (
        "run: python scripts/generate_files.py"
    )


def test_generated_repo_maps_every_yaml_file_to_its_schema_offline(model_repo):
    settings = json.loads((model_repo / ".vscode" / "settings.json").read_text())
    mapping = settings["yaml.schemas"]
    for schema_path in mapping:
        copy = model_repo / schema_path
        assert copy.is_file(), f"{schema_path} is missing in the generated repo"
        assert copy.read_text() == (ROOT / "schemas" / copy.name).read_text()
    matched: dict[str, str] = {}
    for schema_path, globs in mapping.items():
        for pattern in globs:
            for path in model_repo.glob(pattern.lstrip("/")):
                matched[path.relative_to(model_repo).as_posix()] = schema_path
    yaml_files = sorted(
        p.relative_to(model_repo).as_posix()
        for p in model_repo.rglob("*.y*ml")
        if not p.relative_to(model_repo).parts[0].startswith(".")
    )
    assert sorted(matched) == yaml_files
    for rel, schema_path in matched.items():
        assert schema_path.endswith("/" + SCHEMA_OF_FOLDER.get(rel.split("/")[0], "settings.schema.json")), rel
    assert "redhat.vscode-yaml" in (model_repo / ".vscode" / "extensions.json").read_text()


def test_schemas_command_writes_the_packaged_schemas(model_repo, tmp_path):
    result = cli("schemas", "--out", str(tmp_path / "out"), cwd=model_repo)
    assert result.returncode == 0, result
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == SCHEMAS
    for name in SCHEMAS:
        assert (tmp_path / "out" / name).read_text() == (ROOT / "schemas" / name).read_text()


def test_stale_editor_schemas_are_a_warning_until_refreshed(model_repo):
    (model_repo / ".schemas" / "model.schema.json").write_text("{}\n")
    result = cli("validate", cwd=model_repo)
    assert result.returncode == 0, result
    assert (
        ".schemas/model.schema.json: warning[stale-schema]: .schemas/model.schema.json differs from this "
        "modelyard's schema; run `modelyard schemas` to refresh it"
    ) in result.stdout
    assert cli("schemas", cwd=model_repo).returncode == 0
    assert cli("validate", cwd=model_repo).stdout == "0 errors, 0 warnings in 15 files\n"
