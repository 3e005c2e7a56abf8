"""modelyard publish: compile the repo and publish it, atomically, to the target folder."""

from __future__ import annotations

import argparse

from modelyard.commands.common import add_format

HELP = (
    "compile the repo and publish its workflows (backend files, IR, manifest, the repo files workers need) "
    "to the publish target"
)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--target", metavar="DIR", help="publish target (default: publish.target in modelyard.yaml)")
    parser.add_argument(
        "--allow-dirty",
        action="store_true",
        help="publish even with uncommitted changes or outside git (the manifest says so)",
    )
    add_format(parser)


def run(args: argparse.Namespace) -> int:
    from pathlib import Path

    from modelyard.commands.common import project as load
    from modelyard.compile import compile_project
    from modelyard.console import err, print_json
    from modelyard.gitinfo import source_info
    from modelyard.publish.bundle import project_files
    from modelyard.publish.plan import text_lines
    from modelyard.publish.target import check_source, publish

    project = load(args)
    source = source_info(project.root)
    check_source(project.root, source, args.allow_dirty)
    target = Path(args.target) if args.target else project.settings.publish_target
    document = compile_project(project, source)
    result = publish(
        document, project.settings.publish_backend, target, project_files=project_files(project.settings, document)
    )
    if args.format == "json":
        print_json(result.to_json())
        return 0
    for line in text_lines(result.plan, applied=result.changed):
        print(line)
    if result.changed:
        err().print(
            f"published {len(result.plan.workflows) - result.plan.count('removed')} workflow(s) "
            f"to {result.target / 'current'} (set {result.version})"
        )
    else:
        err().print(f"nothing to publish: {result.target / 'current'} already holds this set ({result.version})")
    return 0
