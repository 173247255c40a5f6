"""Count statistics shared by every analysis: rate ratios, intervals, multiple testing.

Crime counts are counts, so they get count statistics:

* :func:`poisson_rate_ratio` compares two Poisson counts (two periods, two
  areas) by the **exact conditional test**: given the total ``n = a + b``,
  ``a`` is binomial with ``p = E_a R / (E_a R + E_b)`` where ``R`` is the rate
  ratio; the p-value and the Clopper–Pearson interval for ``p`` transform to
  the rate ratio (Przyborowski & Wilenski 1940; as R's ``poisson.test``).
  Optionally the **E-test** p-value of Krishnamoorthy & Thomson (2004), more
  powerful for small counts (statsmodels ``test_poisson_2indep``).
* :func:`poisson_ci` and :func:`rate` give exact (Garwood 1936) intervals for
  one count and for a rate per 1,000.
* :func:`adjust_pvalues` corrects a family of p-values (Holm 1979 by default,
  Benjamini–Hochberg 1995 false discovery rate on request), leaving NaN
  entries (tests not made) out of the family.

This module imports nothing else from the project.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

import numpy as np
import pandas as pd
from scipy import stats as sps

__all__ = [
    "RateRatio",
    "adjust_pvalues",
    "poisson_ci",
    "poisson_rate_ratio",
    "rate",
]


@dataclass(frozen=True)
class RateRatio:
    """Result of :func:`poisson_rate_ratio`.

    Attributes
    ----------
    ratio
        ``(count_a / exposure_a) / (count_b / exposure_b)``; ``inf`` when
        ``count_b`` is 0 and ``count_a`` is not, NaN when both are 0.
    ci_low, ci_high
        Exact conditional (Clopper–Pearson) confidence interval for the ratio.
    p_value
        Two-sided p-value for ratio = 1 (exact conditional, or E-test).
    method
        ``"exact-conditional"`` or ``"etest"``.
    """

    count_a: int
    count_b: int
    exposure_a: float
    exposure_b: float
    ratio: float
    ci_low: float
    ci_high: float
    p_value: float
    alpha: float
    method: str

    @property
    def pct_change(self) -> float:
        """``100 × (ratio − 1)``: the percentage change from b to a, exposure-adjusted."""
        return 100.0 * (self.ratio - 1.0)


def _check_count(value: float, name: str) -> int:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        raise ValueError(f"{name} is missing; a rate ratio needs two observed counts")
    if value < 0 or int(value) != value:
        raise ValueError(f"{name} must be a whole number of incidents >= 0, not {value!r}")
    return int(value)


def poisson_rate_ratio(
    count_a: int,
    count_b: int,
    exposure_a: float = 1.0,
    exposure_b: float = 1.0,
    alpha: float = 0.05,
    method: Literal["exact-conditional", "etest"] = "exact-conditional",
) -> RateRatio:
    """Compare two Poisson counts: rate ratio a/b with an exact interval and p-value.

    Parameters
    ----------
    count_a, count_b
        Observed counts (e.g. this year, last year).
    exposure_a, exposure_b
        Exposures (months, population, area); the ratio is of rates.
    alpha
        1 − confidence level of the interval.
    method
        P-value method: exact conditional binomial test (default), or the
        E-test of Krishnamoorthy & Thomson (2004). The interval is always the
        exact conditional (Clopper–Pearson) one.

    Examples
    --------
    Burglary fell from 368 to 302 (equal exposures):

    >>> rr = poisson_rate_ratio(302, 368)
    >>> round(rr.ratio, 3), round(rr.ci_low, 3), round(rr.ci_high, 3), round(rr.p_value, 4)
    (0.821, 0.702, 0.958, 0.012)
    """
    a = _check_count(count_a, "count_a")
    b = _check_count(count_b, "count_b")
    if not (exposure_a > 0 and exposure_b > 0):
        raise ValueError("exposures must be positive")
    if not 0 < alpha < 1:
        raise ValueError("alpha must be between 0 and 1")
    n = a + b
    scale = exposure_b / exposure_a
    if n == 0:
        return RateRatio(a, b, exposure_a, exposure_b, math.nan, 0.0, math.inf, 1.0, alpha, method)
    p0 = exposure_a / (exposure_a + exposure_b)
    test = sps.binomtest(a, n, p0)
    ci = test.proportion_ci(confidence_level=1 - alpha, method="exact")

    def to_ratio(p: float) -> float:
        if p >= 1.0:
            return math.inf
        return p / (1.0 - p) * scale

    ratio = (a / exposure_a) / (b / exposure_b) if b > 0 else math.inf
    p_value = float(test.pvalue)
    if method == "etest":
        from statsmodels.stats.rates import test_poisson_2indep

        p_value = float(test_poisson_2indep(a, exposure_a, b, exposure_b, method="etest").pvalue)
    elif method != "exact-conditional":
        raise ValueError("method must be 'exact-conditional' or 'etest'")
    return RateRatio(
        a,
        b,
        float(exposure_a),
        float(exposure_b),
        float(ratio),
        float(to_ratio(ci.low)),
        float(to_ratio(ci.high)),
        min(p_value, 1.0),
        alpha,
        method,
    )


def poisson_ci(count: float, exposure: float = 1.0, alpha: float = 0.05) -> tuple[float, float]:
    """Exact (Garwood 1936) confidence interval for a Poisson mean, divided by ``exposure``.

    Lower = χ²(α/2; 2k)/2, upper = χ²(1−α/2; 2k+2)/2.

    >>> tuple(round(x, 3) for x in poisson_ci(0))
    (0.0, 3.689)
    >>> tuple(round(x, 2) for x in poisson_ci(10))
    (4.8, 18.39)
    """
    k = _check_count(count, "count")
    lo = 0.0 if k == 0 else sps.chi2.ppf(alpha / 2, 2 * k) / 2
    hi = sps.chi2.ppf(1 - alpha / 2, 2 * k + 2) / 2
    return float(lo / exposure), float(hi / exposure)


def rate(
    counts: pd.Series | np.ndarray | float,
    denominators: pd.Series | np.ndarray | float,
    per: float = 1000.0,
    alpha: float = 0.05,
) -> pd.DataFrame:
    """Rates per ``per`` (default 1,000) with exact Poisson intervals.

    NaN counts (missing data) or NaN / non-positive denominators give NaN, never 0.

    >>> rate(pd.Series([10, 0]), pd.Series([2000, 1500])).round(3)
       count  denominator  rate  ci_low  ci_high
    0   10.0       2000.0   5.0   2.398    9.195
    1    0.0       1500.0   0.0   0.000    2.459
    """
    counts_s = (
        pd.Series(counts, dtype=float)
        if not isinstance(counts, pd.Series)
        else counts.astype(float)
    )
    den = (
        pd.Series(denominators, index=counts_s.index, dtype=float)
        if not isinstance(denominators, pd.Series)
        else denominators.astype(float).reindex(counts_s.index)
    )
    ok = counts_s.notna() & den.notna() & (den > 0)
    k = counts_s.where(ok)
    lo = np.where(k > 0, sps.chi2.ppf(alpha / 2, 2 * k.fillna(0)) / 2, 0.0)
    hi = sps.chi2.ppf(1 - alpha / 2, 2 * k.fillna(0) + 2) / 2
    scale = per / den.where(ok)
    out = pd.DataFrame(
        {
            "count": counts_s,
            "denominator": den,
            "rate": k * scale,
            "ci_low": np.where(ok, lo * scale, np.nan),
            "ci_high": np.where(ok, hi * scale, np.nan),
        },
        index=counts_s.index,
    )
    return out


def adjust_pvalues(
    p_values: pd.Series | np.ndarray | list[float],
    method: Literal["holm", "fdr_bh", "bonferroni", "none"] = "holm",
) -> np.ndarray:
    """Correct a family of p-values for multiple testing; NaN entries stay NaN.

    ``holm`` (Holm 1979, controls the family-wise error), ``fdr_bh``
    (Benjamini & Hochberg 1995, controls the false discovery rate),
    ``bonferroni`` or ``none``. A 2-D array is corrected column by column
    (one family per column, e.g. one per period); NaN entries (tests not made)
    are left out of their family. The results equal statsmodels'
    ``multipletests`` (tested), without its per-call overhead.

    >>> adjust_pvalues([0.01, 0.04, float("nan"), 0.03]).round(2)
    array([0.03, 0.06,  nan, 0.06])
    >>> adjust_pvalues([[0.01, 0.5], [0.04, float("nan")], [0.03, 0.01]]).round(2).tolist()
    [[0.03, 0.5], [0.06, nan], [0.06, 0.02]]
    """
    p = np.asarray(p_values, dtype=float)
    if method == "none":
        return p.copy()
    if method not in {"holm", "fdr_bh", "bonferroni"}:
        raise ValueError("method must be 'holm', 'fdr_bh', 'bonferroni' or 'none'")
    flat = p.ndim == 1
    q = p[:, None] if flat else p
    m = (~np.isnan(q)).sum(axis=0)
    order = np.argsort(q, axis=0, kind="stable")  # NaN sorted last
    ps = np.take_along_axis(q, order, axis=0)
    rank = np.arange(1, q.shape[0] + 1)[:, None]
    if method == "bonferroni":
        adj = np.minimum(ps * m, 1.0)
    elif method == "holm":
        adj = np.fmax.accumulate(np.minimum((m - rank + 1) * ps, 1.0), axis=0)
    else:
        adj = np.minimum(ps * m / rank, 1.0)
        adj = np.where(np.isnan(adj), np.inf, adj)
        adj = np.minimum.accumulate(adj[::-1], axis=0)[::-1]
    adj = np.where(np.isnan(ps), np.nan, adj)
    out = np.empty_like(adj)
    np.put_along_axis(out, order, adj, axis=0)
    return out[:, 0] if flat else out
