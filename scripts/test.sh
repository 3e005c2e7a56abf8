#!/usr/bin/env bash
# The whole test suite, from a fresh machine: virtualenv, dependencies, system packages, pytest.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/bootstrap.sh "airflow,ui,team,mlflow,torch,dev"
# System packages the tests drive: a Chromium for the UI tests (through Playwright; $CHROMIUM, else
# `chromium`/`chromium-browser` on PATH, else Debian's `chromium` from apt; this script never runs
# `playwright install`, it downloads a browser), npm for the YAML language server editor test, and
# PostgreSQL's server binaries for tests/servers.py (it starts throwaway clusters of its own).
missing=()
compgen -G "/usr/lib/postgresql/*/bin/initdb" >/dev/null || missing+=(postgresql)
if [ -n "${CHROMIUM:-}" ]; then
  [ -x "$CHROMIUM" ] || { echo "CHROMIUM=$CHROMIUM is not an executable" >&2; exit 1; }
elif ! command -v chromium >/dev/null 2>&1 && ! command -v chromium-browser >/dev/null 2>&1; then
  missing+=(chromium)
fi
command -v npm >/dev/null 2>&1 || missing+=(nodejs npm)
if [ ${#missing[@]} -gt 0 ]; then
  sudo=""; [ "$(id -u)" -eq 0 ] || sudo="sudo"
  $sudo apt-get update -q && $sudo apt-get install -y -q "${missing[@]}"
fi
# The YAML language server for tests/editor_lsp_test.py, exactly as tests/lsp/package-lock.json pins it;
# npm ci again only when the lock file changed.
lsp_stamp=tests/lsp/node_modules/.modelyard-lock
lsp_key="$(cksum < tests/lsp/package-lock.json)"
if [ "$(cat "$lsp_stamp" 2>/dev/null)" != "$lsp_key" ]; then
  npm ci --prefix tests/lsp --no-audit --no-fund --loglevel=error
  echo "$lsp_key" > "$lsp_stamp"
fi
# The package's shape (docs/architecture.md) and lint, before the slower tests
.venv/bin/lint-imports --no-cache
.venv/bin/ruff check tooling tests benchmarks scripts
.venv/bin/ruff format --check tooling tests benchmarks scripts
# modelyard's own bytecode, compiled once (the installed packages got theirs at install): where
# PYTHONDONTWRITEBYTECODE is set (it was wherever docs/testing.md measured), every CLI process the
# tests start would compile the modules it imports again, a sixth of a CLI-heavy test's CPU time.
.venv/bin/python -m compileall -q -j 0 tooling
# xdist deals the tests in the order and groups that tests/schedule_conftest.py sets.
exec .venv/bin/python -m pytest -n 2 "$@"
