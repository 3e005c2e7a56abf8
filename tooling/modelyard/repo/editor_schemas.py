"""The JSON Schemas, for editors: copied into the model repo (``.schemas/``) so the YAML language
server finds them offline, and mapped to the repo's files in ``.vscode/settings.json``.

The cookiecutter template's post-generation hook calls ``export``; after upgrading modelyard,
``modelyard schemas`` refreshes the copies (``validate`` warns when they are stale).
"""

from __future__ import annotations

import json
from pathlib import Path

from modelyard.fsio import write_atomic
from modelyard.repo.layout import EXTRACTS_DIR, MODELS_DIR, SETTINGS_FILE, TUNING_DIR
from modelyard.repo.schemas import SCHEMA_FILES, schema_text

EDITOR_DIR = ".schemas"
FOLDERS = {"extract": EXTRACTS_DIR, "model": MODELS_DIR, "tuning": TUNING_DIR}


def export(out: Path) -> list[Path]:
    """Write every packaged schema into ``out`` (atomically, each file whole or not at all)."""
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for kind, name in SCHEMA_FILES.items():
        write_atomic(out / name, schema_text(kind).encode("utf-8"))
        written.append(out / name)
    return written


def stale(root: Path) -> list[str]:
    """Repo-relative copies in ``.schemas/`` that differ from this modelyard's schemas."""
    folder = root / EDITOR_DIR
    if not folder.is_dir():
        return []
    return [
        f"{EDITOR_DIR}/{name}"
        for kind, name in SCHEMA_FILES.items()
        if not (folder / name).is_file() or (folder / name).read_text("utf-8") != schema_text(kind)
    ]


def vscode_schemas() -> dict[str, list[str]]:
    """The ``yaml.schemas`` setting: schema file (relative to the workspace) -> file globs."""
    mapping = {f"./{EDITOR_DIR}/{SCHEMA_FILES['settings']}": [f"/{SETTINGS_FILE}"]}
    for kind, folder in FOLDERS.items():
        mapping[f"./{EDITOR_DIR}/{SCHEMA_FILES[kind]}"] = [f"/{folder}/**/*.yaml", f"/{folder}/**/*.yml"]
    return mapping


def vscode_settings() -> str:
    """The template's ``.vscode/settings.json`` (for the Red Hat YAML extension)."""
    settings = {
        "yaml.schemas": vscode_schemas(),
        "yaml.validate": True,
        "yaml.completion": True,
        "yaml.hover": True,
        "yaml.yamlVersion": "1.2",
    }
    return json.dumps(settings, indent=2) + "\n"
