#!/usr/bin/env bash
# The whole test suite, from a fresh machine: virtualenv, dependencies, system packages, pytest.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/bootstrap.sh "airflow,ui,dev"
# The UI tests drive Debian's Chromium through Playwright (never `playwright install`: it downloads).
if ! command -v chromium >/dev/null 2>&1; then
  sudo=""; [ "$(id -u)" -eq 0 ] || sudo="sudo"
  $sudo apt-get update -q && $sudo apt-get install -y -q chromium
fi
exec .venv/bin/python -m pytest -n 2 "$@"
