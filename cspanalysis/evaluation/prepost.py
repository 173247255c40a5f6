"""Pre/post for the target alone: a dispersion-adjusted rate ratio over stated months.

The simplest design and the weakest: it compares the target's monthly rate
after the start with its rate before. It cannot separate the intervention
from anything else that changed at the same time (a city-wide trend, a
recording change, the season), and it is the design most exposed to
regression to the mean; the verdict says so.

Monthly crime counts vary more than Poisson counts do (month-to-month
shocks, seasons), so a Poisson test on the two window totals overstates its
certainty. The headline interval and p-value are therefore quasi-Poisson
(Wedderburn 1974; McCullagh & Nelder 1989, ch. 9): the dispersion ``φ`` is
the Pearson χ² / residual df of a Poisson fit (trend, plus one annual
harmonic when there are two years) to the observed months before the start,
floored at 1, and the variance of the log rate ratio, ``1/a + 1/b`` under
Poisson counts, is multiplied by it; the interval and p-value use a *t*
distribution on the fit's residual df (McCullagh & Nelder 1989, §9.2.4). When
``φ`` is 1 (no overdispersion seen) the exact conditional Poisson result of
:func:`cspanalysis.stats.poisson_rate_ratio` is the headline. The exact
Poisson figures are always kept, labelled as assuming Poisson variation.
"""

from __future__ import annotations

import math
import numbers
from dataclasses import dataclass, field
from typing import Literal

import numpy as np
import pandas as pd
import scipy.stats as sps
from matplotlib.figure import Figure

from cspanalysis.evaluation.result import (
    InsufficientDataError,
    interval,
    month_range,
    pct,
    to_period,
)
from cspanalysis.stats import RateRatio, poisson_rate_ratio

__all__ = [
    "PrePostResult",
    "monthly_series",
    "pre_period_dispersion",
    "pre_post",
    "whole_years",
]


