"""scripts/uv_install.py, the uv half of scripts/bootstrap.sh: uv gets the package sources pip is
configured with (files and PIP_* variables, with pip's precedence), and a real `uv pip install`
through it installs from them, or fails with a non-zero exit."""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest
from conftest import ROOT, venv_with_dev_packages

SCRIPT = ROOT / "scripts" / "uv_install.py"


@pytest.fixture
def pip_config(tmp_path: Path, monkeypatch) -> Path:
    """A pip configuration file of the test's own, above this machine's; no PIP_* variables."""
    for name in [name for name in os.environ if name.startswith("PIP_")]:
        monkeypatch.delenv(name)
    monkeypatch.delenv("XDG_CONFIG_HOME", raising=False)  # ~ is the test's (conftest's _isolated_home)
    config = tmp_path / "pip.conf"
    monkeypatch.setenv("PIP_CONFIG_FILE", str(config))
    return config


def flag_values(command: list[str], flag: str) -> list[str]:
    return [command[i + 1] for i, arg in enumerate(command) if arg == flag]


def test_pip_settings_reach_uv_with_pips_precedence(pip_config: Path, monkeypatch):
    pip_config.write_text(
        "[global]\n"
        "index-url = https://global.example/simple\n"
        "extra-index-url = file:///global-one file:///global-two\n"
        "find-links = /global-wheels\n"
        "constraint = /global-pins.txt\n"
        "cert = /global.pem\n"
        "timeout = 7\n"
        "[install]\n"
        "find-links = /install-wheels /more-wheels\n"
    )
    monkeypatch.setenv("PIP_EXTRA_INDEX_URL", "file:///from-env")
    spec = importlib.util.spec_from_file_location("uv_install", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)

    command, env = module.uv_command(module.pip_settings(), ["-c", "constraints.txt", "-e", "."])
    assert command[1:3] == ["pip", "install"] and command[-4:] == ["-c", "constraints.txt", "-e", "."]
    assert flag_values(command, "--python") == [sys.executable]
    assert flag_values(command, "--index-strategy") == ["unsafe-best-match"]
    assert "--compile-bytecode" in command and "--no-index" not in command
    # a PIP_* variable over an [install] section over [global]; a list, one flag per value
    assert flag_values(command, "--index-url") == ["https://global.example/simple"]
    assert flag_values(command, "--extra-index-url") == ["file:///from-env"]
    assert flag_values(command, "--find-links") == ["/install-wheels", "/more-wheels"]
    assert flag_values(command, "--constraint") == ["/global-pins.txt"]
    assert (env["SSL_CERT_FILE"], env["UV_HTTP_TIMEOUT"]) == ("/global.pem", "7")


def test_uv_installs_from_pips_sources_only_and_fails_loudly_without_them(
    pip_config: Path, built_wheel: Path, tmp_path: Path
):
    python = venv_with_dev_packages(tmp_path / "venv")
    purelib = Path(sysconfig.get_path("purelib", vars={"base": str(tmp_path / "venv"), "platbase": ""}))
    empty = tmp_path / "no-wheels"
    empty.mkdir()

    def install() -> subprocess.CompletedProcess:
        return subprocess.run(
            [str(python), str(SCRIPT), "--no-deps", "modelyard"], capture_output=True, text=True, timeout=300
        )

    # only pip's find-links folder, which does not hold the package: uv says so and installs nothing
    pip_config.write_text(f"[global]\nno-index = true\nfind-links = {empty}\n")
    missing = install()
    assert missing.returncode != 0, missing
    assert "modelyard" in missing.stderr and "not found" in missing.stderr, missing.stderr
    assert not list(purelib.glob("modelyard*"))

    pip_config.write_text(f"[global]\nno-index = true\nfind-links = {built_wheel.parent}\n")
    found = install()
    assert found.returncode == 0, found.stderr
    version = built_wheel.name.split("-")[1]
    assert (purelib / f"modelyard-{version}.dist-info").is_dir()
    assert list((purelib / "modelyard" / "__pycache__").glob("cli.*.pyc"))  # bytecode compiled
