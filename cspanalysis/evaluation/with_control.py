"""Before-after-with-control designs: RES, the WDD test and a difference-in-differences GLM.

* :func:`relative_effect_size` — the odds ratio of Farrington & Welsh
  (2002; Welsh & Farrington 2009): with target counts ``a`` (before), ``b``
  (after) and control counts ``c``, ``d``, ``RES = (a d) / (b c)``; above 1
  means crime fell in the target relative to the control. ``log RES`` has
  variance ``1/a + 1/b + 1/c + 1/d`` under Poisson counts, multiplied by an
  overdispersion factor ``D`` when given (Farrington et al. 2007 use
  ``D = 0.0008 N + 1.2``).
* :func:`weighted_displacement_difference` — Wheeler & Ratcliffe (2018):
  ``WDD = ΔT − ΔC + ΔD − ΔCd`` (Δ = after − before in the target, its
  control, the displacement buffer and the buffer's control), with
  ``Var(WDD)`` the sum of the eight Poisson counts; ``z = WDD / SE``.
  Negative is a reduction, in crimes.
* :func:`difference_in_differences` — a Poisson (quasi-Poisson or negative
  binomial) GLM on the monthly panel with month fixed effects (which absorb
  seasonality and shocks common to both areas), an area effect and an
  area × after interaction; ``exp(β)`` is the rate ratio of the target
  relative to the control. With month effects and two areas the point
  estimate equals ``1 / RES`` on the same months.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Literal

import numpy as np
import pandas as pd
from scipy import stats as sps

from cspanalysis.evaluation.result import (
    InsufficientDataError,
    as_pair,
    interval,
    pct,
    to_period,
)

__all__ = [
    "DiDResult",
    "RESResult",
    "WDDResult",
    "difference_in_differences",
    "relative_effect_size",
    "weighted_displacement_difference",
]


# ----------------------------------------------------------------------------- RES


@dataclass(frozen=True)
class RESResult:
    """Result of :func:`relative_effect_size`.

    Attributes
    ----------
    res
        ``(a d) / (b c)``; above 1 means a relative reduction in the target.
        NaN when any count is 0 (the odds ratio is then undefined).
    ci_low, ci_high, p_value
        Interval and two-sided p-value from ``log RES`` with variance
        ``D (1/a + 1/b + 1/c + 1/d)``.
    dispersion
        The overdispersion factor ``D`` used (1 = Poisson).
    note
        Why the estimate was not computed, when it was not.
    """

    target: tuple[float, float]
    control: tuple[float, float]
    res: float
    ci_low: float
    ci_high: float
    p_value: float
    se_log: float
    alpha: float
    dispersion: float
    note: str = ""

    @property
    def defined(self) -> bool:
        """True when every count is positive and RES was computed."""
        return math.isfinite(self.res)

    @property
    def relative_change(self) -> float:
        """The target's rate ratio relative to the control, ``1 / RES`` (0.8 = a 20% fall)."""
        return 1.0 / self.res if self.defined else math.nan

    def findings(self) -> list[str]:
        """Plain-English sentences about the estimate."""
        if not self.defined:
            return [f"The Relative Effect Size was not computed: {self.note}"]
        level = round(100 * (1 - self.alpha))
        rel = self.relative_change
        sig = "more than chance" if self.p_value < self.alpha else "within what chance produces"
        return [
            f"Relative to the control area, crime in the target changed by {pct(rel)} "
            f"(Relative Effect Size {self.res:.2f}, {level}% CI {self.ci_low:.2f} to "
            f"{self.ci_high:.2f}, p = {self.p_value:.3g}); this difference is {sig} "
            "(before-after with control; assumes the control shows what would have happened)."
        ]


