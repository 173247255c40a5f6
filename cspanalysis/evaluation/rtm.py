"""Regression to the mean: was the target picked at a peak?

Hotspots are usually chosen because their last few months were high. Counts
that were high partly by chance fall back towards their usual level whatever
is done, so a before/after comparison against those months shows a
reduction that is not an effect (Farrington & Welsh 2006; Galton's
regression). :func:`regression_to_mean_check` compares the target's last
``recent_months`` observed months before the start with its own longer
history before them: the ratio of monthly means, a one-sided test that the
recent months were higher (the log-ratio's Poisson variance scaled by the
history's dispersion, variance / mean of its monthly counts, when above 1),
and the change a naive before/after would show with no effect at all if the
count simply returned to its history.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import pandas as pd
from scipy import stats as sps

from cspanalysis.evaluation.prepost import monthly_series
from cspanalysis.evaluation.result import InsufficientDataError, month_range, pct, to_period

__all__ = ["RTMResult", "regression_to_mean_check"]


@dataclass(frozen=True)
class RTMResult:
    """Result of :func:`regression_to_mean_check`.

    Attributes
    ----------
    recent_mean, history_mean
        Mean monthly count in the recent months and in the history before them.
    ratio
        ``recent_mean / history_mean``.
    p_value
        One-sided p-value that the recent months were higher than the history.
    dispersion
        Variance / mean of the history's monthly counts (at least 1).
    flagged
        True when the recent months were significantly high (``p < alpha``).
    implied_change
        ``history_mean / recent_mean``: the rate ratio a before/after against
        the recent months would show if the count returned to its history.
    """

    recent_months: pd.PeriodIndex
    history_months: pd.PeriodIndex
    recent_mean: float
    history_mean: float
    ratio: float
    p_value: float
    dispersion: float
    alpha: float
    flagged: bool

    @property
    def implied_change(self) -> float:
        """Before/after rate ratio expected from regression to the mean alone."""
        return self.history_mean / self.recent_mean if self.recent_mean > 0 else math.nan

    def findings(self) -> list[str]:
        """Plain-English sentences."""
        head = (
            f"Regression to the mean: the last {len(self.recent_months)} months before the "
            f"start averaged {self.recent_mean:.1f} a month against {self.history_mean:.1f} "
            f"in the {len(self.history_months)} months before them "
            f"({month_range(self.history_months)}); ratio {self.ratio:.2f}, "
            f"one-sided p = {self.p_value:.3g}."
        )
        if self.flagged:
            return [
                head
                + (
                    " The target was picked, or started, at an unusually high point: part of any "
                    "fall after the start is expected anyway as the count returns to its usual "
                    "level (a before/after against those months would show "
                    f"{pct(self.implied_change)} with no effect at all). Trust the estimates "
                    "that use the whole history (the interrupted time series, the "
                    "counterfactual) and the control comparisons "
                    "more than the simple before/after."
                )
            ]
        return [head + " No sign that the start followed an unusual peak."]


def regression_to_mean_check(
    counts: pd.Series,
    start: str | pd.Period,
    recent_months: int = 3,
    alpha: float = 0.05,
) -> RTMResult:
    """Check whether the target's last months before the start were unusually high.

    Parameters
    ----------
    counts
        The target's monthly counts (PeriodIndex); NaN months are missing.
    start
        First month of the intervention.
    recent_months
        Observed months just before the start to compare with the history.
    alpha
        Significance level of the one-sided test.

    Raises
    ------
    InsufficientDataError
        Fewer than 6 observed history months before the recent ones.

    Examples
    --------
    >>> months = pd.period_range("2019-01", periods=15, freq="M")
    >>> s = pd.Series([20] * 9 + [34, 36, 35] + [22, 21, 20], index=months)
    >>> r = regression_to_mean_check(s, "2019-10")
    >>> r.flagged, round(r.ratio, 2)
    (False, 1.0)
    >>> r = regression_to_mean_check(s, "2020-01")
    >>> r.flagged, round(r.ratio, 2), pct(r.implied_change)
    (True, 1.75, '-43%')
    """
    s = monthly_series(counts)
    start_p = to_period(start)
    pre = s[s.index < start_p].dropna()
    if recent_months < 1:
        raise ValueError("recent_months must be at least 1")
    recent = pre.iloc[-recent_months:]
    history = pre.iloc[:-recent_months]
    if len(recent) < recent_months or len(history) < 6:
        raise InsufficientDataError(
            f"the regression-to-the-mean check needs {recent_months} recent and at least 6 "
            f"earlier observed months before {start_p}; there are {len(pre)} in all"
        )
    r_sum, h_sum = float(recent.sum()), float(history.sum())
    r_mean, h_mean = r_sum / len(recent), h_sum / len(history)
    disp = max(1.0, float(history.var(ddof=1) / h_mean)) if h_mean > 0 else 1.0
    if r_sum == 0 or h_sum == 0:
        ratio = math.inf if h_sum == 0 and r_sum > 0 else (0.0 if h_sum > 0 else math.nan)
        p = 1.0 if r_sum == 0 else 0.0
    else:
        ratio = r_mean / h_mean
        se = math.sqrt(disp * (1 / r_sum + 1 / h_sum))
        p = float(sps.norm.sf(math.log(ratio) / se))
    return RTMResult(
        pd.PeriodIndex(recent.index, freq="M"),
        pd.PeriodIndex(history.index, freq="M"),
        r_mean,
        h_mean,
        ratio,
        p,
        disp,
        alpha,
        bool(p < alpha and ratio > 1),
    )
