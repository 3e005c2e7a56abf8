"""HTML pages of plotly figures in a reports folder, sharing one copy of plotly.js.

Inlining plotly.js costs 4.8 MB per page; instead each page loads ``plotly-<version>.min.js`` from
the top of its reports folder by a relative path, so the folder opens offline and can be copied or
served as a whole. The version in the name keeps a page written by another plotly working.
"""

from __future__ import annotations

import os
from pathlib import Path

from modelyard.fsio import write_atomic


def plotly_js_name() -> str:
    import plotly

    return f"plotly-{plotly.__version__}.min.js"


def write_figure(figure, path: Path, folder: Path) -> Path:
    """Write ``figure`` as a page at ``path`` (inside ``folder``), writing the shared script once."""
    shared = folder / plotly_js_name()
    if not shared.is_file():  # atomic: a concurrent writer (another Airflow task) writes the same bytes
        from plotly.offline import get_plotlyjs

        write_atomic(shared, get_plotlyjs().encode())
    src = Path(os.path.relpath(shared, path.parent)).as_posix()
    write_atomic(path, figure.to_html(include_plotlyjs=src, full_html=True).encode())
    return path
