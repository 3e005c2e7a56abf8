"""Read trainer modules as source, without importing them (they may import heavy libraries).

Used to hash a trainer's code (its file plus the modules of ``trainers/`` it imports) and, by the
validator, to read a trainer class: its dataclass fields (``constructor_args``), its ``train()``
parameters and whether it implements ``modelyard.AbstractTrainer``. What cannot be judged from
source (a base class from another package, a decorator we do not know) is marked unknown, never
guessed: the checks stay silent about it.
"""

from __future__ import annotations

import ast
import dataclasses
import functools
from pathlib import Path
from typing import Any

from modelyard import ir
from modelyard.repo.layout import TRAINERS_DIR, USER_PACKAGE


@dataclasses.dataclass(frozen=True)
class Field:
    name: str
    annotation: ast.expr | None
    required: bool
    line: int
    where: str | None = None  # declared outside the model repo (a modelyard base class): its name


@dataclasses.dataclass(frozen=True)
class Param:
    name: str
    required: bool


@dataclasses.dataclass(frozen=True)
class TrainerClass:
    """What the source says about a class. ``None`` means "cannot tell from source"."""

    name: str
    file: str
    line: int
    is_trainer: bool | None
    fields: dict[str, Field] | None  # constructor parameters, in order
    accepts_any_arg: bool  # **kwargs in __init__
    train_params: tuple[Param, ...] | None
    train_accepts_any: bool  # **kwargs in train()
    methods: frozenset[str] | None  # methods defined along a fully known class chain


class TrainerSourceError(Exception):
    """The trainer file cannot be read or parsed; carries file and line."""

    def __init__(self, file: str, line: int, message: str):
        super().__init__(message)
        self.file, self.line, self.message = file, line, message


def _local_imports(tree: ast.Module, module: str) -> set[str]:
    """Dotted names (relative to trainers/) of local modules this module may import.

    Trainers load as the package ``modelyard_user_trainers``: only relative imports and imports
    of that package are local; ``from sklearn import x`` is scikit-learn even beside trainers/sklearn/.
    """
    package = module.rpartition(".")[0]
    prefix = USER_PACKAGE + "."
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            if node.level:
                target = _relative_base(package, node)
            elif node.module and (node.module + ".").startswith(prefix):
                target = node.module.removeprefix(USER_PACKAGE).lstrip(".")
            else:
                continue
            if target:
                found.add(target)
            found.update(f"{target}.{alias.name}" if target else alias.name for alias in node.names)
        elif isinstance(node, ast.Import):
            found.update(alias.name.removeprefix(prefix) for alias in node.names if alias.name.startswith(prefix))
    return found


def _relative_base(package: str, node: ast.ImportFrom) -> str:
    base = package.split(".") if package else []
    base = base[: len(base) - (node.level - 1)] if node.level > 1 else base
    return ".".join(base + ([node.module] if node.module else []))


def module_of(rel: str) -> str:
    """``trainers/a/b.py`` -> ``a.b``."""
    return Path(rel).relative_to(TRAINERS_DIR).with_suffix("").as_posix().replace("/", ".")


def module_file(root: Path, module: str) -> str | None:
    """``a.b`` -> ``trainers/a/b.py`` (or the package's ``__init__.py``) if it exists."""
    path = Path(TRAINERS_DIR, *module.split("."))
    for candidate in (path.with_suffix(".py"), path / "__init__.py"):
        if (root / candidate).is_file():
            return candidate.as_posix()
    return None


@functools.lru_cache(maxsize=256)
def _parse_cached(path: str, mtime_ns: int, size: int) -> ast.Module:
    return ast.parse(Path(path).read_bytes(), filename=path)


def parse_module(root: Path, rel: str) -> ast.Module:
    """The module's AST; raise ``TrainerSourceError`` for unreadable or invalid Python."""
    path = root / rel
    try:
        stat = path.stat()
        return _parse_cached(str(path), stat.st_mtime_ns, stat.st_size)
    except SyntaxError as exc:
        raise TrainerSourceError(rel, exc.lineno or 0, f"Python syntax error: {exc.msg}") from None
    except (OSError, ValueError) as exc:
        raise TrainerSourceError(rel, 0, f"cannot read trainer module: {exc}") from None


