"""What the server that forks a local run's worker processes imports first (``runner``): modelyard's
runtime, pandas, DuckDB and the libraries the run's trainers import, listed in $MODELYARD_PRELOAD.
Every worker then starts with them loaded. A library that fails to import is skipped here (an
error would stop the server, and with it every worker): the trainer's own import reports it."""

from __future__ import annotations

import os

from modelyard.execute.runner import PRELOAD_VARIABLE, import_quietly

import_quietly(["pandas", "duckdb", *filter(None, os.environ.get(PRELOAD_VARIABLE, "").split(","))])
