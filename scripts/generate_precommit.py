"""Write .pre-commit-hooks.yaml and the template's .pre-commit-config.yaml from modelyard.precommit."""
from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tooling"))

from modelyard.precommit import hooks_manifest, local_config  # noqa: E402

TARGETS = {
    ROOT / ".pre-commit-hooks.yaml": hooks_manifest,
    ROOT / "template" / "{{cookiecutter.repo_name}}" / ".pre-commit-config.yaml": local_config,
}

if __name__ == "__main__":
    for path, render in TARGETS.items():
        path.write_text(render())
        print(path.relative_to(ROOT))
