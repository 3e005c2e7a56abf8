"""Compile a model with a ``split_config`` into its ``backtest__<model>`` workflow:

extracts -> split (windows from the data's dates) -> windows (fan-out) -> summary
"""

from __future__ import annotations

from modelyard import ir
from modelyard.repo.layout import backtest_id, workflow_id
from modelyard.repo.project import ModelSpec, Project
from modelyard.workflows.backtest.specs import Split, Summary, Windows
from modelyard.workflows.backtest.splits import WindowSizes
from modelyard.workflows.train.build import model_inputs, model_workflow, trainer_spec


def backtest_workflow(project: Project, model: ModelSpec) -> ir.Workflow:
    """extracts -> split (windows from the data's dates) -> windows (fan-out) -> summary."""
    split = model.split_config
    doc = project.documents[model.file]
    extract_nodes, inputs = model_inputs(project, model)
    trainer, code_hash = trainer_spec(project, model)
    config_hash = ir.content_hash(doc.data)
    stem = workflow_id(model.file)
    dataset = {
        "param": split.train_param_name,
        "table": inputs[split.train_param_name]["table"],
        "time_column": split.time_column,
    }
    lines = {key: doc.where(("split_config", key)).line for key in ("time_column", "days_backward", "as_of")}
    nodes = [
        *extract_nodes,
        ir.Node.of(
            "split",
            (inputs[split.train_param_name]["node"],),
            Split(
                **dataset,
                strategy=split.strategy,
                as_of=split.as_of,
                sizes=WindowSizes.of(split).to_json(),
                model_file=model.file,
                lines={"split_config": split.position.line, **lines},
            ),
            {"config": ir.content_hash(doc.data["split_config"])},
        ),
        ir.Node.of(
            "windows",
            ("split", *(n.id for n in extract_nodes)),
            Windows(**trainer, **dataset, inputs=inputs, items_from="split"),
            {"config": config_hash, "trainer_code": code_hash},
        ),
        ir.Node.of(
            "summary",
            ("windows",),
            Summary(
                windows_node="windows",
                table=f"backtest.{stem}_windows",
                summary_table=f"backtest.{stem}_summary",
                report=f"backtest__{stem}.html",
            ),
            {"config": config_hash},
        ),
    ]
    return model_workflow(backtest_id(model.file), "backtest", model, extract_nodes, trainer, nodes)


def build(project: Project) -> list[ir.Workflow]:
    return [backtest_workflow(project, m) for m in project.models.values() if m.split_config is not None]
