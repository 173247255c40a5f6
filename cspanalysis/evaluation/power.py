"""Power: the smallest effect an evaluation could have detected.

A board needs to know whether "no significant change" means "no effect" or
"too few crimes to tell". For a base rate of ``λ`` crimes a month, ``n_b``
months before and ``n_a`` after, the log rate ratio of a before/after
comparison has variance ``φ (1/(λ n_b) + 1/(λ R n_a))`` (``φ`` the
overdispersion); a before-after-with-control comparison adds the control's
``φ (1/(μ n_b) + 1/(μ n_a))``. The smallest detectable ratio ``R`` solves

    |log R| = (z_{1−α/2} + z_{power}) · SE(R)

(the usual normal approximation to the two-sided Wald test on log counts).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

from scipy import optimize
from scipy import stats as sps

from cspanalysis.evaluation.result import InsufficientDataError, pct

__all__ = ["PowerResult", "smallest_detectable_effect"]


@dataclass(frozen=True)
class PowerResult:
    """Result of :func:`smallest_detectable_effect`.

    Attributes
    ----------
    ratio
        Smallest detectable rate ratio (after / before, relative to the control
        when a control rate is given): below 1 for a decrease.
    pct_change
        ``100 (ratio − 1)``.
    """

    base_rate: float
    months_before: int
    months_after: int
    control_rate: float | None
    alpha: float
    power: float
    dispersion: float
    direction: str
    ratio: float

    @property
    def pct_change(self) -> float:
        """The smallest detectable change in percent."""
        return 100.0 * (self.ratio - 1.0)

    def findings(self) -> list[str]:
        """Plain-English sentence."""
        design = "with the control" if self.control_rate is not None else "before/after"
        if not math.isfinite(self.ratio):
            return [
                f"Power: with about {self.base_rate:.1f} crimes a month no {self.direction} "
                "could be detected reliably; a null result says nothing."
            ]
        return [
            f"Power: with about {self.base_rate:.1f} crimes a month, {self.months_before} months "
            f"before and {self.months_after} after, a {design} comparison has a "
            f"{self.power:.0%} chance of detecting a change of {pct(self.ratio)} or larger "
            f"(α = {self.alpha:g}); smaller effects could easily go unseen, so a null result "
            "does not show that the intervention had no effect."
        ]


def smallest_detectable_effect(
    base_rate: float,
    months_before: int,
    months_after: int,
    *,
    control_rate: float | None = None,
    alpha: float = 0.05,
    power: float = 0.8,
    dispersion: float = 1.0,
    direction: Literal["decrease", "increase"] = "decrease",
) -> PowerResult:
    """The smallest rate ratio detectable at the given base rate and period lengths.

    Parameters
    ----------
    base_rate
        Target crimes per month before the start.
    months_before, months_after
        Months in each period.
    control_rate
        Control crimes per month, for a before-after-with-control design.
    alpha, power
        Two-sided significance level and the power wanted.
    dispersion
        Overdispersion ``φ`` (variance / mean) of the monthly counts; 1 = Poisson.
    direction
        Solve for a ``"decrease"`` (ratio < 1) or an ``"increase"``.

    Examples
    --------
    Ten crimes a month, a year either side: a fall of about 33% is detectable.

    >>> r = smallest_detectable_effect(10, 12, 12)
    >>> round(r.ratio, 3)
    0.667
    """
    if not base_rate > 0:
        raise InsufficientDataError("power needs a positive base rate (crimes per month)")
    if months_before < 1 or months_after < 1:
        raise InsufficientDataError("power needs at least one month before and one after")
    if control_rate is not None and not control_rate > 0:
        raise InsufficientDataError("power needs a positive control rate")
    if not (0 < alpha < 1 and 0 < power < 1):
        raise ValueError("alpha and power must be between 0 and 1")
    k = sps.norm.ppf(1 - alpha / 2) + sps.norm.ppf(power)
    extra = 0.0
    if control_rate is not None:
        extra = 1 / (control_rate * months_before) + 1 / (control_rate * months_after)

    def gap(log_r: float) -> float:
        r = math.exp(log_r)
        var = dispersion * (
            1 / (base_rate * months_before) + 1 / (base_rate * r * months_after) + extra
        )
        return abs(log_r) - k * math.sqrt(var)

    if direction not in ("decrease", "increase"):
        raise ValueError("direction must be 'decrease' or 'increase'")
    ratio = math.nan
    if direction == "increase":
        # the variance falls as R grows, so the gap rises monotonically from 0
        ratio = math.exp(optimize.brentq(gap, 0.0, 50.0, xtol=1e-12))
    else:
        # for a fall the after count shrinks with R: the gap rises, peaks, then falls; the
        # smallest detectable fall is the root between 0 and the peak (none if the peak < 0)
        peak = optimize.minimize_scalar(
            lambda x: -gap(x), bounds=(-30.0, 0.0), method="bounded", options={"xatol": 1e-10}
        )
        if gap(peak.x) > 0:
            ratio = math.exp(optimize.brentq(gap, peak.x, 0.0, xtol=1e-12))
    return PowerResult(
        float(base_rate),
        int(months_before),
        int(months_after),
        None if control_rate is None else float(control_rate),
        alpha,
        power,
        dispersion,
        direction,
        ratio,
    )
