"""constraints.txt (written by scripts/lock.sh, used by scripts/bootstrap.sh) is current with
pyproject.toml: every dependency of every extra is pinned, at a version pyproject accepts."""

from __future__ import annotations

import tomllib

from conftest import ROOT
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from packaging.version import Version

STALE = "constraints.txt is stale: re-run scripts/lock.sh"


def _pins() -> dict[str, str]:
    pins = {}
    for line in (ROOT / "constraints.txt").read_text().splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        name, sep, version = line.partition("==")
        assert sep and version and " " not in line, f"constraints.txt: not an exact pin: {line!r}"
        pins[canonicalize_name(name)] = version
    return pins


def _requirements() -> list[Requirement]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    groups = [project.get("dependencies", []), *project.get("optional-dependencies", {}).values()]
    return [Requirement(spec) for group in groups for spec in group]


def test_every_requirement_of_every_extra_is_pinned_at_an_accepted_version():
    pins = _pins()
    for req in _requirements():
        if req.marker is not None and not req.marker.evaluate():
            continue
        name = canonicalize_name(req.name)
        assert name in pins, f"{req} is not in constraints.txt: {STALE}"
        assert req.specifier.contains(Version(pins[name]), prereleases=True), (
            f"constraints.txt pins {req.name}=={pins[name]}, pyproject.toml asks {req}: {STALE}"
        )


def test_torch_if_locked_is_the_cpu_build():
    version = _pins().get("torch")
    assert version in (None, "2.13.0"), f"torch must be locked at 2.13.0 (an unpinned torch pulls CUDA), got {version}"


def test_airflow_range_is_the_tested_series_with_airflow_sdk_conf():
    """The DAGs import airflow.sdk.conf, absent from early Airflow 3 releases: allow only what runs here."""
    from importlib.metadata import version

    (airflow,) = [r for r in _requirements() if canonicalize_name(r.name) == "apache-airflow"]
    installed = Version(version("apache-airflow"))
    assert installed in airflow.specifier
    assert Version("3.0.0") not in airflow.specifier
    assert Version(f"{installed.major}.{installed.minor + 1}.0") not in airflow.specifier  # untested next series
    from airflow.sdk import conf  # noqa: F401 -- what the generated DAG files import
