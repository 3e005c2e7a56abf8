"""Names two files must not share, in process, on repos the tests write: workflow ids, warehouse
tables and canonical names, with every message written out."""

from __future__ import annotations

import pytest

from modelyard.checks.names import check_unique_names
from modelyard.errors import Diagnostic, Position

RENAME = "rename one of the files"


def clash(path, line, col, message):
    return Diagnostic(Position(path, line, col), "error", "duplicate-name", message)


def test_distinct_names_pass(load_repo, model_yaml):
    project = load_repo(
        {
            "models/a.yaml": model_yaml("a", split=True, scoring=True),
            "models/b.yaml": model_yaml("b", split=True, scoring=True),
            "tuning/a.yaml": "model: a.yaml\ntuning_type: grid\nparam_boundaries:\n  x: [1, 2, 1]\n",
        }
    )
    assert list(check_unique_names(project)) == []


def test_a_nested_model_and_a_flat_one_make_one_workflow(load_repo, model_yaml):
    project = load_repo({"models/a/b.yaml": model_yaml("x"), "models/a__b.yaml": model_yaml("y")})
    assert list(check_unique_names(project)) == [
        clash("models/a/b.yaml", 0, 0, f"models/a/b.yaml and models/a__b.yaml both make workflow 'a__b'; {RENAME}"),
        clash("models/a__b.yaml", 0, 0, f"models/a__b.yaml and models/a/b.yaml both make workflow 'a__b'; {RENAME}"),
    ]


BACKTEST = f"both make workflow 'backtest__m'; {RENAME}"
SCORE = f"both make workflow 'score__m'; {RENAME}"


@pytest.mark.parametrize("splits_and_scores", [True, False])
def test_a_backtest_and_a_scoring_workflow_clash_with_models_named_like_them(load_repo, model_yaml, splits_and_scores):
    project = load_repo(
        {
            "models/m.yaml": model_yaml("m", split=splits_and_scores, scoring=splits_and_scores),
            "models/backtest__m.yaml": model_yaml("b"),
            "models/score__m.yaml": model_yaml("s"),
        }
    )
    expected = [
        clash("models/backtest__m.yaml", 0, 0, f"models/backtest__m.yaml and models/m.yaml {BACKTEST}"),
        clash("models/m.yaml", 0, 0, f"models/m.yaml and models/backtest__m.yaml {BACKTEST}"),
        clash("models/m.yaml", 0, 0, f"models/m.yaml and models/score__m.yaml {SCORE}"),
        clash("models/score__m.yaml", 0, 0, f"models/score__m.yaml and models/m.yaml {SCORE}"),
    ]
    # without split_config or scoring, models/m.yaml makes neither workflow
    assert list(check_unique_names(project)) == (expected if splits_and_scores else [])


def test_a_tuning_file_clashes_with_a_model_named_like_its_workflow(load_repo, model_yaml):
    project = load_repo(
        {
            "models/tune__t.yaml": model_yaml("t"),
            "tuning/t.yaml": "model: tune__t.yaml\ntuning_type: grid\nparam_boundaries:\n  x: [1, 2, 1]\n",
        }
    )
    assert list(check_unique_names(project)) == [
        clash(
            "models/tune__t.yaml", 0, 0, f"models/tune__t.yaml and tuning/t.yaml both make workflow 'tune__t'; {RENAME}"
        ),
        clash("tuning/t.yaml", 0, 0, f"tuning/t.yaml and models/tune__t.yaml both make workflow 'tune__t'; {RENAME}"),
    ]


def test_three_claims_name_the_two_others(load_repo, model_yaml):
    project = load_repo(
        {
            "models/a/b/c.yaml": model_yaml("c1"),
            "models/a__b/c.yaml": model_yaml("c2"),
            "models/a/b__c.yaml": model_yaml("c3"),
        }
    )
    assert [d.message for d in check_unique_names(project)][0] == (
        f"models/a/b/c.yaml and models/a/b__c.yaml, models/a__b/c.yaml both make workflow 'a__b__c'; {RENAME}"
    )


def test_tables_are_compared_ignoring_case(load_repo):
    dataset = "{}:\n  operator: sql\n  sql_file: rows.sql\n"
    project = load_repo({"extracts/x.yaml": dataset.format("Rows"), "extracts/team/X.yaml": dataset.format("rows")})
    hint = "rename the file or the dataset"
    assert list(check_unique_names(project)) == [
        clash(
            "extracts/team/X.yaml",
            1,
            1,
            f"extracts/team/X.yaml:rows and extracts/x.yaml:Rows both make warehouse table 'extracts.x__rows'; {hint}",
        ),
        clash(
            "extracts/x.yaml",
            1,
            1,
            f"extracts/x.yaml:Rows and extracts/team/X.yaml:rows both make warehouse table 'extracts.x__rows'; {hint}",
        ),
    ]


def test_two_models_with_one_canonical_name(load_repo, model_yaml):
    project = load_repo({"models/a.yaml": model_yaml("same"), "models/b.yaml": "# b\n" + model_yaml("same")})
    hint = "their versions would interleave in the model store; give each model its own canonical_name"
    assert list(check_unique_names(project)) == [
        clash("models/a.yaml", 4, 19, f"models/a.yaml and models/b.yaml both use tags.canonical_name 'same'; {hint}"),
        clash("models/b.yaml", 5, 19, f"models/b.yaml and models/a.yaml both use tags.canonical_name 'same'; {hint}"),
    ]
