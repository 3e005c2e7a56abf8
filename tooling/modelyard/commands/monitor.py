"""modelyard monitor: a model's monitoring state: its latest version's training drift and its
latest scoring run (drift per column, labelled metrics), and what crossed a threshold."""

from __future__ import annotations

import argparse

from modelyard.commands.common import add_format

HELP = "show a model's monitoring state: training drift and the latest scoring run (models/FILE.yaml)"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("model_file", help="the model file, e.g. models/model_linear_regression.yaml")
    add_format(parser)


def run(args: argparse.Namespace) -> int:
    from modelyard.commands.common import model_spec, project_for
    from modelyard.commands.run import print_drift
    from modelyard.console import out, print_json
    from modelyard.workflows.score.monitor import model_state

    project, path = project_for(args, args.model_file, "models")
    model = model_spec(project, path)
    state = model_state(project.settings, model)
    if args.format == "json":
        print_json(state)
        return 0
    console = out()
    console.print(f"[bold]{model.canonical_name}[/] ({model.file})")
    training = state["training"]
    if training is None:
        console.print("no stored version yet: `modelyard run` trains one")
    else:
        console.print(f"latest version: {training['version']}")
        if training["drift"] is None:
            console.print("data drift at training: nothing to compare with (its first version)")
        print_drift(console, training["drift"])
    last = state["latest_run"]
    if model.scoring is None:
        console.print("no `scoring:` in the model file: nothing scored, nothing monitored at inference")
        return 0
    if last is None:
        console.print(f"no scoring run yet: `modelyard score {model.file}` scores the rows")
        return 0
    colour = {"ok": "green", "warn": "yellow", "fail": "red"}[last["status"]]
    console.print(
        f"latest scoring run {last['run_id']} ({last['scored_at']}, version {last['version']}, "
        f"{state['runs']} runs recorded): [{colour}]{last['status']}[/]"
    )
    for line in state["crossed"]:
        console.print(f"  {line}")
    if last["metrics"]:
        console.print(f"metrics on {last['metrics'][0]['labelled_rows']} labelled rows:")
    for metric in last["metrics"]:
        console.print(f"  {metric['metric']}: {metric['value']:.6g} ({metric['level']})")
    if state["report"]:
        console.print(f"plot: {state['report']}")
    return 0
