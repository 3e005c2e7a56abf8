"""What the server that forks a local run's worker processes imports first (``runner``): modelyard's
runtime, pandas, DuckDB and the libraries the run's trainers import, listed in $MODELYARD_PRELOAD.
Every worker then starts with them loaded. A library that fails to import is skipped here (an
error would stop the server, and with it every worker): the trainer's own import reports it."""

from __future__ import annotations

import atexit
import os

from modelyard.execute.runner import PRELOAD_VARIABLE, import_quietly

import_quietly(["pandas", "duckdb", *filter(None, os.environ.get(PRELOAD_VARIABLE, "").split(","))])

# The server ends when the command does, and its interpreter's teardown (freeing pandas, scikit-learn
# and SciPy module by module: about 0.3 s) would keep the command's stdout and stderr open that long
# after it: a caller reading them (a CI log, subprocess.run) would wait for it. The server has
# nothing to flush or clean up (its workers end with os._exit, the command removes its socket).
atexit.register(os._exit, 0)
