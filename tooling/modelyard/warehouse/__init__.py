"""Warehouse implementations (DuckDB today): seeds, extract tables with cache keys, result tables, locking."""
