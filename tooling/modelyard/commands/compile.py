"""modelyard compile: write the IR (or a backend's files) for every workflow of the repo."""

from __future__ import annotations

import argparse

from modelyard.commands.common import add_format
from modelyard.console import err, print_json

HELP = "compile the repo into workflows (IR JSON, or an orchestrator's files)"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    from modelyard.backends import BACKENDS

    parser.add_argument("--backend", choices=sorted(BACKENDS), default="ir", help="what to write (default: ir)")
    parser.add_argument("--out", metavar="DIR", help="output folder (default: <state_dir>/compiled/<backend>)")
    add_format(parser)


def run(args: argparse.Namespace) -> int:
    from pathlib import Path

    from modelyard.backends import write_backend
    from modelyard.commands.common import project as load
    from modelyard.compile import compile_project
    from modelyard.gitinfo import source_info

    project = load(args)
    document = compile_project(project, source_info(project.root))
    out = Path(args.out) if args.out else project.settings.state_dir / "compiled" / args.backend
    files = write_backend(args.backend, document, out)
    err().print(f"compiled {len(document.workflows)} workflow(s) with backend {args.backend!r} into {out}")
    if args.format == "json":
        print_json(
            {
                "backend": args.backend,
                "out": str(out.resolve()),
                "files": list(files),
                "workflows": [w.id for w in document.workflows],
            }
        )
        return 0
    for name in files:
        print(out / name)
    return 0
