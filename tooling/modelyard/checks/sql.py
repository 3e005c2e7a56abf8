"""Extract SQL bound against the warehouse's shape before anything runs: each extract is rendered
and bound, in dependency order, in an in-memory DuckDB holding empty seed tables (typed from their
files) and the empty output tables of the extracts it reads. A column typo or a syntax error is
reported at its line and column of the SQL file, with DuckDB's own message (its "Candidate
bindings" and "Did you mean" included). The seeds' own problems are ``checks.seeds``'s; this
check runs them, since they share what DuckDB read of the files.

DuckDB is imported only when some extract renders: validation runs in a pre-commit hook.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from pathlib import Path

from modelyard.checks import seeds
from modelyard.checks.cache import BindingCache
from modelyard.errors import Diagnostic, ModelyardError, Position
from modelyard.ir import content_hash
from modelyard.repo.layout import inside_repo
from modelyard.repo.project import ExtractSpec, Project
from modelyard.repo.sqltemplate import extract_tables, read_sql, template_position, template_variables
from modelyard.repo.targets import TargetSpec
from modelyard.workflows.train.build import render_extract

Key = tuple[str, str]


def _renderable(project: Project) -> tuple[dict[Key, tuple[str, str]], list[Diagnostic]]:
    """Each SQL extract's (template, rendered SQL); extracts whose file or template has a problem
    another check reports are left out."""
    out: dict[Key, tuple[str, str]] = {}
    problems = []
    target_known = _target(project) is not None
    for key, spec in project.extracts.items():
        if spec.operator != "sql" or not spec.sql_file or not inside_repo(project.root, spec.sql_file):
            continue
        try:
            variables = template_variables(read_sql(project.root, spec.sql_file))
            if not variables <= {*spec.kwargs, "target"}:
                continue
            if "target" in variables and "target" not in spec.kwargs and not target_known:
                continue  # rendered for a target the settings do not define: reported on its own
            template, sql, _ = render_extract(project, spec)
            out[key] = (template, sql)
        except (OSError, UnicodeDecodeError):
            continue
        except ModelyardError as exc:  # a kwarg of the wrong shape (`cfg.x` on a number)
            problems.append(Diagnostic.error(exc.position, "sql-template", exc.message))
        except Exception:  # jinja2.TemplateSyntaxError: reported by check_extract_files
            continue
    return out, problems


def check_sql(project: Project) -> Iterable[Diagnostic]:
    rendered, problems = _renderable(project)
    yield from problems
    files, problems = seeds.seed_files_of(project)
    yield from problems
    if any(p.rule == "duplicate-name" for p in problems):
        return  # which file is the table is the user's call: binding against neither would only add noise
    if not rendered or not _binds_in_duckdb(project):
        yield from seeds.check_files(project, files, read_by_models=set())
        return
    # Binding needs DuckDB (~0.2 s to import) and reads every seed's header: a pre-commit hook on an
    # unchanged repo gets the previous answer, keyed by everything the answer depends on.
    cache = BindingCache(project.settings.state_dir, _binding_key(project, rendered, files))
    cached = cache.read()
    if cached is None:
        cached = list(_bind(project, rendered, files))
        cache.write(cached)
    yield from cached


def _bind(project: Project, rendered: dict, files: list[Path]) -> Iterable[Diagnostic]:
    from modelyard.warehouse.sandbox import SchemaSandbox

    sandbox = SchemaSandbox()
    try:
        reads = {key: _seeds_read(sandbox, sql) for key, (_, sql) in rendered.items()}
        read_by_models = {name for key in _model_extracts(project, rendered) for name in reads[key]}
        problems, broken = seeds.load_seeds(project, sandbox, files, read_by_models)
        yield from problems
        yield from _bind_all(project, sandbox, rendered, reads, broken)
    finally:
        sandbox.close()


def _binding_key(project: Project, rendered: dict, files: list[Path]) -> str:
    """What the binding's diagnostics depend on: modelyard's version, each extract's template and
    rendered SQL (and which model reads it), the seed files' bytes (by size and mtime) and options."""
    from modelyard.version import __version__

    stats = [(file.name, file.stat().st_size, file.stat().st_mtime_ns) for file in files]
    models = sorted((m.file, [(d.file, d.file_param_name) for d in m.dependencies]) for m in project.models.values())
    return content_hash(
        {
            "version": __version__,
            "extracts": [[list(key), *texts] for key, texts in sorted(rendered.items())],
            "seeds": stats,
            "options": project.settings.seed_options(),
            "models": models,
        }
    )


def _target(project: Project) -> TargetSpec | None:
    """The chosen target, or None when the settings do not define it (reported on its own)."""
    try:
        return project.settings.target()
    except ModelyardError:
        return None


def _binds_in_duckdb(project: Project) -> bool:
    """SQL written for another engine (a postgres target) cannot be bound in DuckDB: that engine
    checks it when the extract runs."""
    target = _target(project)
    return target is not None and target.warehouse_type == "duckdb"


def _seeds_read(sandbox, sql: str) -> set[str]:
    return {name.lower() for schema, name in sandbox.tables_read(sql) if schema.lower() in ("", "main")}


def _upstream(project: Project, sql: str) -> list[ExtractSpec | None]:
    """The extracts the rendered SQL reads; None for an extract table no extract makes."""
    by_table = {spec.table.lower(): spec for spec in project.extracts.values()}
    return [by_table.get(table.lower()) for table, _ in extract_tables(sql)]


def _model_extracts(project: Project, rendered: dict[Key, tuple[str, str]]) -> set[Key]:
    """The extracts some model reads, directly or through other extracts."""
    found: set[Key] = set()
    queue = [(dep.file, dep.file_param_name) for model in project.models.values() for dep in model.dependencies]
    while queue:
        key = queue.pop()
        if key in found or key not in rendered:
            continue
        found.add(key)
        queue.extend(up.key for up in _upstream(project, rendered[key][1]) if isinstance(up, ExtractSpec))
    return found


def _bind_all(project, sandbox, rendered, reads, broken: set[str]) -> Iterable[Diagnostic]:
    """Bind every extract after the extracts it reads; one that reads a broken seed or extract
    (reported on its own) is skipped, not reported again."""
    bound: dict[Key, bool] = {}
    out: list[Diagnostic] = []
    tables = Counter(spec.table.lower() for spec in project.extracts.values())

    def bind(key: Key) -> bool:
        if key in bound:
            return bound[key]
        bound[key] = False  # also what a cycle (reported by check_extract_references) gets
        template, sql = rendered[key]
        upstream = _upstream(project, sql)
        if reads[key] & broken or not all(isinstance(up, ExtractSpec) and up.key in rendered for up in upstream):
            return False
        if not all(bind(up.key) for up in upstream):
            return False
        spec = project.extracts[key]
        if tables[spec.table.lower()] > 1:  # two extracts, one table: a duplicate-name, reported on its own
            return False
        try:
            columns = sandbox.describe(sql)
        except ModelyardError as exc:
            line, col = template_position(template, sql, exc.line, exc.col)  # line 0 (placed nowhere) stays 0
            rule = "sql-syntax" if exc.kind == "parser" else "sql-binding"
            out.append(
                Diagnostic.error(Position(spec.sql_file, line, col), rule, f"{exc.message} (extract {spec.name})")
            )
            return False
        sandbox.add_table(spec.table, columns)
        bound[key] = True
        return True

    for key in sorted(rendered):
        bind(key)
    return out
