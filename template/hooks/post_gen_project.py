"""Copy modelyard's JSON Schemas into the new repo (.schemas/) so editors validate offline."""
from pathlib import Path

try:
    from modelyard.repo.editor_schemas import EDITOR_DIR, export
except ImportError:
    print("modelyard is not installed here: after installing it, run `modelyard schemas` in the new repo "
          "for editor completion and validation")
else:
    export(Path.cwd() / EDITOR_DIR)
