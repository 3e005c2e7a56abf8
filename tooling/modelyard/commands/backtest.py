"""modelyard backtest: train and evaluate a model once per time window of its ``split_config``."""

from __future__ import annotations

import argparse
import os

from modelyard.commands.common import add_format

HELP = "backtest a model (models/FILE.yaml) over the time windows of its split_config"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("model_file", help="the model file, e.g. models/model_linear_regression.yaml")
    parser.add_argument(
        "--workers",
        type=int,
        default=min(2, os.cpu_count() or 1),
        metavar="N",
        help="windows trained in parallel processes (default: %(default)s)",
    )
    parser.add_argument("--refresh", action="store_true", help="recompute extracts even when cached")
    add_format(parser)
    parser.set_defaults(exit_without_teardown=True)  # cli._exit_without_teardown: its pool and warehouse are closed


def _when(iso: str) -> str:
    return iso[:10] if iso.endswith("T00:00:00") else iso.replace("T", " ")[:16]


def _number(value) -> str:
    return "n/a" if value is None else f"{value:.4g}"


def _print(summary: dict, console) -> None:
    from rich.table import Table

    names = list(summary["summary"])
    windows = Table(
        "#",
        "train",
        "test",
        "train rows",
        "test rows",
        *names,
        title="backtest windows: train on [start, end), test on [start, end)",
        box=None,
    )
    for w in summary["windows"]:
        windows.add_row(
            str(w["window"]),
            f"[{_when(w['train_start'])}, {_when(w['train_end'])})",
            f"[{_when(w['test_start'])}, {_when(w['test_end'])})",
            str(w["train_rows"]),
            str(w["test_rows"]),
            *(_number(w["metrics"].get(n)) for n in names),
        )
    console.print(windows)
    metrics = Table("metric", "mean", "std", "min", "max", "windows", title="summary", box=None)
    for name, stats in summary["summary"].items():
        metrics.add_row(name, *(_number(stats[k]) for k in ("mean", "std", "min", "max")), str(stats["count"]))
    console.print(metrics)
    console.print(f"tables: {summary['table']}, {summary['summary_table']}")
    console.print(f"plot: {summary['report']}")


def run(args: argparse.Namespace) -> int:
    from modelyard.commands.common import model_spec, project_for
    from modelyard.console import err, out, print_json, progress_printer
    from modelyard.engine.context import for_settings
    from modelyard.errors import ModelyardError
    from modelyard.execute.runner import run_workflow
    from modelyard.gitinfo import source_info
    from modelyard.workflows.backtest.build import backtest_workflow

    if args.workers < 1:
        raise ModelyardError(f"--workers {args.workers}: give at least 1")
    project, path = project_for(args, args.model_file, "models")
    model = model_spec(project, path)
    if model.split_config is None:
        raise ModelyardError(
            f"{model.file} has no split_config", hint="add a split_config to the model file (see docs/backtesting.md)"
        )
    workflow = backtest_workflow(project, model)
    ctx = for_settings(project.settings, workflow.id, refresh=args.refresh, source=source_info(project.root))
    summary = run_workflow(workflow, ctx, workers=args.workers, on_event=progress_printer(workflow.id))["summary"]
    if args.format == "json":
        print_json({**summary, "workflow": workflow.id, "run_dir": str(ctx.run_dir)})
        return 0
    _print(summary, out())
    err().print(f"[dim]run folder: {ctx.run_dir}[/]")
    return 0
