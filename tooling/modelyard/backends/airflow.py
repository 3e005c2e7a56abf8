"""The ``airflow`` backend: one Airflow 3 DAG file per workflow, plus its IR next to it.

For workflow ``W`` it writes ``W.py`` (the DAG, id ``W``) and ``W.ir.json`` (a one-workflow IR
document). Every task is the same TaskFlow function running one IR node through
``modelyard.execute.task.run_node``, i.e. modelyard's own runtime: local and Airflow runs share
code. A fan-out node becomes a mapped task (``.expand(index=...)``) over its item indices: fixed
at compile time (``spec.items``), or listed at run time by a small task that reads the result of
the node named in ``spec.items_from``.

The DAG file imports nothing of modelyard at parse time (the scheduler stays light); tasks find
the model repo in the published set's ``project/`` folder next to the DAG file, or through
``MODELYARD_PROJECT_DIR`` (see ``execute.task``). A deployment mistake (a target, a credential, a
connection) fails a task at once with ``AirflowFailException``: its retries would fail alike.
Rendering is a pure function of the IR: fixed start date, sorted everything, no timestamps, no
path of the machine that compiled it.
"""

from __future__ import annotations

import keyword
import math
import re
from typing import Any

from modelyard import ir
from modelyard.errors import ModelyardError, NodeError

NAME = "airflow"
LINE_LENGTH = 100
# What a task asks for when the workflow names no environment: one core, 1 GB.
DEFAULT_ENVIRONMENT = {"cpu": 1000, "memory": 1024}
DEFAULT_RETRIES = 1
RETRY_DELAY_MINUTES = 5
RESERVED = {
    "DAG",
    "Path",
    "datetime",
    "task",
    "IR_FILE",
    "WORKFLOW",
    "run_node",
    "item_indices",
    "node_task",
    "mapped_task",
    "items_task",
    "modelyard_call",
}


AIRFLOW_ID = re.compile(r"[A-Za-z0-9_.-]{1,250}")
ID_HINT = "Airflow ids take letters, digits, '_', '.' and '-' only: rename the file"


def check_ids(workflow: ir.Workflow) -> None:
    if not AIRFLOW_ID.fullmatch(workflow.id):
        raise ModelyardError(
            f"workflow {workflow.id!r} (from {', '.join(workflow.source_files)}) is not a valid Airflow DAG id",
            hint=ID_HINT,
        )
    for node in workflow.nodes:
        if not AIRFLOW_ID.fullmatch(node.id):
            raise NodeError(
                workflow.id, node.id, ModelyardError(f"{node.id!r} is not a valid Airflow task id", hint=ID_HINT)
            )


def render(document: ir.Document) -> dict[str, bytes]:
    files = {}
    for workflow in document.workflows:
        check_ids(workflow)
        single = ir.Document((workflow,), document.source)
        files[f"{workflow.id}.ir.json"] = single.dumps().encode()
        files[f"{workflow.id}.py"] = render_dag(workflow, document.source).encode()
    return files


def literal(value: Any) -> str:
    """A Python literal in black's style (double quotes), for JSON-like values."""
    if value is None or isinstance(value, (bool, int, float)):
        return repr(value)
    if isinstance(value, str):
        return '"' + value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(literal(v) for v in value) + "]"
    return "{" + ", ".join(f"{literal(str(k))}: {literal(v)}" for k, v in sorted(value.items())) + "}"


def assignment(indent: str, name: str, func: str, args: list[str]) -> list[str]:
    """``name = func(args)``, split the way black splits a call too long for one line."""
    line = f"{indent}{name} = {func}({', '.join(args)})"
    if len(line) <= LINE_LENGTH:
        return [line]
    inner = f"{indent}    {', '.join(args)}"
    if len(inner) <= LINE_LENGTH:
        return [f"{indent}{name} = {func}(", inner, f"{indent})"]
    return [f"{indent}{name} = {func}(", *[f"{indent}    {a}," for a in args], f"{indent})"]


def dependency(indent: str, upstream: list[str], name: str) -> list[str]:
    """``upstream >> name``, split the way black splits an expression too long for one line."""
    left = upstream[0] if len(upstream) == 1 else f"[{', '.join(upstream)}]"
    if len(f"{indent}{left} >> {name}") <= LINE_LENGTH:
        return [f"{indent}{left} >> {name}"]
    inner = indent + "    "
    if len(inner + left) <= LINE_LENGTH or len(upstream) == 1:
        lines = [inner + left]
    else:
        lines = [f"{inner}[", *[f"{inner}    {u}," for u in upstream], f"{inner}]"]
    return [f"{indent}(", *lines, f"{inner}>> {name}", f"{indent})"]


