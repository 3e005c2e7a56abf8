#!/usr/bin/env bash
# Create (or reuse) .venv with a Python >= 3.11 and install modelyard with the given extras.
# Usage: scripts/bootstrap.sh [EXTRAS]   e.g. scripts/bootstrap.sh "airflow,ui,dev"
set -euo pipefail
cd "$(dirname "$0")/.."
extras="${1:-}"
py=""
for candidate in python3.13 python3.12 python3.11 python3; do
  if command -v "$candidate" >/dev/null 2>&1 &&
     "$candidate" -c 'import sys; raise SystemExit(sys.version_info < (3, 11))' 2>/dev/null; then
    py="$candidate"; break
  fi
done
[ -n "$py" ] || { echo "modelyard needs Python 3.11 or newer on PATH" >&2; exit 1; }
if [ ! -x .venv/bin/python ]; then
  "$py" -m venv .venv
  .venv/bin/python -m pip install -q --upgrade pip
fi
spec="."
[ -n "$extras" ] && spec=".[${extras}]"
# Skip pip when this venv already holds this checkout with these extras and this pyproject.toml.
stamp=".venv/.modelyard-installed"
want="$(pwd) ${extras} $(cksum < pyproject.toml)"
if [ "$(cat "$stamp" 2>/dev/null)" != "$want" ] && ! grep -qxF "$want" "$stamp.all" 2>/dev/null; then
  .venv/bin/python -m pip install -q -e "$spec" 2>&1 | grep -v -e "is ignored" -e "^$" || true
  .venv/bin/python -c "import modelyard" || { echo "installing modelyard failed" >&2; exit 1; }
  echo "$want" > "$stamp"
  echo "$want" >> "$stamp.all"
fi
