"""Choosing a control area automatically, and saying how well it matches.

:func:`choose_control` picks, from candidate LSOAs outside the target and its
buffer, those closest to the target before the start in

* **level**: log of the mean monthly count per LSOA (the target's total is
  divided by the number of LSOAs it covers), and
* **trend**: the slope of ``log(count + 0.5)`` per month,

each standardised by the spread of the candidates' true values. Both are first
shrunk towards the candidates' mean by their reliability (empirical Bayes),
so that an LSOA is not chosen for a pre-period that was high or rising by
chance: such a control regresses to its mean after the start and biases every
controlled estimate. :func:`parallel_trends` reports the match: the
correlation of the two monthly series, and a quasi-Poisson test that the
target's trend relative to the control's was flat before the start.
"""

from __future__ import annotations

import math
import warnings
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats as sps

__all__ = ["choose_control", "parallel_trends", "yearly_trend"]


def _trend_slope(frame: pd.DataFrame, with_se: bool = False) -> Any:
    """OLS slope of log(count + 0.5) on month, per column (and its standard error)."""
    idx = pd.PeriodIndex(frame.index, freq="M")
    t = np.array([(m - idx[0]).n for m in idx], dtype=float) if len(idx) else np.zeros(0)
    ok = frame.notna().all(axis=1).to_numpy()
    y = np.log(frame.to_numpy()[ok] + 0.5)
    tt = t[ok] - t[ok].mean()
    denom = float((tt**2).sum())
    if denom == 0:
        zero = pd.Series(0.0, index=frame.columns)
        return (zero, zero + np.inf) if with_se else zero
    yc = y - y.mean(axis=0)
    slope = (tt[:, None] * yc).sum(axis=0) / denom
    if not with_se:
        return pd.Series(slope, index=frame.columns)
    resid = yc - tt[:, None] * slope
    se = np.sqrt((resid**2).sum(axis=0) / max(len(tt) - 2, 1) / denom)
    return pd.Series(slope, index=frame.columns), pd.Series(se, index=frame.columns)


def yearly_trend(series: pd.Series) -> float:
    """Trend of a monthly series as a ratio per year (NaN with fewer than 2 observed months)."""
    if series.notna().sum() < 2:
        return math.nan
    return math.exp(12 * float(_trend_slope(series.dropna().to_frame()).iloc[0]))


def _shrink(values: pd.Series, se2: pd.Series) -> pd.Series:
    """Empirical-Bayes shrinkage toward the mean: keep only the spread that is beyond noise.

    Matching on raw noisy pre-period values picks LSOAs that were high (or rising) by chance,
    which then regress and bias the control; shrinking by each value's reliability
    ``τ² / (τ² + se²)``, with ``τ²`` the spread beyond the average noise, avoids that.
    """
    tau2 = max(0.0, float(values.var(ddof=1)) - float(se2.mean())) if len(values) > 1 else 0.0
    reliability = tau2 / (tau2 + se2) if tau2 > 0 else 0.0 * se2
    return values.mean() + (values - values.mean()) * reliability


def parallel_trends(target: pd.Series, control: pd.Series) -> dict[str, float]:
    import statsmodels.api as sm

    both = pd.DataFrame({"target": target, "control": control}).dropna()
    if len(both) < 4 or both.to_numpy().sum() == 0:
        return {
            "correlation": math.nan,
            "trend_ratio_per_year": math.nan,
            "parallel_trends_p": math.nan,
        }
    t = np.array([(m - both.index[0]).n for m in both.index], float)
    long_y = np.concatenate([both["target"], both["control"]])
    is_t = np.r_[np.ones(len(t)), np.zeros(len(t))]
    month_fe = np.vstack([np.eye(len(t)), np.eye(len(t))])
    X = np.column_stack([month_fe, is_t, is_t * np.r_[t, t]])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fit = sm.GLM(long_y, X, family=sm.families.Poisson()).fit(scale="X2")
    b, se = float(fit.params[-1]), float(fit.bse[-1])
    corr = (
        float(np.corrcoef(both["target"], both["control"])[0, 1])
        if both["target"].std() > 0 and both["control"].std() > 0
        else math.nan
    )
    return {
        "correlation": corr,
        "trend_ratio_per_year": math.exp(12 * b),
        "parallel_trends_p": float(2 * sps.norm.sf(abs(b / se))) if se > 0 else math.nan,
    }


def choose_control(
    candidates_pre: pd.DataFrame,
    target_pre: pd.Series,
    n_target_units: int,
    n_control: int,
) -> tuple[list[str], pd.DataFrame]:
    """The ``n_control`` candidate LSOAs closest to the target in pre-period level and trend.

    Parameters
    ----------
    candidates_pre
        Monthly counts before the start, months (rows) × candidate LSOAs.
    target_pre
        The target's monthly counts before the start.
    n_target_units
        LSOAs the target covers (its level is compared per LSOA).
    n_control
        How many LSOAs to choose (capped at the number of candidates).

    Returns
    -------
    list of str, DataFrame
        The chosen LSOAs, and every candidate's ``level``, ``trend_per_year``
        (raw and shrunk), ``score`` and ``chosen``, best first.

    Examples
    --------
    >>> months = pd.period_range("2019-01", periods=12, freq="M")
    >>> cands = pd.DataFrame({"A": [5.0] * 12, "B": [20.0] * 12, "C": [6.0] * 12}, index=months)
    >>> chosen, table = choose_control(cands, pd.Series([11.0] * 12, index=months), 2, 2)
    >>> sorted(chosen)
    ['A', 'C']
    """
    mean = candidates_pre.mean()
    level = _shrink(np.log(mean + 0.5), 1 / (mean * len(candidates_pre) + 0.5))
    raw_trend, trend_se = _trend_slope(candidates_pre, with_se=True)
    trend = _shrink(raw_trend, trend_se**2)
    t_level = math.log(float(target_pre.mean()) / max(n_target_units, 1) + 0.5)
    t_trend = float(_trend_slope(target_pre.to_frame()).iloc[0])
    sd_l = float(level.std()) or 1.0
    spread = float(raw_trend.var(ddof=1)) - float((trend_se**2).mean()) if len(trend) > 1 else 0
    sd_t = math.sqrt(spread) if spread > 0 else 1.0
    score = ((level - t_level) / sd_l) ** 2 + ((trend - t_trend) / sd_t) ** 2
    k = min(n_control, len(score))
    chosen = [str(c) for c in score.sort_values(kind="stable").index[:k]]
    table = pd.DataFrame(
        {
            "level": mean,
            "trend_per_year": np.exp(12 * raw_trend),
            "trend_per_year_shrunk": np.exp(12 * trend),
            "score": score,
        }
    )
    table["chosen"] = table.index.isin(chosen)
    table = table.sort_values("score", kind="stable")
    table.index.name = "lsoa"
    return chosen, table
