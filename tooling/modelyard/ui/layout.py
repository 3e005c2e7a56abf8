"""The page: toolbar, execution graph (dash-cytoscape), node panel, run log; and how a workflow
and its node statuses become graph elements."""

from __future__ import annotations

from pathlib import Path

from modelyard import ir
from modelyard.ui import data

COLOURS = {
    "never run": "#c9cfd6",
    "cached": "#4f8fd6",
    "running": "#f0a830",
    "succeeded": "#2f9e44",
    "stale": "#a9d3a0",
    "failed": "#e03131",
}
TICK_MS = 700

STYLESHEET = [
    {
        "selector": "node",
        "style": {
            "label": "data(label)",
            "text-wrap": "wrap",
            "text-valign": "center",
            "text-halign": "center",
            "shape": "round-rectangle",
            "width": 240,
            "height": 44,
            "font-size": 11,
            "color": "#111",
            "border-width": 1,
            "border-color": "#555",
            "background-color": COLOURS["never run"],
        },
    },
    {"selector": "node[?fan_out]", "style": {"border-style": "double", "border-width": 4}},
    {"selector": "node:selected", "style": {"border-width": 4, "border-color": "#1c2b6e"}},
    {
        "selector": "edge",
        "style": {
            "curve-style": "bezier",
            "target-arrow-shape": "triangle",
            "width": 2,
            "line-color": "#8a94a0",
            "target-arrow-color": "#8a94a0",
        },
    },
    *(
        {"selector": f'node[status = "{status}"]', "style": {"background-color": colour}}
        for status, colour in COLOURS.items()
    ),
    {"selector": 'node[status = "stale"]', "style": {"border-style": "dashed", "border-width": 2}},
]


def elements(workflow: ir.Workflow, states: dict[str, data.NodeState]) -> list[dict]:
    nodes = []
    for node in workflow.nodes:
        state = states[node.id]
        progress = f" {state.progress}" if state.progress else ""
        nodes.append(
            {
                "data": {
                    "id": node.id,
                    "label": f"{node.id}\n{node.kind} · {state.status}{progress}",
                    "kind": node.kind,
                    "status": state.status,
                    "fan_out": node.fan_out,
                }
            }
        )
    edges = [
        {"data": {"id": f"{up}->{node.id}", "source": up, "target": node.id}}
        for node in workflow.nodes
        for up in node.upstream
    ]
    return nodes + edges


def graph_layout(workflow: ir.Workflow | None) -> dict:
    # Cytoscape re-runs a layout only when this dict changes: "nodes" makes it change with the node set.
    return {
        "name": "dagre",
        "rankDir": "TB",
        "nodeSep": 30,
        "rankSep": 50,
        "animate": False,
        "nodes": [n.id for n in workflow.nodes] if workflow else [],
    }


def node_list(workflow: ir.Workflow, states: dict[str, data.NodeState]):
    """The statuses as text too: readable without the canvas (and by tests)."""
    from dash import html

    return html.Table(
        [
            html.Tbody(
                [
                    html.Tr(
                        [
                            html.Td(node.id),
                            html.Td(node.kind, className="muted"),
                            html.Td(
                                f"{states[node.id].status} {states[node.id].progress}".strip(),
                                className=f"badge status-{states[node.id].status.replace(' ', '-')}",
                            ),
                        ],
                        **{"data-node": node.id, "data-status": states[node.id].status},
                    )
                    for node in workflow.nodes
                ]
            )
        ],
        className="node-list",
    )


def legend():
    from dash import html

    return html.Div(
        [html.Span(status, className=f"badge status-{status.replace(' ', '-')}") for status in COLOURS],
        className="legend",
    )


def page(root: Path, view: data.RepoView):
    import dash_cytoscape as cyto
    from dash import dcc, html

    workflows = [w.id for w in view.document.workflows] if view.document else []
    return html.Div(
        [
            html.Header([html.H1("modelyard"), html.Span(str(root), className="muted", id="repo-path")]),
            html.Div(
                className="toolbar",
                children=[
                    dcc.Dropdown(
                        id="workflow",
                        options=[{"label": w, "value": w} for w in workflows],
                        value=workflows[0] if workflows else None,
                        clearable=False,
                        placeholder="no workflows",
                        className="workflow-picker",
                    ),
                    html.Button("Run workflow", id="run-workflow", n_clicks=0),
                    html.Button("Run selected node", id="run-node", n_clicks=0, disabled=True),
                    html.Button("Reload repo", id="reload", n_clicks=0, title="re-read and re-check the repo's files"),
                    html.Span(id="run-status", className="run-status"),
                    html.Span(id="run-feedback", className="run-feedback"),
                ],
            ),
            # Nothing above the graph changes height: cytoscape caches where its canvas is on the page.
            html.Div(
                className="main",
                children=[
                    html.Div(
                        className="left",
                        children=[
                            cyto.Cytoscape(
                                id="graph",
                                elements=[],
                                layout=graph_layout(None),
                                stylesheet=STYLESHEET,
                                style={"width": "100%", "height": "420px"},
                                userZoomingEnabled=True,
                                minZoom=0.3,
                                maxZoom=2.5,
                                autoungrabify=True,
                            ),
                            legend(),
                            html.Div(id="node-list"),
                        ],
                    ),
                    html.Div(
                        className="right",
                        children=[
                            html.Div(id="messages"),
                            html.Pre(id="run-error", className="message message-error", hidden=True),
                            html.Div(
                                id="panel",
                                children=html.Div("Click a node of the graph to see what it holds.", className="muted"),
                            ),
                        ],
                    ),
                ],
            ),
            html.Details([html.Summary("Run log"), html.Pre(id="run-log", className="log")], open=True),
            dcc.Interval(id="tick", interval=TICK_MS),
            dcc.Store(id="version"),
            dcc.Store(id="results-version"),
            dcc.Store(id="selected"),
        ]
    )
