"""The model repo files a published set carries, so Airflow workers need no checkout of the repo.

Under ``project/`` of the set: ``modelyard.yaml`` (settings and targets; it never holds a secret,
``validate`` refuses them), every file under ``trainers/`` a workflow's trainer runs (with the
``__init__.py`` of its packages, which Python runs on import), the extracts' SQL templates (to
point a run-time SQL error at its line) and the seed files of ``data/``: the extract node loads
them into whichever warehouse the target names. The bytes are those of the published commit; the
IR's ``trainer_code`` hashes cover the trainer files, and a task checks them before it runs one.
"""

from __future__ import annotations

from pathlib import Path, PurePosixPath

from modelyard import ir
from modelyard.errors import PublishError
from modelyard.execute.node import trainer_files
from modelyard.repo.layout import PUBLISHED_PROJECT, SETTINGS_FILE
from modelyard.warehouse.duckdb_warehouse import seed_files
from modelyard.workflows.train.specs import Extract

# The set's own ignore file: Airflow must not parse the trainers as DAG files.
AIRFLOWIGNORE = ".airflowignore"


def _package_inits(root: Path, rel: str) -> list[str]:
    """``trainers/a/b/c.py`` -> the ``__init__.py`` files of ``trainers/a`` and ``trainers/a/b`` that exist."""
    parts = PurePosixPath(rel).parts
    folders = [PurePosixPath(*parts[:i]) for i in range(2, len(parts))]
    return [str(f / "__init__.py") for f in folders if (root / f / "__init__.py").is_file()]


def used_files(settings, document: ir.Document) -> list[str]:
    """Repo-relative files the workflows of ``document`` read at run time."""
    root = settings.root
    files = {SETTINGS_FILE}
    for workflow in document.workflows:
        for node in workflow.nodes:
            for rel in trainer_files(node):
                files.update([rel, *_package_inits(root, rel)])
            if node.kind == Extract.kind:
                files.add(Extract.of(node).sql_file)
    data = settings.data_dir
    if not data.resolve().is_relative_to(root.resolve()):
        raise PublishError(
            f"data_dir {data} is outside the model repo, so the published set cannot carry its seed files",
            hint="keep the seed files in a folder of the repo (data_dir in modelyard.yaml)",
        )
    files.update(f.relative_to(root).as_posix() for f in seed_files(data))
    return sorted(files)


def project_files(settings, document: ir.Document) -> dict[str, bytes]:
    """``{path in the published set: bytes}`` for the repo files workers need."""
    root = settings.root
    out = {}
    for rel in used_files(settings, document):
        try:
            out[f"{PUBLISHED_PROJECT}/{rel}"] = (root / rel).read_bytes()
        except OSError as exc:
            raise PublishError(f"cannot read {rel} to publish it: {exc.strerror or exc}") from None
    out[AIRFLOWIGNORE] = f"{PUBLISHED_PROJECT}/\n".encode()
    return out
