"""modelyard validate: check the repo's files (schemas and cross-file checks) without running anything."""

from __future__ import annotations

import argparse
import sys

HELP = "check the repo's YAML, SQL templates and trainer classes; exit 1 on errors"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    from modelyard.validate.reporters import REPORTERS

    parser.add_argument(
        "paths",
        nargs="*",
        metavar="PATH",
        help="only these files and what they reference or what references them "
        "(default: the whole repo); other paths are ignored",
    )
    parser.add_argument("--format", choices=sorted(REPORTERS), default="text", help="output format (default: text)")


def run(args: argparse.Namespace) -> int:
    from modelyard.commands.common import repo_root
    from modelyard.validate.files import validate
    from modelyard.validate.reporters import REPORTERS

    result = validate(repo_root(args), args.paths or None)
    sys.stdout.write(REPORTERS[args.format](result))
    return 1 if result.errors else 0
