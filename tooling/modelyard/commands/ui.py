"""modelyard ui: a local web app to draw, run and inspect the repo's workflows."""

from __future__ import annotations

import argparse

HELP = "serve the local UI: execution graphs, runs with live status, cached datasets, results"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--port", type=int, default=8050, help="port to serve on (default: 8050)")
    parser.add_argument(
        "--host", default="127.0.0.1", help="interface to serve on (default: 127.0.0.1, this machine only)"
    )


def run(args: argparse.Namespace) -> int:
    import importlib.util

    from modelyard.commands.common import repo_root
    from modelyard.console import err
    from modelyard.errors import ModelyardError

    missing = [name for name in ("dash", "dash_cytoscape") if importlib.util.find_spec(name) is None]
    if missing:  # the UI is an optional extra: say how to get it instead of an ImportError
        raise ModelyardError(
            f"modelyard ui needs {' and '.join(missing)}, which are not installed", hint="pip install 'modelyard[ui]'"
        )
    from modelyard.ui.app import serve

    root = repo_root(args)
    _check_port_free(args.host, args.port)
    err().print(f"modelyard ui for {root}: open http://{args.host}:{args.port}/ (Ctrl-C to stop)")
    serve(root, args.host, args.port)
    return 0


def _check_port_free(host: str, port: int) -> None:
    """Fail before saying the UI runs: the server would only find out after that line."""
    import socket

    from modelyard.errors import ModelyardError

    with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as the server does: TIME_WAIT is free
        try:
            probe.bind((host, port))
        except OSError as exc:
            raise ModelyardError(
                f"cannot serve on {host}:{port}: {exc.strerror or exc}",
                hint=f"another program uses port {port}; choose another with --port",
            ) from None
