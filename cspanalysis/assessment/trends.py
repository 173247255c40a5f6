"""Monthly trends with a seasonal count model, and an SPC-style exception report.

For each category the monthly counts ``y_t`` (months the source supplied
only: a missing month is left out of the fit, never entered as zero) are
modelled as negative binomial (NB2; Poisson on request, or when the
negative binomial fit fails or finds no over-dispersion) with

    log E[y_t] = b0 + b1 · t/12 + Σ_k [s_k sin(2πk·m_t/12) + c_k cos(2πk·m_t/12)]

where ``t`` counts months from the first month and ``m_t`` is the calendar
month (1–12). ``seasonality="months"`` uses eleven month effects instead of
harmonics.

* **Annual trend**: ``100 (exp(b1) − 1)`` % a year, with its Wald 95%
  interval.
* **Seasonality** (one harmonic): log-amplitude ``A = √(s₁² + c₁²)`` – the
  peak month's expected count is ``exp(A)`` times the level of the year and
  the trough's ``exp(−A)`` times – and the peak month, the calendar month
  ``m`` (fractional) where ``cos(2πm/12 − φ)`` is 1, ``φ = atan2(s₁, c₁)``.
* **Exceptions**: a month whose count lies outside the central ``level``
  (default 99%) prediction interval of the fitted distribution at that
  month's expected value is flagged "above" or "below", as a statistical
  process control chart would (parameter uncertainty is not added; with two
  or more years of data it is small beside the month-to-month variation).
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import pandas as pd
from scipy import stats as sps

from cspanalysis.assessment.periods import MonthLike, describe_months, monthly_counts, to_month

__all__ = ["TrendResult", "seasonal_trends"]

_MONTH_NAMES = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


@dataclass
class TrendResult:
    """Fitted seasonal trends and exceptions.

    Attributes
    ----------
    estimates
        One row per category: ``status``, ``n_months`` (months fitted), ``family``,
        ``trend_log`` (b1, log scale) and ``trend_log_se``, ``annual_change_pct`` with
        ``trend_ci_low`` / ``trend_ci_high`` and ``trend_p``, ``seasonal_amplitude`` and
        ``peak_month`` (each with a delta-method ``_se``), ``peak_month_name``,
        ``dispersion`` (NB alpha; 0 for Poisson) and ``note``.
    fitted
        Long table per category and month: ``observed`` (NaN when missing), ``expected``,
        ``pi_low``, ``pi_high``, ``exception`` ("above", "below" or "").
    options
        Options used.
    """

    estimates: pd.DataFrame
    fitted: pd.DataFrame
    options: dict[str, Any]
    notes: list[str] = field(default_factory=list)

    @property
    def exceptions(self) -> pd.DataFrame:
        """Months outside the prediction interval (the exception report)."""
        return self.fitted[self.fitted["exception"] != ""]

    def findings(self) -> list[str]:
        """A trend sentence per category, then one per exception month."""
        from cspanalysis.assessment.findings import trend_sentence

        out = [trend_sentence(c, r) for c, r in self.estimates.iterrows()]
        level = self.options["level"]
        for (cat, month), r in self.exceptions.iterrows():
            out.append(
                f"{cat}, {month.strftime('%B %Y')}: {r['observed']:.0f} incidents, "
                f"{r['exception']} the expected range {r['pi_low']:.0f}–{r['pi_high']:.0f} "
                f"({level:.0%} prediction interval)."
            )
        return out + self.notes

    def plot(self, category: str, ax: Any = None) -> Any:
        """Observed counts, the model's expectation and prediction band, exceptions marked."""
        import matplotlib.pyplot as plt

        d = self.fitted.xs(category, level=0)
        if ax is None:
            _, ax = plt.subplots(figsize=(8, 3.2))
        x = d.index.to_timestamp()
        ax.fill_between(
            x,
            d["pi_low"],
            d["pi_high"],
            color="#56B4E9",
            alpha=0.3,
            label=f"{self.options['level']:.0%} prediction interval",
        )
        ax.plot(x, d["expected"], color="#0072B2", lw=1.5, label="Seasonal model")
        ax.plot(x, d["observed"], color="black", marker="o", ms=3, lw=0.8, label="Recorded")
        for kind, colour, marker in (("above", "#D55E00", "^"), ("below", "#009E73", "v")):
            e = d[d["exception"] == kind]
            if len(e):
                ax.scatter(
                    e.index.to_timestamp(),
                    e["observed"],
                    color=colour,
                    marker=marker,
                    s=60,
                    zorder=5,
                    label=f"Exception ({kind})",
                )
        est = self.estimates.loc[category]
        title = f"{category}: monthly count"
        if est["status"] == "fitted":
            title += (
                f" (trend {est['annual_change_pct']:+.0f}% a year, 95% CI "
                f"{est['trend_ci_low']:+.0f}% to {est['trend_ci_high']:+.0f}%)"
            )
        ax.set_title(title, fontsize=10)
        ax.set_ylabel("Incidents per month")
        ax.set_ylim(bottom=0)
        ax.legend(fontsize=7, loc="best", ncols=2)  # never over the data
        ax.figure.text(
            0.01,
            0.005,
            "Gaps: months not supplied (missing, not zero). Source: police.uk",
            fontsize=7,
        )
        ax.figure.tight_layout(rect=(0, 0.04, 1, 1))
        return ax.figure