def identifiers(workflow: ir.Workflow) -> dict[str, str]:
    """A Python variable per node id (and per runtime item list), unique and not reserved."""
    taken = set(RESERVED)
    names = {}
    keys = [n.id for n in workflow.nodes] + [f"{n.id}#items" for n in workflow.nodes if _items_from(n)]
    for key in keys:
        base = re.sub(r"\W", "_", key.replace("#", "_"))
        base = f"n_{base}" if base[0].isdigit() else base
        name = base
        while name in taken or keyword.iskeyword(name):
            name += "_"
        taken.add(name)
        names[key] = name
    return names


def _items_from(node: ir.Node) -> str | None:
    return node.items_from if node.fan_out else None


def environment(workflow: ir.Workflow) -> dict[str, float]:
    return {**DEFAULT_ENVIRONMENT, **(workflow.settings.get("environment") or {})}


def _number(value: float) -> int | float:
    return int(value) if float(value).is_integer() else value


def default_args(workflow: ir.Workflow) -> dict[str, str]:
    """Python source of each default argument every task gets."""
    env = environment(workflow)
    resources = {"cpu_millicores": _number(env["cpu"]), "memory_mb": _number(env["memory"])}
    retries = workflow.settings.get("retries")
    arguments = {
        "retries": literal(DEFAULT_RETRIES if retries is None else retries),
        "retry_delay": f"datetime.timedelta(minutes={RETRY_DELAY_MINUTES})",
        # A pool slot per started core: size a pool by cores to keep a worker from oversubscribing.
        "pool_slots": literal(max(1, math.ceil(env["cpu"] / 1000))),
        # Recorded for executors and cluster policies (e.g. a Kubernetes pod_override); see docs/airflow.md.
        "executor_config": literal({"resources": resources}),
    }
    if isinstance(workflow.settings.get("workers"), int):
        # n_function_compute_workers: items of one mapped task running at once, as in a local run;
        # auto leaves it to the cluster's slots
        arguments["max_active_tis_per_dagrun"] = literal(workflow.settings["workers"])
    return arguments


def _docstring(text: str) -> str:
    return text.replace("\\", "\\\\").replace('"""', '\\"\\"\\"')


def header(workflow: ir.Workflow, source: dict) -> list[str]:
    commit = source.get("commit") or "none (not a git repository)"
    if source.get("commit") and source.get("dirty"):
        commit += " with uncommitted changes"
    lines = [
        "# Generated by modelyard from a model repo; do not edit. Recompile instead:",
        "#   modelyard compile --backend airflow",
        "#",
        f"# workflow: {workflow.id} ({workflow.kind})",
        f"# commit:   {commit}",
        "# sources:",
    ]
    return lines + [f"#   {path}" for path in workflow.source_files]


def doc_md(workflow: ir.Workflow, source: dict) -> list[str]:
    settings = workflow.settings
    env = environment(workflow)
    commit = (source.get("commit") or "")[:12] or "no commit"
    retries = settings.get("retries")
    lines = [
        f"### modelyard workflow `{workflow.id}` ({workflow.kind})",
        "",
        f"Each task runs one node of `{workflow.id}.ir.json` (next to this file)",
        f"with modelyard's runtime. Compiled at commit `{commit}` from:",
        "",
        *[f"- `{path}`" for path in workflow.source_files],
        "",
        "| task | kind | upstream | fan-out | hash |",
        "|---|---|---|---|---|",
    ]
    for node in workflow.nodes:
        fan = ""
        if node.fan_out:
            fan = (
                f"{len(node.fixed_items)} items" if node.fixed_items is not None else f"items of `{_items_from(node)}`"
            )
        upstream = ", ".join(f"`{u}`" for u in node.upstream)
        lines.append(f"| `{node.id}` | {node.kind} | {upstream} | {fan} | `{node.hash[:12]}` |")
    lines += [
        "",
        f"Schedule: {settings.get('schedule') or 'none (triggered manually)'}. "
        f"Retries: {DEFAULT_RETRIES if retries is None else retries}, {RETRY_DELAY_MINUTES} minutes apart.",
        f"Each task requests {_number(env['cpu'])} millicores of CPU and {_number(env['memory'])} MB of memory.",
        *(
            [f"At most {settings['workers']} items of a mapped task run at once."]
            if isinstance(settings.get("workers"), int)
            else []
        ),
        "",
        "Workers run the model repo files published next to this file (`project/`), or a checkout",
        "of the model repo at this commit named by `MODELYARD_PROJECT_DIR`. A mistake in the deployment",
        "(target, credentials, connection) fails a task at once, without retries.",
    ]
    return lines


