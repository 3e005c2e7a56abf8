"""Reading trainer classes from source: fields, inheritance, AbstractTrainer, train() parameters."""

from __future__ import annotations

import ast
import textwrap

import pytest

from modelyard.repo.trainer_source import TrainerSourceError, read_trainer_class, trainer_code_files, type_mismatch


def _repo(tmp_path, files: dict[str, str]):
    for rel, text in files.items():
        path = tmp_path / "trainers" / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text))
    return tmp_path


BASE = """
    from dataclasses import dataclass, field
    import modelyard
    import pandas as pd

    @dataclass
    class Base(modelyard.AbstractTrainer):
        features: list[str]
        seed: int = 0

        def evaluate(self, model, df):
            return {}
"""


def test_fields_and_train_inherited_through_a_local_base_in_another_module(tmp_path):
    root = _repo(
        tmp_path,
        {
            "common/base.py": BASE,
            "m/child.py": """
        from dataclasses import dataclass, field
        from ..common.base import Base

        @dataclass
        class Child(Base):
            alpha: "float | None" = None
            tags: dict = field(default_factory=dict)
            hidden: int = field(default=0, init=False)

            def train(self, df, extra=None, *, weights, **rest):
                ...
    """,
        },
    )
    cls = read_trainer_class(root, "trainers/m/child.py", "Child")
    assert cls.is_trainer is True
    assert {n: f.required for n, f in cls.fields.items()} == {
        "features": True,
        "seed": False,
        "alpha": False,
        "tags": False,
    }
    assert [(p.name, p.required) for p in cls.train_params] == [("df", True), ("extra", False), ("weights", True)]
    assert cls.train_accepts_any is True
    assert cls.methods >= {"train", "evaluate"}
    assert trainer_code_files(root, "trainers/m/child.py") == ["trainers/common/base.py", "trainers/m/child.py"]


def test_not_a_trainer_and_unknown_bases(tmp_path):
    root = _repo(
        tmp_path,
        {
            "a.py": """
        from dataclasses import dataclass
        from somewhere import Mixin

        class Plain:
            pass

        @dataclass
        class Foreign(Mixin):
            x: int
    """
        },
    )
    assert read_trainer_class(root, "trainers/a.py", "Plain").is_trainer is False
    foreign = read_trainer_class(root, "trainers/a.py", "Foreign")
    assert foreign.is_trainer is None and foreign.fields is None  # cannot judge: stay silent
    assert read_trainer_class(root, "trainers/a.py", "Missing") is None


def test_custom_init_defines_the_constructor(tmp_path):
    root = _repo(
        tmp_path,
        {
            "a.py": """
        from modelyard import AbstractTrainer as AT

        class T(AT[object]):
            def __init__(self, a: int, b: str = "x", **more):
                pass
    """
        },
    )
    cls = read_trainer_class(root, "trainers/a.py", "T")
    assert cls.is_trainer and list(cls.fields) == ["a", "b"] and cls.accepts_any_arg
    assert cls.methods == frozenset({"__init__"})


def test_syntax_error_is_reported_with_its_line(tmp_path):
    root = _repo(tmp_path, {"a.py": "class T:\n    def train(self\n"})
    with pytest.raises(TrainerSourceError) as info:
        read_trainer_class(root, "trainers/a.py", "T")
    assert info.value.line in (2, 3)


@pytest.mark.parametrize(
    "value, annotation, expected",
    [
        (True, "bool", None),
        ("yes", "bool", "bool"),
        (1, "float", None),
        (True, "int", "int"),
        (["a"], "List[str]", None),
        (["a", 1], "list[str]", "list[str]"),
        (None, "Optional[int]", None),
        ("x", "int | None", "int or null"),
        ({"a": 1}, "Dict[str, int]", None),
        (3, "MyType", None),
        ("c", "Literal['a', 'b']", "one of 'a', 'b'"),
        (1, "typing.Any", None),
        ("s", "typing.List[str]", "typing.List[str]"),
    ],
)
def test_literal_type_checks(value, annotation, expected):
    assert type_mismatch(value, ast.parse(annotation, mode="eval").body) == expected