def _design(
    months: pd.PeriodIndex, origin: pd.Period, seasonality: str, harmonics: int
) -> pd.DataFrame:
    t = np.array([(m - origin).n for m in months], dtype=float) / 12.0
    cal = np.array([m.month for m in months], dtype=float)
    X = {"const": np.ones(len(months)), "trend": t}
    if seasonality == "harmonics":
        for k in range(1, harmonics + 1):
            X[f"sin{k}"] = np.sin(2 * np.pi * k * cal / 12)
            X[f"cos{k}"] = np.cos(2 * np.pi * k * cal / 12)
    elif seasonality == "months":
        for mth in range(2, 13):
            X[f"m{mth}"] = (cal == mth).astype(float)
    return pd.DataFrame(X, index=months)


def _fit(y: np.ndarray, X: pd.DataFrame, family: str) -> tuple[np.ndarray, np.ndarray, float, str]:
    """Return params, covariance, NB alpha (0 for Poisson) and the family used."""
    import statsmodels.api as sm

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if family == "negbin":
            try:
                res = sm.NegativeBinomial(y, X.to_numpy(), loglike_method="nb2").fit(
                    disp=0, maxiter=300, method="bfgs"
                )
                alpha = float(res.params[-1])
                cov = np.asarray(res.cov_params())[:-1, :-1]
                ok = (res.mle_retvals or {}).get("converged", True) and np.all(np.isfinite(cov))
                if ok and alpha > 1e-6:
                    return np.asarray(res.params[:-1]), cov, alpha, "negative binomial"
            except (np.linalg.LinAlgError, ValueError):  # pragma: no cover - rare numerics
                pass
        res = sm.GLM(y, X.to_numpy(), family=sm.families.Poisson()).fit()
        return np.asarray(res.params), np.asarray(res.cov_params()), 0.0, "poisson"


def _interval(mu: np.ndarray, alpha: float, level: float) -> tuple[np.ndarray, np.ndarray]:
    lo_q, hi_q = (1 - level) / 2, 1 - (1 - level) / 2
    if alpha > 0:
        n = 1.0 / alpha
        p = n / (n + mu)
        return sps.nbinom.ppf(lo_q, n, p), sps.nbinom.ppf(hi_q, n, p)
    return sps.poisson.ppf(lo_q, mu), sps.poisson.ppf(hi_q, mu)