def relative_effect_size(
    target: Sequence[float],
    control: Sequence[float],
    alpha: float = 0.05,
    dispersion: float = 1.0,
) -> RESResult:
    """Relative Effect Size (odds ratio) of Farrington & Welsh, with its interval.

    Parameters
    ----------
    target, control
        (before, after) counts in the target and the control area, over the
        same months.
    alpha
        1 − confidence level.
    dispersion
        Overdispersion factor ``D`` multiplying the Poisson variance of
        ``log RES`` (1 = Poisson; Farrington et al. 2007 suggest
        ``0.0008 N + 1.2`` for N crimes in total).

    Returns
    -------
    RESResult
        ``res``, ``ci_low``, ``ci_high``, ``p_value``; NaN with a ``note`` when a
        count is 0 (undefined, not computed).

    Examples
    --------
    Target 120 → 80, control 200 → 190:

    >>> r = relative_effect_size((120, 80), (200, 190))
    >>> round(r.res, 3), round(r.ci_low, 3), round(r.ci_high, 3), round(r.p_value, 4)
    (1.425, 1.009, 2.013, 0.0446)
    """
    a, b = as_pair(target, "target")
    c, d = as_pair(control, "control")
    if not 0 < alpha < 1:
        raise ValueError("alpha must be between 0 and 1")
    if not dispersion > 0:
        raise ValueError("dispersion must be positive")
    if min(a, b, c, d) == 0:
        zeros = [
            n
            for n, v in zip(
                ("target before", "target after", "control before", "control after"),
                (a, b, c, d),
                strict=True,
            )
            if v == 0
        ]
        nan = math.nan
        return RESResult(
            (a, b),
            (c, d),
            nan,
            nan,
            nan,
            nan,
            nan,
            alpha,
            dispersion,
            note=f"the {' and '.join(zeros)} count is 0, so the odds ratio is undefined",
        )
    res = (a * d) / (b * c)
    se = math.sqrt(dispersion * (1 / a + 1 / b + 1 / c + 1 / d))
    zcrit = sps.norm.ppf(1 - alpha / 2)
    z = math.log(res) / se
    return RESResult(
        (a, b),
        (c, d),
        res,
        math.exp(math.log(res) - zcrit * se),
        math.exp(math.log(res) + zcrit * se),
        float(2 * sps.norm.sf(abs(z))),
        se,
        alpha,
        dispersion,
    )


# ----------------------------------------------------------------------------- WDD


@dataclass(frozen=True)
class WDDResult:
    """Result of :func:`weighted_displacement_difference`.

    Attributes
    ----------
    estimate
        ``ΔT − ΔC (+ ΔD − ΔCd)`` in crimes; negative is a reduction.
    se, z, ci_low, ci_high, p_value
        Poisson standard error (square root of the sum of the counts), the
        z statistic, the normal interval and the two-sided p-value.
    components
        Each area's change (after − before).
    """

    estimate: float
    se: float
    z: float
    ci_low: float
    ci_high: float
    p_value: float
    alpha: float
    with_buffer: bool
    components: dict[str, float] = field(default_factory=dict)

    def findings(self) -> list[str]:
        """Plain-English sentences about the test."""
        level = round(100 * (1 - self.alpha))
        what = "target and buffer together" if self.with_buffer else "target"
        direction = "fewer" if self.estimate < 0 else "more"
        sig = "more than chance" if self.p_value < self.alpha else "within what chance produces"
        return [
            f"Weighted Displacement Difference ({what}, net of the control changes): "
            f"{abs(self.estimate):.0f} {direction} crimes than expected ({level}% CI "
            f"{self.ci_low:+.0f} to {self.ci_high:+.0f}, p = {self.p_value:.3g}); {sig}."
        ]


