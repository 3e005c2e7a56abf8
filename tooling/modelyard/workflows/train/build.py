"""Compile a model file into its train workflow: extracts -> train -> evaluate -> register.

The pieces every model-based workflow shares (extract nodes and the extracts they read, the
trainer's spec and code hash, the register spec, the source files) live here too: tuning and
backtesting build on them. Compiling renders SQL and hashes sources; it never touches the
warehouse or imports trainer code.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from modelyard import ir
from modelyard.errors import ConfigError, Diagnostic, ModelyardError, Position
from modelyard.repo.layout import workflow_id
from modelyard.repo.project import ExtractSpec, ModelSpec, Project
from modelyard.repo.sqltemplate import extract_tables, read_sql, render_sql, template_variables
from modelyard.repo.trainer_source import code_hash, trainer_code_files
from modelyard.workflows.train import specs
from modelyard.workflows.tune import holdout


def file_hash(root: Path, rel: str) -> str:
    return ir.content_hash((root / rel).read_bytes())


def extract_node_id(spec: ExtractSpec) -> str:
    return f"extract__{spec.table.split('.', 1)[1]}"


def upstream_extracts(project: Project, sql: str) -> list[ExtractSpec]:
    """The extracts whose tables ``sql`` (rendered) reads."""
    by_table = {spec.table.lower(): spec for spec in project.extracts.values()}
    found = {
        by_table[table.lower()].key: by_table[table.lower()]
        for table, _ in extract_tables(sql)
        if table.lower() in by_table
    }
    return [found[key] for key in sorted(found)]


def render_extract(project: Project, spec: ExtractSpec) -> tuple[str, str, dict | None]:
    """An extract's template, its rendered SQL, and the target it was rendered for (None when the
    SQL does not read ``target``). The one rendering that compile and validate both use."""
    text = read_sql(project.root, spec.sql_file)
    # SQL may branch on the target (`{% if target.type == 'postgres' %}`): rendered for the chosen
    # target, which the node records so a run on another target refuses it instead of running it
    target = None
    if "target" in template_variables(text) and "target" not in spec.kwargs:
        target = project.settings.target().jinja()
    kwargs = {**spec.kwargs, "target": target} if target else spec.kwargs
    return text, render_sql(text, kwargs, spec.sql_file, spec.kwargs_position), target


def extract_node(project: Project, spec: ExtractSpec) -> ir.Node:
    _, sql, target = render_extract(project, spec)
    body = project.documents[spec.file].data[spec.name]
    return ir.Node.of(
        extract_node_id(spec),
        [extract_node_id(up) for up in upstream_extracts(project, sql)],
        specs.Extract(
            table=spec.table,
            sql=sql,
            extract_file=spec.file,
            dataset=spec.name,
            sql_file=spec.sql_file,
            line=spec.position.line,
            allow_empty=spec.allow_empty,
            target=target or None,
        ),
        # the rendered SQL text's own sha256 (what `sha256sum` gives), recorded in the envelope's lineage
        {"config": ir.content_hash(body), "sql": ir.content_hash(sql.encode())},
    )


def extract_nodes(project: Project, specs: list[ExtractSpec]) -> list[ir.Node]:
    """Nodes for ``specs`` and, first, for every extract they read, transitively."""
    nodes: dict[str, ir.Node] = {}
    path: list[ExtractSpec] = []

    def add(spec: ExtractSpec) -> None:
        node_id = extract_node_id(spec)
        if node_id in nodes:
            return
        if spec in path:  # only reachable through a jinja-built table name; validate sees literal ones
            cycle = path[path.index(spec) :] + [spec]
            raise ConfigError(
                [
                    Diagnostic(
                        spec.position,
                        "error",
                        "cycle",
                        "extracts read each other in a cycle: " + " -> ".join(f"{s.file}:{s.name}" for s in cycle),
                    )
                ]
            )
        path.append(spec)
        node = extract_node(project, spec)
        for up in node.upstream:
            add(next(s for s in project.extracts.values() if extract_node_id(s) == up))
        path.pop()
        nodes[node_id] = node

    for spec in specs:
        add(spec)
    return list(nodes.values())


def model_inputs(project: Project, model: ModelSpec) -> tuple[list[ir.Node], dict[str, dict[str, str]]]:
    specs = [project.extracts[(dep.file, dep.file_param_name)] for dep in model.dependencies]
    inputs = {
        dep.train_param_name: {"node": extract_node_id(spec), "table": spec.table}
        for dep, spec in zip(model.dependencies, specs, strict=True)
    }
    return extract_nodes(project, specs), inputs


def trainer_spec(project: Project, model: ModelSpec) -> tuple[dict[str, Any], str]:
    """The ``specs.Trainer`` fields of ``model`` (every kind that constructs its trainer takes
    them), and the hash of the trainer's code."""
    files = trainer_code_files(project.root, model.trainer_file)
    return (
        {
            "trainer": model.model_trainer,
            "trainer_file": model.trainer_file,
            "trainer_files": files,
            "constructor_args": model.constructor_args,
        },
        code_hash(project.root, files),
    )


