"""Walking a Dash layout the way the browser would render it."""

from __future__ import annotations


def components(component):
    """``component`` and every component below it, depth first."""
    yield component
    children = getattr(component, "children", None)
    for child in children if isinstance(children, (list, tuple)) else [children]:
        if child is not None and not isinstance(child, (str, int, float)):
            yield from components(child)
