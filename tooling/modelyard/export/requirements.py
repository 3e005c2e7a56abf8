"""The pip requirements of an export, pinned to the versions installed here, found offline.

A pickle names every module it needs to load (classes by reference, modules that by-value code
imports): each name whose top-level package an installed distribution provides becomes
``dist==version``. MLflow's own inference would load the model in a subprocess and may reach the
network; this needs neither.
"""

from __future__ import annotations

import pickletools
import re
from importlib import metadata


def _top_level_names(pickled: bytes) -> set[str]:
    names = set()
    for _, argument, _ in pickletools.genops(pickled):
        if isinstance(argument, str):
            names.add(re.split(r"[ .]", argument, maxsplit=1)[0])
    return names


def pinned(pickled: bytes | None, *modules: str) -> list[str]:
    """``dist==version`` for the distributions behind ``pickled``'s modules and ``modules``."""
    owners = metadata.packages_distributions()
    names = set(modules) | (_top_level_names(pickled) if pickled else set())
    distributions = {dist for name in names for dist in owners.get(name, [])}
    # modelyard's own classes in a stored model (a Lightning model's wrapper) are pickled by value:
    # their module name appears in the pickle, yet loading never imports modelyard
    distributions.discard("modelyard")
    if {"mlflow", "mlflow-skinny"} <= distributions:
        distributions.discard("mlflow-skinny")  # mlflow requires it; pin the one the user chose
    return sorted(f"{dist}=={metadata.version(dist)}" for dist in distributions)