def whole_years(n: int) -> int:
    """The longest window of whole years within ``n`` months, or ``n`` when under a year.

    >>> whole_years(30), whole_years(12), whole_years(7)
    (24, 12, 7)
    """
    return n if n < 12 else 12 * (n // 12)


def monthly_series(counts: pd.Series, name: str = "counts") -> pd.Series:
    """A monthly count Series on every month of its span, NaN where a month is absent or NaN.

    >>> s = pd.Series([5, 7], index=pd.PeriodIndex(["2019-01", "2019-03"], freq="M"))
    >>> monthly_series(s).tolist()
    [5.0, nan, 7.0]
    """
    if not isinstance(counts, pd.Series):
        raise TypeError(f"{name} must be a pandas Series of monthly counts indexed by month")
    try:
        idx = pd.PeriodIndex(counts.index, freq="M")
    except (TypeError, ValueError):
        raise ValueError(
            f"{name} must be indexed by month (a PeriodIndex, or 'YYYY-MM' strings)"
        ) from None
    s = pd.Series(pd.to_numeric(counts, errors="coerce").to_numpy(dtype=float), index=idx)
    if s.index.has_duplicates:
        raise ValueError(f"{name} has repeated months; give one count per month")
    if (s.dropna() < 0).any():
        raise ValueError(f"{name} has negative counts")
    if len(s) == 0:
        return s
    full = pd.period_range(s.index.min(), s.index.max(), freq="M")
    out = s.reindex(full)
    out.index.name = "month"
    return out


def pre_period_dispersion(pre: pd.Series) -> tuple[float, int, str]:
    """Quasi-Poisson dispersion of the observed monthly counts before the start.

    A Poisson GLM of the counts on a linear trend (plus one annual sine/cosine
    pair when there are at least 24 months; the mean alone under 6 months) is
    fitted, and ``φ`` is its Pearson χ² over the residual degrees of freedom
    (McCullagh & Nelder 1989, §4.5.2), floored at 1 so the adjustment never
    makes the interval narrower than Poisson.

    Parameters
    ----------
    pre
        Monthly counts indexed by month (``PeriodIndex``); NaN months are left out.

    Returns
    -------
    (phi, df, model)
        The dispersion (1 when under 3 months are observed or no residual df
        remain), its residual df (0 when not estimated) and a short model label.

    Examples
    --------
    >>> months = pd.period_range("2019-01", periods=12, freq="M")
    >>> calm = pd.Series([30, 31, 29, 30, 30, 31, 29, 30, 30, 31, 29, 30], index=months)
    >>> pre_period_dispersion(calm)
    (1.0, 10, 'trend')
    >>> wild = pd.Series([10, 50, 12, 48, 9, 52, 11, 47, 10, 49, 13, 51], index=months)
    >>> phi, df, model = pre_period_dispersion(wild)
    >>> round(phi, 1), df
    (14.8, 10)
    """
    import statsmodels.api as sm

    obs = pre.dropna()
    n = len(obs)
    if n < 3 or float(obs.sum()) == 0:
        return 1.0, 0, "none"
    idx = pd.PeriodIndex(obs.index, freq="M")
    t = np.asarray([(m - idx.min()).n for m in idx], dtype=float)
    cols = [np.ones(n)]
    model = "mean"
    if n >= 6:
        cols.append((t - t.mean()) / 12.0)
        model = "trend"
    if n >= 24:
        angle = 2 * np.pi * np.asarray(idx.month, dtype=float) / 12.0
        cols += [np.sin(angle), np.cos(angle)]
        model = "trend + annual harmonic"
    X = np.column_stack(cols)
    y = obs.to_numpy(dtype=float)
    df = n - X.shape[1]
    fit = sm.GLM(y, X, family=sm.families.Poisson()).fit()
    phi = float(fit.pearson_chi2 / df)
    if not math.isfinite(phi):
        return 1.0, 0, "none"
    return max(1.0, phi), int(df), model


@dataclass
class PrePostResult:
    """Result of :func:`pre_post`.

    Attributes
    ----------
    before_months, after_months
        The months actually compared (present months only).
    missing_months
        Months inside the windows that were missing and left out.
    rate_ratio
        The exact conditional Poisson :class:`~cspanalysis.stats.RateRatio`
        (after / before, per month). Its interval and p-value **assume Poisson
        variation**; see :attr:`poisson_ci` and :attr:`poisson_p_value`.
    dispersion, dispersion_df, dispersion_model
        Quasi-Poisson dispersion ``φ`` (≥ 1) from the months before the start,
        its residual df and the model it was fitted with.
    ci_low, ci_high, p_value_adjusted
        The headline (dispersion-adjusted) interval and p-value.
    """

    series: pd.Series
    start: pd.Period
    before_months: pd.PeriodIndex
    after_months: pd.PeriodIndex
    missing_months: pd.PeriodIndex
    rate_ratio: RateRatio
    notes: list[str] = field(default_factory=list)
    dispersion: float = 1.0
    dispersion_df: int = 0
    dispersion_model: str = "none"
    ci_low: float = math.nan
    ci_high: float = math.nan
    p_value_adjusted: float = math.nan

    @property
    def adjusted(self) -> bool:
        """Whether the headline figures are quasi-Poisson (``φ > 1``) rather than exact Poisson."""
        return self.dispersion > 1.0

    @property
    def ratio(self) -> float:
        """Monthly rate after / before."""
        return self.rate_ratio.ratio

    @property
    def ci(self) -> tuple[float, float]:
        """Headline interval for :attr:`ratio`: dispersion-adjusted (exact Poisson when φ = 1)."""
        return self.ci_low, self.ci_high

    @property
    def p_value(self) -> float:
        """Headline two-sided p-value for no change: dispersion-adjusted (exact when φ = 1)."""
        return self.p_value_adjusted

    @property
    def poisson_ci(self) -> tuple[float, float]:
        """Exact conditional interval; assumes Poisson variation (too narrow when φ > 1)."""
        return self.rate_ratio.ci_low, self.rate_ratio.ci_high

    @property
    def poisson_p_value(self) -> float:
        """Exact conditional p-value; assumes Poisson variation (too small when φ > 1)."""
        return self.rate_ratio.p_value

    def table(self) -> pd.DataFrame:
        """One row per period: months, count, monthly rate."""
        rr = self.rate_ratio
        return pd.DataFrame(
            {
                "months": [month_range(self.before_months), month_range(self.after_months)],
                "count": [rr.count_b, rr.count_a],
                "per_month": [rr.count_b / rr.exposure_b, rr.count_a / rr.exposure_a],
            },
            index=pd.Index(["before", "after"], name="period"),
        )

    def findings(self) -> list[str]:
        """Plain-English sentences."""
        rr = self.rate_ratio
        level = round(100 * (1 - rr.alpha))
        sig = "more than chance" if self.p_value < rr.alpha else "within what chance alone produces"
        if self.adjusted:
            how = (
                f"p = {self.p_value:.3g}, allowing for month-to-month variation "
                f"{self.dispersion:.1f} times Poisson"
            )
        else:
            how = f"exact p = {self.p_value:.3g}"
        out = [
            f"In the target, {rr.count_a:,} crimes in {month_range(self.after_months)} against "
            f"{rr.count_b:,} in {month_range(self.before_months)}: a change of "
            f"{pct(rr.ratio)} in the monthly rate ({level}% CI {interval(*self.ci)}, "
            f"{how}), {sig}. This before/after comparison has no control "
            "area, so it cannot separate the intervention from other changes at the same time."
        ]
        if self.adjusted:
            out.append(
                f"Assuming Poisson variation (which these counts exceed) the interval would be "
                f"{interval(*self.poisson_ci)} with exact p = {self.poisson_p_value:.3g}, "
                "which overstates the certainty."
            )
        return out + list(self.notes)

    def plot(self) -> Figure:
        """Monthly counts with the two windows shaded and their monthly means."""
        fig = Figure(figsize=(8, 3.5))
        ax = fig.subplots()
        s = self.series
        x = s.index.to_timestamp()
        ax.plot(x, s.to_numpy(), marker="o", ms=3, color="0.3", lw=1)
        for months, colour, label in (
            (self.before_months, "tab:blue", "before"),
            (self.after_months, "tab:orange", "after"),
        ):
            if len(months):
                lo, hi = months.min().to_timestamp(), (months.max() + 1).to_timestamp()
                ax.axvspan(lo, hi, color=colour, alpha=0.12, label=label)
                mean = s.reindex(months).mean()
                ax.hlines(mean, lo, hi, color=colour, lw=2)
        ax.axvline(self.start.to_timestamp(), color="k", ls="--", lw=1)
        ax.set_ylabel("crimes per month")
        ax.set_title(f"Before / after: {pct(self.ratio)} ({interval(*self.ci)})")
        ax.legend(loc="best", fontsize=8)
        fig.tight_layout()
        return fig


def pre_post(
    counts: pd.Series,
    start: str | pd.Period,
    end: str | pd.Period | None = None,
    months_before: int | None = None,
    months_after: int | None = None,
    alpha: float = 0.05,
    method: Literal["exact-conditional", "etest"] = "exact-conditional",
    *,
    dispersion: float | None = None,
) -> PrePostResult:
    """Compare the target's monthly rate after the start with before, allowing for overdispersion.

    The headline interval and p-value are quasi-Poisson (Wedderburn 1974;
    McCullagh & Nelder 1989, *Generalized Linear Models*, 2nd ed., ch. 9):
    with ``a``, ``b`` the after / before totals over ``E_a``, ``E_b``
    observed months and ``φ`` from :func:`pre_period_dispersion`,

    ``log RR = log(a/E_a) - log(b/E_b)``,  ``SE = sqrt(φ (1/a + 1/b))``,

    interval ``exp(log RR ± t_{df, 1-α/2} SE)`` and two-sided p from ``t_df``,
    ``df`` the residual df of the dispersion fit. When ``φ`` is 1, or a total
    is 0, the exact conditional Poisson result is the headline. The exact
    Poisson figures are always in :attr:`PrePostResult.rate_ratio`
    (:attr:`~PrePostResult.poisson_ci`, :attr:`~PrePostResult.poisson_p_value`),
    which assume Poisson variation.

    Parameters
    ----------
    counts
        Monthly counts indexed by month; NaN (or an absent month) is missing
        and left out of its window, never read as 0.
    start, end
        First month of the intervention, and optionally its last month.
    months_before, months_after
        Calendar months in each window, immediately before ``start`` and from
        ``start``. Default: equal windows of whole years (the same calendar
        months on both sides, so the season cancels) as long as both sides
        allow, or as many months as both sides allow when that is under a year.
    alpha
        1 − confidence level.
    method
        p-value method of :func:`~cspanalysis.stats.poisson_rate_ratio` (the
        exact Poisson figures).
    dispersion
        ``φ`` to use instead of estimating it from the months before the start
        (values under 1 are raised to 1; ``1`` gives the exact Poisson test as
        the headline). With a given ``φ`` the normal quantile is used.

    Examples
    --------
    >>> months = pd.period_range("2019-01", periods=12, freq="M")
    >>> s = pd.Series([30, 28, 33, 31, 29, 30, 20, 22, 19, 21, 18, 20], index=months)
    >>> r = pre_post(s, "2019-07")
    >>> r.rate_ratio.count_b, r.rate_ratio.count_a, round(r.ratio, 3), r.p_value < 0.001
    (181, 120, 0.663, True)
    >>> r.dispersion, r.adjusted
    (1.0, False)
    >>> wild = pd.Series([15, 45, 18, 42, 14, 46, 12, 33, 10, 35, 11, 31], index=months)
    >>> r = pre_post(wild, "2019-07")
    >>> round(r.dispersion, 1), r.poisson_p_value < 0.05, r.p_value < 0.05
    (9.7, True, False)
    """
    s = monthly_series(counts)
    start_p = to_period(start)
    last = s.index.max() if len(s) else start_p
    if end is not None:
        last = min(last, to_period(end, "end"))
    avail_before = max(0, (start_p - s.index.min()).n) if len(s) else 0
    avail_after = max(0, (last - start_p).n + 1) if len(s) else 0
    if months_before is None and months_after is None:
        months_before = months_after = whole_years(min(avail_before, avail_after))
    elif months_before is None:
        months_before = min(avail_before, months_after)
    elif months_after is None:
        months_after = min(avail_after, months_before)
    before = pd.period_range(start_p - months_before, periods=months_before, freq="M")
    after = pd.period_range(start_p, periods=months_after, freq="M")
    vals_b = s.reindex(before)
    vals_a = s.reindex(after)
    missing = before[vals_b.isna().to_numpy()].append(after[vals_a.isna().to_numpy()])
    used_b = before[vals_b.notna().to_numpy()]
    used_a = after[vals_a.notna().to_numpy()]
    if len(used_b) == 0 or len(used_a) == 0:
        raise InsufficientDataError(
            f"a before/after comparison needs at least one observed month on each side of "
            f"{start_p}; there are {len(used_b)} before and {len(used_a)} after"
        )
    if vals_a.sum() + vals_b.sum() == 0:
        raise InsufficientDataError(
            f"there were no incidents in the target in either window ({month_range(used_b)} "
            f"and {month_range(used_a)}), so there is no rate to compare"
        )
    a, b = float(vals_a.sum()), float(vals_b.sum())
    rr = poisson_rate_ratio(int(a), int(b), len(used_a), len(used_b), alpha=alpha, method=method)
    if dispersion is None:
        phi, df, model = pre_period_dispersion(s[s.index < start_p])
    else:
        if not (isinstance(dispersion, numbers.Real) and math.isfinite(dispersion)):
            raise ValueError(f"dispersion must be a finite number, not {dispersion!r}")
        phi, df, model = max(1.0, float(dispersion)), 0, "given"
    notes = []
    if phi > 1.0 and a > 0 and b > 0:
        se = math.sqrt(phi * (1.0 / a + 1.0 / b))
        dist = sps.t(df) if df > 0 else sps.norm()
        z = math.log(rr.ratio) / se
        q = float(dist.ppf(1 - alpha / 2))
        lo, hi = math.exp(math.log(rr.ratio) - q * se), math.exp(math.log(rr.ratio) + q * se)
        p = float(2 * dist.sf(abs(z)))
    else:
        lo, hi, p = rr.ci_low, rr.ci_high, rr.p_value
        if phi > 1.0:
            notes.append(
                "A window has no incidents, so the exact Poisson interval is reported; it "
                f"ignores the month-to-month variation ({phi:.1f} times Poisson)."
            )
    if dispersion is None and df == 0:
        notes.append(
            "Too few months before the start to estimate month-to-month variation; the "
            "interval assumes Poisson variation and may be too narrow."
        )
    if len(missing):
        notes.append(
            f"{len(missing)} month(s) in the windows were missing and left out "
            f"({', '.join(str(m) for m in missing)}); rates are per observed month."
        )
    if months_before % 12 or months_after % 12:
        notes.append(
            "The windows are not whole years, so they compare different seasons; "
            "seasonal patterns can masquerade as an effect."
        )
    return PrePostResult(
        s,
        start_p,
        used_b,
        used_a,
        pd.PeriodIndex(missing, freq="M"),
        rr,
        notes,
        dispersion=phi,
        dispersion_df=df,
        dispersion_model=model,
        ci_low=lo,
        ci_high=hi,
        p_value_adjusted=p,
    )
