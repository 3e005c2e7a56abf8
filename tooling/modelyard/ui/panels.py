"""What a clicked node shows, by node kind: ``PANELS`` maps a kind's spec type (registered in
``execute.node.KINDS``) to a function ``(NodeView) -> Dash component``. Kinds without an entry
get the generic panel (spec and result), so a new node kind is drawn and inspectable before
anyone writes a panel for it.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable
from typing import Any

from modelyard import ir
from modelyard.errors import WarehouseError
from modelyard.execute.node import KINDS, spec_of
from modelyard.repo.project import Settings
from modelyard.store.models import describe_metrics_source
from modelyard.ui import data
from modelyard.workflows.backtest.specs import Summary, Windows
from modelyard.workflows.score.specs import Monitor, Score
from modelyard.workflows.train.specs import Evaluate, Extract, Register, Train, Trainer
from modelyard.workflows.tune.specs import Select, Trials

PAGE_SIZE = 15
MAX_PLOTS = 6


@dataclasses.dataclass(frozen=True)
class NodeView:
    settings: Settings
    workflow: ir.Workflow
    node: ir.Node
    state: data.NodeState


def _json(value: Any, **props):
    from dash import html

    return html.Pre(json.dumps(value, indent=2, sort_keys=True, default=str), className="json", **props)


def _section(title: str, *children):
    from dash import html

    return html.Section([html.H4(title), *children], className="panel-section")


def _table(rows: list[dict], table_id: str, *, page_size: int = PAGE_SIZE):
    from dash import dash_table

    columns = list(dict.fromkeys(key for row in rows for key in row))
    return dash_table.DataTable(
        id=table_id,
        data=rows,
        columns=[{"name": c, "id": c} for c in columns],
        page_size=page_size,
        sort_action="native",
        style_table={"overflowX": "auto"},
        style_cell={"fontFamily": "monospace", "fontSize": 12},
    )


def _message(text: str, level: str = "warn"):
    from dash import html

    return html.Div(text, className=f"message message-{level}")


def header(view: NodeView):
    from dash import html

    node, state = view.node, view.state
    parts = [
        html.H3(
            [
                html.Span(node.id, id="panel-node"),
                html.Span(state.status, className=f"badge status-{state.status.replace(' ', '-')}", id="panel-status"),
            ]
        ),
        html.Div(
            [
                f"kind {node.kind}",
                " · fan-out" if node.fan_out else "",
                f" · upstream: {', '.join(node.upstream) or 'none'}",
                f" · hash {node.hash[:12]}",
            ],
            className="muted",
        ),
    ]
    if state.error:
        parts.append(html.Pre(state.error, className="message message-error", id="node-error"))
    if state.status == "never run":
        parts.append(_message("This node has not run yet: press Run workflow, or Run selected node.", "info"))
    return html.Div(parts)


def dataset_explorer(settings: Settings, table: str):
    """A warehouse table: column types and statistics, then a filtered, paged sample (the
    ``dataset`` callback fills the sample from the table named in the ``dataset-name`` store)."""
    from dash import dash_table, dcc, html

    try:
        profile = _table(data.dataset_profile(settings, table), "dataset-profile", page_size=50)
    except WarehouseError as exc:
        profile = _message(str(exc))
    return html.Div(
        [
            dcc.Store(id="dataset-name", data=table),
            _section("Columns: types and summary statistics", profile),
            _section(
                "Sample",
                html.Div(
                    [
                        dcc.Input(
                            id="dataset-filter",
                            type="text",
                            debounce=True,
                            className="filter",
                            placeholder="filter: an SQL condition, e.g. x_0 > 0 AND y < 1 (Enter to apply)",
                        ),
                        html.Span(id="dataset-count", className="muted"),
                    ]
                ),
                html.Div(id="dataset-message"),
                dash_table.DataTable(
                    id="dataset-table",
                    page_action="custom",
                    page_current=0,
                    page_size=PAGE_SIZE,
                    data=[],
                    columns=[],
                    style_table={"overflowX": "auto"},
                    style_cell={"fontFamily": "monospace", "fontSize": 12},
                ),
            ),
        ]
    )


def _result_dataset(view: NodeView, result: dict | None) -> list:
    """A node whose result names a warehouse table (e.g. all tuning trials) gets that table's explorer."""
    table = (result or {}).get("table")
    if not isinstance(table, str):
        return []
    return [_section(f"Warehouse table {table}", dataset_explorer(view.settings, table))]


def extract_panel(view: NodeView):
    from dash import html

    spec = Extract.of(view.node)
    where = f"{spec.extract_file}:{spec.line}" if spec.line else spec.extract_file
    return html.Div(
        [
            html.Div([f"dataset {spec.dataset} ({where}) → table {spec.table}"], className="muted"),
            _section("Rendered SQL", html.Pre(spec.sql, className="sql", id="extract-sql")),
            dataset_explorer(view.settings, spec.table),
        ]
    )


