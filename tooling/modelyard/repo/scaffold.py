"""Create a model repo from the template shipped inside the package, with cookiecutter.

The template lives in the package as ``bundled_template`` (a symlink to the repo's ``template/`` in
a checkout, real files in a wheel), so ``modelyard new`` works wherever modelyard is installed.
"""

from __future__ import annotations

import os
import shutil
import uuid
from importlib import resources
from pathlib import Path
from typing import Any

from modelyard.errors import ModelyardError


def template_dir() -> Path:
    return Path(str(resources.files("modelyard") / "bundled_template"))


def _check_free(path: Path) -> None:
    if path.exists() and (not path.is_dir() or any(path.iterdir())):
        raise ModelyardError(f"{path} already exists and is not empty", hint="choose a new folder")


def new_repo(path: Path | None, name: str | None, no_input: bool, context: dict[str, Any]) -> Path:
    """Generate the repo at ``path`` (default: ``./<repo_name>``); nothing is left behind on failure."""
    from cookiecutter.exceptions import CookiecutterException
    from cookiecutter.main import cookiecutter

    context = dict(context)
    path = Path(os.path.abspath(path)) if path else None  # `modelyard new .` names the repo after cwd
    if name or path:
        context["repo_name"] = name or path.name
    parent = path.parent if path else Path.cwd()
    if path:
        _check_free(path)  # before asking anything
    parent.mkdir(parents=True, exist_ok=True)
    staging = parent / f".modelyard-new-{uuid.uuid4().hex}"
    try:
        created = Path(
            cookiecutter(str(template_dir()), no_input=no_input, output_dir=str(staging), extra_context=context)
        )
        final = path or parent / created.name
        _check_free(final)
        if final.is_dir():  # an empty folder, maybe the user's cwd: fill it rather than replace it
            for child in created.iterdir():
                os.rename(child, final / child.name)
        else:
            os.rename(created, final)
    except CookiecutterException as exc:
        raise ModelyardError(f"the template could not be rendered: {exc}") from None
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return final
