"""modelyard plan: what a publish would add, change (and why) or remove."""

from __future__ import annotations

import argparse

from modelyard.commands.common import add_format

HELP = "compare the repo with what is published (or a compiled ir.json) and say what publishing would change"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--target",
        metavar="PATH",
        help="a publish target, a manifest.json or a compiled ir.json (default: publish.target in modelyard.yaml)",
    )
    add_format(parser)


def run(args: argparse.Namespace) -> int:
    from pathlib import Path

    from modelyard.commands.common import project as load
    from modelyard.compile import compile_project
    from modelyard.console import err, print_json
    from modelyard.gitinfo import source_info
    from modelyard.publish import manifest
    from modelyard.publish.plan import diff, text_lines

    project = load(args)
    document = compile_project(project, source_info(project.root))
    where = Path(args.target) if args.target else project.settings.publish_target
    located = manifest.locate(where)
    baseline = manifest.read(located) if located else None
    if located is None:
        err().print(f"no manifest.json or ir.json at {where}: comparing with nothing published")
    result = diff(manifest.from_document(document), baseline, str(located) if located else None)
    if args.format == "json":
        print_json(result.to_json())
    else:
        print("\n".join(text_lines(result)))
    return 0