def code_hash(root: Path, files: list[str]) -> str:
    """The content hash of a trainer's files (the IR's ``trainer_code``): compiled from the repo,
    checked again by a task against the files it is about to run."""
    return ir.content_hash({rel: ir.content_hash((root / rel).read_bytes()) for rel in files})


def trainer_code_files(root: Path, trainer_file: str) -> list[str]:
    """The trainer's file and every file under trainers/ it imports, transitively (repo-relative)."""
    seen: set[str] = set()
    queue = [trainer_file]
    while queue:
        rel = queue.pop()
        if rel in seen or not (root / rel).is_file():
            continue
        seen.add(rel)
        try:
            tree = parse_module(root, rel)
        except TrainerSourceError:
            continue
        queue.extend(_imported_files(root, rel, tree))
    return sorted(seen)


_IMPORTS: dict[tuple[Path, str, int], list[str]] = {}


def _imported_files(root: Path, rel: str, tree: ast.Module) -> list[str]:
    """Local files ``rel`` imports; many models share a trainer, so each tree is walked once."""
    key = (root, rel, id(tree))
    if key not in _IMPORTS:
        _IMPORTS[key] = [f for name in _local_imports(tree, module_of(rel)) if (f := module_file(root, name))]
    return _IMPORTS[key]


# --- reading a class ------------------------------------------------------------------------


def _dotted(node: ast.expr) -> str | None:
    if isinstance(node, ast.Subscript):  # AbstractTrainer[Model]
        return _dotted(node.value)
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        base = _dotted(node.value)
        return f"{base}.{node.attr}" if base else None
    if isinstance(node, ast.Call):  # @dataclass(frozen=True)
        return _dotted(node.func)
    return None


def _imported_names(tree: ast.Module, module: str) -> dict[str, str]:
    """Local name -> fully qualified name, for the module's top-level imports.

    Local trainer modules are qualified as ``trainers:<module>``, the rest by their import path.
    """
    names: dict[str, str] = {}
    package = module.rpartition(".")[0]
    for node in tree.body:
        if isinstance(node, ast.ImportFrom):
            if node.level:
                source = f"trainers:{_relative_base(package, node)}"
            elif node.module and (node.module == USER_PACKAGE or node.module.startswith(USER_PACKAGE + ".")):
                source = f"trainers:{node.module.removeprefix(USER_PACKAGE).lstrip('.')}"
            else:
                source = node.module or ""
            separator = "" if source.endswith(":") else "."
            for alias in node.names:
                names[alias.asname or alias.name] = f"{source}{separator}{alias.name}"
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if alias.asname:
                    names[alias.asname] = alias.name
                else:
                    head = alias.name.split(".")[0]
                    names[head] = head
    return names


_ABSTRACT_TRAINER = {"modelyard.AbstractTrainer", "modelyard.repo.trainers.AbstractTrainer"}
# modelyard's own trainer base classes: read from their source like a local base (never imported),
# so a subclass inherits their fields and train() parameters
_PACKAGE_ROOT = Path(__file__).resolve().parents[2]  # the folder holding the modelyard package
_LIBRARY_BASES = {
    name: ("modelyard/repo/lightning/trainer.py", "LightningTrainer")
    for name in (
        "modelyard.LightningTrainer",
        "modelyard.repo.lightning.LightningTrainer",
        "modelyard.repo.lightning.trainer.LightningTrainer",
    )
}
_DATACLASS = {"dataclasses.dataclass"}
_FIELD = {"dataclasses.field"}


def _qualify(dotted: str | None, imports: dict[str, str]) -> str | None:
    if dotted is None:
        return None
    head, _, rest = dotted.partition(".")
    if head in imports:
        return imports[head] + (f".{rest}" if rest else "")
    return dotted


@dataclasses.dataclass
class _Reading:
    is_trainer: bool | None
    fields: dict[str, Field] | None
    accepts_any_arg: bool
    train: tuple[tuple[Param, ...], bool] | None
    methods: set[str] | None


