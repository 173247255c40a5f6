"""Counterfactual forecast: what the target would have seen without the intervention.

In the spirit of CausalImpact (Brodersen et al. 2015), a structural
time-series model is fitted to the target's months **before** the start and
projected over the months after; the gap between what was observed and the
projection is the effect. Counts are modelled on the log scale,
``y_t = log(count_t + 0.5)``, as a local level (a random walk) plus, when
given, regression on the control series ``log(control_t + 0.5)`` (which
carry the season and any shock common to both areas) and, with no controls
and at least 24 months before the start, a two-harmonic annual cycle
(statsmodels ``UnobservedComponents``, fitted by maximum likelihood).

Intervals come from ``n_simulations`` draws of the post-period paths
(``simulate(anchor="end")``: the filtered state at the start plus future
level and observation noise), back-transformed to counts; so the
cumulative effect has an interval that respects the correlation between
months. Parameter uncertainty is not included, so intervals are somewhat
narrow. A ``seed`` makes every run identical. Missing months are NaN in the
model (the Kalman filter skips them), never zero.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass, field
from typing import Literal

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from cspanalysis.evaluation.prepost import monthly_series
from cspanalysis.evaluation.result import InsufficientDataError, interval, pct, to_period

__all__ = ["CounterfactualResult", "counterfactual_forecast"]

#: fewest observed months before the start for a structural model
MIN_PRE_MONTHS = 12


@dataclass
class CounterfactualResult:
    """Result of :func:`counterfactual_forecast`.

    Attributes
    ----------
    table
        One row per post-period month: ``observed``, ``expected`` (median of
        the simulated counterfactual), ``low``, ``high`` (pointwise interval),
        ``effect`` (observed − expected).
    observed_total, expected_total, expected_low, expected_high
        Post-period totals: observed, and the counterfactual with its interval.
    ratio, ratio_ci
        Observed / counterfactual total (0.8 = 20% fewer than expected); the
        interval is for the ratio of the underlying rates, so it includes the
        Poisson uncertainty of the observed total as well as the forecast's.
    cumulative_effect, cumulative_ci
        Observed − counterfactual total, in crimes, with its interval (the
        observed counts taken as given, as CausalImpact does).
    """

    start: pd.Period
    series: pd.Series
    pre_fitted: pd.Series
    table: pd.DataFrame
    observed_total: float
    expected_total: float
    expected_low: float
    expected_high: float
    ratio: float
    ratio_ci: tuple[float, float]
    cumulative_effect: float
    cumulative_ci: tuple[float, float]
    alpha: float
    options: dict[str, object]
    notes: list[str] = field(default_factory=list)

    @property
    def p_value(self) -> float:
        """Two-sided simulation p-value that the observed total fits the counterfactual."""
        return float(self.options["p_value"])

    def findings(self) -> list[str]:
        """Plain-English sentences."""
        level = round(100 * (1 - self.alpha))
        lo, hi = self.cumulative_ci
        sig = (
            "more than the model's uncertainty"
            if not lo <= 0 <= hi
            else "within the model's uncertainty"
        )
        regs = self.options["controls"]
        sentence = (
            f"Counterfactual forecast (structural time-series model on log counts fitted to "
            f"{self.options['pre_months']} months before the start"
            f"{', with ' + ', '.join(regs) + ' as regressors' if regs else ''}): "
            f"{self.observed_total:.0f} crimes were recorded after the start against "
            f"{self.expected_total:.0f} expected ({level}% interval {self.expected_low:.0f} to "
            f"{self.expected_high:.0f}), a difference of {self.cumulative_effect:+.0f} "
            f"({lo:+.0f} to {hi:+.0f}; {pct(self.ratio)}, {interval(*self.ratio_ci)}), {sig}."
        )
        return [sentence, *self.notes]

    def plot(self) -> Figure:
        """Observed counts with the counterfactual and its interval after the start."""
        fig = Figure(figsize=(8, 3.8))
        ax = fig.subplots()
        s = self.series
        ax.plot(
            s.index.to_timestamp(), s.to_numpy(), "o-", ms=3, lw=1, color="0.3", label="observed"
        )
        t = self.table
        x = t.index.to_timestamp()
        ax.plot(x, t["expected"], color="tab:blue", lw=1.5, label="expected without it")
        ax.fill_between(x, t["low"], t["high"], color="tab:blue", alpha=0.2, lw=0)
        ax.axvline(self.start.to_timestamp(), color="k", ls="--", lw=1)
        ax.set_ylabel("crimes per month")
        ax.set_title(f"Counterfactual: {self.cumulative_effect:+.0f} crimes ({pct(self.ratio)})")
        ax.legend(fontsize=8, loc="best")
        fig.tight_layout()
        return fig


def counterfactual_forecast(
    counts: pd.Series,
    start: str | pd.Period,
    controls: pd.Series | pd.DataFrame | None = None,
    *,
    end: str | pd.Period | None = None,
    seasonal: Literal["auto"] | bool = "auto",
    alpha: float = 0.05,
    n_simulations: int = 2000,
    seed: int = 0,
) -> CounterfactualResult:
    """Project the target's pre-period into the post-period and measure the gap.

    Parameters
    ----------
    counts
        The target's monthly counts (PeriodIndex); NaN months are missing.
    start, end
        First (and optionally last) month of the intervention.
    controls
        Control series (a Series, or a DataFrame of several) over the same
        months, used as regressors on the log scale; they must be observed in
        every post-period month.
    seasonal
        Annual cycle: ``"auto"`` (only without controls and with 24 or more
        months before the start), True or False.
    alpha
        1 − interval level.
    n_simulations, seed
        Simulated post-period paths, and the seed that makes them reproducible.

    Raises
    ------
    InsufficientDataError
        Fewer than 12 observed months before the start, or none after.

    Examples
    --------
    >>> months = pd.period_range("2018-01", periods=30, freq="M")
    >>> rng = np.random.default_rng(0)
    >>> control = pd.Series(rng.poisson(200, 30), index=months)
    >>> target = pd.Series(rng.poisson(np.r_[np.full(24, 40), np.full(6, 24)]), index=months)
    >>> r = counterfactual_forecast(target, "2020-01", control)
    >>> r.ratio_ci[0] < 0.6 < r.ratio_ci[1]
    True
    """
    import statsmodels.api as sm

    if not 0 < alpha < 1:
        raise ValueError("alpha must be between 0 and 1")
    y = monthly_series(counts)
    start_p = to_period(start)
    if end is not None:
        y = y[y.index <= to_period(end, "end")]
    names: list[str] = []
    exog = None
    if controls is not None:
        frame = controls.to_frame() if isinstance(controls, pd.Series) else controls
        exog = pd.DataFrame(
            {str(c): monthly_series(frame[c], f"control {c}").reindex(y.index) for c in frame}
        )
        names = [str(c) for c in frame.columns]
        bad = exog.isna().any(axis=1) & y.notna()
        y = y.mask(bad)  # a month with no control cannot be modelled: treat it as missing
        exog = np.log(exog.fillna(exog.mean()) + 0.5)
    pre = y.index < start_p
    n_pre = int(y[pre].notna().sum())
    post_idx = y.index[~pre]
    post_obs = y[~pre].dropna()
    if n_pre < MIN_PRE_MONTHS or len(post_obs) == 0:
        raise InsufficientDataError(
            f"a counterfactual forecast needs at least {MIN_PRE_MONTHS} observed months before "
            f"{start_p} and one after; there are {n_pre} before and {len(post_obs)} after"
        )
    use_season = (exog is None and n_pre >= 24) if seasonal == "auto" else bool(seasonal)
    if use_season and n_pre < 24:
        raise InsufficientDataError("an annual cycle needs at least 24 months before the start")
    log_y = np.log(y + 0.5)
    endog = log_y[pre].to_numpy()
    kw: dict[str, object] = {"level": "llevel"}
    if use_season:
        kw["freq_seasonal"] = [{"period": 12, "harmonics": 2}]
    if exog is not None:
        kw["exog"] = exog[pre].to_numpy()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model = sm.tsa.UnobservedComponents(endog, **kw)
        fit = model.fit(disp=0, maxiter=500)
        sims = fit.simulate(
            len(post_idx),
            repetitions=n_simulations,
            anchor="end",
            exog=None if exog is None else exog[~pre].to_numpy(),
            rng=np.random.default_rng(seed),
        )
    paths = np.clip(np.exp(np.asarray(sims).reshape(len(post_idx), n_simulations)) - 0.5, 0, None)
    observed = y[~pre].to_numpy()
    ok = ~np.isnan(observed)
    q = [alpha / 2, 0.5, 1 - alpha / 2]
    point = np.quantile(paths, q, axis=1)
    table = pd.DataFrame(
        {"observed": observed, "expected": point[1], "low": point[0], "high": point[2]},
        index=post_idx,
    )
    table["effect"] = table["observed"] - table["expected"]
    table.index.name = "month"
    totals = paths[ok].sum(axis=0)
    obs_total = float(observed[ok].sum())
    exp_lo, exp_mid, exp_hi = np.quantile(totals, q)
    eff = obs_total - totals
    # the ratio's interval is for the underlying rates: the observed total is itself a Poisson
    # draw, so its Jeffreys posterior (Gamma(obs + 0.5)) is divided by the counterfactual draws
    obs_draws = np.random.default_rng(seed + 1).gamma(obs_total + 0.5, 1.0, n_simulations)
    ratios = obs_draws / np.where(totals > 0, totals, np.nan)
    # two-sided Monte Carlo p-value, (1 + extreme draws) / (1 + draws), so never 0
    below = (1 + int((totals <= obs_total).sum())) / (1 + n_simulations)
    above = (1 + int((totals >= obs_total).sum())) / (1 + n_simulations)
    p_sim = 2 * min(below, above)
    fitted_pre = pd.Series(np.exp(np.asarray(fit.fittedvalues)) - 0.5, index=y.index[pre])
    notes = []
    missing = y.index[y.isna()]
    if len(missing):
        notes.append(
            f"{len(missing)} month(s) were missing (skipped by the model, not zero): "
            f"{', '.join(str(m) for m in missing)}."
        )
    notes.append(
        "The interval leaves out uncertainty in the model's parameters, so it is somewhat narrow."
    )
    options = {
        "model": "local level" + (" + annual cycle (2 harmonics)" if use_season else ""),
        "controls": names,
        "pre_months": n_pre,
        "post_months": int(ok.sum()),
        "n_simulations": n_simulations,
        "seed": seed,
        "p_value": min(1.0, p_sim),
        "scale": "log(count + 0.5)",
    }
    return CounterfactualResult(
        start_p,
        y,
        fitted_pre,
        table,
        obs_total,
        float(exp_mid),
        float(exp_lo),
        float(exp_hi),
        float(obs_total / exp_mid) if exp_mid > 0 else math.nan,
        (float(np.nanquantile(ratios, alpha / 2)), float(np.nanquantile(ratios, 1 - alpha / 2))),
        float(obs_total - exp_mid),
        (float(np.quantile(eff, alpha / 2)), float(np.quantile(eff, 1 - alpha / 2))),
        alpha,
        options,
        notes,
    )
