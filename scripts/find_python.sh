# Sourced by bootstrap.sh and lock.sh: sets $py to $PYTHON, else the oldest Python >= 3.11 on PATH.
# The oldest first: constraints.txt is locked with 3.11 (pins and markers resolve for the locking
# interpreter, and some pinned wheels, such as torch's CPU build here, exist for 3.11 only).
find_python() {
  py="${PYTHON:-}"
  [ -n "$py" ] && return 0
  local candidate
  for candidate in python3.11 python3.12 python3.13 python3; do
    if command -v "$candidate" >/dev/null 2>&1 &&
       "$candidate" -c 'import sys; raise SystemExit(sys.version_info < (3, 11))' 2>/dev/null; then
      py="$candidate"; return 0
    fi
  done
  echo "modelyard needs Python 3.11 or newer on PATH (or PYTHON=...)" >&2
  return 1
}