class _ClassReader:
    """Reads classes across the local trainer modules, following local base classes."""

    def __init__(self, root: Path):
        self.root = root
        self.stack: set[tuple[str, str]] = set()

    def module(self, rel: str) -> tuple[ast.Module, dict[str, str], dict[str, ast.ClassDef]]:
        tree = parse_module(self.root, rel)
        local = (Path(rel).parts or ("",))[0] == TRAINERS_DIR
        imports = _imported_names(tree, module_of(rel) if local else rel.removesuffix(".py").replace("/", "."))
        classes = {node.name: node for node in tree.body if isinstance(node, ast.ClassDef)}
        return tree, imports, classes

    def read(self, rel: str, name: str) -> _Reading | None:
        """None when the class is not defined (at top level) in ``rel``."""
        _, imports, classes = self.module(rel)
        node = classes.get(name)
        if node is None:
            target = imports.get(name, "")
            if target.startswith("trainers:"):  # re-exported from another local module
                return self.read_qualified(target)
            return None
        if (rel, name) in self.stack:  # class A(B), class B(A): Python would fail; stay silent
            return _Reading(None, None, True, None, None)
        self.stack.add((rel, name))
        try:
            return self._read_class(rel, node, imports, classes)
        finally:
            self.stack.discard((rel, name))

    def read_qualified(self, qualified: str) -> _Reading | None:
        """``trainers:a.b.Cls`` -> the class ``Cls`` of ``trainers/a/b.py``."""
        dotted = qualified.removeprefix("trainers:")
        module, _, name = dotted.rpartition(".")
        rel = module_file(self.root, module) if module else None
        if rel is None:
            return None
        try:
            return self.read(rel, name)
        except TrainerSourceError:
            return None

    def _base(
        self, base: ast.expr, rel: str, imports: dict[str, str], classes: dict[str, ast.ClassDef]
    ) -> _Reading | None:
        dotted = _dotted(base)
        qualified = _qualify(dotted, imports)
        if qualified in _ABSTRACT_TRAINER:
            return _Reading(True, {}, False, None, set())  # train/evaluate are abstract there
        if qualified in _LIBRARY_BASES:
            return _library_base(qualified)
        if dotted in classes:
            return self.read(rel, dotted)
        if qualified and qualified.startswith("trainers:"):
            return self.read_qualified(qualified)
        if qualified in ("object", "abc.ABC", "ABC", "typing.Generic", "Generic"):
            return _Reading(False, {}, False, None, set())
        return None  # a class from another package: cannot judge

    def _read_class(
        self, rel: str, node: ast.ClassDef, imports: dict[str, str], classes: dict[str, ast.ClassDef]
    ) -> _Reading:
        bases = [self._base(b, rel, imports, classes) for b in node.bases]
        known = [b for b in bases if b is not None]
        complete = len(known) == len(bases)
        if any(b.is_trainer for b in known):
            is_trainer: bool | None = True
        else:
            is_trainer = False if complete else None
        methods: set[str] | None = set() if complete else None
        fields: dict[str, Field] | None = {} if complete else None
        accepts_any, train = False, None
        for base in reversed(known):  # the first base wins, as in the MRO of simple hierarchies
            methods = None if methods is None or base.methods is None else methods | base.methods
            fields = None if fields is None or base.fields is None else {**fields, **base.fields}
            accepts_any = accepts_any or base.accepts_any_arg
            train = base.train or train
        decorators = {_qualify(_dotted(d), imports) for d in node.decorator_list}
        init = self._method(node, "__init__")
        if init is not None:
            params, accepts_any = _signature(init)
            fields = {p.name: Field(p.name, _annotation_of(init, p.name), p.required, init.lineno) for p in params}
        elif decorators - _DATACLASS:
            fields = None  # an unknown decorator may write __init__
        elif decorators and fields is not None:
            fields.update(self._dataclass_fields(node, imports))
        if train_def := self._method(node, "train"):
            train = _signature(train_def)
        if methods is not None:
            methods |= {n.name for n in node.body if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))}
        return _Reading(is_trainer, fields, accepts_any, train, methods)

    @staticmethod
    def _method(node: ast.ClassDef, name: str) -> ast.FunctionDef | None:
        for item in node.body:
            if isinstance(item, (ast.FunctionDef, ast.AsyncFunctionDef)) and item.name == name:
                return item
        return None

    @staticmethod
    def _dataclass_fields(node: ast.ClassDef, imports: dict[str, str]) -> dict[str, Field]:
        fields: dict[str, Field] = {}
        for item in node.body:
            if not (isinstance(item, ast.AnnAssign) and isinstance(item.target, ast.Name)):
                continue
            annotation = _unquote(item.annotation)
            head = _qualify(_dotted(annotation), imports) or ""
            if head.endswith("ClassVar") or head.endswith("KW_ONLY"):
                continue
            required = item.value is None
            if isinstance(item.value, ast.Call) and _qualify(_dotted(item.value.func), imports) in _FIELD:
                keywords = {k.arg: k.value for k in item.value.keywords}
                init = keywords.get("init")
                if isinstance(init, ast.Constant) and init.value is False:
                    fields.pop(item.target.id, None)
                    continue
                required = "default" not in keywords and "default_factory" not in keywords
            fields[item.target.id] = Field(item.target.id, annotation, required, item.lineno)
        return fields