def _helpers(workflow: ir.Workflow) -> list[str]:
    fan_out = [n for n in workflow.nodes if n.fan_out]
    lines = [
        "",
        "",
        "def modelyard_call(function, *args, **kwargs):",
        '    """Call modelyard; a deployment mistake (target, credentials, connection) fails the task',
        '    at once: every retry would fail the same way."""',
        "    from airflow.sdk.exceptions import AirflowFailException",
        "",
        "    try:",
        "        return function(*args, **kwargs)",
        "    except Exception as exc:",
        '        if getattr(exc, "retryable", True):',
        "            raise",
        "        raise AirflowFailException(str(exc)) from None",
        "",
        "",
        "@task(multiple_outputs=False)",
        "def run_node(node, index=None, run_id=None):",
        '    """Run one IR node (one item of a fan-out node) with modelyard\'s runtime."""',
        "    from modelyard.execute.task import run_node",
        "",
        "    return modelyard_call(run_node, IR_FILE, WORKFLOW, node, run_id=run_id, index=index)",
    ]
    if any(_items_from(n) for n in fan_out):
        lines += [
            "",
            "",
            "@task(multiple_outputs=False)",
            "def item_indices(node, run_id=None):",
            '    """The item indices of a fan-out node whose items an upstream node lists."""',
            "    from airflow.sdk import conf",
            "    from modelyard.execute.task import item_indices",
            "",
            '    limit = conf.getint("core", "max_map_length")  # Airflow maps at most this many items',
            "    return modelyard_call(item_indices, IR_FILE, WORKFLOW, node, run_id=run_id, limit=limit)",
        ]
    if any(not n.fan_out for n in workflow.nodes):
        lines += [
            "",
            "",
            "def node_task(node):",
            "    return run_node.override(task_id=node)(node=node)",
        ]
    if fan_out:
        lines += [
            "",
            "",
            "def mapped_task(node, indices):",
            '    """Dynamic task mapping: one task instance per item index."""',
            "    return run_node.override(task_id=node).partial(node=node).expand(index=indices)",
        ]
    if any(_items_from(n) for n in fan_out):
        lines += [
            "",
            "",
            "def items_task(node):",
            '    return item_indices.override(task_id=f"{node}__items")(node=node)',
        ]
    return lines


def _dag_arguments(workflow: ir.Workflow) -> list[str]:
    schedule = workflow.settings.get("schedule")
    lines = [
        f"    dag_id={literal(workflow.id)},",
        f"    schedule={literal(schedule)},",
        "    start_date=datetime.datetime(2024, 1, 1, tzinfo=datetime.timezone.utc),",
        "    catchup=False,",
        # One DuckDB file takes one writer at a time: runs of a workflow queue instead of colliding.
        "    max_active_runs=1,",
        "    default_args={",
    ]
    lines += [f"        {literal(key)}: {value}," for key, value in default_args(workflow).items()]
    lines += [
        "    },",
        f"    tags={literal(['modelyard', workflow.kind])},",
        "    doc_md=__doc__,",
    ]
    return lines


def _tasks(workflow: ir.Workflow, names: dict[str, str]) -> list[str]:
    lines: list[str] = []
    for node in workflow.nodes:
        name = names[node.id]
        if not node.fan_out:
            lines += assignment("    ", name, "node_task", [literal(node.id)])
        elif node.fixed_items is not None:
            count = len(node.fixed_items)
            lines += assignment("    ", name, "mapped_task", [literal(node.id), f"list(range({count}))"])
        else:
            items = names[f"{node.id}#items"]
            lines += assignment("    ", items, "items_task", [literal(node.id)])
            lines += assignment("    ", name, "mapped_task", [literal(node.id), items])
    edges: list[str] = []
    for node in workflow.nodes:
        if _items_from(node):
            edges += dependency("    ", [names[_items_from(node)]], names[f"{node.id}#items"])
        if node.upstream:
            edges += dependency("    ", [names[u] for u in node.upstream], names[node.id])
    return lines + ([""] + edges if edges else [])


def render_dag(workflow: ir.Workflow, source: dict) -> str:
    lines = [
        *header(workflow, source),
        '"""' + _docstring("\n".join(doc_md(workflow, source))),
        '"""',
        "",
        "from __future__ import annotations",
        "",
        "import datetime",
        "from pathlib import Path",
        "",
        "from airflow.sdk import DAG, task",
        "",
        f"IR_FILE = Path(__file__).with_name({literal(workflow.id + '.ir.json')})",
        f"WORKFLOW = {literal(workflow.id)}",
        *_helpers(workflow),
        "",
        "",
        "with DAG(",
        *_dag_arguments(workflow),
        "):",
        *_tasks(workflow, names=identifiers(workflow)),
    ]
    return "\n".join(lines) + "\n"
