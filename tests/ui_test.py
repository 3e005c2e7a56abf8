"""`modelyard ui` in a real browser: the real command serves a generated repo; a headless Chromium
(the CHROMIUM environment variable, else `chromium` or `chromium-browser` on PATH), driven by
Playwright, clicks through it. Screenshots go to test-artifacts/ui/."""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from conftest import ROOT, cli, edit_file, warehouse_rows

CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
ARTIFACTS = ROOT / "test-artifacts" / "ui"
EXTRACT = "extract__extract_inputs__training_data"
NODES = [EXTRACT, "train", "evaluate", "refit", "register"]
SUCCEEDED_RGB = "rgb(47,158,68)"  # layout.COLOURS["succeeded"]
TRAINER = "trainers/sklearn/sklearn_linear.py"
TIMEOUT_MS = 60_000


def chromium_executable() -> str:
    """The browser binary: $CHROMIUM if set, else Debian's `chromium` or Ubuntu's `chromium-browser`."""
    if os.environ.get("CHROMIUM"):
        path = os.environ["CHROMIUM"]
        if not (os.path.isfile(path) and os.access(path, os.X_OK)):
            pytest.fail(f"CHROMIUM={path} is not an executable file")
        return path
    for name in ("chromium", "chromium-browser"):
        if found := shutil.which(name):
            return found
    pytest.fail(
        "no Chromium found: set CHROMIUM to its executable, or install it "
        "(scripts/test.sh runs `apt-get install chromium` on Debian)"
    )


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextlib.contextmanager
def ui_server(repo: Path):
    """The real `modelyard ui` on a free port; yields its URL."""
    port = _free_port()
    log = repo.parent / "ui-server.log"
    with open(log, "wb") as out:
        proc = subprocess.Popen(
            [str(Path(sys.executable).with_name("modelyard")), "ui", "--port", str(port)],
            cwd=repo,
            stdout=out,
            stderr=subprocess.STDOUT,
            env={**os.environ},
        )
    url = f"http://127.0.0.1:{port}/"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                urllib.request.urlopen(url, timeout=2).read()
                break
            except OSError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    pytest.fail(f"modelyard ui did not start:\n{log.read_text()}")
                time.sleep(0.2)
        yield url
    finally:
        proc.terminate()
        proc.wait(timeout=20)


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=chromium_executable(), args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


class Page:
    """A browser tab that remembers console errors and saves screenshots under a test's name."""

    def __init__(self, page, name: str):
        self.page, self.name, self.errors = page, name, []
        page.set_default_timeout(TIMEOUT_MS)
        page.on("console", lambda message: self.errors.append(message.text) if message.type == "error" else None)
        page.on("pageerror", lambda error: self.errors.append(str(error)))

    def shot(self, step: str) -> None:
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        self.page.screenshot(path=str(ARTIFACTS / f"{self.name}-{step}.png"), full_page=True)

    def graph_nodes(self) -> dict[str, str]:
        """Node id -> background colour, as cytoscape draws them on the canvas."""
        return self.page.evaluate(
            "() => Object.fromEntries(document.getElementById('graph')._cyreg.cy.nodes()"
            ".map(n => [n.id(), n.style('background-color')]))"
        )

    def click_node(self, node_id: str) -> None:
        """A real mouse click on the node where cytoscape drew it."""
        self.page.wait_for_function(
            "() => { const c = document.getElementById('graph'); return c && c._cyreg && c._cyreg.cy.nodes().length > 0 }"
        )
        point = self.page.evaluate(
            """id => { const c = document.getElementById('graph'); const p = c._cyreg.cy.getElementById(id).renderedPosition();
                       const r = c.getBoundingClientRect(); return {x: r.left + p.x, y: r.top + p.y}; }""",
            node_id,
        )
        self.page.mouse.click(point["x"], point["y"])
        self.page.wait_for_function("id => document.getElementById('panel-node')?.textContent === id", arg=node_id)

    def choose_workflow(self, workflow_id: str) -> None:
        self.page.click("#workflow")
        self.page.get_by_role("option", name=workflow_id, exact=True).click()

    def table(self, table_id: str, columns: list[str]) -> list[list[str]]:
        """The cells of a Dash table's page as the browser shows them, row by row."""
        self.page.wait_for_selector(f"#{table_id} td")
        return self.page.evaluate(
            """([id, columns]) => [...document.querySelectorAll(`#${id} tbody tr`)]
                 .filter(tr => tr.querySelector('td'))
                 .map(tr => columns.map(c => tr.querySelector(`td[data-dash-column="${c}"]`).innerText))""",
            [table_id, columns],
        )

    def wait_status(self, node_id: str, status: str) -> None:
        self.page.wait_for_selector(f"#node-list tr[data-node='{node_id}'][data-status='{status}']")

    def run_workflow(self, button: str = "#run-workflow") -> None:
        self.page.click(button)
        self.page.wait_for_selector("#run-workflow:disabled")  # the run started
        self.page.wait_for_selector("#run-workflow:enabled")  # and ended


@pytest.fixture
def tab(browser, request):
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    page = Page(context.new_page(), request.node.name)
    yield page
    page.shot("last")
    context.close()


