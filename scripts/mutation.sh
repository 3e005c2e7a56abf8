#!/usr/bin/env bash
# Mutation testing of the pure modules with mutmut: each module is mutated in turn and the fast
# in-process unit tests (tests/unit/) must fail on every mutant. Not part of CI (minutes per module);
# docs/testing.md records the kill rates and why each surviving mutant is equivalent.
#   bash scripts/mutation.sh                  every module listed below, one at a time
#   bash scripts/mutation.sh ir.py            only these (paths under tooling/modelyard/)
# Needs mutmut 3 in the environment (`pip install -e '.[dev]'`). MUTATION_JOBS (default 2) bounds
# the processes it runs at once; MUTATION_DIR (default .mutation/, gitignored) is its scratch copy.
# MUTATION_MIN=85 makes it exit 1 when a module's kill rate is below 85% (a gate for CI, e.g. on
# checks/names.py, one to two minutes).
set -euo pipefail
cd "$(dirname "$0")/.."
root="$PWD"
python="${PYTHON:-python}"
jobs="${MUTATION_JOBS:-2}"
min_rate="${MUTATION_MIN:-0}"
below=()
work="${MUTATION_DIR:-$root/.mutation}"
modules=("$@")
if [ ${#modules[@]} -eq 0 ]; then
  modules=(
    ir.py
    workflows/backtest/splits/__init__.py
    workflows/backtest/splits/sliding.py
    workflows/backtest/splits/expanding.py
    workflows/tune/search/grid.py
    workflows/tune/search/gaussian_process.py
    workflows/tune/objective.py
    publish/plan.py
    publish/manifest.py
    checks/names.py
    checks/tuning.py
    checks/references.py
    checks/trainers.py
    checks/cache.py
    checks/seeds.py
    checks/sql.py
    compile/__init__.py
    workflows/train/build.py
    workflows/tune/build.py
    workflows/backtest/build.py
    workflows/score/build.py
  )
fi

# mutmut derives module names from paths relative to where it runs and puts mutants/ first on
# sys.path, so it runs in a copy where the package sits at the top, as `modelyard/`.
summary="$work/summary.tsv"
mkdir -p "$work"
: >"$summary"
for module in "${modules[@]}"; do
  [ -f "tooling/modelyard/$module" ] || { echo "no module tooling/modelyard/$module" >&2; exit 1; }
  scratch="$work/run"
  rm -rf "$scratch"
  mkdir -p "$scratch/tests"
  cp -rL tooling/modelyard "$scratch/modelyard"
  cp -r tests/unit "$scratch/tests/unit"
  cat >"$scratch/pyproject.toml" <<TOML
[tool.mutmut]
source_paths = ["modelyard"]
only_mutate = ["modelyard/$module"]
pytest_add_cli_args_test_selection = ["tests/unit"]
pytest_add_cli_args = ["-p", "no:cacheprovider", "-p", "no:dash"]

[tool.pytest.ini_options]
python_files = ["*_test.py"]
TOML
  echo "== modelyard/$module" >&2
  (cd "$scratch" && env -u PYTHONPATH "$python" -m mutmut run --max-children "$jobs" >"$work/run.log" 2>&1) ||
    { tail -40 "$work/run.log" >&2; exit 1; }
  (cd "$scratch" && env -u PYTHONPATH "$python" -m mutmut results --all true >"$work/results.txt" 2>&1) || true
  # a mutant that makes the tests hang (an endless loop) is caught as surely as one that fails them
  killed=$(grep -c -E ': (killed|timeout)$' "$work/results.txt" || true)
  total=$(grep -c ': ' "$work/results.txt" || true)
  # each surviving mutant as a diff: kill it with a test, or say in docs/testing.md why it is equivalent
  for mutant in $(grep -v -E ': (killed|timeout)$' "$work/results.txt" | sed -E 's/^ *([^:]+):.*/\1/'); do
    (cd "$scratch" && env -u PYTHONPATH "$python" -m mutmut show "$mutant") >&2 || true
  done
  printf '%s\t%s\t%s\n' "$module" "$killed" "$total" | tee -a "$summary" >&2
  [ $((killed * 100)) -ge $((total * min_rate)) ] || below+=("$module")
done
echo "module	killed	mutants" >&2
cat "$summary" >&2
if [ ${#below[@]} -gt 0 ]; then
  echo "kill rate below ${min_rate}%: ${below[*]}" >&2
  exit 1
fi
