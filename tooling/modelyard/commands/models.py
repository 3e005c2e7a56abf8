"""modelyard models list|show: what the model store holds."""

from __future__ import annotations

import argparse

from modelyard.commands.common import add_format

HELP = "list stored models, or show one model's envelope"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="models_command", metavar="{list,show}", required=True)
    listing = sub.add_parser("list", help="every stored version")
    listing.add_argument("name", nargs="?", help="only this canonical name")
    add_format(listing)
    show = sub.add_parser("show", help="the envelope of a stored model")
    show.add_argument("name", help="canonical name")
    show.add_argument("--version", type=int, help="version (default: latest)")
    add_format(show)


def run(args: argparse.Namespace) -> int:
    from modelyard.commands.common import repo_root
    from modelyard.console import out, print_json
    from modelyard.engine.target import resolve
    from modelyard.repo.project import load_settings
    from modelyard.store.models import ModelStore, describe_metrics_source

    settings = load_settings(repo_root(args))
    store = ModelStore(resolve(settings.target(), settings.root).store)
    if args.models_command == "list":
        rows = store.list(args.name)
        if args.format == "json":
            print_json(rows)
            return 0
        from rich.table import Table

        table = Table("canonical name", "version", "created", "metrics", box=None)
        table.add_column("scored on", no_wrap=True)  # what makes two versions' metrics comparable: keep it whole
        table.add_column("path")
        for row in rows:
            metrics = ", ".join(
                f"{k}={v:.4g}" if isinstance(v, (int, float)) else f"{k}={v}" for k, v in row.get("metrics", {}).items()
            )
            table.add_row(
                row["canonical_name"],
                str(row["version"]),
                row["lineage"].get("created_at", ""),
                metrics,
                describe_metrics_source(row),
                row["model_path"],
            )
        out().print(table if rows else f"no stored models in {store.root}")
        return 0
    envelope = store.envelope(args.name, args.version)
    if args.format == "json":
        print_json(envelope)
    else:
        import json

        out().print_json(json.dumps(envelope, default=str))
    return 0
