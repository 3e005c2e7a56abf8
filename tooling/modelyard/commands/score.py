"""modelyard score: predict the rows of a model's ``scoring:`` extract with a stored version, and
check the run (drift, labelled metrics) against the thresholds of its ``monitoring:``."""

from __future__ import annotations

import argparse

from modelyard.commands.common import add_format

HELP = "score the rows of a model's scoring extract with a stored version (models/FILE.yaml)"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("model_file", help="the model file, e.g. models/model_linear_regression.yaml")
    parser.add_argument("--version", type=int, metavar="N", help="the stored version to use (default: the latest)")
    parser.add_argument("--refresh", action="store_true", help="recompute extracts even when cached")
    add_format(parser)


def scoring_model(project, path: str):
    """The model file the user named, which must declare ``scoring:``."""
    from modelyard.commands.common import model_spec
    from modelyard.errors import ModelyardError

    model = model_spec(project, path)
    if model.scoring is None:
        raise ModelyardError(
            f"{model.file} has no `scoring:`",
            hint="add `scoring: {data: {file: FILE.yaml, file_param_name: NAME}, output: TABLE}` "
            "to the model file (see docs/monitoring.md)",
        )
    return model


def run(args: argparse.Namespace) -> int:
    from modelyard.commands.common import project_for
    from modelyard.console import err, out, print_json, progress_printer
    from modelyard.engine.context import for_settings
    from modelyard.execute.runner import run_workflow
    from modelyard.gitinfo import source_info
    from modelyard.workflows.score.build import score_workflow
    from modelyard.workflows.score.monitor import crossed

    project, path = project_for(args, args.model_file, "models")
    model = scoring_model(project, path)
    workflow = score_workflow(project, model, args.version)
    ctx = for_settings(project.settings, workflow.id, refresh=args.refresh, source=source_info(project.root))
    results = run_workflow(workflow, ctx, on_event=progress_printer(workflow.id))
    scored, state = results["score"], results["monitor"]
    if args.format == "json":
        print_json({"score": scored, "monitor": state, "workflow": workflow.id, "run_dir": str(ctx.run_dir)})
        return 0
    console = out()
    console.print(
        f"scored {scored['rows']} rows with [bold]{scored['canonical_name']}[/] version {scored['version']} "
        f"-> {scored['output']} (scoring run {scored['run_id']})"
    )
    warnings = crossed(state, "warn")
    if warnings:
        console.print("[yellow]monitoring warnings:[/]")
        for line in warnings:
            console.print(f"  {line}")
    else:
        console.print("monitoring: no threshold crossed")
    if state["metrics"]:
        console.print(f"metrics on {state['labelled_rows']} labelled rows:")
    for name, metric in state["metrics"].items():
        console.print(f"  {name}: {metric['value']:.6g} ({metric['level']})")
    console.print(f"plot: {state['report']}")
    err().print(f"[dim]run folder: {ctx.run_dir}[/]")
    return 0
