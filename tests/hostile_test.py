"""Hostile files end in a clear, positioned error: never a hang, a traceback or a huge memory bill."""

from __future__ import annotations

import pytest
from conftest import cli


def _alias_bomb() -> bytes:
    # nine times nine times ... : 9**9 strings if expanded
    lines = ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    for i in range(1, 9):
        prev, name = chr(96 + i), chr(97 + i)
        lines.append(f"{name}: &{name} [" + ",".join([f"*{prev}"] * 9) + "]")
    return ("\n".join(lines) + "\n").encode()


HOSTILE = {
    "alias-bomb": (_alias_bomb, "yaml-too-large", "models/hostile.yaml:"),
    "binary-garbage": (lambda: bytes(range(256)) * 40, "file-binary", "models/hostile.yaml: "),
    "not-utf8": (lambda: "model_name: caf\xe9\n".encode("latin-1"), "file-encoding", "models/hostile.yaml:1: "),
    "ten-megabytes": (
        lambda: b"model_name: x\n" + b"# padding padding padding\n" * 400_000,
        "file-too-large",
        "models/hostile.yaml: ",
    ),
    "deeply-nested-flow": (
        lambda: b"a: " + b"[" * 100_000 + b"]" * 100_000 + b"\n",
        "yaml-syntax",
        "models/hostile.yaml:1:",
    ),
    "deeply-nested-blocks": (
        lambda: "".join("  " * i + f"k{i}:\n" for i in range(150)).encode(),
        "yaml-too-deep",
        "models/hostile.yaml:",
    ),
    "tabs": (lambda: b"model_name: x\ntags:\n\tcanonical_name: y\n", "yaml-tab", "models/hostile.yaml:3:1: "),
    "duplicate-keys": (lambda: b"model_name: x\nmodel_name: y\n", "yaml-duplicate-key", "models/hostile.yaml:2:1: "),
    "unclosed-quote": (lambda: b'model_name: "x\n', "yaml-syntax", "models/hostile.yaml:2:1: "),
    "custom-tag": (lambda: b"model_name: !!python/object:os.system x\n", "yaml-tag", "models/hostile.yaml:1:13: "),
}


@pytest.mark.parametrize("case", sorted(HOSTILE))
def test_hostile_file_is_a_clear_error(model_repo, case):
    make, rule, place = HOSTILE[case]
    (model_repo / "models" / "hostile.yaml").write_bytes(make())
    result = cli("validate", cwd=model_repo, timeout=60)
    assert result.returncode == 1, result
    assert "Traceback" not in result.stderr, result
    line = next(line for line in result.stdout.splitlines() if line.startswith("models/hostile.yaml"))
    assert line.startswith(place) and f"error[{rule}]" in line, result
    assert result.stdout.strip().splitlines()[-1].startswith("1 error, 0 warnings in ")


def test_other_commands_refuse_a_hostile_repo_the_same_way(model_repo):
    (model_repo / "models" / "hostile.yaml").write_bytes(_alias_bomb())
    result = cli("compile", cwd=model_repo, timeout=60)
    assert result.returncode == 1, result
    assert "Traceback" not in result.stderr
    assert "models/hostile.yaml:" in result.stderr and "error[yaml-too-large]" in result.stderr
