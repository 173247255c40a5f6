"""Pieces every evaluation result shares: the "too few months" error and number formatting.

An evaluation method that cannot be computed honestly from the months
available raises :class:`InsufficientDataError` (an
:class:`~cspanalysis.errors.InputError`) with one sentence saying what it
needs; :func:`cspanalysis.evaluation.evaluate_intervention` catches it and
reports the method as *not computed* with that reason, instead of failing or
inventing a result.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import pandas as pd

from cspanalysis.errors import InputError


class InsufficientDataError(InputError):
    """The months (or counts) available are too few for this method; the message says why.

    >>> str(InsufficientDataError("interrupted time series needs 8 pre-intervention months; "
    ...                           "there are 3"))
    'interrupted time series needs 8 pre-intervention months; there are 3'
    """


def as_pair(value: Sequence[float], name: str) -> tuple[float, float]:
    """Check a (before, after) pair of counts and return it as floats.

    >>> as_pair((10, 7), "target")
    (10.0, 7.0)
    """
    try:
        before, after = value
    except (TypeError, ValueError):
        raise ValueError(
            f"{name} must be a (before, after) pair of counts, not {value!r}"
        ) from None
    out = []
    for label, x in (("before", before), ("after", after)):
        if x is None or (isinstance(x, float) and math.isnan(x)):
            raise ValueError(f"{name} {label} count is missing; every count must be observed")
        x = float(x)
        if x < 0:
            raise ValueError(f"{name} {label} count must be >= 0, not {x:g}")
        out.append(x)
    return out[0], out[1]


def to_period(month: str | pd.Period, name: str = "start") -> pd.Period:
    """A month given as ``"YYYY-MM"`` or a Period, as a monthly Period.

    >>> to_period("2020-04")
    Period('2020-04', 'M')
    """
    try:
        return pd.Period(month, freq="M")
    except (ValueError, TypeError):
        raise InputError(
            f"{name} '{month}' is not a month; write it as YYYY-MM, e.g. 2020-04"
        ) from None


def pct(ratio: float) -> str:
    """A rate ratio as a signed percentage change, e.g. ``0.8 -> '-20%'``.

    >>> pct(0.8), pct(1.25), pct(float("nan"))
    ('-20%', '+25%', 'n/a')
    """
    if ratio is None or not math.isfinite(ratio):
        return "n/a"
    return f"{100 * (ratio - 1):+.0f}%"


def interval(low: float, high: float, as_pct: bool = True) -> str:
    """An interval of rate ratios as text, in percentage changes by default.

    >>> interval(0.7, 0.95)
    '-30% to -5%'
    """
    if as_pct:
        return f"{pct(low)} to {pct(high)}"
    return f"{low:.2f} to {high:.2f}"


def month_range(months: pd.PeriodIndex) -> str:
    """First and last month of a set, with the count, e.g. ``'2019-01 to 2019-06 (6 months)'``.

    >>> month_range(pd.period_range("2019-01", "2019-06", freq="M"))
    '2019-01 to 2019-06 (6 months)'
    """
    if len(months) == 0:
        return "no months"
    n = len(months)
    return f"{months.min()} to {months.max()} ({n} month{'s' if n != 1 else ''})"
