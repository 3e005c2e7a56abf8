"""Drift figures by hand with numpy, never read back from modelyard: deciles (numpy's linear
quantiles, as DuckDB's quantile_cont), bin counts with open outer bins, and
PSI = sum (a - e) ln(a / e) with shares floored at ``EPSILON``."""

from __future__ import annotations

import numpy as np

EPSILON = 1e-4


def numeric_bins(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    quantiles = np.quantile(values, np.arange(1, 10) / 10)
    edges = np.unique(np.concatenate([[values.min()], quantiles, [values.max()]]))
    return edges, bin_counts(edges, values)


def bin_counts(edges: np.ndarray, values: np.ndarray) -> np.ndarray:
    # bin i holds edges[i] <= x < edges[i+1]; the first and last bins are open-ended
    index = np.searchsorted(edges[1:-1], values, side="right")
    return np.bincount(index, minlength=len(edges) - 1)


def psi_by_hand(expected: np.ndarray, actual: np.ndarray) -> float:
    e = np.maximum(expected / expected.sum(), EPSILON)
    a = np.maximum(actual / actual.sum(), EPSILON)
    return float(np.sum((a - e) * np.log(a / e)))
