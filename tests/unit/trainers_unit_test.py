"""checks/trainers.py in process: model files against trainer classes read from source (nothing
imported), on repos the tests write; every message, rule and position written out (lines and
columns counted in the files below)."""

from __future__ import annotations

from modelyard.checks.trainers import check_trainer_classes, trainer_class
from modelyard.errors import Diagnostic, Position

TRAINER = """\
from dataclasses import dataclass

from modelyard import AbstractTrainer


@dataclass
class Trainer(AbstractTrainer):
    alpha: float
    label: str = "y"

    def train(self, df, extra=None):
        pass

    def evaluate(self, model, df):
        pass
"""


def error(line: int, col: int, rule: str, message: str, path: str = "models/m.yaml") -> Diagnostic:
    return Diagnostic(Position(path, line, col), "error", rule, message)


def check(load_repo, model: str, trainer: str = TRAINER) -> list[Diagnostic]:
    return list(check_trainer_classes(load_repo({"models/m.yaml": model, "trainers/linear.py": trainer})))


def args(model_yaml, text: str) -> str:
    return model_yaml().replace("constructor_args: {}", f"constructor_args: {text}")


def test_a_trainer_matching_its_model_file_passes(load_repo, model_yaml):
    assert check(load_repo, args(model_yaml, "{alpha: 0.5}")) == []
    project = load_repo({})  # the same repo, read again
    found = trainer_class(project, project.models["models/m.yaml"])
    assert (found.name, found.file, found.line, list(found.fields)) == (
        "Trainer",
        "trainers/linear.py",
        7,
        ["alpha", "label"],
    )


def test_a_missing_trainer_file(load_repo, model_yaml):
    message = "model_trainer: 'linear.Trainer' needs the file trainers/linear.py, which does not exist"
    project = load_repo({"models/m.yaml": model_yaml()})
    assert list(check_trainer_classes(project)) == [error(5, 16, "unknown-trainer", message)]
    assert trainer_class(project, project.models["models/m.yaml"]) is None


def test_a_syntax_error_is_reported_once_for_every_model_of_the_file(load_repo, model_yaml):
    broken = "class Trainer(:\n    pass\n"
    project = load_repo({"models/m.yaml": model_yaml(), "models/n.yaml": model_yaml("n"), "trainers/linear.py": broken})
    assert list(check_trainer_classes(project)) == [
        error(1, 0, "trainer-syntax", "Python syntax error: invalid syntax", "trainers/linear.py")
    ]
    assert trainer_class(project, project.models["models/m.yaml"]) is None


def test_a_class_the_file_does_not_have(load_repo, model_yaml):
    model = model_yaml().replace("linear.Trainer", "linear.Trainr")
    message = "model_trainer: trainers/linear.py has no class 'Trainr'; did you mean 'Trainer'?"
    assert check(load_repo, model) == [error(5, 16, "unknown-trainer", message)]


def test_a_class_that_is_no_trainer(load_repo, model_yaml):
    message = "model_trainer: class Trainer (trainers/linear.py:3) does not subclass modelyard.AbstractTrainer"
    assert check(load_repo, model_yaml(), "import os\n\nclass Trainer:\n    pass\n") == [
        error(5, 16, "not-a-trainer", message)
    ]


def test_a_trainer_without_train_and_evaluate_is_checked_further(load_repo, model_yaml):
    trainer = "from modelyard import AbstractTrainer\n\n\nclass Trainer(AbstractTrainer):\n    pass\n"
    missing = (
        "model_trainer: class Trainer (trainers/linear.py:4) does not define train() and evaluate(), "
        "which AbstractTrainer requires"
    )
    assert check(load_repo, args(model_yaml, "{alpha: 1}"), trainer) == [
        error(5, 16, "missing-method", missing),
        error(6, 20, "unknown-arg", "constructor_args.alpha: Trainer has no field 'alpha' (its fields: none)"),
    ]
    only_evaluate = TRAINER.replace("def train(", "def fit(")
    assert check(load_repo, args(model_yaml, "{alpha: 1.5}"), only_evaluate) == [
        error(
            5,
            16,
            "missing-method",
            "model_trainer: class Trainer (trainers/linear.py:7) does not define train(), which AbstractTrainer "
            "requires",
        )
    ]


def test_constructor_args_unknown_mistyped_and_missing(load_repo, model_yaml):
    model = args(model_yaml, "{alpah: 0.5, label: 3, other: true}")
    assert check(load_repo, model) == [
        error(6, 20, "unknown-arg", "constructor_args.alpah: Trainer has no field 'alpah'; did you mean 'alpha'?"),
        error(
            6,
            39,
            "arg-type",
            "constructor_args.label: expected str (trainers/linear.py:9), got integer 3",
        ),
        error(6, 42, "unknown-arg", "constructor_args.other: Trainer has no field 'other' (its fields: alpha, label)"),
        error(6, 1, "missing-arg", "constructor_args: Trainer requires 'alpha' (trainers/linear.py:8)"),
    ]


