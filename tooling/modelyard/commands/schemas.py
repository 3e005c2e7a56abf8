"""modelyard schemas: copy the JSON Schemas where editors find them (the repo's .schemas/ folder)."""

from __future__ import annotations

import argparse
from pathlib import Path

HELP = "write the JSON Schemas of modelyard's YAML files for editors (default: <repo>/.schemas)"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--out", metavar="DIR", help="folder to write into (default: .schemas in the model repo)")


def run(args: argparse.Namespace) -> int:
    from modelyard.commands.common import repo_root
    from modelyard.repo.editor_schemas import EDITOR_DIR, export

    out = Path(args.out) if args.out else repo_root(args) / EDITOR_DIR
    for path in export(out):
        print(path)
    return 0
