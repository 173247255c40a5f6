"""Seasonal trend models recover planted trends and seasonality; exceptions are flagged."""

from __future__ import annotations

import math

import matplotlib
import numpy as np
import pandas as pd
import pytest

from cspanalysis.assessment import seasonal_trends

matplotlib.use("Agg")


def simulate(trend=0.10, amplitude=0.25, peak=7, months=48, base=80.0, size=30.0, seed=0):
    """Negative binomial monthly counts with a planted annual trend and cosine seasonality."""
    rng = np.random.default_rng(seed)
    idx = pd.period_range("2016-01", periods=months, freq="M")
    t = np.arange(months) / 12
    mu = base * (1 + trend) ** t * np.exp(amplitude * np.cos(2 * np.pi * (idx.month - peak) / 12))
    y = rng.negative_binomial(size, size / (size + mu))
    return pd.DataFrame({"month": idx, "category": "Burglary", "count": y}), mu


@pytest.mark.parametrize(("trend", "peak"), [(0.10, 7), (-0.15, 12), (0.0, 2)])
def test_recovers_planted_trend_and_season(trend, peak):
    inc, _ = simulate(trend=trend, peak=peak, seed=int(100 * abs(trend)) + peak)
    est = seasonal_trends(inc).estimates.loc["Burglary"]
    assert est["status"] == "fitted" and est["family"] == "negative binomial"
    assert est["trend_ci_low"] < 100 * trend < est["trend_ci_high"]
    assert abs(est["annual_change_pct"] - 100 * trend) < 8
    # peak month on the circle of 12 months
    diff = (est["peak_month"] - peak + 6) % 12 - 6
    assert abs(diff) < 0.75
    assert est["seasonal_amplitude"] == pytest.approx(0.25, abs=0.08)
    # dispersion alpha = 1 / size
    assert est["dispersion"] == pytest.approx(1 / 30, abs=0.03)


def test_poisson_fit_matches_a_direct_glm():
    import statsmodels.api as sm

    inc, _ = simulate(seed=5)
    res = seasonal_trends(inc, family="poisson").estimates.loc["Burglary"]
    y = inc["count"].to_numpy()
    t = np.arange(len(y)) / 12
    m = inc["month"].dt.month.to_numpy()
    X = np.column_stack(
        [np.ones_like(t), t, np.sin(2 * np.pi * m / 12), np.cos(2 * np.pi * m / 12)]
    )
    fit = sm.GLM(y, X, family=sm.families.Poisson()).fit()
    assert res["annual_change_pct"] == pytest.approx(100 * math.expm1(fit.params[1]), rel=1e-6)
    se = fit.bse[1]
    assert res["trend_ci_low"] == pytest.approx(
        100 * math.expm1(fit.params[1] - 1.959964 * se), rel=1e-5
    )


def test_missing_months_are_left_out_not_zero():
    inc, _ = simulate(seed=2)
    gone = pd.period_range("2017-03", "2017-05", freq="M")
    holed = inc[~inc["month"].isin(gone)]
    res = seasonal_trends(holed, family="poisson")
    fitted = res.fitted.xs("Burglary")
    assert fitted.loc[gone, "observed"].isna().all()
    assert (fitted.loc[gone, "exception"] == "").all()
    assert res.estimates.loc["Burglary", "n_months"] == 45
    # same estimate as fitting only the months present (a zero would pull the level down)
    zeros = inc.copy()
    zeros.loc[zeros["month"].isin(gone), "count"] = 0
    with_zeros = seasonal_trends(zeros, family="poisson").estimates.loc["Burglary"]
    assert with_zeros["n_months"] == 48
    assert any("not supplied" in n for n in res.notes)


def test_planted_spike_is_an_exception():
    inc, mu = simulate(seed=11, months=36)
    spike = pd.Period("2017-08", "M")
    i = int(np.flatnonzero(inc["month"] == spike)[0])
    inc.loc[i, "count"] = int(mu[i] * 2.5)
    res = seasonal_trends(inc)
    exc = res.exceptions
    assert (("Burglary", spike) in exc.index) and exc.loc[
        ("Burglary", spike), "exception"
    ] == "above"
    assert len(exc) <= 3  # a 99% band flags few ordinary months
    assert any("August 2017" in f for f in res.findings())


def test_too_few_months_is_said_plainly():
    inc, _ = simulate(months=6)
    est = seasonal_trends(inc).estimates.loc["Burglary"]
    assert est["status"] == "not fitted"
    assert "6 months of data; at least 24" in est["note"]
    assert "no trend model" in seasonal_trends(inc).findings()[0]


def test_month_effects_and_plot():
    inc, _ = simulate(seed=4, peak=3, amplitude=0.4)
    res = seasonal_trends(inc, seasonality="months")
    assert res.estimates.loc["Burglary", "peak_month"] in (2.0, 3.0, 4.0)
    fig = res.plot("Burglary")
    assert "Burglary" in fig.axes[0].get_title()


def test_excluded_shock_months_are_predicted_and_flagged_not_fitted():
    inc, _ = simulate(seed=8, months=36, trend=0.0)
    shock = pd.period_range("2018-04", "2018-06", freq="M")
    inc.loc[inc["month"].isin(shock), "count"] = (
        inc.loc[inc["month"].isin(shock), "count"] * 0.3
    ).round()
    res = seasonal_trends(inc, exclude=shock)
    est = res.estimates.loc["Burglary"]
    assert est["n_months"] == 33
    assert est["trend_ci_low"] < 0 < est["trend_ci_high"]
    flagged = res.exceptions.xs("Burglary").index
    assert set(shock) <= set(flagged)
    assert res.options["exclude"] == "2018-04 to 2018-06"
