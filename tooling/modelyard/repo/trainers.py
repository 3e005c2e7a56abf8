"""The trainer interface data scientists implement, and how modelyard finds their classes.

``model_trainer: a.b.C`` names class ``C`` in ``trainers/a/b.py``. The ``trainers/`` folder is
imported as the package ``modelyard_user_trainers`` (never put on ``sys.path``), so a folder named
``sklearn`` cannot shadow the real scikit-learn that the trainer itself imports.
"""

from __future__ import annotations

import abc
import contextlib
import contextvars
import dataclasses
import importlib
import sys
import traceback
import types
from pathlib import Path
from typing import Any, Generic, TypeVar

from modelyard.errors import Position, TrainerError
from modelyard.repo.layout import TRAINERS_DIR, USER_PACKAGE
from modelyard.suggest import install_hint

ModelT = TypeVar("ModelT")
PACKAGE = USER_PACKAGE


@dataclasses.dataclass
class TrainedObject(Generic[ModelT]):
    """What ``train()`` returns: the model (the only thing stored) plus what derives its signature.

    ``sample_input_data`` is a DataFrame, or a dict of name -> DataFrame/array, as passed to
    ``method``; ``sample_output_data`` is what ``method`` returns for it.
    """

    model: ModelT
    sample_input_data: Any = None
    sample_output_data: Any = None
    method: str = "predict"


class AbstractTrainer(abc.ABC, Generic[ModelT]):
    """Implement ``train`` (datasets in, ``TrainedObject`` out) and ``evaluate`` (metrics dict).

    Trainers are usually dataclasses: their fields are the ``constructor_args`` of a model file.
    The parameters of ``train`` receive the datasets mapped by ``dependencies.data``.
    """

    @abc.abstractmethod
    def train(self, *args: Any, **kwargs: Any) -> TrainedObject[ModelT]: ...

    @abc.abstractmethod
    def evaluate(self, model: ModelT, *args: Any, **kwargs: Any) -> dict[str, Any]: ...


def _install_package(root: Path) -> None:
    folder = str((root / TRAINERS_DIR).resolve())
    current = sys.modules.get(PACKAGE)
    if current is not None and list(getattr(current, "__path__", [])) == [folder]:
        return
    forget_trainer_modules()
    package = types.ModuleType(PACKAGE)
    package.__path__ = [folder]
    package.__package__ = PACKAGE
    sys.modules[PACKAGE] = package


def forget_trainer_modules() -> None:
    """Drop imported trainer modules so the next import reads the files again."""
    for name in [n for n in list(sys.modules) if n == PACKAGE or n.startswith(PACKAGE + ".")]:
        del sys.modules[name]
    importlib.invalidate_caches()


def user_frame(exc: BaseException, root: Path) -> Position | None:
    """The innermost traceback frame inside the repo: where the user's code failed."""
    root_text = str(root.resolve())
    found = None
    for frame in traceback.extract_tb(exc.__traceback__):
        if frame.filename.startswith(root_text):
            found = Position(Path(frame.filename).resolve().relative_to(root.resolve()).as_posix(), frame.lineno or 0)
    if found is None and isinstance(exc, SyntaxError) and exc.filename and exc.filename.startswith(root_text):
        found = Position(
            Path(exc.filename).resolve().relative_to(root.resolve()).as_posix(), exc.lineno or 0, exc.offset or 0
        )
    return found


def describe_exception(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}"


def load_trainer_class(root: Path, dotted: str, *, where: Position | None = None) -> type:
    """Import ``trainers/a/b.py`` and return class ``C`` for ``a.b.C``."""
    module_name, _, class_name = dotted.rpartition(".")
    _install_package(root)
    try:
        with contextlib.redirect_stdout(sys.stderr):  # a module printing on import: a log, as in call_user
            module = importlib.import_module(f"{PACKAGE}.{module_name}")
    except ModuleNotFoundError as exc:
        if exc.name and exc.name.startswith(PACKAGE):
            raise TrainerError(
                f"model_trainer {dotted!r}: no file trainers/{module_name.replace('.', '/')}.py", where
            ) from None
        raise TrainerError(
            f"importing trainer module for {dotted!r} failed: {describe_exception(exc)}",
            user_frame(exc, root) or where,
            hint=install_hint(exc.name),
        ) from None
    except Exception as exc:
        raise TrainerError(
            f"importing trainer module for {dotted!r} failed: {describe_exception(exc)}", user_frame(exc, root) or where
        ) from None
    cls = getattr(module, class_name, None)
    if not isinstance(cls, type):
        raise TrainerError(
            f"model_trainer {dotted!r}: trainers/{module_name.replace('.', '/')}.py has no class {class_name!r}", where
        )
    if not issubclass(cls, AbstractTrainer):
        raise TrainerError(
            f"model_trainer {dotted!r}: class {class_name} does not subclass modelyard.AbstractTrainer", where
        )
    return cls


# modelyard modules whose objects a stored model may hold (they import no modelyard module):
# pickled by value too, so loading needs only the model's own libraries.
BY_VALUE_MODULES = ("modelyard.repo.lightning.model",)


def register_for_pickling() -> None:
    """Store user classes by value, so a stored model loads without the model repo's code."""
    import cloudpickle

    for name in [n for n in list(sys.modules) if n.startswith(PACKAGE + ".") or n in BY_VALUE_MODULES]:
        cloudpickle.register_pickle_by_value(sys.modules[name])


_training_log: contextvars.ContextVar[Any] = contextvars.ContextVar("modelyard_training_log", default=None)


def training_log_location() -> Any:
    """Where the trainer being called keeps its training log (metrics per step and epoch): a file
    in the running node's folder, a Path or a UPath; None when called outside a modelyard run."""
    return _training_log.get()


@contextlib.contextmanager
def training_log_at(location: Any):
    token = _training_log.set(location)
    try:
        yield
    finally:
        _training_log.reset(token)


def call_user(root: Path, what: str, func, *args, **kwargs):
    """Call into trainer code; any exception becomes a TrainerError at the user's line.

    What trainer code prints is a log: it goes to stderr, so stdout keeps only modelyard's results
    (``--format json`` stays parseable however chatty a trainer is)."""
    try:
        with contextlib.redirect_stdout(sys.stderr):
            return func(*args, **kwargs)
    except Exception as exc:
        raise TrainerError(f"{what} raised {describe_exception(exc)}", user_frame(exc, root)) from None
