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
# Skip pip when this venv already holds this checkout and this pyproject.toml with (at least) these
# extras: the test suite runs the demo in the venv it installed with more extras.
stamp=".venv/.modelyard-installed"
key="$(pwd) $(cksum < pyproject.toml)"
installed() {
  local line have extra
  [ -f "$stamp" ] || return 1
  while IFS= read -r line; do
    [ "${line%% extras=*}" = "$key" ] || continue
    have=",${line##* extras=},"
    for extra in ${extras//,/ }; do
      case "$have" in *",$extra,"*) ;; *) continue 2 ;; esac
    done
    return 0
  done < "$stamp"
  return 1
}
if ! installed; then
  .venv/bin/python -m pip install -q -e "$spec" 2>&1 | grep -v -e "is ignored" -e "^$" || true
  .venv/bin/python -c "import modelyard" || { echo "installing modelyard failed" >&2; exit 1; }
  echo "$key extras=$extras" >> "$stamp"
fi
