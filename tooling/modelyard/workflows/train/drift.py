"""Drift between a reference profile and new rows: the population stability index (PSI) per
column, and the schema changes (a column gone, added, or of another type).

PSI = sum over bins of (a - e) * ln(a / e), with e the reference's share of rows in a bin and a
the new rows' share in the same bin. Numeric columns use the reference's decile bins; categorical
columns its top values plus one bin for every other value. A share of 0 is counted as
``EPSILON`` (an empty bin would make the logarithm infinite). Nulls are left out of the shares.
"""

from __future__ import annotations

import math

EPSILON = 1e-4
DEFAULT_THRESHOLDS = {"psi_warn": 0.1, "psi_fail": 0.25}
LEVELS = ("ok", "warn", "fail")


def psi(expected: list[int], actual: list[int]) -> float | None:
    """PSI of ``actual`` counts against ``expected`` counts in the same bins; None when either
    side has no values to compare."""
    total_e, total_a = sum(expected), sum(actual)
    if not total_e or not total_a:
        return None
    value = 0.0
    for e, a in zip(expected, actual, strict=True):
        share_e, share_a = max(e / total_e, EPSILON), max(a / total_a, EPSILON)
        value += (share_a - share_e) * math.log(share_a / share_e)
    return value


def level(value: float | None, warn: float, fail: float) -> str:
    if value is None:
        return "ok"
    return "fail" if value >= fail else "warn" if value >= warn else "ok"


def worst(levels) -> str:
    return max(levels, key=LEVELS.index, default="ok")


def reference_counts(entry: dict) -> list[int] | None:
    """The reference's own counts in the bins a drift test compares."""
    if entry["family"] == "numeric":
        return entry["bins"]["counts"] if "bins" in entry else None
    if entry["family"] == "categorical":
        return [n for _, n in entry["top"]] + [entry["other"]]
    return None


def schema_changes(reference: dict, current: dict) -> list[dict]:
    old, new = reference["columns"], current["columns"]
    changes = [{"column": c, "change": "removed", "from": old[c]["type"], "to": None} for c in old if c not in new]
    changes += [{"column": c, "change": "added", "from": None, "to": new[c]["type"]} for c in new if c not in old]
    changes += [
        {"column": c, "change": "type", "from": old[c]["type"], "to": new[c]["type"]}
        for c in old
        if c in new and old[c]["type"] != new[c]["type"]
    ]
    return changes


def compare(reference: dict, current: dict, counts: dict[str, list[int]], thresholds: dict | None = None) -> dict:
    """The drift report of new rows (``current``: their profile; ``counts``: them counted in the
    reference's bins, see ``warehouse.profile.counts_in_reference``) against ``reference``."""
    limits = {**DEFAULT_THRESHOLDS, **(thresholds or {})}
    columns = []
    for column, entry in reference["columns"].items():
        expected = reference_counts(entry)
        if expected is None or column not in counts:
            continue
        value = psi(expected, counts[column])
        columns.append(
            {
                "column": column,
                "family": entry["family"],
                "statistic": "psi",
                "value": None if value is None else round(value, 6),
                "level": level(value, limits["psi_warn"], limits["psi_fail"]),
            }
        )
    changes = schema_changes(reference, current)
    # a schema change is always shown; it warns (a missing feature fails scoring on its own)
    status = worst([c["level"] for c in columns] + ["warn" for _ in changes])
    return {
        "rows": {"reference": reference["rows"], "current": current["rows"]},
        "thresholds": limits,
        "columns": columns,
        "schema_changes": changes,
        "status": status,
    }


def flagged(report: dict) -> list[str]:
    """One line per column that crossed a threshold or changed, for a terminal."""
    lines = [
        f"{c['column']}: PSI {c['value']:.3f} ({c['level']}, {c['family']})"
        for c in report["columns"]
        if c["level"] != "ok"
    ]
    lines += [
        f"{c['column']}: {c['change']}" + (f" {c['from']} -> {c['to']}" if c["change"] == "type" else "")
        for c in report["schema_changes"]
    ]
    return lines
