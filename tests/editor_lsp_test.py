"""The real YAML language server (what VS Code's YAML extension runs) on a generated repo, offline:
schema errors, hover help and completion come from the repo's .vscode/settings.json and .schemas/.

The server is pinned by tests/lsp/package-lock.json and installed once, before the tests, by
`npm ci` in scripts/test.sh; the test itself touches no network.
"""

from __future__ import annotations

import json
import queue
import subprocess
import threading
import time
from pathlib import Path

import pytest
from conftest import ROOT

LSP = ROOT / "tests" / "lsp"
INSTALL_HINT = "scripts/test.sh installs it (npm ci --prefix tests/lsp)"


@pytest.fixture(scope="session")
def yaml_language_server() -> Path:
    server = LSP / "node_modules" / ".bin" / "yaml-language-server"
    if not server.exists():
        pytest.fail(f"yaml-language-server is not installed at {server}: {INSTALL_HINT}")
    locked = json.loads((LSP / "package-lock.json").read_text())["packages"]["node_modules/yaml-language-server"]
    installed = json.loads((LSP / "node_modules" / "yaml-language-server" / "package.json").read_text())
    if installed["version"] != locked["version"]:
        pytest.fail(
            f"yaml-language-server {installed['version']} is installed, package-lock.json pins "
            f"{locked['version']}: {INSTALL_HINT}"
        )
    return server


class LanguageServer:
    """Just enough of an LSP client: requests, notifications, and answers to the server's requests."""

    def __init__(self, server: Path, settings: dict):
        self.settings = settings
        self.proc = subprocess.Popen(
            [str(server), "--stdio"], stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL
        )
        self.inbox: queue.Queue = queue.Queue()
        self.next_id = 0
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        while True:
            length = 0
            while line := self.proc.stdout.readline().decode().strip():
                name, _, value = line.partition(":")
                if name.lower() == "content-length":
                    length = int(value)
            if not length:
                return
            self.inbox.put(json.loads(self.proc.stdout.read(length)))

    def _send(self, message: dict) -> None:
        data = json.dumps({"jsonrpc": "2.0", **message}).encode()
        self.proc.stdin.write(f"Content-Length: {len(data)}\r\n\r\n".encode() + data)
        self.proc.stdin.flush()

    def notify(self, method: str, params: dict) -> None:
        self._send({"method": method, "params": params})

    def request(self, method: str, params: dict):
        self.next_id += 1
        self._send({"id": self.next_id, "method": method, "params": params})
        wanted = self.next_id
        return self.wait(lambda m: m.get("id") == wanted and "method" not in m).get("result")

    def wait(self, matches, timeout: float = 60) -> dict:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                message = self.inbox.get(timeout=0.5)
            except queue.Empty:
                continue
            if message.get("method") == "workspace/configuration":  # as VS Code answers from settings
                self._send({"id": message["id"], "result": [self.settings for _ in message["params"]["items"]]})
            elif "method" in message and "id" in message:
                self._send({"id": message["id"], "result": None})
            elif matches(message):
                return message
        raise AssertionError("the language server did not answer in time")

    def close(self) -> None:
        self.proc.kill()
        self.proc.wait()


def test_schemas_drive_diagnostics_hover_and_completion(model_repo, yaml_language_server):
    vscode = json.loads((model_repo / ".vscode" / "settings.json").read_text())
    settings = {
        "schemas": vscode["yaml.schemas"],
        "validate": True,
        "hover": True,
        "completion": True,
        "yamlVersion": "1.2",
        "schemaStore": {"enable": False},
    }
    server = LanguageServer(yaml_language_server, settings)
    try:
        root = model_repo.resolve().as_uri()
        server.request(
            "initialize",
            {
                "processId": None,
                "rootUri": root,
                "workspaceFolders": [{"uri": root, "name": model_repo.name}],
                "capabilities": {"workspace": {"configuration": True}},
            },
        )
        server.notify("initialized", {})
        server.notify("workspace/didChangeConfiguration", {"settings": {"yaml": settings}})

        model = model_repo / "models" / "model_linear_regression.yaml"
        uri = model.resolve().as_uri()
        text = model.read_text().replace("model_name:", "model_nam:") + "\n"
        server.notify(
            "textDocument/didOpen", {"textDocument": {"uri": uri, "languageId": "yaml", "version": 1, "text": text}}
        )
        published = server.wait(
            lambda m: (
                m.get("method") == "textDocument/publishDiagnostics"
                and m["params"]["uri"] == uri
                and m["params"]["diagnostics"]
            )
        )
        messages = {(d["range"]["start"]["line"], d["message"]) for d in published["params"]["diagnostics"]}
        assert (1, "Property model_nam is not allowed.") in messages
        assert (1, 'Missing property "model_name".') in messages

        line = text.splitlines().index(next(row for row in text.splitlines() if row.startswith("model_trainer:")))
        hover = server.request(
            "textDocument/hover", {"textDocument": {"uri": uri}, "position": {"line": line, "character": 3}}
        )
        assert "the class `ClassName` in `trainers/a/b.py`" in hover["contents"]["value"].replace("\\", "")

        last = len(text.splitlines())
        completion = server.request(
            "textDocument/completion", {"textDocument": {"uri": uri}, "position": {"line": last, "character": 0}}
        )
        labels = {item["label"] for item in (completion["items"] if isinstance(completion, dict) else completion)}
        assert {"model_name", "schedule", "retries"} <= labels
    finally:
        server.close()
