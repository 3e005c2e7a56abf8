"""modelyard export: a stored model version in another tool's format (MLflow)."""

from __future__ import annotations

import argparse

HELP = "write a stored model version in another tool's format (MLflow), or log it to MLflow tracking"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    from modelyard.export import FORMATS

    parser.add_argument("name", help="canonical name of the stored model")
    parser.add_argument("--version", type=int, help="version (default: latest)")
    parser.add_argument("--format", choices=sorted(FORMATS), required=True, help="the format to write")
    parser.add_argument("--out", metavar="DIR", help="a new folder (or an empty one) to write the model to")
    parser.add_argument(
        "--tracking-uri", metavar="URI", help="mlflow: also log the model as a run there (e.g. sqlite:///mlflow.db)"
    )
    parser.add_argument("--register", metavar="NAME", help="mlflow: register the logged model under NAME")


def run(args: argparse.Namespace) -> int:
    from pathlib import Path

    from modelyard.commands.common import repo_root
    from modelyard.console import err, out
    from modelyard.errors import ModelyardError
    from modelyard.export import FORMATS
    from modelyard.export.source import read_stored
    from modelyard.repo.project import load_settings

    if args.out is None and args.tracking_uri is None:
        raise ModelyardError("nothing to do: name a folder with --out, or a tracking server with --tracking-uri")
    if args.register and not args.tracking_uri:
        raise ModelyardError("--register needs --tracking-uri: a model is registered on a tracking server")
    if args.tracking_uri and args.format != "mlflow":
        raise ModelyardError(f"--tracking-uri is for --format mlflow, not {args.format}")
    stored = read_stored(load_settings(repo_root(args)).store_path, args.name, args.version)
    console = out()
    notes = []
    if args.out is not None:
        exported = FORMATS[args.format].export(stored, Path(args.out))
        notes += exported.notes
        console.print(f"exported {stored.label} to {exported.path} (flavors: {', '.join(exported.flavors)})")
    if args.tracking_uri:
        from modelyard.export.mlflow import log_model

        logged = log_model(stored, args.tracking_uri, args.register)
        notes += [note for note in logged["notes"] if note not in notes]
        console.print(f"logged {stored.label} to {args.tracking_uri}: run {logged['run_id']}, {logged['model_uri']}")
        if args.register:
            console.print(f"registered as {args.register!r} version {logged['registered_version']}")
    for note in notes:
        err().print(f"note: {note}", style="yellow")
    return 0
