"""Run ``uv pip install ARGS...`` for the Python running this script, from the package sources
this machine's pip is configured with (uv reads no pip configuration: files, PIP_* variables).

scripts/bootstrap.sh installs with uv, several times faster than pip, but the pins in
constraints.txt may only be found where pip finds them (a local index, a folder of wheels), so
pip's settings are passed on, taken from ``pip config list`` at run time.
Usage: python scripts/uv_install.py -c constraints.txt -e ".[extras]"
"""

from __future__ import annotations

import ast
import os
import subprocess
import sys

# pip's precedence for `pip install`: PIP_* variables, then an [install] section, then [global]
SECTIONS = (":env:", "install", "global")

# pip option -> uv option; each value of a whitespace-separated list is passed on its own
LIST_OPTIONS = {
    "index-url": "--index-url",
    "extra-index-url": "--extra-index-url",
    "find-links": "--find-links",
    "constraint": "--constraint",
    "trusted-host": "--allow-insecure-host",
}
# pip option -> the environment variable uv reads for the same setting
ENV_OPTIONS = {"cert": "SSL_CERT_FILE", "timeout": "UV_HTTP_TIMEOUT", "default-timeout": "UV_HTTP_TIMEOUT"}
TRUE = {"1", "true", "yes", "on"}


def pip_settings() -> dict[str, str]:
    """Each option's value as `pip install` sees it (``section.option='value'`` lines)."""
    listing = subprocess.run(
        [sys.executable, "-m", "pip", "config", "list"], check=True, capture_output=True, text=True
    ).stdout
    found: dict[tuple[str, str], str] = {}
    for line in listing.splitlines():
        name, sep, value = line.partition("=")
        section, dot, option = name.rpartition(".")
        if sep and dot:
            found[section, option] = ast.literal_eval(value)
    settings: dict[str, str] = {}
    for section in reversed(SECTIONS):
        settings.update({option: value for (where, option), value in found.items() if where == section})
    return settings


def uv_command(settings: dict[str, str], args: list[str]) -> tuple[list[str], dict[str, str]]:
    from uv import find_uv_bin

    command = [find_uv_bin(), "pip", "install", "--quiet", "--python", sys.executable, "--compile-bytecode"]
    # pip takes the highest version across all its sources; uv by default stops at the first
    # index that has the package, which may not hold the pinned version.
    command += ["--index-strategy", "unsafe-best-match"]
    for option, flag in LIST_OPTIONS.items():
        for value in settings.get(option, "").split():
            command += [flag, value]
    if settings.get("no-index", "").lower() in TRUE:
        command.append("--no-index")
    env = dict(os.environ)
    for option, variable in ENV_OPTIONS.items():
        if option in settings:
            env[variable] = settings[option]
    return command + args, env


def main() -> None:
    command, env = uv_command(pip_settings(), sys.argv[1:])
    raise SystemExit(subprocess.run(command, env=env).returncode)


if __name__ == "__main__":
    main()
