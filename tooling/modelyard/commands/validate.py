"""modelyard validate: check every file of the repo, report every problem at once."""
from __future__ import annotations

import argparse

HELP = "check the repo's YAML, SQL and trainer references; print every problem (exit 1 on errors)"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    pass


def run(args: argparse.Namespace) -> int:
    from ..console import err
    from .common import project as load

    project = load(args)  # raises ConfigError carrying every diagnostic
    err().print(f"ok: {len(project.models)} model(s), {len(project.tunings)} tuning file(s), "
                f"{len(project.extracts)} dataset(s)")
    return 0
