#!/usr/bin/env bash
# The whole test suite, from a fresh machine: virtualenv, dependencies, system packages, pytest.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/bootstrap.sh "airflow,ui,dev"
exec .venv/bin/python -m pytest -n 2 "$@"
