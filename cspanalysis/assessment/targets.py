"""Performance against targets with direction-aware RAG status.

The rules (``direction`` says which way is good):

``pct_vs_target``
    ``100 × (actual − target) / target``: the signed distance from target, as
    partnerships print it ("+19% against target").
Green
    Target met: ``actual <= target`` when the aim is a decrease,
    ``actual >= target`` when it is an increase.
Amber
    Target missed, but either (a) by no more than ``amber_tolerance`` of the
    target (default 5%), or (b) the indicator has moved the right way from
    its baseline. Both are "not there yet, but close or heading there": a
    board should watch, not escalate.
Red
    Otherwise: missed by more than the tolerance **and** no better than the
    baseline.

Worked example from a real partnership report: "Reduction in theft from
vehicle offences", baseline 404, target 392, actual 465 → +19% against target,
missed by far more than 5%, and worse than the baseline → Red.

A RAG status compares single numbers; it says nothing about chance. For
counts, the change tables (:func:`~cspanalysis.assessment.rolling_change`)
say whether a movement is more than chance.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from cspanalysis.errors import InputError

__all__ = ["TargetResult", "assess_targets", "performance_against_target", "targets_table"]

_REQUIRED = ("indicator", "baseline", "target", "actual", "direction")


def performance_against_target(table: pd.DataFrame, amber_tolerance: float = 0.05) -> pd.DataFrame:
    """Add ``pct_vs_target``, ``met``, ``rag`` ("Green"/"Amber"/"Red") and ``rag_reason``.

    Parameters
    ----------
    table
        Columns ``indicator, baseline, target, actual, direction`` (``"increase"`` or
        ``"decrease"``); an ``amber_tolerance`` column, when present, overrides the default
        per row.
    amber_tolerance
        Fraction of the target within which a miss is Amber (default 0.05 = 5%).

    Returns
    -------
    pandas.DataFrame
        A copy of ``table`` with the new columns. Rows with no ``actual`` get NA.

    Examples
    --------
    >>> t = pd.DataFrame({"indicator": ["Reduce theft from vehicles", "Racist incidents reported"],
    ...                   "baseline": [404, 50], "target": [392, 60], "actual": [465, 58],
    ...                   "direction": ["decrease", "increase"]})
    >>> out = performance_against_target(t)
    >>> out["pct_vs_target"].round(1).tolist(), out["rag"].tolist()
    ([18.6, -3.3], ['Red', 'Amber'])
    """
    missing = [c for c in _REQUIRED if c not in table.columns]
    if missing:
        raise InputError(
            f"the targets table lacks column(s) {missing}; it needs {', '.join(_REQUIRED)}"
        )
    out = table.copy()
    direction = out["direction"].astype("string").str.lower().str.strip()
    bad = ~direction.isin(["increase", "decrease"])
    if bad.any():
        i = int(np.flatnonzero(bad.to_numpy())[0])
        raise InputError(
            f"target '{out['indicator'].iloc[i]}' has direction {out['direction'].iloc[i]!r}; "
            "use 'increase' or 'decrease'"
        )
    for col in ("baseline", "target", "actual"):
        try:
            out[col] = pd.to_numeric(out[col]).astype(float)
        except (ValueError, TypeError) as exc:
            raise InputError(f"the targets column '{col}' must hold numbers") from exc
    tol = (
        pd.to_numeric(out["amber_tolerance"]).fillna(amber_tolerance).astype(float)
        if "amber_tolerance" in out.columns
        else pd.Series(float(amber_tolerance), index=out.index)
    )
    if (tol < 0).any():
        raise InputError("amber_tolerance must be 0 or more (a fraction, e.g. 0.05 for 5%)")
    zero = out["target"] == 0
    if zero.any():
        raise InputError(
            f"target '{out.loc[zero, 'indicator'].iloc[0]}' is 0; a % against target needs a "
            "non-zero target"
        )
    actual, target, baseline = out["actual"], out["target"], out["baseline"]
    up = direction == "increase"
    out["pct_vs_target"] = 100.0 * (actual - target) / target.abs()
    met = np.where(up, actual >= target, actual <= target)
    close = np.where(up, actual >= target * (1 - tol), actual <= target * (1 + tol))
    improving = np.where(up, actual > baseline, actual < baseline)
    rag = np.select([met, close, improving], ["Green", "Amber", "Amber"], "Red")
    reason = np.select(
        [met, close, improving],
        [
            "target met",
            "missed by no more than the amber tolerance",
            "target missed but better than baseline",
        ],
        "missed by more than the tolerance and no better than baseline",
    )
    no_actual = actual.isna().to_numpy()
    out["met"] = pd.array(np.where(no_actual, pd.NA, met), dtype="boolean")
    out["rag"] = pd.array(np.where(no_actual, pd.NA, rag), dtype="string")
    out["rag_reason"] = pd.array(np.where(no_actual, "no actual value", reason), dtype="string")
    out["amber_tolerance"] = tol
    return out


def targets_table(
    targets: Iterable[Any],
    actuals: Mapping[str, float] | pd.Series,
    *,
    known: Iterable[str] | None = None,
) -> pd.DataFrame:
    """Build the targets table from parameter-file targets and actual values.

    Parameters
    ----------
    targets
        :class:`cspanalysis.config.Target` objects (or mappings with the same keys).
    actuals
        Actual value per category (e.g. the current 12-month counts from
        :func:`~cspanalysis.assessment.rolling_change`). A target's ``category`` (or,
        when it has none, its ``indicator``) is looked up here.
    known
        Categories the data can supply (default: ``actuals``' keys); a target naming
        anything else is an error.

    Raises
    ------
    InputError
        A target names a category the data do not have.

    Examples
    --------
    >>> t = [{"indicator": "Reduce burglary", "baseline": 400, "target": 380,
    ...       "direction": "decrease", "category": "Burglary"}]
    >>> targets_table(t, {"Burglary": 350})[["indicator", "actual"]].to_dict("records")
    [{'indicator': 'Reduce burglary', 'actual': 350.0}]
    """
    actual_map = dict(actuals.items()) if isinstance(actuals, pd.Series) else dict(actuals)
    pool = set(actual_map) if known is None else set(known)
    rows = []
    for i, t in enumerate(targets):
        d = dict(t) if isinstance(t, Mapping) else t.model_dump()
        key = d.get("category") or d["indicator"]
        if key not in pool:
            raise InputError(
                f"targets[{i}] ('{d['indicator']}') refers to '{key}', which is not a category in "
                f"the data; set its 'category' to one of: {', '.join(sorted(map(str, pool)))}"
            )
        value = actual_map.get(key, np.nan)
        rows.append({**d, "category": key, "actual": float(value) if pd.notna(value) else np.nan})
    cols = [*_REQUIRED, "category", "amber_tolerance"]
    return pd.DataFrame(rows).reindex(columns=cols)


@dataclass
class TargetResult:
    """A performance-against-target table with its options."""

    table: pd.DataFrame
    options: dict[str, Any] = field(default_factory=dict)

    def findings(self) -> list[str]:
        """One sentence per target."""
        from cspanalysis.assessment.findings import rag_sentence

        return [rag_sentence(row) for _, row in self.table.iterrows()]


def assess_targets(
    targets: Iterable[Any],
    actuals: Mapping[str, float] | pd.Series,
    amber_tolerance: float = 0.05,
    known: Iterable[str] | None = None,
) -> TargetResult:
    """:func:`targets_table` then :func:`performance_against_target`, as a result object."""
    table = performance_against_target(
        targets_table(targets, actuals, known=known), amber_tolerance
    )
    return TargetResult(table, {"amber_tolerance": amber_tolerance})
