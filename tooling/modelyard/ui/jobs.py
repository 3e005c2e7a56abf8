"""Start UI runs as worker subprocesses and watch them; one at a time, since the warehouse takes
one writer. The worker keeps the status record; this only knows whether the process is alive."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from pathlib import Path


def log_path(state_dir: Path, workflow_id: str) -> Path:
    return state_dir / "ui" / "logs" / f"{workflow_id}.log"


class Jobs:
    def __init__(self, root: Path, state_dir: Path):
        self.root, self.state_dir = root, state_dir
        self._lock = threading.Lock()
        self._proc: subprocess.Popen | None = None
        self._workflow: str | None = None

    def running(self) -> str | None:
        """The workflow whose run is in progress, if any."""
        with self._lock:
            if self._proc is not None and self._proc.poll() is None:
                return self._workflow
            return None

    def start(self, workflow_id: str, node: str | None = None) -> str | None:
        """Start a run; return why not when another run is in progress."""
        with self._lock:
            if self._proc is not None and self._proc.poll() is None:
                return f"a run of {self._workflow} is in progress; wait for it to finish"
            log = log_path(self.state_dir, workflow_id)
            log.parent.mkdir(parents=True, exist_ok=True)
            command = [sys.executable, "-m", "modelyard.ui.worker", str(self.root), workflow_id, "--log", str(log)]
            if node:
                command += ["--node", node]
            with open(log, "wb") as out:
                self._proc = subprocess.Popen(
                    command,
                    cwd=self.root,
                    stdout=out,
                    stderr=subprocess.STDOUT,
                    stdin=subprocess.DEVNULL,
                    env={**os.environ, "COLUMNS": "120"},
                )
            self._workflow = workflow_id
            return None
