"""The process a UI run happens in: ``python -m modelyard.ui.worker ROOT WORKFLOW [--node ID]``.

A fresh process per run reads the repo, compiles it and imports the trainer code anew, so an
edited trainer is picked up without restarting the UI; it runs the workflow with the same runner
as the CLI and keeps the status record up to date. Its output is the run's log.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from modelyard.engine.runfolder import latest_run_dir
from modelyard.errors import ModelyardError
from modelyard.ui.data import has_result
from modelyard.ui.status import Recorder


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m modelyard.ui.worker", description=__doc__.splitlines()[0])
    parser.add_argument("root", help="the model repo")
    parser.add_argument("workflow", help="workflow id")
    parser.add_argument("--node", help="run only this node, in the workflow's latest run folder")
    parser.add_argument("--log", help="where this process's output goes (kept in the status record)")
    return parser


def run(root: Path, workflow_id: str, node: str | None, recorder: Recorder) -> None:
    from modelyard.compile import compile_project
    from modelyard.console import progress_printer
    from modelyard.engine.context import for_settings
    from modelyard.execute.runner import run_workflow
    from modelyard.gitinfo import source_info
    from modelyard.validate.project import load_project

    project = load_project(root)
    source = source_info(root)
    document = compile_project(project, source)
    try:
        workflow = document.workflow(workflow_id)
    except KeyError:
        raise ModelyardError(
            f"the repo has no workflow {workflow_id!r} any more", hint="press Reload to see the current workflows"
        ) from None
    if node is not None and node not in {n.id for n in workflow.nodes}:
        raise ModelyardError(f"workflow {workflow_id!r} has no node {node!r}", hint="press Reload")
    # A single node reads its upstream outputs from the latest run folder, so it runs in that folder.
    previous = latest_run_dir(project.settings.runs_dir, workflow_id) if node else None
    ctx = for_settings(project.settings, workflow_id, source=source, run_id=previous.name if previous else None)
    if node is not None:
        _check_upstream(workflow, node, ctx.run_dir)
    recorder.begin(workflow, {node} if node else None, ctx.run_dir)
    printer = progress_printer(workflow_id)

    def on_event(event: dict) -> None:
        recorder.on_event(event)
        printer(event)

    run_workflow(workflow, ctx, workers=os.cpu_count() or 1, on_event=on_event, only={node} if node else None)


def _check_upstream(workflow, node_id: str, run_dir: Path) -> None:
    missing = [u for u in workflow.node(node_id).upstream if not has_result(run_dir, u)]
    if missing:
        raise ModelyardError(
            f"node {node_id!r} needs the results of {', '.join(missing)}, which the latest run "
            f"of {workflow.id} does not have",
            hint="run the whole workflow (or those nodes) first",
        )


def main(argv: list[str] | None = None) -> int:
    from modelyard.console import err
    from modelyard.repo.project import load_settings

    args = _parser().parse_args(argv)
    root = Path(args.root).resolve()
    try:
        state_dir = load_settings(root).state_dir
    except ModelyardError:
        state_dir = root / ".modelyard"
    recorder = Recorder(state_dir, args.workflow, args.log)
    try:
        run(root, args.workflow, args.node, recorder)
    except ModelyardError as exc:
        recorder.finish(str(exc))
        sys.stderr.write(f"error: {exc}\n")
        return 1
    recorder.finish()
    err().print(f"{args.workflow}: done")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
