"""What the page does: poll for changes, redraw the graph and run status, select a node, show its
panel, page through a dataset, start runs. Every callback reads the repo fresh from disk, so
edits to YAML, SQL or trainer code show without restarting the app."""

from __future__ import annotations

import time
from pathlib import Path

from modelyard.ui import data, layout, panels
from modelyard.ui.jobs import Jobs, log_path

LOG_LINES = 300


def _tail(path: Path) -> str:
    try:
        lines = path.read_text(errors="replace").splitlines()
    except OSError:
        return ""
    return "\n".join(lines[-LOG_LINES:])


def _messages(view: data.RepoView, workflow, states: dict, notes: list[str], job: dict, alive: bool):
    from dash import html

    out = []
    if view.errors:
        out.append(
            html.Div(
                id="config-errors",
                className="message message-error",
                children=[
                    html.Strong(
                        f"The repo does not validate: {len(view.errors)} error(s). Fix the files below; "
                        "this page updates when they change."
                    ),
                    html.Ul([html.Li(str(d)) for d in view.diagnostics]),
                ],
            )
        )
    if view.compile_error:
        out.append(
            html.Pre(
                f"The repo does not compile:\n{view.compile_error}",
                className="message message-error",
                id="compile-error",
            )
        )
    if view.document is not None and not view.document.workflows:
        out.append(
            html.Div(
                "This repo has no workflows yet: add a model file under models/.", className="message message-info"
            )
        )
    out += [html.Div(note, className="message message-warn", id="warehouse-message") for note in notes]
    if (
        workflow is not None
        and not alive
        and not job
        and all(s.status in ("never run", "cached") for s in states.values())
    ):
        out.append(
            html.Div(
                f"No runs of {workflow.id} yet: press Run workflow (or click a node and Run selected node).",
                className="message message-info",
                id="no-runs",
            )
        )
    return out


def _run_status(workflow_id: str | None, job: dict, running: str | None) -> tuple[str, str]:
    """The run status line and the failure message (empty when none)."""
    if running and running != workflow_id:
        return f"running {running}…", ""
    if running:
        return f"running {workflow_id}…", ""
    state = job.get("state")
    if state == "running":
        return "the last run stopped unexpectedly", "the run's process exited before finishing: see the run log"
    if state == "failed":
        return f"last run failed ({job.get('finished_at')})", job.get("error") or ""
    if state == "succeeded":
        return f"last run succeeded ({job.get('finished_at')})", ""
    return "", ""


def register(app, root: Path, settings, jobs: Jobs) -> None:
    from dash import Input, Output, State, ctx, html, no_update

    @app.callback(
        Output("version", "data"), Input("tick", "n_intervals"), State("workflow", "value"), State("version", "data")
    )
    def poll(_, workflow_id, previous):
        token = f"{data.repo_token(root, settings, workflow_id)}:{jobs.running()}"
        return no_update if token == previous else token

    @app.callback(
        Output("graph", "elements"),
        Output("graph", "layout"),
        Output("node-list", "children"),
        Output("messages", "children"),
        Output("run-status", "children"),
        Output("run-error", "children"),
        Output("run-error", "hidden"),
        Output("run-log", "children"),
        Output("run-workflow", "disabled"),
        Output("run-node", "disabled"),
        Output("results-version", "data"),
        Input("version", "data"),
        Input("workflow", "value"),
        Input("reload", "n_clicks"),
        Input("selected", "data"),
        State("graph", "layout"),
        State("results-version", "data"),
    )
    def redraw(_, workflow_id, __, selected, current_layout, results_version):
        view = data.load_repo(root)
        workflow = view.workflow(workflow_id)
        running = jobs.running()
        states, notes = data.node_states(view.settings, workflow, alive=bool(running)) if workflow else ({}, [])
        job = data.job_state(view.settings, workflow_id) if workflow_id else {}
        status, error = _run_status(workflow_id, job, running)
        new_layout = layout.graph_layout(workflow)
        finished = f"{workflow_id}:{job.get('finished_at')}"
        return (
            layout.elements(workflow, states) if workflow else [],
            no_update if new_layout == current_layout else new_layout,
            layout.node_list(workflow, states) if workflow else None,
            _messages(view, workflow, states, notes, job, bool(running)),
            status,
            error,
            not error,
            _tail(Path(job.get("log") or log_path(view.settings.state_dir, workflow_id or ""))) if workflow_id else "",
            workflow is None or bool(running),
            workflow is None or bool(running) or not selected,
            no_update if finished == results_version else finished,
        )

    @app.callback(Output("selected", "data"), Input("graph", "tapNodeData"), Input("workflow", "value"))
    def select(tapped, _):
        return tapped["id"] if ctx.triggered_id == "graph" and tapped else None

    @app.callback(
        Output("panel", "children"),
        Input("selected", "data"),
        Input("results-version", "data"),
        Input("reload", "n_clicks"),
        State("workflow", "value"),
    )
    def panel(node_id, _, __, workflow_id):
        view = data.load_repo(root)
        workflow = view.workflow(workflow_id)
        if workflow is None or node_id not in {n.id for n in workflow.nodes}:
            return html.Div("Click a node of the graph to see what it holds.", className="muted")
        states, _ = data.node_states(view.settings, workflow, alive=bool(jobs.running()))
        node = workflow.node(node_id)
        return panels.render(panels.NodeView(view.settings, workflow, node, states[node_id]))

    @app.callback(
        Output("dataset-table", "data"),
        Output("dataset-table", "columns"),
        Output("dataset-table", "page_count"),
        Output("dataset-table", "page_current"),
        Output("dataset-count", "children"),
        Output("dataset-message", "children"),
        Input("dataset-table", "page_current"),
        Input("dataset-table", "page_size"),
        Input("dataset-filter", "value"),
        State("dataset-name", "data"),
    )
    def dataset(page, size, where, table):
        from modelyard.errors import WarehouseError

        page = 0 if ctx.triggered_id == "dataset-filter" else (page or 0)
        try:
            columns, rows, total = data.dataset_page(settings, table, where or "", page, size)
        except WarehouseError as exc:
            return [], [], 0, 0, "", html.Div(str(exc), className="message message-warn")
        pages = max(1, -(-total // size))
        return (
            rows,
            [{"name": c, "id": c} for c in columns],
            pages,
            page,
            f"{total} row(s){' matching the filter' if where else ''}, page {page + 1} of {pages}",
            None,
        )

    @app.callback(
        Output("run-feedback", "children"),
        Output("version", "data", allow_duplicate=True),
        Input("run-workflow", "n_clicks"),
        Input("run-node", "n_clicks"),
        State("workflow", "value"),
        State("selected", "data"),
        prevent_initial_call=True,
    )
    def start(_, __, workflow_id, node_id):
        if not workflow_id:
            return "pick a workflow first", no_update
        refused = jobs.start(workflow_id, node_id if ctx.triggered_id == "run-node" else None)
        return refused or "", f"started {time.time()}"
