#!/usr/bin/env bash
# The whole test suite, from a fresh machine: virtualenv, dependencies, system packages, pytest.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/bootstrap.sh "airflow,ui,team,dev"
# System packages the tests drive: Debian's Chromium for the UI tests (through Playwright; never
# `playwright install`, it downloads a browser), npm for the YAML language server editor test, and
# PostgreSQL's server binaries for tests/servers.py (it starts throwaway clusters of its own).
missing=()
compgen -G "/usr/lib/postgresql/*/bin/initdb" >/dev/null || missing+=(postgresql)
command -v chromium >/dev/null 2>&1 || missing+=(chromium)
command -v npm >/dev/null 2>&1 || missing+=(nodejs npm)
if [ ${#missing[@]} -gt 0 ]; then
  sudo=""; [ "$(id -u)" -eq 0 ] || sudo="sudo"
  $sudo apt-get update -q && $sudo apt-get install -y -q "${missing[@]}"
fi
exec .venv/bin/python -m pytest -n 2 "$@"