def weighted_displacement_difference(
    treated: Sequence[float],
    control: Sequence[float],
    treated_buffer: Sequence[float] | None = None,
    control_buffer: Sequence[float] | None = None,
    alpha: float = 0.05,
) -> WDDResult:
    """Weighted Displacement Difference test of Wheeler & Ratcliffe (2018).

    Parameters
    ----------
    treated, control
        (before, after) counts in the target and its control area, over
        periods of equal length.
    treated_buffer, control_buffer
        (before, after) counts in the target's displacement buffer and in the
        control's buffer (give both or neither).
    alpha
        1 − confidence level.

    Examples
    --------
    >>> r = weighted_displacement_difference((60, 40), (70, 65), (30, 35), (25, 25))
    >>> r.estimate, round(r.se, 3), round(r.z, 3), round(r.p_value, 4)
    (-10.0, 18.708, -0.535, 0.593)
    """
    t0, t1 = as_pair(treated, "treated")
    c0, c1 = as_pair(control, "control")
    if (treated_buffer is None) != (control_buffer is None):
        raise ValueError("give both treated_buffer and control_buffer, or neither")
    if not 0 < alpha < 1:
        raise ValueError("alpha must be between 0 and 1")
    comps = {"treated": t1 - t0, "control": c1 - c0}
    est = comps["treated"] - comps["control"]
    var = t0 + t1 + c0 + c1
    with_buffer = treated_buffer is not None
    if with_buffer:
        d0, d1 = as_pair(treated_buffer, "treated_buffer")
        e0, e1 = as_pair(control_buffer, "control_buffer")
        comps.update(treated_buffer=d1 - d0, control_buffer=e1 - e0)
        est += comps["treated_buffer"] - comps["control_buffer"]
        var += d0 + d1 + e0 + e1
    if var == 0:
        return WDDResult(0.0, 0.0, math.nan, 0.0, 0.0, 1.0, alpha, with_buffer, comps)
    se = math.sqrt(var)
    z = est / se
    zcrit = sps.norm.ppf(1 - alpha / 2)
    return WDDResult(
        est,
        se,
        z,
        est - zcrit * se,
        est + zcrit * se,
        float(2 * sps.norm.sf(abs(z))),
        alpha,
        with_buffer,
        comps,
    )


# ----------------------------------------------------------------------------- DiD


@dataclass
class DiDResult:
    """Result of :func:`difference_in_differences`.

    Attributes
    ----------
    estimates
        One row per treated group (``target``, and ``buffer`` when the panel
        has one): ``ratio`` (rate ratio after/before relative to the control),
        ``ci_low``, ``ci_high``, ``p_value``.
    family, dispersion
        The model family and the Pearson dispersion of the Poisson fit.
    months_used, months_dropped
        Months in the model, and months dropped because a series was missing.
    """

    estimates: pd.DataFrame
    family: str
    dispersion: float
    start: pd.Period
    months_used: pd.PeriodIndex
    months_dropped: pd.PeriodIndex
    alpha: float
    notes: list[str] = field(default_factory=list)

    @property
    def ratio(self) -> float:
        """The target's rate ratio relative to the control."""
        return float(self.estimates.loc["target", "ratio"])

    @property
    def ci(self) -> tuple[float, float]:
        """The interval for :attr:`ratio`."""
        row = self.estimates.loc["target"]
        return float(row["ci_low"]), float(row["ci_high"])

    def findings(self) -> list[str]:
        """Plain-English sentences about the estimates."""
        level = round(100 * (1 - self.alpha))
        out = []
        for group, row in self.estimates.iterrows():
            sig = "more than chance" if row["p_value"] < self.alpha else "within chance"
            out.append(
                f"Difference-in-differences ({self.family} GLM with month effects, "
                f"{len(self.months_used)} months): the {group} changed by {pct(row['ratio'])} "
                f"relative to the control ({level}% CI {interval(row['ci_low'], row['ci_high'])}, "
                f"p = {row['p_value']:.3g}; {sig})."
            )
        return out + list(self.notes)