def _rows_where_x0_above_one(repo: Path) -> int:
    import csv

    with open(repo / "data" / "sample_data.csv") as handle:
        return sum(1 for row in csv.DictReader(handle) if float(row["x_0"]) > 1)


def _edit(path: Path, old: str, new: str) -> int:
    """Replace ``old`` in a file; return the line number of the new text."""
    text = path.read_text()
    assert old in text, old
    text = text.replace(old, new, 1)
    path.write_text(text)
    return text[: text.index(new)].count("\n") + 1


def test_graph_run_explore_and_edit_trainer(model_repo, tab):
    page = tab.page
    with ui_server(model_repo) as url:
        page.goto(url)
        tab.choose_workflow("model_linear_regression")
        page.wait_for_selector("#no-runs:has-text('No runs of model_linear_regression yet')")
        for node in NODES:
            tab.wait_status(node, "never run")
        assert sorted(tab.graph_nodes()) == sorted(NODES)
        tab.shot("1-never-run")

        tab.click_node(EXTRACT)
        assert "FROM sample_data" in page.inner_text("#extract-sql")
        page.wait_for_selector("#panel :text('is not in the warehouse yet')")

        tab.run_workflow()
        for node in NODES:
            tab.wait_status(node, "succeeded")
        assert page.inner_text("#run-status").startswith("last run succeeded")
        assert set(tab.graph_nodes().values()) == {SUCCEEDED_RGB}
        assert "train ok" in page.inner_text("#run-log")
        tab.shot("2-succeeded")

        tab.click_node("register")
        page.wait_for_selector("#envelope:has-text('sample_regression_model_v1')")
        assert "r2" in page.inner_text("#metrics-table")

        tab.click_node(EXTRACT)  # after the run, the cached dataset
        page.wait_for_selector("#dataset-table td")
        assert "2730 row(s), page 1 of" in page.inner_text("#dataset-count")
        profile = page.inner_text("#dataset-profile")
        assert "DOUBLE" in profile and "DATE" in profile and "null_percentage" in profile
        page.fill("#dataset-filter", "x_0 > 1")
        page.press("#dataset-filter", "Enter")
        expected = _rows_where_x0_above_one(model_repo)
        page.wait_for_selector(f"#dataset-count:has-text('{expected} row(s) matching the filter, page 1')")
        page.click("#dataset-table .next-page")
        page.wait_for_selector(f"#dataset-count:has-text('{expected} row(s) matching the filter, page 2')")
        first_x0 = page.inner_text("#dataset-table td[data-dash-column='x_0']")
        assert float(first_x0) > 1
        tab.shot("3-dataset")

        trainer = model_repo / TRAINER
        _edit(
            trainer,
            '"r2": metrics.r2_score(df[self.target_label], predicted),',
            '"r2": metrics.r2_score(df[self.target_label], predicted),\n            "ui_probe": 42.0,',
        )
        tab.wait_status("train", "stale")  # the page noticed the edit by itself
        tab.wait_status(EXTRACT, "succeeded")
        tab.run_workflow()
        tab.wait_status("register", "succeeded")
        tab.click_node("register")
        page.wait_for_selector("#metrics-table :text('ui_probe')")  # the new code ran, app not restarted
        assert "reused cached table" in page.inner_text("#run-log")

        tab.click_node("evaluate")  # one node, in the latest run folder
        tab.run_workflow("#run-node")
        log = page.inner_text("#run-log")
        assert "evaluate ok" in log and "train ..." not in log

        line = _edit(
            trainer,
            "        regression_model = linear_model.LinearRegression(",
            "        raise ValueError('probe failure')\n        regression_model = linear_model.LinearRegression(",
        )
        tab.run_workflow()
        tab.wait_status("train", "failed")
        error = page.inner_text("#run-error")
        assert f"{TRAINER}:{line}" in error and "ValueError: probe failure" in error
        assert page.inner_text("#run-status").startswith("last run failed")
        tab.click_node("train")
        assert "probe failure" in page.inner_text("#node-error")
        tab.shot("4-failed")
    assert tab.errors == []


def test_invalid_repo_shows_errors_then_recovers(model_repo, tab):
    page = tab.page
    model = model_repo / "models" / "model_linear_regression.yaml"
    line = _edit(model, "model_name: A regression model", "modle_name: A regression model")
    with ui_server(model_repo) as url:
        page.goto(url)
        page.wait_for_selector("#config-errors")
        errors = page.inner_text("#config-errors")
        assert "The repo does not validate" in errors
        assert re.search(rf"models/model_linear_regression\.yaml:{line}:\d+: error", errors), errors
        assert page.is_disabled("#run-workflow")
        tab.shot("1-errors")

        _edit(model, "modle_name:", "model_name:")
        page.wait_for_selector("#config-errors", state="detached")  # fixed on disk: the page updates
        page.reload()
        page.wait_for_selector("#node-list tr")
        assert page.is_enabled("#run-workflow")
    assert tab.errors == []


