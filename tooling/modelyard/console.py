"""Where output goes: results on stdout (text or JSON), progress and logs on stderr."""

from __future__ import annotations

import functools
import json
import os
import sys
from typing import Any

DEBUG_VARIABLE = "MODELYARD_DEBUG"


def debugging() -> bool:
    """``--debug`` or ``MODELYARD_DEBUG=1``: full tracebacks, and ``debug`` lines on stderr."""
    return os.environ.get(DEBUG_VARIABLE, "").strip().lower() not in ("", "0", "false", "no")


def debug(message: str) -> None:
    """A line on what the process does (e.g. each time it opens the warehouse), when debugging."""
    if debugging():
        sys.stderr.write(f"debug: {message}\n")


@functools.cache
def err():
    from rich.console import Console

    return Console(stderr=True, highlight=False, soft_wrap=True)


@functools.cache
def out():
    from rich.console import Console

    # piped output (CI logs, tests) is not cut to 80 columns
    return Console(highlight=False, soft_wrap=True, width=None if sys.stdout.isatty() else 200)


def print_json(value: Any) -> None:
    sys.stdout.write(json.dumps(value, indent=2, sort_keys=True, default=str) + "\n")
    sys.stdout.flush()


def progress_printer(label: str):
    """An ``on_event`` sink that logs node progress, with a bar for fan-out nodes."""
    state: dict[str, Any] = {}

    def on_event(event: dict) -> None:
        console = err()  # here, not above: a run that finds its model up to date never imports rich
        kind = event["event"]
        if kind == "node_started":
            console.print(f"[dim]{label}[/]  {event['node']} ...")
        elif kind == "fan_out":
            # imported here: a workflow without fan-out (modelyard run) does not pay for it
            from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

            bar = Progress(
                TextColumn(f"  {event['node']}"),
                BarColumn(),
                MofNCompleteColumn(),
                TimeElapsedColumn(),
                console=console,
                transient=True,
            )
            bar.start()
            state["bar"], state["task"] = bar, bar.add_task(event["node"], total=event["total"])
        elif kind == "item_done" and "bar" in state:
            state["bar"].advance(state["task"])
        elif kind in ("node_done", "node_failed"):
            if "bar" in state:
                state.pop("bar").stop()
            if kind == "node_done":
                result = event["result"]
                note = ""
                if "reused" in result:
                    note = (
                        f"reused cached table ({result['rows']} rows)"
                        if result["reused"]
                        else f"built ({result['rows']} rows)"
                    )
                elif "items" in result:  # a count (fan-out node) or the list for a fan-out node below
                    items = result["items"]
                    note = f"{len(items) if isinstance(items, list) else items} items"
                console.print(f"[dim]{label}[/]  {event['node']} [green]ok[/] {note}")
            else:
                console.print(f"[dim]{label}[/]  {event['node']} [red]failed[/]")

    return on_event
