"""modelyard new: start a model repo from the template that ships with modelyard."""

from __future__ import annotations

import argparse

HELP = "create a model repo from the bundled template (cookiecutter)"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("dir", nargs="?", metavar="DIR", help="the new repo's folder (default: ./<repo_name>)")
    parser.add_argument("--name", help="repo_name (default: the folder's name, or asked)")
    parser.add_argument("--no-input", action="store_true", help="ask nothing; use defaults for what is not given")
    parser.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="another template variable: canonical_name, author, modelyard_pip_spec",
    )


def run(args: argparse.Namespace) -> int:
    import sys
    from pathlib import Path

    from modelyard.console import err
    from modelyard.errors import ModelyardError
    from modelyard.repo.scaffold import new_repo

    context = {}
    for item in args.set:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise ModelyardError(f"--set {item!r}: expected KEY=VALUE", hint="e.g. --set author='Ada Lovelace'")
        context[key] = value
    if not args.no_input and not sys.stdin.isatty():  # cookiecutter would end in an EOFError at its first question
        raise ModelyardError(
            "modelyard new asks for the repo's settings, but there is no terminal to ask in",
            hint="run it with --no-input (and --name, --set KEY=VALUE for what the defaults do not fit)",
        )
    path = new_repo(Path(args.dir) if args.dir else None, args.name, args.no_input, context)
    print(path)
    err().print(
        f"created model repo {path}\nnext:\n  cd {path}\n  git init && git add . && git commit -m 'new model repo'"
        "\n  modelyard run models/model_linear_regression.yaml"
    )
    return 0
