"""modelyard run: extract, train, evaluate and store models, locally on the DuckDB warehouse,
skipping those whose latest stored version is up to date."""

from __future__ import annotations

import argparse

from modelyard.commands.common import add_format

HELP = "train, evaluate and store models (models/FILE.yaml; default: every model) unless they are up to date"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "model_files",
        nargs="*",
        metavar="MODEL_FILE",
        help="model files, e.g. models/model_linear_regression.yaml (default: every model file)",
    )
    parser.add_argument(
        "--select",
        metavar="SELECTOR",
        help="only the models changed since a git commit: changed-since:REF (their files, or seeds their SQL reads)",
    )
    parser.add_argument("--force", action="store_true", help="train even when the latest stored version is up to date")
    parser.add_argument(
        "--refresh", action="store_true", help="recompute extracts even when cached (and so train again)"
    )
    add_format(parser)


def run(args: argparse.Namespace) -> int:
    from modelyard.console import progress_printer
    from modelyard.execute.batch import run_many, select, train_or_reuse
    from modelyard.gitinfo import source_info

    if len(args.model_files) == 1 and args.select is None:
        from modelyard.commands.common import model_spec, project_for
        from modelyard.repo.layout import workflow_id

        project, path = project_for(args, args.model_files[0], "models")
        path = model_spec(project, path).file
        outcome = train_or_reuse(
            project,
            path,
            source_info(project.root),
            force=args.force,
            refresh=args.refresh,
            on_event=progress_printer(workflow_id(path)),
        )
        _print_one(outcome, args.format)
        return 0
    from modelyard.commands.common import model_spec, repo_root
    from modelyard.validate.files import scoped
    from modelyard.validate.project import collect_project

    project, diagnostics = collect_project(repo_root(args))
    paths = select(project, args.model_files, args.select, lambda given: model_spec(project, given).file)
    outcomes = run_many(
        project,
        lambda path: scoped(project, diagnostics, path, warn=False),
        paths,
        source_info(project.root),
        force=args.force,
        refresh=args.refresh,
        on_event=progress_printer,
    )
    _print_summary(outcomes, args.format)
    return 1 if any(o["status"] == "failed" for o in outcomes) else 0


def _print_one(outcome: dict, fmt: str) -> None:
    from modelyard.console import err, out, print_json

    if fmt == "json":
        print_json(outcome)
        return
    console = out()
    name, version = outcome["canonical_name"], outcome["version"]
    if outcome["reused"]:
        console.print(f"[bold]{name}[/] version {version} is up to date: {outcome['reason']}")
        console.print("[dim]`modelyard run --force` trains it again[/]")
    else:
        console.print(f"trained [bold]{name}[/] version {version}")
    for metric, value in outcome["metrics"].items():
        console.print(f"  {metric}: {value:.6g}" if value is not None else f"  {metric}: n/a")
    print_drift(console, outcome.get("drift"))
    if outcome.get("reused_extracts"):
        console.print(f"reused cached extracts: {', '.join(outcome['reused_extracts'])}")
    console.print(f"model stored in {outcome['model_path']}")
    if not outcome["reused"]:
        err().print(f"[dim]trained because {outcome['reason']}; run folder: {outcome['run_dir']}[/]")


STATUS = {"trained": "[green]trained[/]", "up_to_date": "up to date", "failed": "[red]failed[/]"}


def _print_summary(outcomes: list[dict], fmt: str) -> None:
    from modelyard.console import err, out, print_json

    if fmt == "json":
        print_json(outcomes)
        return
    from rich.table import Table

    table = Table(box=None, pad_edge=False)
    for column, justify in (("workflow", "left"), ("status", "left"), ("version", "right"), ("seconds", "right")):
        table.add_column(column, justify=justify)
    for o in outcomes:
        version = f"{o['canonical_name']} {o['version']}" if o.get("version") else "-"
        table.add_row(o["workflow"], STATUS[o["status"]], version, f"{o['seconds']:.2f}")
    console = out()
    if outcomes:
        console.print(table)
    counts = {status: sum(o["status"] == status for o in outcomes) for status in STATUS}
    console.print(f"{counts['trained']} trained, {counts['up_to_date']} up to date, {counts['failed']} failed")
    for o in outcomes:
        if o["status"] == "failed":
            err().print(f"{o['model_file']}:\n{o['error']}", markup=False, highlight=False)


def print_drift(console, report: dict | None) -> None:
    """The training data against the previous version's: what drifted, or that nothing did."""
    from modelyard.workflows.train.drift import flagged

    if report is None:
        return
    against = f"against version {report['against_version']}'s training data"
    lines = [(param, line) for param, dataset in report["datasets"].items() for line in flagged(dataset)]
    if not lines:
        console.print(f"data drift {against}: none")
        return
    colour = "red" if report["status"] == "fail" else "yellow"
    console.print(f"[{colour}]data drift {against}:[/]")
    for param, line in lines:
        console.print(f"  {param}.{line}")