def _result_of_kind(view: NodeView, kind: type[ir.NodeSpec]) -> dict | None:
    for node in view.workflow.nodes:
        if node.kind == kind.kind:
            return data.node_result(view.state.run_dir, node.id)
    return None


def model_panel(view: NodeView):
    """train, evaluate and register: the trainer, this node's result, the metrics, the envelope."""
    from dash import html

    spec = spec_of(view.node)
    parts = []
    if isinstance(spec, Trainer):
        parts.append(
            _section("Trainer", html.Div(f"{spec.trainer} ({spec.trainer_file})"), _json(spec.constructor_args))
        )
    result = data.node_result(view.state.run_dir, view.node.id)
    if result is not None:
        parts.append(_section("Result of this node", _json(result, id="node-result")))
    log = data.training_log(view.state.run_dir, view.node.id)
    if log and log.get("history"):
        parts.append(_section("Training curves", *_curves(log["history"])))
    evaluated = _result_of_kind(view, Evaluate)
    if evaluated and evaluated.get("metrics"):
        rows = [{"metric": k, "value": v} for k, v in evaluated["metrics"].items()]
        scored_on = html.Div(f"scored on: {describe_metrics_source(evaluated)}", id="evaluate-source")
        parts.append(_section("Metrics", scored_on, _table(rows, "metrics-table")))
    stored = data.envelope(view.settings, _result_of_kind(view, Register))
    if stored and stored.get("drift"):
        drift = stored["drift"]
        rows = [
            {"dataset": name, **{k: c[k] for k in ("column", "family", "value", "level")}}
            for name, report in drift["datasets"].items()
            for c in report["columns"]
        ]
        changes = [{"dataset": n, **c} for n, r in drift["datasets"].items() for c in r["schema_changes"]]
        parts.append(
            _section(
                f"Training data drift against version {drift['against_version']} (PSI): {drift['status']}",
                _table(rows, "training-drift"),
                *([_table(changes, "training-schema-changes")] if changes else []),
            )
        )
    if stored:
        parts.append(
            _section(
                f"Envelope of {stored.get('canonical_name')} version {stored.get('version')}",
                html.Div(f"metrics scored on: {describe_metrics_source(stored)}", id="metrics-source"),
                _json(stored, id="envelope"),
            )
        )
    return html.Div(parts)


def _curves(history: dict[str, dict[str, list]]):
    """One chart per logged metric against the training step (per-epoch values at their epoch's last step)."""
    import plotly.graph_objects as go
    from dash import dcc

    graphs = []
    for name, series in list(history.items())[:MAX_PLOTS]:
        figure = go.Figure(
            go.Scatter(
                x=series["step"],
                y=series["value"],
                mode="lines+markers" if len(series["value"]) <= 50 else "lines",
                text=[f"epoch {e}" for e in series["epoch"]],
            )
        )
        figure.update_layout(title=name, height=260, margin={"l": 50, "r": 10, "t": 40, "b": 40}, xaxis_title="step")
        graphs.append(dcc.Graph(figure=figure, config={"displaylogo": False}, className="training-curve"))
    return graphs


def _numeric(rows: list[dict], column: str) -> bool:
    return all(isinstance(r.get(column), (int, float)) and not isinstance(r.get(column), bool) for r in rows)


def _charts(rows: list[dict]) -> list[tuple[str, str, str]]:
    """(x, y, mode) of the charts worth drawing across items: every metric along the items (by test
    window start when items are windows), then the first metric against each searched parameter."""
    columns = list(dict.fromkeys(k for r in rows for k in r))
    x = next((c for c in columns if c.endswith("test_start")), "item")
    params = [c for c in columns if c.startswith("params.") and _numeric(rows, c)]
    varying = [
        c for c in columns if c not in (x, "item", *params) and _numeric(rows, c) and len({r[c] for r in rows}) > 1
    ]
    metrics = [c for c in varying if c.startswith("metrics.")] or varying
    charts = [(x, m, "lines+markers") for m in metrics]
    if metrics:
        charts += [(p, metrics[0], "markers") for p in params]
    return charts[:MAX_PLOTS]


def _plots(rows: list[dict]):
    import plotly.graph_objects as go
    from dash import dcc

    graphs = []
    for x, y, mode in _charts(rows):
        figure = go.Figure(
            go.Scatter(
                x=[r.get(x) for r in rows], y=[r[y] for r in rows], mode=mode, text=[f"item {r['item']}" for r in rows]
            )
        )
        figure.update_layout(
            title=y if x == "item" or x.endswith("test_start") else f"{y} by {x}",
            height=260,
            margin={"l": 50, "r": 10, "t": 40, "b": 40},
            xaxis_title=x,
        )
        graphs.append(dcc.Graph(figure=figure, config={"displaylogo": False}, className="item-plot"))
    return graphs


def _items(view: NodeView, node: ir.Node):
    from dash import html

    results = data.item_results(view.state.run_dir, node.id)
    if not results:
        return _message(f"no results of {node.id} yet", "info")
    rows = [{"item": i, **data.flatten(r)} for i, r in enumerate(results)]
    return html.Div(
        [
            html.Div(f"{len(rows)} item(s) of {node.id}", className="muted"),
            _table(rows, f"items-{node.id}"),
            *_plots(rows),
        ]
    )


