"""The negative corpus: each folder of tests/cases/ breaks a copy of the template repo in one way
and lists every diagnostic `modelyard validate` must print for it (rule, file, line), no more.

A case folder holds ``case.yaml`` (``description``; ``replace``: exact text edits of repo files,
each ``old`` must occur once; ``delete``: repo files to remove; ``expect``: ``"rule path:line"``
lines; optionally ``messages``: exact lines of the output) and optionally ``files/``, copied over
the repo.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest
import yaml
from conftest import CASES, cli

CASE_NAMES = sorted(p.name for p in CASES.iterdir() if p.is_dir())  # a folder without case.yaml fails, never skips
LINE = re.compile(r"^(?P<path>[^:]+):(?P<line>\d+)?(?::\d+)?:? ?(?P<severity>error|warning)\[(?P<rule>[a-z-]+)\]: ")


def apply_case(case_dir: Path, repo: Path) -> dict:
    spec = yaml.safe_load((case_dir / "case.yaml").read_text())
    for edit in spec.get("replace", []):
        path = repo / edit["file"]
        text = path.read_text()
        assert text.count(edit["old"]) == 1, f"{case_dir.name}: {edit['old']!r} must occur once in {edit['file']}"
        path.write_text(text.replace(edit["old"], edit["new"]))
    for rel in spec.get("delete", []):
        (repo / rel).unlink()
    if (case_dir / "files").is_dir():
        shutil.copytree(case_dir / "files", repo, dirs_exist_ok=True)
    return spec


def produced(stdout: str) -> list[str]:
    out = []
    for line in stdout.splitlines()[:-1]:
        match = LINE.match(line)
        assert match, f"not a compiler-style line: {line!r}"
        out.append(f"{match['rule']} {match['path']}:{match['line'] or 0}")
    return out


def test_corpus_is_large_enough():
    assert len(CASE_NAMES) >= 30


@pytest.mark.parametrize("name", CASE_NAMES)
def test_case(name, model_repo):
    spec = apply_case(CASES / name, model_repo)
    result = cli("validate", cwd=model_repo)
    assert "Traceback" not in result.stderr, result
    expected = sorted(spec.get("expect") or [])
    assert sorted(produced(result.stdout)) == expected, result
    for message in spec.get("messages") or []:
        assert message in result.stdout.splitlines(), result
    has_errors = any(" error[" in line for line in result.stdout.splitlines())
    assert result.returncode == (1 if has_errors else 0), result


# Rules the corpus cannot produce from a patch of text files, each tested elsewhere or unreachable.
NOT_IN_CORPUS = {
    "file-too-large",
    "file-binary",
    "yaml-too-large",
    "yaml-too-deep",
    "yaml-tag",  # hostile_test.py
    "stale-schema",  # editor_test.py
    "file-unreadable",  # permissions: the tests run as root
    "yaml-key",  # a complex mapping key (`? [a]: 1`), refused before any schema
    "schema",  # the fallback for schema keywords our schemas do not use yet
}


def test_every_documented_rule_is_exercised():
    doc = (Path(__file__).resolve().parents[1] / "docs" / "validation.md").read_text()
    documented = set(re.findall(r"^\| `([a-z-]+)` \|", doc, re.MULTILINE))
    covered = {
        line.split()[0]
        for name in CASE_NAMES
        for line in yaml.safe_load((CASES / name / "case.yaml").read_text()).get("expect") or []
    }
    assert covered <= documented, covered - documented
    assert documented - covered == NOT_IN_CORPUS