def difference_in_differences(
    panel: pd.DataFrame,
    start: str | pd.Period,
    end: str | pd.Period | None = None,
    family: Literal["quasipoisson", "poisson", "negbin"] = "quasipoisson",
    alpha: float = 0.05,
) -> DiDResult:
    """Poisson / quasi-Poisson / negative-binomial difference-in-differences on a monthly panel.

    Parameters
    ----------
    panel
        Monthly counts indexed by month (PeriodIndex), with columns ``target``
        and ``control`` and optionally ``buffer``. NaN marks a month a source
        did not supply: that month is dropped (and said so), never read as 0.
    start, end
        First (and optionally last) month of the intervention; months after
        ``end`` are left out.
    family
        ``"quasipoisson"`` (Poisson with Pearson-χ² scale, the default),
        ``"poisson"`` or ``"negbin"`` (NB2 with its dispersion estimated).

    Examples
    --------
    >>> months = pd.period_range("2019-01", periods=8, freq="M")
    >>> panel = pd.DataFrame({"target": [20, 22, 19, 21, 12, 11, 13, 12],
    ...                       "control": [40, 41, 39, 42, 40, 43, 38, 41]}, index=months)
    >>> r = difference_in_differences(panel, "2019-05")
    >>> round(r.ratio, 3)
    0.585
    """
    import statsmodels.api as sm

    start_p = to_period(start)
    missing_cols = {"target", "control"} - set(panel.columns)
    if missing_cols:
        raise ValueError(
            f"panel needs columns 'target' and 'control'; lacks {sorted(missing_cols)}"
        )
    groups = ["target"] + (["buffer"] if "buffer" in panel.columns else [])
    cols = [*groups, "control"]
    data = panel[cols].astype(float)
    data.index = pd.PeriodIndex(data.index, freq="M")
    if end is not None:
        data = data[data.index <= to_period(end, "end")]
    keep = data.notna().all(axis=1)
    dropped = data.index[~keep]
    data = data[keep]
    pre = int((data.index < start_p).sum())
    post = int((data.index >= start_p).sum())
    if pre < 2 or post < 2:
        raise InsufficientDataError(
            f"difference-in-differences needs at least 2 months before and 2 after {start_p} "
            f"with every area observed; there are {pre} before and {post} after"
        )
    after_mask = data.index >= start_p
    empty = [
        f"{c} {side}"
        for c in cols
        for side, m in (("before", ~after_mask), ("after", after_mask))
        if data.loc[m, c].sum() == 0
    ]
    if any(e.startswith(("target", "control")) for e in empty):
        raise InsufficientDataError(
            "difference-in-differences needs incidents in the target and the control both "
            f"before and after {start_p}; there are none in the "
            + " and ".join(e for e in empty if e.startswith(("target", "control")))
        )
    early_notes = []
    if "buffer" in groups and any(e.startswith("buffer") for e in empty):
        groups = ["target"]
        cols = ["target", "control"]
        data = data[cols]
        early_notes.append(
            "The buffer had no incidents before or after the start, so its change is not estimated."
        )
    long = data.reset_index(names="month").melt(id_vars="month", var_name="area", value_name="n")
    X = pd.get_dummies(long["month"].astype(str), prefix="m", drop_first=False, dtype=float)
    after = (long["month"] >= start_p).to_numpy()
    for g in groups:
        is_g = (long["area"] == g).to_numpy()
        X[f"area_{g}"] = is_g.astype(float)
        X[f"effect_{g}"] = (is_g & after).astype(float)
    y = long["n"].to_numpy()
    notes: list[str] = list(early_notes)
    if len(dropped):
        notes.append(
            f"{len(dropped)} month(s) were left out because a series was missing: "
            f"{', '.join(str(m) for m in dropped)}."
        )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        pois = sm.GLM(y, X, family=sm.families.Poisson()).fit()
    dof = max(pois.df_resid, 1)
    dispersion = float(pois.pearson_chi2 / dof)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if family == "poisson":
            fit = pois
        elif family == "quasipoisson":
            fit = sm.GLM(y, X, family=sm.families.Poisson()).fit(scale="X2")
        elif family == "negbin":
            fit = sm.NegativeBinomial(y, X).fit(
                disp=0, maxiter=200, start_params=np.append(pois.params, 0.1)
            )
        else:
            raise ValueError("family must be 'quasipoisson', 'poisson' or 'negbin'")
    zcrit = sps.norm.ppf(1 - alpha / 2)
    rows = {}
    for g in groups:
        b = float(fit.params[f"effect_{g}"])
        se = float(fit.bse[f"effect_{g}"])
        rows[g] = {
            "ratio": math.exp(b),
            "ci_low": math.exp(b - zcrit * se),
            "ci_high": math.exp(b + zcrit * se),
            "p_value": float(2 * sps.norm.sf(abs(b / se))),
        }
    if family == "poisson" and dispersion > 1.5:
        notes.append(
            f"The counts are overdispersed (dispersion {dispersion:.1f}); Poisson "
            "intervals are too narrow, prefer family='quasipoisson'."
        )
    est = pd.DataFrame.from_dict(rows, orient="index")
    est.index.name = "area"
    return DiDResult(
        est,
        family,
        dispersion,
        start_p,
        pd.PeriodIndex(data.index, freq="M"),
        pd.PeriodIndex(dropped, freq="M"),
        alpha,
        notes,
    )
