"""modelyard run: extract, train, evaluate and store one model, locally on the DuckDB warehouse."""

from __future__ import annotations

import argparse

from modelyard.commands.common import add_format

HELP = "train, evaluate and store a model (models/FILE.yaml) on the local warehouse"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("model_file", help="the model file, e.g. models/model_linear_regression.yaml")
    parser.add_argument("--refresh", action="store_true", help="recompute extracts even when cached")
    add_format(parser)


def run(args: argparse.Namespace) -> int:
    from modelyard.commands.common import model_spec, project_for
    from modelyard.console import err, out, print_json, progress_printer
    from modelyard.engine.context import for_settings
    from modelyard.execute.runner import run_workflow
    from modelyard.gitinfo import source_info
    from modelyard.workflows.train.build import train_workflow

    project, path = project_for(args, args.model_file, "models")
    model = model_spec(project, path)
    workflow = train_workflow(project, model)
    ctx = for_settings(project.settings, workflow.id, refresh=args.refresh, source=source_info(project.root))
    results = run_workflow(workflow, ctx, on_event=progress_printer(workflow.id))
    stored = results["register"]
    reused = sorted(r["table"] for r in results.values() if r.get("reused"))
    if args.format == "json":
        print_json({**stored, "workflow": workflow.id, "reused_extracts": reused, "run_dir": str(ctx.run_dir)})
        return 0
    console = out()
    console.print(f"trained [bold]{stored['canonical_name']}[/] version {stored['version']}")
    for name, value in stored["metrics"].items():
        console.print(f"  {name}: {value:.6g}" if value is not None else f"  {name}: n/a")
    print_drift(console, stored.get("drift"))
    if reused:
        console.print(f"reused cached extracts: {', '.join(reused)}")
    console.print(f"model stored in {stored['model_path']}")
    err().print(f"[dim]run folder: {ctx.run_dir}[/]")
    return 0


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