def seasonal_trends(
    incidents: pd.DataFrame,
    coverage: pd.DataFrame | pd.PeriodIndex | Iterable[MonthLike] | None = None,
    *,
    by: str = "category",
    source: str | None = "police.uk",
    categories: Iterable[str] | None = None,
    family: Literal["negbin", "poisson"] = "negbin",
    seasonality: Literal["harmonics", "months", "none"] = "harmonics",
    harmonics: int = 1,
    min_months: int = 24,
    level: float = 0.99,
    counts: pd.DataFrame | None = None,
    totals: bool = False,
    exclude: Iterable[MonthLike] | None = None,
) -> TrendResult:
    """Fit a seasonal count model per category: annual trend, seasonality, exceptions.

    Parameters
    ----------
    incidents
        Incidents (``month``, ``by``, ``count``).
    coverage
        Coverage frame or present months (default: months in ``incidents``).
    by, source
        Breakdown column and source (see :func:`~.periods.monthly_counts`).
    categories
        Categories to model (default: all, plus none of the totals).
    family
        ``"negbin"`` (default; falls back to Poisson when not over-dispersed) or ``"poisson"``.
    seasonality
        ``"harmonics"`` (``harmonics`` sine/cosine pairs), ``"months"`` (month effects) or
        ``"none"``.
    min_months
        Fewest months with data for a seasonal model (24: two of each calendar month).
    level
        Coverage of the prediction interval for exceptions (0.99).
    counts
        Monthly counts (months × categories, NaN when missing) to use instead of
        ``incidents``; e.g. :meth:`PartnershipData.monthly_counts`.
    totals
        Also model "All crime" (every category except anti-social behaviour).
    exclude
        Months to leave out of the fit (e.g. a known shock such as the COVID-19 lockdown);
        they are still predicted and flagged against the model of the other months.

    Examples
    --------
    >>> rng = np.random.default_rng(1)
    >>> months = pd.period_range("2017-01", "2019-12", freq="M")
    >>> season = np.exp(0.3 * np.cos(2 * np.pi * (months.month - 7) / 12))
    >>> mu = 50 * 1.1 ** (np.arange(36) / 12) * season
    >>> inc = pd.DataFrame({"month": months, "category": "Burglary", "count": rng.poisson(mu)})
    >>> r = seasonal_trends(inc, family="poisson")
    >>> est = r.estimates.loc["Burglary"]
    >>> bool(est["trend_ci_low"] < 10 < est["trend_ci_high"]), round(est["peak_month"])
    (True, 7)
    """
    if counts is None:
        counts = monthly_counts(incidents, coverage, by=by, source=source)
    if totals and by == "category":
        from cspanalysis.assessment.change import ALL_CRIME, ASB

        counts = counts.copy()
        counts[ALL_CRIME] = counts.drop(columns=[ASB], errors="ignore").sum(axis=1, min_count=1)
    if categories is not None:
        counts = counts.reindex(columns=list(categories))
    if not 0 < level < 1:
        raise ValueError("level must be between 0 and 1")
    excluded = pd.PeriodIndex(
        sorted({to_month(m) for m in exclude}) if exclude is not None else [], freq="M"
    )
    est_rows, fitted_parts = [], []
    for cat in counts.columns:
        series = counts[cat]
        obs = series.dropna()
        obs = obs[~obs.index.isin(excluded)]
        row: dict[str, Any] = {
            "category": cat,
            "status": "not fitted",
            "n_months": len(obs),
            "family": "",
            "trend_log": np.nan,
            "trend_log_se": np.nan,
            "annual_change_pct": np.nan,
            "trend_ci_low": np.nan,
            "trend_ci_high": np.nan,
            "trend_p": np.nan,
            "seasonal_amplitude": np.nan,
            "seasonal_amplitude_se": np.nan,
            "peak_month": np.nan,
            "peak_month_se": np.nan,
            "peak_month_name": "",
            "dispersion": np.nan,
            "note": "",
        }
        frame = pd.DataFrame(
            {
                "observed": series,
                "expected": np.nan,
                "pi_low": np.nan,
                "pi_high": np.nan,
                "exception": "",
            }
        )
        need = min_months if seasonality != "none" else max(6, min_months // 2)
        if len(obs) < need:
            row["note"] = (
                f"{len(obs)} months of data; at least {need} are needed for "
                f"{'a seasonal' if seasonality != 'none' else 'a trend'} model"
            )
        elif obs.sum() < 2 * len(obs) ** 0.5:
            row["note"] = f"too few incidents ({obs.sum():.0f}) to model"
        else:
            origin = series.index.min()
            X = _design(obs.index, origin, seasonality, harmonics)
            params, cov, alpha, fam = _fit(obs.to_numpy(), X, family)
            se = math.sqrt(cov[1, 1])
            z = sps.norm.ppf(0.975)
            b1 = params[1]
            row.update(
                status="fitted",
                family=fam,
                dispersion=alpha,
                trend_log=b1,
                trend_log_se=se,
                annual_change_pct=100 * math.expm1(b1),
                trend_ci_low=100 * math.expm1(b1 - z * se),
                trend_ci_high=100 * math.expm1(b1 + z * se),
                trend_p=float(2 * sps.norm.sf(abs(b1 / se))),
            )
            if seasonality == "harmonics":
                s1, c1 = params[2], params[3]
                phase = math.atan2(s1, c1)
                peak = (12 * phase / (2 * math.pi)) % 12
                peak = peak + 12 if peak < 0.5 else peak  # December is month 12, not 0
                amp = math.hypot(s1, c1)
                # delta method: gradients of A = |(s, c)| and of phase = atan2(s, c)
                sc = cov[2:4, 2:4]
                g_amp = np.array([s1, c1]) / amp if amp > 0 else np.zeros(2)
                g_phase = np.array([c1, -s1]) / amp**2 if amp > 0 else np.zeros(2)
                row.update(
                    seasonal_amplitude=amp,
                    seasonal_amplitude_se=math.sqrt(float(g_amp @ sc @ g_amp)),
                    peak_month=peak,
                    peak_month_se=12 / (2 * math.pi) * math.sqrt(float(g_phase @ sc @ g_phase)),
                    peak_month_name=_MONTH_NAMES[int(round(peak) - 1) % 12],
                )
            elif seasonality == "months":
                effects = np.concatenate([[0.0], params[2:13]])
                peak_i = int(np.argmax(effects))
                row.update(
                    seasonal_amplitude=(effects.max() - effects.min()) / 2,
                    peak_month=float(peak_i + 1),
                    peak_month_name=_MONTH_NAMES[peak_i],
                )
            Xall = _design(series.index, origin, seasonality, harmonics)
            mu = np.exp(Xall.to_numpy() @ params)
            lo, hi = _interval(mu, alpha, level)
            frame["expected"], frame["pi_low"], frame["pi_high"] = mu, lo, hi
            y = frame["observed"]
            frame["exception"] = np.select(
                [y.notna() & (y > frame["pi_high"]), y.notna() & (y < frame["pi_low"])],
                ["above", "below"],
                "",
            )
        est_rows.append(row)
        frame.index.name = "month"
        fitted_parts.append(frame.assign(category=cat).reset_index())
    estimates = pd.DataFrame(est_rows).set_index("category")
    fitted = (
        pd.concat(fitted_parts, ignore_index=True).set_index(["category", "month"])
        if fitted_parts
        else pd.DataFrame()
    )
    options = {
        "family": family,
        "seasonality": seasonality,
        "harmonics": harmonics,
        "min_months": min_months,
        "level": level,
        "by": by,
        "source": source,
        "totals": totals,
        "exclude": describe_months(excluded) if len(excluded) else "none",
        "coverage": "given" if coverage is not None else "inferred from incidents",
    }
    notes = []
    missing = int(counts.isna().all(axis=1).sum()) if len(counts.columns) else 0
    if missing:
        notes.append(
            f"{missing} month(s) in the span were not supplied and were left out of "
            "the models (missing, not zero)."
        )
    return TrendResult(estimates, fitted, options, notes)
