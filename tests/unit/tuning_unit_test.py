"""Checks of tuning files and of models' split_config, in process, on repos the tests write:
every message, rule and position written out (lines and columns counted in the YAML below)."""

from __future__ import annotations

from modelyard.checks.tuning import check_split_configs, check_tuning_files
from modelyard.errors import Diagnostic, Position

TRAINER = """\
from dataclasses import dataclass


@dataclass
class Trainer:
    alpha: float
    depth: int
    name: str = "x"
    size: int | None = None


class Open:
    def __init__(self, **kwargs):
        pass
"""
TUNING = "tuning/t.yaml"


def found(load_repo, model_yaml, tuning: str, trainer: str = "linear.Trainer"):
    project = load_repo(
        {
            "trainers/linear.py": TRAINER,
            "models/m.yaml": model_yaml().replace("linear.Trainer", trainer),
            TUNING: tuning,
        }
    )
    return list(check_tuning_files(project))


def tuning_file(kind: str, bounds: str) -> str:
    """Lines 1-3 name the model, the search and `param_boundaries:`; ``bounds`` starts on line 4."""
    return f"model: m.yaml\ntuning_type: {kind}\nparam_boundaries:\n{bounds}"


def error(line, col, rule, message, path=TUNING):
    return Diagnostic(Position(path, line, col), "error", rule, message)


def test_bounds_that_fit_the_trainer_pass(load_repo, model_yaml):
    tuning = """\
model: m.yaml
tuning_type: gaussian_process
n_function_compute_workers: 1
objective: {metric: rmse}
param_boundaries:
  alpha: {min: 0.001, max: 1.0, log: true}
  depth: [1, 8, 1]
"""
    assert found(load_repo, model_yaml, tuning) == []


def test_fewer_than_one_worker(load_repo, model_yaml):
    tuning = "model: m.yaml\ntuning_type: grid\nn_function_compute_workers: 0\nparam_boundaries:\n  depth: [1, 2, 1]\n"
    assert found(load_repo, model_yaml, tuning) == [
        error(3, 29, "bad-workers", "n_function_compute_workers: 0 must be at least 1")
    ]


def test_a_parameter_the_trainer_does_not_have(load_repo, model_yaml):
    tuning = "model: m.yaml\ntuning_type: grid\nparam_boundaries:\n  alpah: [1, 2, 1]\n  zzz: [1, 2, 1]\n"
    assert found(load_repo, model_yaml, tuning) == [
        error(4, 3, "unknown-param", "param_boundaries.alpah: Trainer has no field 'alpah'; did you mean 'alpha'?"),
        error(
            5,
            3,
            "unknown-param",
            "param_boundaries.zzz: Trainer has no field 'zzz' (its fields: alpha, depth, name, size)",
        ),
    ]


def test_a_trainer_taking_any_argument_accepts_any_parameter(load_repo, model_yaml):
    tuning = "model: m.yaml\ntuning_type: grid\nparam_boundaries:\n  anything: [1, 2, 1]\n"
    assert found(load_repo, model_yaml, tuning, trainer="linear.Open") == []


def test_an_unknown_model_or_trainer_skips_the_field_checks(load_repo, model_yaml):
    tuning = "model: other.yaml\ntuning_type: grid\nparam_boundaries:\n  anything: [1, 2, 1]\n"
    assert found(load_repo, model_yaml, tuning) == []
    tuning = "model: m.yaml\ntuning_type: grid\nparam_boundaries:\n  anything: [1, 2, 1]\n"
    assert found(load_repo, model_yaml, tuning, trainer="missing.Trainer") == []


def test_bounds_of_the_wrong_type_name_the_field(load_repo, model_yaml):
    tuning = tuning_file("grid", "  depth: [1, 2.5, 0.5]\n  name: [1, 2, 1]\n  size: [0.5, 1.5, 0.5]\n")
    assert found(load_repo, model_yaml, tuning) == [
        error(
            4,
            3,
            "arg-type",
            "param_boundaries.depth: Trainer.depth is int (trainers/linear.py:7); bounds 1..2.5 do not fit",
        ),
        error(
            5,
            3,
            "arg-type",
            "param_boundaries.name: Trainer.name is str (trainers/linear.py:8); bounds 1..2 do not fit",
        ),
        error(
            6,
            3,
            "arg-type",
            "param_boundaries.size: Trainer.size is int or null (trainers/linear.py:9); bounds 0.5..1.5 do not fit",
        ),
    ]


def test_min_must_be_below_max(load_repo, model_yaml):
    tuning = tuning_file("gaussian_process", "  alpha: [2.0, 1.0]\n  depth:\n    min: 3\n    max: 3\n")
    assert found(load_repo, model_yaml, tuning) == [
        error(4, 11, "bad-range", "param_boundaries.alpha: min 2.0 must be below max 1.0"),
        error(6, 10, "bad-range", "param_boundaries.depth: min 3 must be below max 3"),
    ]


