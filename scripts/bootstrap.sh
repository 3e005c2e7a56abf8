#!/usr/bin/env bash
# Create (or reuse) .venv with a Python >= 3.11 and install modelyard with the given extras, every
# package at the version constraints.txt pins (regenerate it with scripts/lock.sh).
# Usage: scripts/bootstrap.sh [EXTRAS]   e.g. scripts/bootstrap.sh "airflow,ui,dev"
set -euo pipefail
cd "$(dirname "$0")/.."
extras="${1:-}"
constraints=constraints.txt
[ -f "$constraints" ] || { echo "bootstrap: $constraints is missing (scripts/lock.sh writes it)" >&2; exit 1; }
# pip's exit status survives the filter (pipefail); the filter only drops pip-config noise.
quiet() { "$@" 2>&1 | { grep -v -e "is ignored" -e "^$" >&2 || true; }; }
. scripts/find_python.sh
find_python
[ -x .venv/bin/python ] || "$py" -m venv .venv
spec="."
[ -n "$extras" ] && spec=".[${extras}]"
# Skip the install when this venv already holds this checkout, this pyproject.toml and this constraints.txt
# with (at least) these extras: the test suite runs the demo in the venv it installed with more extras.
stamp=".venv/.modelyard-installed"
key="$(pwd) $(cksum < pyproject.toml) $(cksum < "$constraints")"
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
  # uv (pinned in constraints.txt) installs the pins in a fraction of pip's time; pip installs them
  # itself only when uv cannot be installed. The stamp is written only after the install and the
  # import check both succeeded.
  if quiet .venv/bin/python -m pip install -q -c "$constraints" --upgrade pip uv; then
    install=(.venv/bin/python scripts/uv_install.py)
  else
    echo "bootstrap: uv could not be installed; installing with pip" >&2
    quiet .venv/bin/python -m pip install -q -c "$constraints" --upgrade pip ||
      { echo "bootstrap: pip install --upgrade pip failed" >&2; exit 1; }
    install=(quiet .venv/bin/python -m pip install -q)
  fi
  if ! "${install[@]}" -c "$constraints" -e "$spec"; then
    echo "bootstrap: installing -c $constraints -e '$spec' failed; .venv is not marked installed" >&2
    exit 1
  fi
  .venv/bin/python -c "import modelyard" || { echo "bootstrap: installing modelyard failed" >&2; exit 1; }
  echo "$key extras=$extras" >> "$stamp"
fi