def _reports(view: NodeView):
    from dash import html

    names = data.reports(view.settings, view.workflow.id)
    if not names:
        return []
    return [_section("Reports", html.Ul([html.Li(html.A(n, href=f"/reports/{n}", target="_blank")) for n in names]))]


def fan_out_panel(view: NodeView):
    """trials, windows: one row per item (parameters, metrics), charts across items, reports."""
    from dash import html

    return html.Div([_section("Items", _items(view, view.node)), *_reports(view)])


def gather_panel(view: NodeView):
    """select, summary: the gathered result, the items it gathered, reports."""
    from dash import html

    result = data.node_result(view.state.run_dir, view.node.id)
    parts = []
    if result is not None:
        rows = [{"key": k, "value": v} for k, v in data.flatten(result).items()]
        parts.append(_section("Result", _table(rows, "gather-result")))
    for upstream in view.node.upstream:
        node = view.workflow.node(upstream)
        if node.fan_out:
            parts.append(_section(f"Items of {node.id}", _items(view, node)))
    return html.Div([*parts, *_reports(view), *_result_dataset(view, result)])


def _over_time(rows: list[dict], key: str, title: str):
    """One line per figure (``key``'s values) over the scoring runs."""
    import plotly.graph_objects as go
    from dash import dcc

    figure = go.Figure()
    for name in dict.fromkeys(r[key] for r in rows):
        mine = [r for r in rows if r[key] == name]
        figure.add_trace(go.Scatter(x=[r["scored_at"] for r in mine], y=[r["value"] for r in mine], name=str(name)))
    figure.update_layout(title=title, height=300, margin={"l": 50, "r": 10, "t": 40, "b": 40})
    return dcc.Graph(figure=figure, config={"displaylogo": False}, className="item-plot")


def monitoring_panel(view: NodeView):
    """score and monitor: the model's monitoring: the latest scoring run's drift per column and
    metrics, and every monitored figure over the runs (from the warehouse's monitoring tables)."""
    from dash import html

    monitor = Monitor.of(next(n for n in view.workflow.nodes if n.kind == Monitor.kind))
    parts = []
    result = data.node_result(view.state.run_dir, view.node.id)
    if result is not None:
        parts.append(_section("Result of this node", _json(result, id="node-result")))
    try:
        rows, last = data.monitoring(view.settings, monitor.tables)
    except WarehouseError as exc:
        return html.Div([*parts, _message(str(exc))])
    if last is None:
        return html.Div([*parts, _message("no scoring run recorded yet", "info"), *_reports(view)])
    level = {"ok": "info", "warn": "warn", "fail": "error"}[last["status"]]
    summary = (
        f"latest scoring run {last['run_id']} (version {last['version']}, {last['runs']} run(s)): {last['status']}"
    )
    parts.append(_message(summary, level))
    parts += [_message(line, "error" if "fail" in line else "warn") for line in last["crossed"]]
    latest_drift = [{k: r[k] for k in ("dataset", "column_name", "value", "level")} for r in last["drift"]]
    parts.append(_section("Drift per column (latest run, PSI)", _table(latest_drift, "monitoring-drift")))
    if last["metrics"]:
        metrics = [{k: r[k] for k in ("metric", "value", "level", "labelled_rows")} for r in last["metrics"]]
        parts.append(_section("Metrics (latest run)", _table(metrics, "monitoring-metrics")))
    psi = [dict(r, column=f"{r['dataset']}.{r['column_name']}") for r in rows["drift"] if r["statistic"] == "psi"]
    graphs = [_over_time(psi, "column", "PSI per column over scoring runs")] if psi else []
    if rows["metrics"]:
        graphs.append(_over_time(rows["metrics"], "metric", "metrics over scoring runs"))
    parts.append(_section("Over time", *graphs))
    return html.Div([*parts, *_reports(view)])


def generic_panel(view: NodeView):
    from dash import html

    result = data.node_result(view.state.run_dir, view.node.id)
    return html.Div(([_section("Result", _json(result))] if result is not None else []) + _result_dataset(view, result))


PANELS: dict[type[ir.NodeSpec], Callable[[NodeView], Any]] = {
    Extract: extract_panel,
    Train: model_panel,
    Evaluate: model_panel,
    Register: model_panel,
    Trials: fan_out_panel,
    Windows: fan_out_panel,
    Select: gather_panel,
    Summary: gather_panel,
    Score: monitoring_panel,
    Monitor: monitoring_panel,
}


def panel_of(node: ir.Node) -> Callable[[NodeView], Any]:
    kind = KINDS.get(node.kind)
    return PANELS.get(kind.spec, generic_panel) if kind else generic_panel


def render(view: NodeView):
    from dash import html

    body = panel_of(view.node)(view)
    spec = html.Details([html.Summary("IR spec of this node"), _json(view.node.spec)], className="panel-section")
    return html.Div([header(view), body, spec])
