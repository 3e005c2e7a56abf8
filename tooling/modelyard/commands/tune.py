"""modelyard tune: run a hyperparameter search from a tuning file, store the best model, report."""

from __future__ import annotations

import argparse

from modelyard.commands.common import add_format

HELP = "search hyperparameters (tuning/FILE.yaml) in parallel trials; store the best model"


def _workers(text: str) -> int | str:
    from modelyard.repo.project import AUTO_WORKERS

    if text == AUTO_WORKERS:
        return text
    if not text.isdigit() or int(text) < 1:
        raise argparse.ArgumentTypeError(f"expected a whole number >= 1 or auto, got {text!r}")
    return int(text)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("tuning_file", help="the tuning file, e.g. tuning/tune_elastic_net.yaml")
    parser.add_argument(
        "--workers",
        type=_workers,
        metavar="N|auto",
        help="trials at once in local processes (default: n_function_compute_workers); auto: run two "
        "trials here, then use every core if the second one's time says that saves more than starting "
        "the processes costs, else 1",
    )
    parser.add_argument("--refresh", action="store_true", help="recompute extracts even when cached")
    add_format(parser)
    parser.set_defaults(exit_without_teardown=True)  # cli._exit_without_teardown: its pool and warehouse are closed


def _progress(label: str, total: int):
    """Node progress as ``modelyard run`` shows it, with one bar across every round of trials."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    from modelyard.console import err, progress_printer

    nodes = progress_printer(label)
    bar = Progress(
        TextColumn("  trials"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.fields[note]}"),
        TimeElapsedColumn(),
        console=err(),
        transient=True,
    )
    task = bar.add_task("trials", total=total, note="")
    failed = 0

    def on_event(event: dict) -> None:
        nonlocal failed
        kind, node = event["event"], event.get("node", "")
        if kind == "fan_out":
            bar.start()
        elif kind == "item_done":
            failed += event["result"]["status"] != "ok"
            bar.update(task, advance=1, note=f"{failed} failed" if failed else "")
        elif kind == "node_failed" or (kind == "node_started" and node == "select"):
            bar.stop()
        # rounds of trials and proposals show as the one bar, not as a line each
        if kind == "node_failed" or not node.startswith(("trials", "propose")):
            nodes(event)

    return on_event


def run(args: argparse.Namespace) -> int:
    from modelyard.commands.common import project_for, tuning_spec
    from modelyard.console import err, out, print_json
    from modelyard.engine.context import for_settings
    from modelyard.execute.runner import run_workflow
    from modelyard.gitinfo import source_info
    from modelyard.repo.project import AUTO_WORKERS
    from modelyard.workflows.tune.build import tune_workflow
    from modelyard.workflows.tune.report import trials_table
    from modelyard.workflows.tune.specs import Select

    project, path = project_for(args, args.tuning_file, "tuning")
    tuning = tuning_spec(project, path)
    workflow = tune_workflow(project, tuning)
    ctx = for_settings(project.settings, workflow.id, refresh=args.refresh, source=source_info(project.root))
    select = Select.of(workflow.node("select"))
    if select.note:
        err().print(f"[yellow]note:[/] {select.note}")
    requested = args.workers or tuning.n_workers
    results = run_workflow(
        workflow,
        ctx,
        workers=requested,
        on_event=_progress(workflow.id, select.n_trials),
    )
    study, stored = results["select"], results["register"]
    # the most processes any round of trials ran on (what --workers auto chose)
    workers = max(result["workers"] for node, result in results.items() if workflow.node(node).fan_out)
    keys = ("objective", "best_params", "best_objective", "best_trial", "n_trials", "n_failed", "run_id", "trials")
    if args.format == "json":
        print_json(
            {
                **{k: study[k] for k in keys},
                "workflow": workflow.id,
                "tuning_file": tuning.file,
                "trials_table": study["table"],
                "canonical_name": stored["canonical_name"],
                "version": stored["version"],
                "model_path": stored["model_path"],
                "plot": study["report"],
                "run_dir": str(ctx.run_dir),
                "workers": workers,
            }
        )
        return 0
    console = out()
    console.print(trials_table(study))
    metric = study["objective"]["metric"]
    console.print(
        f"best {metric} = {study['best_objective']:.6g} ({study['objective']['direction']}) "
        f"with {study['best_params']} (trial {study['best_trial']})"
    )
    if study["n_failed"]:
        console.print(f"[yellow]{study['n_failed']} of {study['n_trials']} trials failed[/]")
    console.print(
        f"retrained on all rows: [bold]{stored['canonical_name']}[/] version {stored['version']} "
        f"in {stored['model_path']}"
    )
    console.print(f"trials table: {study['table']} (run_id {study['run_id']})")
    console.print(f"plot: {study['report']}")
    console.print(f"worker processes: {workers}" + (" (chosen by auto)" if requested == AUTO_WORKERS else ""))
    err().print(f"[dim]run folder: {ctx.run_dir}[/]")
    return 0
