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
        out().print(_envelope_table(envelope))
    return 0


def _compact(value) -> str:
    """One line for a value: numbers to 4 significant digits, mappings as key=value."""
    if isinstance(value, float):
        return f"{value:.4g}"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k}={_compact(v)}" for k, v in value.items()) + "}"
    if isinstance(value, list):
        return "[" + ", ".join(_compact(v) for v in value) + "]"
    return str(value)


def _columns(described: dict) -> str:
    if "columns" in described:
        return f"{described['type']}[" + ", ".join(f"{c['name']} {c['dtype']}" for c in described["columns"]) + "]"
    return _compact(described)


def _envelope_table(envelope: dict):
    """The envelope as a person reads it; ``--format json`` gives every field for programs."""
    from rich.table import Table
    from rich.text import Text

    lineage = dict(envelope.get("lineage", {}))
    signature = envelope.get("signature", {})
    inputs = signature.get("inputs", {})
    table = Table(show_header=False, box=None, title=f"{envelope['canonical_name']} version {envelope['version']}")
    table.add_column(style="bold")
    table.add_column(overflow="fold")

    def add(field: str, text: str) -> None:
        table.add_row(field, Text(text))  # values hold brackets: text, never markup

    add("model", f"{envelope.get('model_name', '')}: {envelope.get('model_description', '')}")
    add("metrics", _compact(envelope.get("metrics", {}))[1:-1])
    add("created", f"{lineage.pop('created_at', '')} (modelyard {lineage.pop('modelyard_version', '?')})")
    commit, dirty = lineage.pop("git_commit", None), lineage.pop("git_dirty", False)
    add("git commit", f"{commit or 'none'}{' (uncommitted changes)' if dirty else ''}")
    add("trainer", str(lineage.pop("trainer", "")))
    add(
        "signature",
        f"{signature.get('method', '')}("
        + ", ".join(f"{name}: {_columns(d)}" for name, d in inputs.items())
        + f") -> {_columns(signature.get('outputs', {}))}",
    )
    for extract in lineage.pop("extracts", []):
        add("extract", f"{extract['table']} ({extract['extract_file']}: {extract['dataset']})")
    for key, value in lineage.items():  # row counts, constructor args, tuning, ...: whatever the run recorded
        if isinstance(value, dict) and key != "constructor_args" and key != "row_counts":
            for inner, item in value.items():
                if not inner.endswith("sha256"):
                    add(f"{key} {inner}".replace("_", " "), _compact(item))
        elif not key.endswith("sha256"):
            add(key.replace("_", " "), _compact(value)[1:-1] if isinstance(value, dict) else _compact(value))
    add("tags", _compact(envelope.get("tags", {}))[1:-1])
    artifact = envelope.get("artifact", {})
    add("artifact", f"{artifact.get('file', '')}, {artifact.get('bytes', '?')} bytes, {artifact.get('serializer', '')}")
    return table
