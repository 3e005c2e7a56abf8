"""HTML pages of plotly figures in a reports folder, sharing one copy of plotly.js.

Inlining plotly.js costs 4.8 MB per page; instead each page loads ``plotly-<version>.min.js`` from
the top of its reports folder by a relative path, so the folder opens offline and can be copied or
served as a whole. The version in the name keeps a page written by another plotly working.
"""

from __future__ import annotations

import functools
import json
import posixpath
from pathlib import Path, PurePosixPath

from modelyard.fsio import is_remote, write_atomic


def plotly_js_name() -> str:
    import plotly

    return f"plotly-{plotly.__version__}.min.js"


def write_figure(figure, path: Path, folder: Path) -> Path:
    """Write ``figure`` as a page at ``path`` (inside ``folder``), writing the shared script once.
    ``figure`` is a plotly Figure or the dict of one (``{"data": [...], "layout": {...}}``)."""
    shared = folder / plotly_js_name()
    if not shared.is_file():  # atomic: a concurrent writer (another Airflow task) writes the same bytes
        from plotly.offline import get_plotlyjs

        write_atomic(shared, get_plotlyjs().encode())
    src = posixpath.relpath(_posix(shared), _posix(path).parent)
    write_atomic(path, _html(figure, src).encode())
    return path


def _html(figure, src: str) -> str:
    """A dict is written as it is, with plotly's default look added: building a Figure checks every
    property against plotly's schema, which costs more than the rest of a small page (~0.1 s)."""
    if not isinstance(figure, dict):
        return figure.to_html(include_plotlyjs=src, full_html=True)
    import plotly.io as pio

    page = {**figure, "layout": {"template": _default_template(), **figure["layout"]}}
    return pio.to_html(page, include_plotlyjs=src, full_html=True, validate=False)


@functools.cache
def _default_template() -> dict:
    """plotly's default template, parsed once per process: a tune writes several pages."""
    from importlib import resources

    return json.loads(resources.files("plotly").joinpath("package_data/templates/plotly.json").read_text())


def _posix(path) -> PurePosixPath:
    """A folder on this machine or in an object store (an s3:// run folder), as a path to compare."""
    return PurePosixPath(path.path if is_remote(path) else Path(path).as_posix())