@functools.cache
def _library_base(qualified: str) -> _Reading | None:
    file, name = _LIBRARY_BASES[qualified]
    reading = _ClassReader(_PACKAGE_ROOT).read(file, name)
    if reading is not None and reading.fields is not None:
        reading.fields = {k: dataclasses.replace(f, where=f"modelyard.{name}") for k, f in reading.fields.items()}
    return reading


def _unquote(annotation: ast.expr) -> ast.expr:
    """``"List[str]"`` (a string annotation) -> its expression."""
    if isinstance(annotation, ast.Constant) and isinstance(annotation.value, str):
        try:
            return ast.parse(annotation.value, mode="eval").body
        except SyntaxError:
            return annotation
    return annotation


def _annotation_of(func: ast.FunctionDef, name: str) -> ast.expr | None:
    for arg in func.args.posonlyargs + func.args.args + func.args.kwonlyargs:
        if arg.arg == name and arg.annotation is not None:
            return _unquote(arg.annotation)
    return None


def _signature(func: ast.FunctionDef) -> tuple[tuple[Param, ...], bool]:
    """Parameters that can be passed by name (without ``self``), and whether **kwargs is taken."""
    args = func.args
    positional = args.posonlyargs + args.args
    first_default = len(positional) - len(args.defaults)
    params = [Param(a.arg, i < first_default) for i, a in enumerate(positional) if a not in args.posonlyargs]
    if positional and positional[0].arg in ("self", "cls") and params and params[0].name == positional[0].arg:
        params = params[1:]
    params += [Param(a.arg, d is None) for a, d in zip(args.kwonlyargs, args.kw_defaults, strict=True)]
    return tuple(params), args.kwarg is not None


def class_names(root: Path, rel: str) -> list[str]:
    """Top-level classes of a trainer module (for "did you mean")."""
    try:
        return [n.name for n in parse_module(root, rel).body if isinstance(n, ast.ClassDef)]
    except TrainerSourceError:
        return []


def read_trainer_class(root: Path, rel: str, name: str) -> TrainerClass | None:
    """The class ``name`` of ``trainers/...py`` as far as its source tells; None if not defined.

    Raises ``TrainerSourceError`` when the file itself is not valid Python.
    """
    reader = _ClassReader(root)
    _, _, classes = reader.module(rel)
    reading = reader.read(rel, name)
    if reading is None:
        return None
    line = classes[name].lineno if name in classes else 0
    train_params, train_any = reading.train if reading.train else (None, False)
    methods = frozenset(reading.methods) if reading.methods is not None else None
    return TrainerClass(
        name, rel, line, reading.is_trainer, reading.fields, reading.accepts_any_arg, train_params, train_any, methods
    )


# --- literal values against annotations ----------------------------------------------------

_SCALARS: dict[str, tuple[type, ...]] = {
    "bool": (bool,),
    "int": (int,),
    "float": (int, float),
    "str": (str,),
    "list": (list,),
    "List": (list,),
    "Sequence": (list,),
    "tuple": (list,),
    "Tuple": (list,),
    "dict": (dict,),
    "Dict": (dict,),
    "Mapping": (dict,),
    "set": (list,),
    "Set": (list,),
}


