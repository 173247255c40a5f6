"""Interrupted time series: segmented Poisson regression on the target's monthly counts.

The model (Bernal, Cummins & Gasparrini 2017) is a log-linear GLM

    log E[y_t] = β0 + β1 t + β2 after_t + β3 (t − t0) after_t + season_t
                 (+ γ log(control_t + 0.5)) + log(offset_t)

with ``t`` in months, ``t0`` the start month, ``after_t`` 1 from the start.
``exp(β2)`` is the **level change** (the immediate rate ratio) and
``exp(β3)`` the **slope change** (the change in the monthly rate ratio of
the trend). Seasonality is month-of-year effects or ``harmonics`` Fourier
pairs. Families: Poisson, quasi-Poisson (Poisson with the Pearson χ²
dispersion as scale, the default) or negative binomial (NB2).

Checks made and reported on every fit:

* **overdispersion**: the Pearson dispersion of the Poisson fit;
* **autocorrelation**: Ljung–Box test on the Pearson residuals; with
  ``autocorrelation="auto"`` a significant result (p < 0.05) switches the
  standard errors to Newey–West (HAC, Bartlett kernel, lag
  ``⌊4 (n/100)^(2/9)⌋`` at least 1), which are robust to both.

Months that are missing (NaN) are dropped and listed; they are never zero.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass, field
from typing import Literal

import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from scipy import stats as sps

from cspanalysis.evaluation.prepost import monthly_series
from cspanalysis.evaluation.result import (
    InsufficientDataError,
    interval,
    pct,
    to_period,
)

__all__ = ["ITSResult", "interrupted_time_series"]

#: fewest observed months before the start for a segmented regression
MIN_PRE_MONTHS = 6
#: fewest observed months in all for any seasonal term
MIN_SEASONAL_MONTHS = 24


@dataclass
class ITSResult:
    """Result of :func:`interrupted_time_series`.

    Attributes
    ----------
    level_ratio, level_ci, level_p
        Immediate change at the start as a rate ratio, its interval, p-value.
    slope_ratio, slope_ci, slope_p
        Change in the monthly trend as a ratio per month (``slope_change=True``;
        NaN otherwise).
    dispersion
        Pearson dispersion of the Poisson fit (1 = Poisson variance).
    autocorrelation
        ``ljung_box_p``, ``lags``, ``lag1`` (residual autocorrelation at lag 1).
    cov_type
        ``"model"`` or ``"HAC(maxlags=k)"``: the standard errors used.
    table
        One row per month used: ``observed``, ``fitted``, ``counterfactual``
        (the fit with the level and slope change removed), ``after``.
    coefficients
        Every model term: ``estimate`` (log scale), ``se``, ``p_value``.
    """

    start: pd.Period
    family: str
    seasonality: str | None
    harmonics: int
    slope_change: bool
    level_ratio: float
    level_ci: tuple[float, float]
    level_p: float
    slope_ratio: float
    slope_ci: tuple[float, float]
    slope_p: float
    dispersion: float
    autocorrelation: dict[str, float]
    cov_type: str
    months_used: pd.PeriodIndex
    months_dropped: pd.PeriodIndex
    table: pd.DataFrame
    coefficients: pd.DataFrame
    alpha: float
    offset: bool
    control: bool
    notes: list[str] = field(default_factory=list)

    @property
    def options(self) -> dict[str, object]:
        """The options actually used."""
        return {
            "family": self.family,
            "seasonality": self.seasonality,
            "harmonics": self.harmonics if self.seasonality == "harmonic" else None,
            "slope_change": self.slope_change,
            "standard_errors": self.cov_type,
            "offset": self.offset,
            "control_covariate": self.control,
            "alpha": self.alpha,
        }

    def findings(self) -> list[str]:
        """Plain-English sentences."""
        level = round(100 * (1 - self.alpha))
        pre = int((self.months_used < self.start).sum())
        post = len(self.months_used) - pre
        sig = "more than chance" if self.level_p < self.alpha else "within chance"
        season = {
            "harmonic": f"{self.harmonics} seasonal harmonic(s)",
            "month": "month effects",
            None: "no seasonal terms",
        }[self.seasonality]
        out = [
            f"Interrupted time series ({self.family} regression on {pre} months before and "
            f"{post} from {self.start}, trend and {season}"
            f"{', control series as covariate' if self.control else ''}): the level changed "
            f"by {pct(self.level_ratio)} at the start ({level}% CI {interval(*self.level_ci)}, "
            f"p = {self.level_p:.3g}; {sig})."
        ]
        if self.slope_change:
            yr = self.slope_ratio**12
            out.append(
                f"The trend changed by {pct(yr)} a year after the start ({level}% CI "
                f"{interval(self.slope_ci[0] ** 12, self.slope_ci[1] ** 12)}, "
                f"p = {self.slope_p:.3g})."
            )
        ac = self.autocorrelation
        out.append(
            f"Checks: dispersion {self.dispersion:.2f} (1 = Poisson); residual autocorrelation "
            f"at lag 1 {ac['lag1']:.2f}, Ljung–Box p = {ac['ljung_box_p']:.3g} over "
            f"{int(ac['lags'])} lags; standard errors: {self.cov_type}."
        )
        return out + list(self.notes)

    def plot(self) -> Figure:
        """Observed counts, the fitted segmented model and the counterfactual."""
        fig = Figure(figsize=(8, 3.5))
        ax = fig.subplots()
        t = self.table
        x = t.index.to_timestamp()
        ax.plot(x, t["observed"], "o", ms=3, color="0.3", label="observed")
        ax.plot(x, t["fitted"], color="tab:blue", lw=1.5, label="model")
        post = t["after"].to_numpy(dtype=bool)
        ax.plot(
            x[post],
            t["counterfactual"][post],
            color="tab:blue",
            ls="--",
            lw=1.2,
            label="without the change",
        )
        ax.axvline(self.start.to_timestamp(), color="k", ls=":", lw=1)
        ax.set_ylabel("crimes per month")
        ax.set_title(
            f"Interrupted time series: level {pct(self.level_ratio)} ({interval(*self.level_ci)})"
        )
        ax.legend(loc="best", fontsize=8)
        fig.tight_layout()
        return fig


def _seasonal_terms(months: pd.PeriodIndex, kind: str | None, harmonics: int) -> pd.DataFrame:
    moy = np.asarray(months.month)
    cols: dict[str, np.ndarray] = {}
    if kind == "harmonic":
        for k in range(1, harmonics + 1):
            if k < 6:
                cols[f"sin{k}"] = np.sin(2 * np.pi * k * moy / 12)
            cols[f"cos{k}"] = np.cos(2 * np.pi * k * moy / 12)
    elif kind == "month":
        for m in range(2, 13):
            cols[f"month{m:02d}"] = (moy == m).astype(float)
    return pd.DataFrame(cols, index=months)


def _newey_west_lags(n: int) -> int:
    return max(1, math.floor(4 * (n / 100) ** (2 / 9)))


def interrupted_time_series(
    counts: pd.Series,
    start: str | pd.Period,
    offset: pd.Series | None = None,
    seasonality: Literal["harmonic", "month"] | None = "harmonic",
    harmonics: int = 2,
    family: Literal["quasipoisson", "poisson", "negbin"] = "quasipoisson",
    slope_change: bool = False,
    *,
    end: str | pd.Period | None = None,
    control: pd.Series | None = None,
    autocorrelation: Literal["auto", "hac", "none"] = "auto",
    alpha: float = 0.05,
) -> ITSResult:
    """Segmented Poisson / quasi-Poisson / negative-binomial regression of monthly counts.

    Parameters
    ----------
    counts
        Monthly counts indexed by month (PeriodIndex). NaN or absent months are
        missing: dropped and listed, never zero.
    start
        First month of the intervention (the interruption).
    offset
        Exposure per month (e.g. population), as a Series indexed by month or
        a constant; the ratios are then of rates.
    seasonality
        ``"harmonic"`` (``harmonics`` sine/cosine pairs), ``"month"`` (11
        month-of-year effects) or None. Needs at least 24 observed months.
    family
        ``"quasipoisson"`` (default), ``"poisson"`` or ``"negbin"``.
    slope_change
        Also estimate a change in trend from the start.
    end
        Last month of the intervention; later months are left out.
    control
        A control area's monthly counts, entered as ``log(control + 0.5)``:
        shocks common to both areas (a lockdown, a recording change) are then
        not attributed to the intervention.
    autocorrelation
        ``"auto"`` (Newey–West standard errors when the Ljung–Box test on the
        residuals is significant), ``"hac"`` (always) or ``"none"``.
    alpha
        1 − confidence level.

    Raises
    ------
    InsufficientDataError
        Fewer than 6 observed months before the start, fewer than 2 (3 with a
        slope change) after, too few for the seasonal terms, or fewer than 4
        residual degrees of freedom.

    Examples
    --------
    >>> months = pd.period_range("2018-01", periods=36, freq="M")
    >>> rng = np.random.default_rng(1)
    >>> mu = 50 * np.where(months >= pd.Period("2020-01", "M"), 0.6, 1.0)
    >>> s = pd.Series(rng.poisson(mu), index=months)
    >>> r = interrupted_time_series(s, "2020-01", seasonality=None)
    >>> r.level_ci[0] < 0.6 < r.level_ci[1]
    True
    """
    import statsmodels.api as sm
    from statsmodels.stats.diagnostic import acorr_ljungbox

    if not 0 < alpha < 1:
        raise ValueError("alpha must be between 0 and 1")
    if seasonality not in ("harmonic", "month", None):
        raise ValueError("seasonality must be 'harmonic', 'month' or None")
    if seasonality == "harmonic" and not 1 <= harmonics <= 6:
        raise ValueError("harmonics must be between 1 and 6")
    if family not in ("quasipoisson", "poisson", "negbin"):
        raise ValueError("family must be 'quasipoisson', 'poisson' or 'negbin'")
    if autocorrelation not in ("auto", "hac", "none"):
        raise ValueError("autocorrelation must be 'auto', 'hac' or 'none'")
    y = monthly_series(counts)
    start_p = to_period(start)
    if end is not None:
        y = y[y.index <= to_period(end, "end")]
    frame = pd.DataFrame({"y": y})
    notes: list[str] = []
    if offset is not None:
        off = (
            monthly_series(offset, "offset").reindex(y.index)
            if isinstance(offset, pd.Series)
            else pd.Series(float(offset), index=y.index)
        )
        frame["log_offset"] = np.log(off.where(off > 0))
    if control is not None:
        ctl = monthly_series(control, "control").reindex(y.index)
        frame["control"] = np.log(ctl + 0.5)
    keep = frame.notna().all(axis=1)
    dropped = pd.PeriodIndex(frame.index[~keep], freq="M")
    frame = frame[keep]
    months = pd.PeriodIndex(frame.index, freq="M")
    pre = int((months < start_p).sum())
    post = len(months) - pre
    need_post = 3 if slope_change else 2
    if pre < MIN_PRE_MONTHS or post < need_post:
        raise InsufficientDataError(
            f"an interrupted time series needs at least {MIN_PRE_MONTHS} observed months before "
            f"{start_p} and {need_post} from it; there are {pre} before and {post} after"
        )
    if seasonality is not None and len(months) < MIN_SEASONAL_MONTHS:
        raise InsufficientDataError(
            f"seasonal terms need at least {MIN_SEASONAL_MONTHS} observed months; there are "
            f"{len(months)}: use seasonality=None and read the result with the season in mind"
        )
    t = np.array([(m - start_p).n for m in months], dtype=float)
    after = (t >= 0).astype(float)
    X = pd.DataFrame({"const": 1.0, "trend": t, "level": after}, index=months)
    if slope_change:
        X["slope"] = t * after
    X = X.join(_seasonal_terms(months, seasonality, harmonics))
    if control is not None:
        X["log_control"] = frame["control"] - frame["control"].mean()
    if len(months) - X.shape[1] < 4:
        raise InsufficientDataError(
            f"the model has {X.shape[1]} terms but only {len(months)} observed months; it needs "
            "at least 4 more months than terms (drop seasonality or the slope change)"
        )
    yv = frame["y"].to_numpy()
    log_off = frame["log_offset"].to_numpy() if offset is not None else None
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        pois = sm.GLM(yv, X, family=sm.families.Poisson(), offset=log_off).fit()
    dispersion = float(pois.pearson_chi2 / max(pois.df_resid, 1))
    resid = np.asarray(pois.resid_pearson)
    lags = int(max(1, min(12, len(months) // 4)))
    lb = acorr_ljungbox(resid, lags=[lags])
    lb_p = float(lb["lb_pvalue"].iloc[0])
    lag1 = float(np.corrcoef(resid[:-1], resid[1:])[0, 1]) if len(resid) > 2 else math.nan
    use_hac = autocorrelation == "hac" or (autocorrelation == "auto" and lb_p < 0.05)
    maxlags = _newey_west_lags(len(months))
    fit_kw: dict[str, object] = (
        {"cov_type": "HAC", "cov_kwds": {"maxlags": maxlags}} if use_hac else {}
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if family == "poisson":
            fit = sm.GLM(yv, X, family=sm.families.Poisson(), offset=log_off).fit(**fit_kw)
        elif family == "quasipoisson":
            fit = sm.GLM(yv, X, family=sm.families.Poisson(), offset=log_off).fit(
                scale="X2", **fit_kw
            )
        else:
            nb = sm.NegativeBinomial(yv, X, offset=log_off)
            fit = nb.fit(
                start_params=np.append(pois.params.to_numpy(), 0.1), disp=0, maxiter=500, **fit_kw
            )
    params = pd.Series(np.asarray(fit.params)[: X.shape[1]], index=X.columns)
    bse = pd.Series(np.asarray(fit.bse)[: X.shape[1]], index=X.columns)
    zcrit = sps.norm.ppf(1 - alpha / 2)

    def ratio(term: str) -> tuple[float, tuple[float, float], float]:
        b, se = float(params[term]), float(bse[term])
        return (
            math.exp(b),
            (math.exp(b - zcrit * se), math.exp(b + zcrit * se)),
            float(2 * sps.norm.sf(abs(b / se))) if se > 0 else math.nan,
        )

    level_ratio, level_ci, level_p = ratio("level")
    nan2 = (math.nan, math.nan)
    slope_ratio, slope_ci, slope_p = ratio("slope") if slope_change else (math.nan, nan2, math.nan)
    eta = X.to_numpy() @ params.to_numpy() + (log_off if log_off is not None else 0.0)
    X_cf = X.copy()
    X_cf["level"] = 0.0
    if slope_change:
        X_cf["slope"] = 0.0
    eta_cf = X_cf.to_numpy() @ params.to_numpy() + (log_off if log_off is not None else 0.0)
    table = pd.DataFrame(
        {
            "observed": yv,
            "fitted": np.exp(eta),
            "counterfactual": np.exp(eta_cf),
            "after": after.astype(bool),
        },
        index=months,
    )
    table.index.name = "month"
    pvals = 2 * sps.norm.sf(np.abs(params / bse))
    coefs = pd.DataFrame({"estimate": params, "se": bse, "p_value": pvals})
    if len(dropped):
        notes.append(
            f"{len(dropped)} month(s) were missing and left out of the model: "
            f"{', '.join(str(m) for m in dropped)}."
        )
    if family == "poisson" and dispersion > 1.5 and not use_hac:
        notes.append(
            f"The counts are overdispersed (dispersion {dispersion:.1f}), so Poisson "
            "intervals are too narrow; prefer family='quasipoisson' or 'negbin'."
        )
    if use_hac and autocorrelation == "auto":
        notes.append(
            f"The residuals are autocorrelated (Ljung–Box p = {lb_p:.3g}), so the "
            f"intervals use Newey–West standard errors ({maxlags} lag(s))."
        )
    if seasonality is None and len(months) >= MIN_SEASONAL_MONTHS:
        notes.append("No seasonal terms were fitted although there are enough months to.")
    if post < 6:
        notes.append(
            f"Only {post} month(s) after the start: the estimate is of a short-term "
            "change and is imprecise."
        )
    cov_type = f"HAC(maxlags={maxlags})" if use_hac else "model-based"
    return ITSResult(
        start_p,
        family,
        seasonality,
        harmonics,
        slope_change,
        level_ratio,
        level_ci,
        level_p,
        slope_ratio,
        slope_ci,
        slope_p,
        dispersion,
        {"ljung_box_p": lb_p, "lags": float(lags), "lag1": lag1},
        cov_type,
        months,
        dropped,
        table,
        coefs,
        alpha,
        offset is not None,
        control is not None,
        notes,
    )