def test_a_missing_arg_without_constructor_args_points_at_model_trainer(load_repo, model_yaml):
    model = model_yaml().replace("constructor_args: {}\n", "")
    assert check(load_repo, model) == [
        error(5, 1, "missing-arg", "constructor_args: Trainer requires 'alpha' (trainers/linear.py:8)")
    ]


def test_a_value_is_shown_with_its_type_and_cut_at_forty_characters(load_repo, model_yaml):
    shown = {
        "true": "boolean True",
        "null": "null None",
        "[1, 2]": "list [1, 2]",
        "{a: 1}": "mapping {'a': 1}",
        "'" + "x" * 38 + "'": "string '" + "x" * 38 + "'",  # repr: 40 characters, whole
        "'" + "x" * 39 + "'": "string '" + "x" * 36 + "...",  # 41: cut to 37 and ...
    }
    for value, text in shown.items():
        [problem] = check(load_repo, args(model_yaml, f"{{alpha: {value}}}"))
        assert problem.message == f"constructor_args.alpha: expected float (trainers/linear.py:8), got {text}"
    [problem] = check(load_repo, args(model_yaml, "{alpha: 1.0, label: 1.5}"))
    assert problem.message == "constructor_args.label: expected str (trainers/linear.py:9), got number 1.5"


def test_a_trainer_taking_any_keyword_accepts_every_arg(load_repo, model_yaml):
    trainer = TRAINER.replace(
        "    alpha: float\n", "    alpha: float\n\n    def __init__(self, **options):\n        pass\n"
    )
    assert check(load_repo, args(model_yaml, "{alpha: 0.5, anything: 1}"), trainer) == []


def test_train_params_unknown_and_unmapped(load_repo, model_yaml):
    model = args(model_yaml, "{alpha: 0.5}").replace("train_param_name: df", "train_param_name: dff")
    assert check(load_repo, model) == [
        error(
            9,
            25,
            "unknown-train-param",
            "dependencies.data[0].train_param_name: Trainer.train() has no parameter 'dff'; did you mean 'df'?",
        ),
        error(
            8,
            3,
            "unmapped-train-param",
            "dependencies.data: Trainer.train() requires 'df'; add an entry with train_param_name: df",
        ),
    ]
    other = model.replace("train_param_name: dff", "train_param_name: rows")
    assert check(load_repo, other)[0].message == (
        "dependencies.data[0].train_param_name: Trainer.train() has no parameter 'rows' (it takes: df, extra)"
    )
    no_params = TRAINER.replace("def train(self, df, extra=None)", "def train(self)")
    assert check(load_repo, other, no_params)[0].message == (
        "dependencies.data[0].train_param_name: Trainer.train() has no parameter 'rows' (it takes: nothing)"
    )
    any_params = TRAINER.replace("def train(self, df, extra=None)", "def train(self, df, **more)")
    assert check(load_repo, other, any_params) == [
        error(
            8,
            3,
            "unmapped-train-param",
            "dependencies.data: Trainer.train() requires 'df'; add an entry with train_param_name: df",
        )
    ]


def test_every_model_is_checked_after_one_whose_trainer_cannot_be_read(load_repo, model_yaml):
    # model n (its own trainer file, one unknown arg) comes after model m, whose trainer fails first
    n = (
        model_yaml("n")
        .replace("linear.Trainer", "other.Trainer")
        .replace("constructor_args: {}", "constructor_args: {x: 1}")
    )
    unknown = "constructor_args.x: Trainer has no field 'x' (its fields: label)"
    files = {"models/n.yaml": n, "trainers/other.py": TRAINER.replace("    alpha: float\n", "")}
    failing = [  # (rule, where, files)
        ("unknown-trainer", "models/m.yaml", {"models/m.yaml": model_yaml().replace("linear.Trainer", "gone.Trainer")}),
        ("trainer-syntax", "trainers/linear.py", {"trainers/linear.py": "class Trainer(:\n"}),
        ("unknown-trainer", "models/m.yaml", {"models/m.yaml": model_yaml().replace("linear.Trainer", "linear.Other")}),
        ("not-a-trainer", "models/m.yaml", {"trainers/linear.py": "class Trainer:\n    pass\n"}),
    ]
    for rule, where, broken in failing:
        repo = {"models/m.yaml": model_yaml(), "trainers/linear.py": TRAINER, **files, **broken}
        found = list(check_trainer_classes(load_repo(repo)))
        assert [(d.rule, d.position.path) for d in found] == [(rule, where), ("unknown-arg", "models/n.yaml")]
        assert found[1].message == unknown


def test_every_missing_arg_is_named(load_repo, model_yaml):
    two = TRAINER.replace("    alpha: float\n", "    alpha: float\n    beta: int\n")
    assert [d.message for d in check(load_repo, model_yaml(), two)] == [
        "constructor_args: Trainer requires 'alpha', 'beta' (trainers/linear.py:8)"
    ]
