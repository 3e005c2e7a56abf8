"""HTML pages of plotly figures in a reports folder, sharing one copy of plotly.js.

Inlining plotly.js costs 4.8 MB per page; instead each page loads ``plotly-<version>.min.js`` from
the top of its reports folder by a relative path, so the folder opens offline and can be copied or
served as a whole. The version in the name keeps a page written by another plotly working.
"""

from __future__ import annotations

import posixpath
from pathlib import Path, PurePosixPath

from modelyard.fsio import is_remote, write_atomic


def plotly_js_name() -> str:
    import plotly

    return f"plotly-{plotly.__version__}.min.js"


def write_figure(figure, path: Path, folder: Path) -> Path:
    """Write ``figure`` (a plotly Figure, or its JSON as a dict: no graph objects imported) as a page
    at ``path`` (inside ``folder``), writing the shared script once."""
    import plotly.io

    shared = folder / plotly_js_name()
    if not shared.is_file():  # atomic: a concurrent writer (another Airflow task) writes the same bytes
        from plotly.offline import get_plotlyjs

        write_atomic(shared, get_plotlyjs().encode())
    src = posixpath.relpath(_posix(shared), _posix(path).parent)
    write_atomic(path, plotly.io.to_html(figure, include_plotlyjs=src, full_html=True, validate=False).encode())
    return path


def _posix(path) -> PurePosixPath:
    """A folder on this machine or in an object store (an s3:// run folder), as a path to compare."""
    return PurePosixPath(path.path if is_remote(path) else Path(path).as_posix())
