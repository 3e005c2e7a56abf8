"""Build the Dash app for one model repo and serve it."""

from __future__ import annotations

import logging
from pathlib import Path

ASSETS = Path(__file__).resolve().parent / "assets"


def create_app(root: Path):
    import dash
    import dash_cytoscape
    from flask import abort, send_from_directory

    from modelyard.ui import callbacks, data, layout
    from modelyard.ui.jobs import Jobs

    dash_cytoscape.load_extra_layouts()  # dagre ranks nodes by dependency depth; shipped with dash-cytoscape
    settings = data.load_repo(root).settings
    jobs = Jobs(root, settings.state_dir)
    app = dash.Dash(
        __name__,
        title=f"modelyard · {root.name}",
        assets_folder=str(ASSETS),
        suppress_callback_exceptions=True,
        update_title=None,
    )
    # A function, so every page load reads the repo as it is now.
    app.layout = lambda: layout.page(root, data.load_repo(root))

    @app.server.route("/reports/<path:name>")
    def report(name: str):
        folder = settings.reports_dir
        # pages, and the plotly.js they share (engine.plots)
        if not name.endswith((".html", ".min.js")) or not folder.is_dir():
            abort(404)
        return send_from_directory(folder, name)

    callbacks.register(app, root, settings, jobs)
    return app


def serve(root: Path, host: str, port: int) -> None:
    # Every poll of the page would otherwise log a line.
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    create_app(root).run(host=host, port=port, debug=False)
