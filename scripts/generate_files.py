"""Write the files generated from modelyard's own definitions: .pre-commit-hooks.yaml, and the
template's .pre-commit-config.yaml and .vscode/settings.json. Tests fail when they are out of date."""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tooling"))

from modelyard.repo.editor_schemas import vscode_settings  # noqa: E402
from modelyard.validate.precommit import hooks_manifest, local_config  # noqa: E402

TEMPLATE = ROOT / "template" / "{{cookiecutter.repo_name}}"
TARGETS = {
    ROOT / ".pre-commit-hooks.yaml": hooks_manifest,
    TEMPLATE / ".pre-commit-config.yaml": local_config,
    TEMPLATE / ".vscode" / "settings.json": vscode_settings,
}

if __name__ == "__main__":
    for path, render in TARGETS.items():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(render())
        print(path.relative_to(ROOT))
