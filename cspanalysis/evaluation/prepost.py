"""Pre/post for the target alone: an exact Poisson rate ratio over stated months.

The simplest design and the weakest: it compares the target's monthly rate
after the start with its rate before, by the exact conditional test of
:func:`cspanalysis.stats.poisson_rate_ratio`. It cannot separate the
intervention from anything else that changed at the same time (a city-wide
trend, a recording change, the season), and it is the design most exposed
to regression to the mean; the verdict says so.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

import pandas as pd
from matplotlib.figure import Figure

from cspanalysis.evaluation.result import (
    InsufficientDataError,
    interval,
    month_range,
    pct,
    to_period,
)
from cspanalysis.stats import RateRatio, poisson_rate_ratio

__all__ = ["PrePostResult", "monthly_series", "pre_post", "whole_years"]


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
        The :class:`~cspanalysis.stats.RateRatio` (after / before, per month).
    """

    series: pd.Series
    start: pd.Period
    before_months: pd.PeriodIndex
    after_months: pd.PeriodIndex
    missing_months: pd.PeriodIndex
    rate_ratio: RateRatio
    notes: list[str] = field(default_factory=list)

    @property
    def ratio(self) -> float:
        """Monthly rate after / before."""
        return self.rate_ratio.ratio

    @property
    def ci(self) -> tuple[float, float]:
        """Exact interval for :attr:`ratio`."""
        return self.rate_ratio.ci_low, self.rate_ratio.ci_high

    @property
    def p_value(self) -> float:
        """Two-sided p-value for no change."""
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
        sig = "more than chance" if rr.p_value < rr.alpha else "within what chance alone produces"
        out = [
            f"In the target, {rr.count_a:,} crimes in {month_range(self.after_months)} against "
            f"{rr.count_b:,} in {month_range(self.before_months)}: a change of "
            f"{pct(rr.ratio)} in the monthly rate ({level}% CI {interval(rr.ci_low, rr.ci_high)}, "
            f"exact p = {rr.p_value:.3g}), {sig}. This before/after comparison has no control "
            "area, so it cannot separate the intervention from other changes at the same time."
        ]
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
) -> PrePostResult:
    """Exact Poisson comparison of the target's monthly rate after the start with before.

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
        p-value method of :func:`~cspanalysis.stats.poisson_rate_ratio`.

    Examples
    --------
    >>> months = pd.period_range("2019-01", periods=12, freq="M")
    >>> s = pd.Series([30, 28, 33, 31, 29, 30, 20, 22, 19, 21, 18, 20], index=months)
    >>> r = pre_post(s, "2019-07")
    >>> r.rate_ratio.count_b, r.rate_ratio.count_a, round(r.ratio, 3), r.p_value < 0.001
    (181, 120, 0.663, True)
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
    rr = poisson_rate_ratio(
        int(vals_a.sum()), int(vals_b.sum()), len(used_a), len(used_b), alpha=alpha, method=method
    )
    notes = []
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
    return PrePostResult(s, start_p, used_b, used_a, pd.PeriodIndex(missing, freq="M"), rr, notes)