def _name(node: ast.expr) -> str | None:
    dotted = _dotted(node)
    return dotted.rsplit(".", 1)[-1] if dotted else None


def type_mismatch(value: Any, annotation: ast.expr | None) -> str | None:
    """A description of the expected type if ``value`` clearly does not fit ``annotation``.

    None when it fits or when the annotation is beyond what we judge (custom classes, TypeVars).
    """
    if annotation is None:
        return None
    annotation = _unquote(annotation)
    expected = _expected(annotation)
    if expected is None:
        return None
    return None if _fits(value, annotation) else expected


def _union_members(annotation: ast.expr) -> list[ast.expr] | None:
    if isinstance(annotation, ast.BinOp) and isinstance(annotation.op, ast.BitOr):
        return (_union_members(annotation.left) or [annotation.left]) + (
            _union_members(annotation.right) or [annotation.right]
        )
    if isinstance(annotation, ast.Subscript) and _name(annotation.value) in ("Optional", "Union"):
        inner = annotation.slice
        members = list(inner.elts) if isinstance(inner, ast.Tuple) else [inner]
        if _name(annotation.value) == "Optional":
            members.append(ast.Constant(None))
        return members
    return None


def _expected(annotation: ast.expr) -> str | None:
    """How to name the annotation to a user; None if we do not judge it."""
    members = _union_members(annotation)
    if members is not None:
        parts = [_expected(m) for m in members]
        return None if None in parts else " or ".join(parts)
    if isinstance(annotation, ast.Constant) and annotation.value is None:
        return "null"
    name = _name(annotation)
    if isinstance(annotation, ast.Subscript):
        if name == "Literal":
            inner = annotation.slice
            return "one of " + ", ".join(
                ast.unparse(o) for o in (inner.elts if isinstance(inner, ast.Tuple) else [inner])
            )
        return ast.unparse(annotation) if name in _SCALARS else None
    if name == "Any":
        return None
    return name if name in _SCALARS else None


def _fits(value: Any, annotation: ast.expr) -> bool:
    members = _union_members(annotation)
    if members is not None:
        return any(_fits(value, m) for m in members)
    if isinstance(annotation, ast.Constant) and annotation.value is None:
        return value is None
    name = _name(annotation)
    if name == "Any" or (name not in _SCALARS and name != "Literal"):
        return True
    if name == "Literal" and isinstance(annotation, ast.Subscript):
        inner = annotation.slice
        options = list(inner.elts) if isinstance(inner, ast.Tuple) else [inner]
        return any(isinstance(o, ast.Constant) and o.value == value and type(o.value) is type(value) for o in options)
    kinds = _SCALARS[name]
    if isinstance(value, bool) and bool not in kinds:
        return False
    if not isinstance(value, kinds):
        return False
    if isinstance(annotation, ast.Subscript):
        inner = annotation.slice
        parts = list(inner.elts) if isinstance(inner, ast.Tuple) else [inner]
        if isinstance(value, list) and len(parts) >= 1 and name not in ("tuple", "Tuple"):
            return all(_fits(item, parts[0]) for item in value)
        if isinstance(value, dict) and len(parts) == 2:
            return all(_fits(k, parts[0]) and _fits(v, parts[1]) for k, v in value.items())
    return True


def library_imports(root: Path, files: list[str]) -> list[str]:
    """Modules the given trainer files import by absolute name: libraries, since trainers/ is
    imported under modelyard's own package name (its modules are imported relatively). For
    ``from a import b`` both ``a`` and ``a.b`` are listed: ``b`` may be a submodule (importing
    ``sklearn`` alone loads next to nothing; ``sklearn.linear_model`` is the second it takes)."""
    names: set[str] = set()
    for rel in files:
        try:
            tree = ast.parse((root / rel).read_bytes())
        except (OSError, SyntaxError, ValueError):
            continue
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                names.update(alias.name for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names.add(node.module)
                names.update(f"{node.module}.{alias.name}" for alias in node.names if alias.name != "*")
    return sorted(names)
