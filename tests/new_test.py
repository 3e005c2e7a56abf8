"""modelyard new: a model repo from the template bundled in the package, in a checkout and from
the built wheel."""

from __future__ import annotations

import os
import subprocess
import sys
import zipfile
from pathlib import Path

from conftest import ROOT, cli, venv_with_dev_packages

TEMPLATE = ROOT / "template" / "{{cookiecutter.repo_name}}"


def tree(folder: Path) -> dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def test_new_makes_the_same_repo_as_cookiecutter(tmp_path: Path, template_repo: Path) -> None:
    result = cli("new", "example-repo", "--no-input", cwd=tmp_path)
    assert result.returncode == 0, result
    assert result.stdout.strip() == str(tmp_path / "example-repo")
    assert tree(tmp_path / "example-repo") == tree(template_repo)
    assert (tmp_path / "example-repo" / ".github" / "workflows" / "publish.yml").is_file()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["example-repo"]  # no staging folder left
    assert cli("validate", cwd=tmp_path / "example-repo").returncode == 0


def test_name_and_template_variables(tmp_path: Path) -> None:
    result = cli(
        "new",
        "--no-input",
        "--name",
        "churn-models",
        "--set",
        "canonical_name=churn_v2",
        "--set",
        "modelyard_pip_spec=modelyard==0.1.0",
        cwd=tmp_path,
    )
    assert result.returncode == 0, result
    repo = tmp_path / "churn-models"
    assert "canonical_name: churn_v2\n" in (repo / "models" / "model_linear_regression.yaml").read_text()
    assert "\nmodelyard==0.1.0\n" in (repo / "requirements.txt").read_text()

    here = tmp_path / "here-repo"
    here.mkdir()
    assert cli("new", ".", "--no-input", cwd=here).returncode == 0  # an empty cwd is filled, not replaced
    assert (here / "README.md").read_text().startswith("# here-repo\n")

    default = cli("new", "--no-input", cwd=tmp_path)
    assert default.returncode == 0, default
    assert (tmp_path / "my-model-repo" / "modelyard.yaml").is_file()


def test_refuses_a_folder_that_is_not_empty(tmp_path: Path) -> None:
    (tmp_path / "busy").mkdir()
    (tmp_path / "busy" / "notes.txt").write_text("mine\n")
    result = cli("new", "busy", "--no-input", cwd=tmp_path)
    assert result.returncode == 1
    assert "busy already exists and is not empty" in result.stderr and "Traceback" not in result.stderr
    assert sorted(p.name for p in (tmp_path / "busy").iterdir()) == ["notes.txt"]

    bad = cli("new", "x", "--no-input", "--set", "author", cwd=tmp_path)
    assert bad.returncode == 1 and "--set 'author': expected KEY=VALUE" in bad.stderr
    assert not (tmp_path / "x").exists()


def test_the_wheel_ships_the_template_and_the_schemas(built_wheel: Path, tmp_path: Path) -> None:
    names = set(zipfile.ZipFile(built_wheel).namelist())
    bundled = "modelyard/bundled_template/"
    for path in (ROOT / "template").rglob("*"):
        if path.is_file():
            assert bundled + path.relative_to(ROOT / "template").as_posix() in names, path
    for schema in (ROOT / "schemas").glob("*.json"):
        assert f"modelyard/schemas/{schema.name}" in names
    assert bundled + "{{cookiecutter.repo_name}}/.github/workflows/pull_request.yml" in names

    # installed from the wheel alone, `modelyard new` needs no checkout
    python = venv_with_dev_packages(tmp_path / "venv")
    subprocess.run(
        [str(python), "-m", "pip", "install", "--no-index", "--no-deps", "-q", str(built_wheel)],
        check=True,
        capture_output=True,
    )
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}  # not this checkout's package
    where = subprocess.run(
        [str(python), "-c", "import modelyard; print(modelyard.__file__)"],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    assert where.stdout.startswith(str(tmp_path / "venv"))
    made = subprocess.run(
        [str(python.with_name("modelyard")), "new", "from-wheel", "--no-input"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
    )
    assert made.returncode == 0, made.stderr
    assert tree(tmp_path / "from-wheel")["modelyard.yaml"] == (TEMPLATE / "modelyard.yaml").read_bytes()


def test_without_a_terminal_it_asks_for_no_input(tmp_path: Path) -> None:
    exe = Path(sys.executable).with_name("modelyard")  # as conftest's cli(), with stdin that is no terminal
    proc = subprocess.run(
        [str(exe), "new", "my-repo"], cwd=tmp_path, stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=60
    )
    assert proc.returncode == 1, proc
    assert "Traceback" not in proc.stderr and "EOFError" not in proc.stderr, proc
    assert "modelyard new asks for the repo's settings, but there is no terminal to ask in" in proc.stderr, proc
    assert "run it with --no-input" in proc.stderr, proc
    assert list(tmp_path.iterdir()) == []  # nothing half-made