ALPHA_STEP_AND_LOG = "  alpha:\n    min: 0.1\n    max: 1.0\n    step: 0.1\n    log: true\n"  # lines 4-8


def test_steps(load_repo, model_yaml):
    tuning = tuning_file("gaussian_process", ALPHA_STEP_AND_LOG + "  depth: [1, 8, 0]\n  name: [1, 8, -2]\n")
    assert found(load_repo, model_yaml, tuning, trainer="linear.Open") == [
        error(7, 11, "bad-step", "param_boundaries.alpha: a step and a log scale do not mix; remove one"),
        error(9, 17, "bad-step", "param_boundaries.depth: step 0 must be greater than 0"),
        error(10, 16, "bad-step", "param_boundaries.name: step -2 must be greater than 0"),
    ]


def test_log_scales(load_repo, model_yaml):
    grid = tuning_file("grid", ALPHA_STEP_AND_LOG)
    assert found(load_repo, model_yaml, grid) == [
        error(8, 10, "bad-log-scale", "param_boundaries.alpha: log scale applies to gaussian_process, not grid")
    ]
    bounds = "  alpha:\n    min: 0\n    max: 1.0\n    log: true\n  depth:\n    min: -1\n    max: 1\n    log: true\n"
    gaussian = tuning_file("gaussian_process", bounds)
    assert found(load_repo, model_yaml, gaussian, trainer="linear.Open") == [
        error(7, 10, "bad-log-scale", "param_boundaries.alpha: a log scale needs min > 0, got 0"),
        error(11, 10, "bad-log-scale", "param_boundaries.depth: a log scale needs min > 0, got -1"),
    ]


def test_a_metric_whose_direction_is_unknown_needs_one(load_repo, model_yaml):
    head = "model: m.yaml\ntuning_type: grid\nparam_boundaries:\n  depth: [1, 2, 1]\n"
    assert found(load_repo, model_yaml, head + "objective:\n  metric: lift\n") == [
        error(
            6,
            11,
            "unknown-direction",
            "objective.metric: modelyard cannot tell from the name 'lift' whether higher or lower is better; "
            "add objective: {metric: lift, direction: maximize} (or minimize)",
        )
    ]
    assert found(load_repo, model_yaml, head + "objective:\n  metric: lift\n  direction: maximize\n") == []
    assert found(load_repo, model_yaml, head + "objective:\n  direction: maximize\n") == []


SPLIT = """\
split_config:
  train_param_name: {param}
  strategy: sliding_time_window
  days_backward: 10
  train_size: {{days: {train}}}
  test_size: {{days: 2}}
"""


def split_found(load_repo, model_yaml, split: str):
    return list(
        check_split_configs(load_repo({"models/m.yaml": model_yaml() + split, "models/a.yaml": model_yaml("a")}))
    )


def test_a_split_config_that_fits_passes(load_repo, model_yaml):
    assert split_found(load_repo, model_yaml, SPLIT.format(param="df", train=3) + "  slide_by: {hours: 1}\n") == []


def test_the_split_parameter_must_be_a_mapped_one(load_repo, model_yaml):
    problems = split_found(load_repo, model_yaml, SPLIT.format(param="dff", train=3))
    assert problems == [
        error(
            13,
            21,
            "split-param",
            "split_config.train_param_name: 'dff' is not a mapped train() parameter; did you mean 'df'?",
            path="models/m.yaml",
        )
    ]
    labels = "    - train_param_name: labels\n      file: inputs.yaml\n      file_param_name: rows\n"
    problems = split_found(load_repo, model_yaml, labels + SPLIT.format(param="rows", train=3))
    assert [p.message for p in problems] == [
        "split_config.train_param_name: 'rows' is not a mapped train() parameter (dependencies.data maps: df, labels)"
    ]


def test_window_lengths_must_be_positive(load_repo, model_yaml):
    zero = "the window length is zero; give a positive number of weeks, days or hours"
    # slide_by defaults to test_size: only a length the file gives is reported
    split = SPLIT.format(param="df", train=0).replace("{days: 2}", "{days: 0, hours: 0}")
    assert split_found(load_repo, model_yaml, split) == [
        error(16, 15, "bad-size", f"split_config.train_size: {zero}", path="models/m.yaml"),
        error(17, 14, "bad-size", f"split_config.test_size: {zero}", path="models/m.yaml"),
    ]
    split = SPLIT.format(param="df", train=3) + "  slide_by: {weeks: 0}\n"
    assert split_found(load_repo, model_yaml, split) == [
        error(18, 13, "bad-size", f"split_config.slide_by: {zero}", path="models/m.yaml")
    ]
