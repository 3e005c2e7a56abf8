"""Helpers shared by several test files and the benchmarks, one module per subject (a test file
never imports another test file: tests/architecture_test.py checks it)."""