def register_spec(
    project: Project,
    model: ModelSpec,
    extract_nodes: list[ir.Node],
    inputs: dict[str, dict[str, str]],
    **links: str,
) -> specs.Register:
    """``links``: the register node's ``model_node``, ``metrics_node`` and ``lineage_from``."""
    extracts = [(specs.Extract.of(n), n.hash_parts["sql"]) for n in extract_nodes]
    return specs.Register(
        canonical_name=model.canonical_name,
        model_name=model.model_name,
        model_description=model.model_description,
        tags=model.tags,
        model_file=model.file,
        drift_thresholds=model.monitoring.drift,
        lineage={
            "model_file_sha256": file_hash(project.root, model.file),
            "extracts": [
                {
                    "extract_file": extract.extract_file,
                    "dataset": extract.dataset,
                    "extract_file_sha256": file_hash(project.root, extract.extract_file),
                    "rendered_sql_sha256": sql_hash,
                    "table": extract.table,
                }
                for extract, sql_hash in extracts
            ],
            "trainer": model.model_trainer,
        },
        constructor_args=model.constructor_args,
        row_count_inputs=inputs,
        **links,
    )


def workflow_settings(model: ModelSpec) -> dict[str, Any]:
    return {"schedule": model.schedule, "retries": model.retries, "environment": {}}


def source_files(model: ModelSpec, extract_nodes: list[ir.Node], trainer: dict) -> list[str]:
    files = {model.file, *trainer["trainer_files"]}
    for extract in map(specs.Extract.of, extract_nodes):
        files.update({extract.extract_file, extract.sql_file})
    return sorted(files)


def model_workflow(
    wid: str,
    kind: str,
    model: ModelSpec,
    extract_nodes: list[ir.Node],
    trainer: dict,
    nodes: list[ir.Node],
    settings: dict[str, Any] | None = None,
) -> ir.Workflow:
    """A workflow of ``model``: its source files are the model's, its trainer's and its extracts'."""
    return ir.Workflow(
        wid,
        kind,
        tuple(source_files(model, extract_nodes, trainer)),
        settings or workflow_settings(model),
        ir.seal(nodes),
    )


def evaluation_split(project: Project, model: ModelSpec, inputs: dict) -> dict[str, Any] | None:
    """The held-out split ``run`` trains beside and scores on (``holdout.split``'s argument), or
    None when the model file says ``evaluation: in_sample``."""
    evaluation, split = model.evaluation, model.split_config
    if evaluation.holdout is None:
        return None
    doc = project.documents[model.file]

    def where(path: tuple) -> Position:
        # an undeclared (default) evaluation has no line of its own: point at the datasets it splits
        return doc.where(("evaluation", "dataset", *path) if evaluation.declared else ("dependencies", "data"))

    try:
        dataset = holdout.resolve_dataset(
            evaluation.dataset,
            split.train_param_name if split else None,
            list(inputs),
            "evaluation.dataset",
            where,
        )
    except ModelyardError as exc:
        if not evaluation.declared:
            exc.hint = (
                f"add `evaluation: {{holdout: {evaluation.holdout}, dataset: NAME}}` to the model file "
                "(or `evaluation: in_sample` to score on the training rows)"
            )
        raise
    return {
        "key": "evaluation",
        "dataset": dataset,
        "strategy": "time" if split else "random",
        "fraction": evaluation.holdout,
        "time_column": split.time_column if split else "date",
        "seed": evaluation.seed,
        "file": model.file,
        "line": where(()).line,
    }


def metrics_source(kind: str, validation: dict[str, Any] | None, refit: bool) -> dict[str, Any]:
    """What a stored version's metrics were scored on (``metrics_source`` in its envelope)."""
    if validation is None:
        return {"kind": kind}
    keep = ("fraction", "seed", "strategy", "dataset") + (("time_column",) if validation["strategy"] == "time" else ())
    return {"kind": kind, **{k: validation[k] for k in keep}, "refit_on_all_rows": refit}


def train_workflow(project: Project, model: ModelSpec) -> ir.Workflow:
    """extracts -> train -> evaluate -> register; with a held-out evaluation (the default) train
    fits the training rows, evaluate scores the held-out rows, and ``refit`` (unless
    ``evaluation.refit: false``) trains the stored model on all rows after the score is known."""
    extract_nodes, inputs = model_inputs(project, model)
    trainer, trainer_hash = trainer_spec(project, model)
    config_hash = ir.content_hash(project.documents[model.file].data)
    extract_ids = tuple(n.id for n in extract_nodes)
    validation = evaluation_split(project, model, inputs)
    refit = validation is not None and model.evaluation.refit
    parts = {"config": config_hash, "trainer_code": trainer_hash}
    source = metrics_source("holdout" if validation else "in_sample", validation, refit)
    nodes = [
        *extract_nodes,
        ir.Node.of("train", extract_ids, specs.Train(**trainer, inputs=inputs, validation=validation), parts),
        ir.Node.of(
            "evaluate",
            ("train", *extract_ids),
            specs.Evaluate(**trainer, inputs=inputs, model_node="train", validation=validation, metrics_source=source),
            parts,
        ),
    ]
    if refit:
        # after evaluate: a trainer that cannot be scored fails before the second, longer fit
        nodes.append(ir.Node.of("refit", ("evaluate", *extract_ids), specs.Train(**trainer, inputs=inputs), parts))
    stored = "refit" if refit else "train"
    register = register_spec(project, model, extract_nodes, inputs, model_node=stored, metrics_node="evaluate")
    nodes.append(ir.Node.of("register", (stored, "evaluate"), register, {"config": config_hash}))
    return model_workflow(workflow_id(model.file), "train", model, extract_nodes, trainer, nodes)


def build(project: Project) -> list[ir.Workflow]:
    return [train_workflow(project, model) for model in project.models.values()]
