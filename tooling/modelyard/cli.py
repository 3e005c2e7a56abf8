"""``modelyard`` command line: parse arguments, dispatch to a command, turn errors into exit 1.

Each command is a module in ``commands/`` with ``HELP``, ``add_arguments(parser)`` and
``run(args) -> int``; registering one is a line in ``COMMANDS``. No command logic lives here.
"""

from __future__ import annotations

import argparse
import importlib
import os
import signal
import sys

from modelyard.console import DEBUG_VARIABLE, debugging
from modelyard.errors import ConfigError, ModelyardError, full_traceback
from modelyard.repo.targets import TARGET_ENV
from modelyard.version import __version__

COMMANDS = {
    "new": "modelyard.commands.new",
    "validate": "modelyard.commands.validate",
    "run": "modelyard.commands.run",
    "tune": "modelyard.commands.tune",
    "backtest": "modelyard.commands.backtest",
    "score": "modelyard.commands.score",
    "monitor": "modelyard.commands.monitor",
    "models": "modelyard.commands.models",
    "export": "modelyard.commands.export",
    "ui": "modelyard.commands.ui",
    "compile": "modelyard.commands.compile",
    "plan": "modelyard.commands.plan",
    "publish": "modelyard.commands.publish",
    "schemas": "modelyard.commands.schemas",
}
DESCRIPTION = (
    "Train, tune, backtest and publish ML models from a model repo of YAML files and "
    "trainer classes. `modelyard COMMAND --help` shows a command's options."
)
DEBUG_HELP = f"on an error, print its full traceback too, and log what the run opens (or set {DEBUG_VARIABLE}=1)"


def build_parser(only: str | None = None) -> argparse.ArgumentParser:
    """The parser; with ``only``, just that command's module is imported (a hook starts faster)."""
    parser = argparse.ArgumentParser(prog="modelyard", description=DESCRIPTION)
    parser.add_argument("--version", action="version", version=f"modelyard {__version__}")
    parser.add_argument(
        "-C", "--repo", metavar="DIR", help="the model repo (default: found from the working directory)"
    )
    parser.add_argument(
        "--target",
        metavar="NAME",
        help="the target of modelyard.yaml to use: where the warehouse, model store and run folders are "
        "(default: $MODELYARD_TARGET, else the settings' `target`, else local)",
    )
    parser.add_argument("--debug", action="store_true", help=DEBUG_HELP)
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for name, module_name in COMMANDS.items():
        if only is not None and name != only:
            continue
        module = importlib.import_module(module_name)
        command = sub.add_parser(name, help=module.HELP, description=module.HELP)
        command.set_defaults(handler=module.run)
        # also after the command (`modelyard run FILE --debug`); SUPPRESS keeps the global one's value
        command.add_argument("--debug", action="store_true", default=argparse.SUPPRESS, help=DEBUG_HELP)
        module.add_arguments(command)
    return parser


def _command_named(argv: list[str]) -> str | None:
    """The command in ``argv``, if it is plain to see (options before it take no value but -C)."""
    rest = list(argv)
    while rest and rest[0].startswith("-"):
        option = rest.pop(0)
        if option in ("-C", "--repo", "--target") and rest:
            rest.pop(0)
        elif option not in ("-C", "--repo", "--target", "--debug") and not option.startswith(("--repo=", "--target=")):
            return None  # --help, --version: the full parser answers
    return rest[0] if rest and rest[0] in COMMANDS else None


def _interrupt(signum, frame) -> None:
    raise KeyboardInterrupt


def main(argv: list[str] | None = None) -> int:
    from_command_line = argv is None  # the console script; callers in Python pass argv and go on
    argv = sys.argv[1:] if argv is None else argv
    # `kill`, a CI timeout: unwind like Ctrl-C, so worker pools stop and temporary files go,
    # instead of dying at once and leaving orphaned worker processes behind
    if signal.getsignal(signal.SIGTERM) is signal.SIG_DFL:
        signal.signal(signal.SIGTERM, _interrupt)
    args = build_parser(_command_named(argv)).parse_args(argv)
    if args.target:
        # one way to choose, seen alike by this process, its worker pools and the UI's runs
        os.environ[TARGET_ENV] = args.target
    if args.debug:  # seen alike by this process and its worker processes
        os.environ[DEBUG_VARIABLE] = "1"
    debug = debugging()
    try:
        code = args.handler(args)
    except (ModelyardError, OSError) as exc:
        if debug:
            sys.stderr.write(full_traceback(exc) + "\n")
        code = _report(exc)
    except KeyboardInterrupt:
        sys.stderr.write("interrupted\n")
        return 130
    if from_command_line and getattr(args, "exit_without_teardown", False):
        _exit_without_teardown(code)
    return code


def _exit_without_teardown(code: int) -> None:
    """End the process without the interpreter's teardown, which frees every module of pandas,
    scikit-learn and SciPy one by one: about 0.3 s of CPU after a `tune` of the example has done
    its work (as much as its 40 trials). What a normal exit would still do for others runs first:
    other threads are waited for, exit handlers run (a trainer's experiment tracker flushing its
    run), output is flushed. A command opts in (``exit_without_teardown``) when its worker pool
    and warehouse connections are closed by the time it returns."""
    import atexit
    import threading

    for thread in threading.enumerate():
        if thread is not threading.current_thread() and not thread.daemon:
            thread.join()
    atexit._run_exitfuncs()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


def _report(exc: ModelyardError | OSError) -> int:
    """The message of an error a user can fix (the one place errors are caught); exit status 1."""
    if isinstance(exc, ConfigError):
        sys.stderr.write(f"{exc}\n")
    elif isinstance(exc, ModelyardError):
        sys.stderr.write(f"error: {exc}\n")
    else:  # an OSError: a folder the user named that cannot be written or read
        where = f"{exc.filename}: " if exc.filename else ""
        sys.stderr.write(f"error: {where}{exc.strerror or exc}\n")
    return 1


if __name__ == "__main__":
    raise SystemExit(main())