def test_locked_warehouse_is_a_message(trained_repo, tab):
    page = tab.page
    warehouse = trained_repo / ".modelyard" / "warehouse.duckdb"
    locker = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import duckdb, sys; con = duckdb.connect(sys.argv[1]); print('locked', flush=True); sys.stdin.read()",
            str(warehouse),
        ],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert locker.stdout.readline().strip() == "locked"
        with ui_server(trained_repo) as url:
            page.goto(url)
            page.wait_for_selector("#warehouse-message:has-text('is locked by another process')")
            tab.click_node(EXTRACT)
            page.wait_for_selector("#dataset-message:has-text('is locked by another process')")
            tab.shot("1-locked")
            locker.stdin.close()
            locker.wait(timeout=20)
            page.click("#reload")
            page.wait_for_selector("#warehouse-message", state="detached")
            tab.click_node(EXTRACT)
            page.wait_for_selector("#dataset-table td")
    finally:
        locker.kill()
        locker.wait()
    assert tab.errors == []


def test_a_busy_port_is_a_clear_error_before_anything_says_running(model_repo):
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        result = cli("ui", "--port", str(port), cwd=model_repo, timeout=60)
    assert result.returncode == 1, result
    assert "Traceback" not in result.stderr and "open http" not in result.stderr, result
    assert f"cannot serve on 127.0.0.1:{port}: Address already in use" in result.stderr, result
    assert f"another program uses port {port}; choose another with --port" in result.stderr, result


def test_a_tuning_report_draws_with_the_shared_plotly_js(model_repo, tab):
    (model_repo / "tuning" / "small.yaml").write_text(
        "model: model_elastic_net.yaml\ntuning_type: grid\nparam_boundaries:\n  alpha: [0.1, 0.3, 0.1]\n"
    )
    tuned = cli("tune", "tuning/small.yaml", "--format", "json", cwd=model_repo)
    assert tuned.returncode == 0, tuned
    report = Path(tuned.json()["plot"]).relative_to(model_repo / ".modelyard" / "reports").as_posix()
    with ui_server(model_repo) as url:
        tab.page.goto(f"{url}reports/{report}")
        tab.page.wait_for_selector(".js-plotly-plot .main-svg")  # plotly.js loaded from the reports folder and drew
        tab.shot("1-report")
    assert tab.errors == []


def test_tuning_and_backtest_panels_show_the_real_runs(model_repo, tab):
    """`modelyard tune` and `modelyard backtest` run for real; the UI reads their run folders, and
    shows each trial and window as the warehouse tables the gather nodes wrote hold them."""
    (model_repo / "tuning" / "small.yaml").write_text(
        "model: model_elastic_net.yaml\ntuning_type: grid\nparam_boundaries:\n  alpha: [0.1, 0.3, 0.1]\n"
    )
    edit_file(model_repo / "models" / "model_linear_regression.yaml", "days_backward: 60", "days_backward: 20")
    for args in (["tune", "tuning/small.yaml"], ["backtest", "models/model_linear_regression.yaml"]):
        result = cli(*args, cwd=model_repo)
        assert result.returncode == 0, result
    trials = warehouse_rows(
        model_repo, "SELECT trial, param_alpha, metric_mean_squared_error FROM tuning.tune__small_trials ORDER BY trial"
    )
    assert [(trial, alpha) for trial, alpha, _ in trials] == [(1, 0.1), (2, 0.2), (3, 0.3)]
    windows = warehouse_rows(
        model_repo,
        "SELECT window_index, strftime(test_start, '%Y-%m-%d'), test_rows, r2 "
        "FROM backtest.model_linear_regression_windows ORDER BY window_index",
    )
    # 20 days back from the data's last day (03-31): 10 days of training and 5 of test, slid by 2
    starts = [start for _, start, _, _ in windows]
    assert starts == ["2024-03-23", "2024-03-25", "2024-03-27"]
    (mean_r2,) = warehouse_rows(
        model_repo, "SELECT mean FROM backtest.model_linear_regression_summary WHERE metric = 'r2'"
    )

    page = tab.page
    with ui_server(model_repo) as url:
        page.goto(url)
        tab.choose_workflow("tune__small")
        tab.wait_status("trials", "succeeded")
        tab.click_node("trials")
        shown = tab.table("items-trials", ["trial", "params.alpha", "metrics.mean_squared_error"])
        assert sorted((int(t), float(a), float(m)) for t, a, m in shown) == trials
        tab.click_node("select")
        best = dict(tab.table("gather-result", ["key", "value"]))
        assert float(best["best_params.alpha"]) == min(trials, key=lambda t: t[2])[1]
        tab.shot("1-trials")

        tab.choose_workflow("backtest__model_linear_regression")
        tab.wait_status("summary", "succeeded")
        tab.click_node("windows")
        shown = tab.table("items-windows", ["window", "test_start", "test_rows", "metrics.r2"])
        assert [(int(w), start[:10], int(rows), float(r2)) for w, start, rows, r2 in shown] == windows
        tab.click_node("summary")
        summary = dict(tab.table("gather-result", ["key", "value"]))
        assert float(summary["summary.r2.mean"]) == pytest.approx(mean_r2[0], rel=1e-12)
        tab.shot("2-windows")
    assert tab.errors == []
