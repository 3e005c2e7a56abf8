#!/usr/bin/env bash
# The main job, from a fresh machine: generate a model repo from the template into demo-output/,
# then train, tune, backtest, score and monitor the example on the embedded DuckDB warehouse
# (monitoring catches the drifted column of the new rows), printing where results went.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/bootstrap.sh ui  # the UI too: the demo ends by pointing at `modelyard ui`
venv="$PWD/.venv/bin"
out="$PWD/demo-output"
rm -rf "$out" && mkdir -p "$out"
"$venv/cookiecutter" --no-input . -o "$out" repo_name=example-models >/dev/null
repo="$out/example-models"
cd "$repo"
echo "== model repo generated in $repo"
echo "== train: modelyard run models/model_linear_regression.yaml"
"$venv/modelyard" run models/model_linear_regression.yaml
echo
echo "== tune: modelyard tune tuning/tune_elastic_net.yaml (grid, 40 trials)"
"$venv/modelyard" tune tuning/tune_elastic_net.yaml
echo
echo "== backtest: modelyard backtest models/model_linear_regression.yaml (sliding windows)"
"$venv/modelyard" backtest models/model_linear_regression.yaml
echo
echo "== score: modelyard score models/model_linear_regression.yaml (new rows in data/new_rows.csv)"
"$venv/modelyard" score models/model_linear_regression.yaml
echo
echo "== monitor: modelyard monitor models/model_linear_regression.yaml (x_1 of the new rows drifted)"
"$venv/modelyard" monitor models/model_linear_regression.yaml
echo
echo "== stored models: modelyard models list"
"$venv/modelyard" models list
echo
echo "Results:"
echo "  model repo       $repo"
echo "  warehouse        $repo/.modelyard/warehouse.duckdb (tables: extracts.*, tuning.*, backtest.*, predictions.*, monitoring.*)"
echo "  model store      $repo/.modelyard/models"
find "$repo/.modelyard/reports" -name '*.html' | sort | sed 's/^/  plot (HTML)      /'
echo "  explore          cd $repo && $venv/modelyard ui"
