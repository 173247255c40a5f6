"""Interrupted time series: checked against an independent Poisson fit and by simulation."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pandas as pd
import pytest
from scipy import stats as sps

from cspanalysis.evaluation import InsufficientDataError, interrupted_time_series

Z95 = 1.959963984540054
MONTHS = pd.period_range("2017-01", periods=48, freq="M")
START = pd.Period("2020-01", "M")


def _irls_poisson(X: np.ndarray, y: np.ndarray, offset: np.ndarray | None = None):
    """Plain iteratively reweighted least squares for a log-link Poisson GLM."""
    off = np.zeros(len(y)) if offset is None else offset
    beta = np.zeros(X.shape[1])
    beta[0] = math.log(y.mean())
    for _ in range(100):
        mu = np.exp(X @ beta + off)
        z = X @ beta + (y - mu) / mu
        W = mu
        new = np.linalg.solve(X.T @ (W[:, None] * X), X.T @ (W * z))
        if np.max(np.abs(new - beta)) < 1e-12:
            beta = new
            break
        beta = new
    mu = np.exp(X @ beta + off)
    cov = np.linalg.inv(X.T @ (mu[:, None] * X))
    phi = np.sum((y - mu) ** 2 / mu) / (len(y) - X.shape[1])
    return beta, cov, phi


def _design(months, start, harmonics=1, slope=False):
    t = np.array([(m - start).n for m in months], float)
    after = (t >= 0).astype(float)
    cols = [np.ones_like(t), t, after]
    if slope:
        cols.append(t * after)
    moy = np.asarray(months.month)
    for k in range(1, harmonics + 1):
        cols += [np.sin(2 * np.pi * k * moy / 12), np.cos(2 * np.pi * k * moy / 12)]
    return np.column_stack(cols)


def _simulate(level=0.7, slope=1.0, seed=0, base=40.0, months=MONTHS, start=START):
    rng = np.random.default_rng(seed)
    t = np.array([(m - start).n for m in months], float)
    season = 0.15 * np.cos(2 * np.pi * np.asarray(months.month) / 12)
    after = t >= 0
    mu = base * np.exp(0.004 * t + season) * np.where(after, level * slope**t, 1.0)
    return pd.Series(rng.poisson(mu), index=months, dtype=float)


def test_level_and_slope_match_an_independent_poisson_fit():
    y = _simulate(level=0.7, slope=0.99, seed=3)
    r = interrupted_time_series(
        y, "2020-01", harmonics=1, family="quasipoisson", slope_change=True, autocorrelation="none"
    )
    X = _design(MONTHS, START, harmonics=1, slope=True)
    beta, cov, phi = _irls_poisson(X, y.to_numpy())
    se = np.sqrt(np.diag(cov) * phi)  # quasi-Poisson: Poisson SE x sqrt(Pearson X2/df)
    assert r.level_ratio == pytest.approx(math.exp(beta[2]), rel=1e-6)
    assert r.level_ci[0] == pytest.approx(math.exp(beta[2] - Z95 * se[2]), rel=1e-6)
    assert r.level_ci[1] == pytest.approx(math.exp(beta[2] + Z95 * se[2]), rel=1e-6)
    assert r.level_p == pytest.approx(2 * sps.norm.sf(abs(beta[2] / se[2])), rel=1e-5)
    assert r.slope_ratio == pytest.approx(math.exp(beta[3]), rel=1e-6)
    assert r.slope_ci[1] == pytest.approx(math.exp(beta[3] + Z95 * se[3]), rel=1e-6)
    assert r.dispersion == pytest.approx(phi, rel=1e-6)
    assert r.cov_type == "model-based"
    assert r.options["harmonics"] == 1
    # the counterfactual removes exactly the level and slope terms
    post = r.table["after"]
    t = np.array([(m - START).n for m in MONTHS[post.to_numpy()]], float)
    ratio = r.table.loc[post, "fitted"] / r.table.loc[post, "counterfactual"]
    np.testing.assert_allclose(ratio, np.exp(beta[2] + beta[3] * t), rtol=1e-6)


def test_poisson_family_uses_unscaled_variance_and_offset_gives_rates():
    y = _simulate(level=0.8, seed=5)
    pop = pd.Series(np.linspace(9000, 9500, len(MONTHS)), index=MONTHS)
    r = interrupted_time_series(
        y, START, offset=pop, family="poisson", seasonality=None, autocorrelation="none"
    )
    X = _design(MONTHS, START, harmonics=0)
    beta, cov, _ = _irls_poisson(X, y.to_numpy(), np.log(pop.to_numpy()))
    assert r.level_ratio == pytest.approx(math.exp(beta[2]), rel=1e-6)
    assert r.level_ci[0] == pytest.approx(math.exp(beta[2] - Z95 * math.sqrt(cov[2, 2])), rel=1e-6)
    assert r.offset and math.isnan(r.slope_ratio)


def test_month_seasonality_and_negbin_run_and_cover_the_truth():
    y = _simulate(level=0.6, seed=11)
    for family in ("negbin", "quasipoisson"):
        r = interrupted_time_series(y, START, seasonality="month", family=family)
        assert r.level_ci[0] < 0.6 < r.level_ci[1], family
        assert r.coefficients.index.str.startswith("month").sum() == 11


def test_interval_coverage_by_simulation():
    # 60 series with a planted level change of 0.75: a 95% interval should cover it in about
    # 57 of them; fewer than 51 (p < 0.001 under correct coverage) would mean it is too narrow
    covered = 0
    for seed in range(60):
        r = interrupted_time_series(_simulate(level=0.75, seed=100 + seed), START, harmonics=1)
        covered += r.level_ci[0] < 0.75 < r.level_ci[1]
    assert covered >= 51


def test_autocorrelated_residuals_switch_to_newey_west():
    rng = np.random.default_rng(7)
    e = np.zeros(len(MONTHS))
    for i in range(1, len(e)):
        e[i] = 0.8 * e[i - 1] + rng.normal(0, 0.15)
    y = pd.Series(rng.poisson(60 * np.exp(e)), index=MONTHS, dtype=float)
    r = interrupted_time_series(y, START, seasonality=None)
    assert r.autocorrelation["ljung_box_p"] < 0.05
    assert r.cov_type.startswith("HAC")
    assert any("Newey" in n for n in r.notes)
    forced = interrupted_time_series(_simulate(seed=2), START, autocorrelation="hac")
    assert forced.cov_type == "HAC(maxlags=3)"  # floor(4 (48/100)^(2/9)) = 3


def test_missing_months_are_dropped_and_listed_never_zero():
    y = _simulate(seed=4)
    y.loc[[pd.Period("2018-07", "M"), pd.Period("2018-08", "M")]] = np.nan
    y = y.drop(pd.Period("2019-03", "M"))  # an absent month is missing too
    r = interrupted_time_series(y, START, harmonics=1, autocorrelation="none")
    assert [str(m) for m in r.months_dropped] == ["2018-07", "2018-08", "2019-03"]
    assert len(r.months_used) == 45
    kept = y.dropna()
    X = _design(pd.PeriodIndex(kept.index, freq="M"), START, harmonics=1)
    beta, _, _ = _irls_poisson(X, kept.to_numpy())
    assert r.level_ratio == pytest.approx(math.exp(beta[2]), rel=1e-6)
    assert any("2018-07" in n for n in r.notes)


def test_control_series_absorbs_a_common_shock():
    # a shock (halving) and month-to-month fluctuations shared by target and control: with the
    # control as covariate the level change is no longer attributed to the intervention
    rng = np.random.default_rng(0)
    common = np.where(MONTHS >= START, 0.5, 1.0) * np.exp(rng.normal(0, 0.2, len(MONTHS)))
    control = pd.Series(rng.poisson(400 * common), index=MONTHS, dtype=float)
    target = pd.Series(rng.poisson(60 * common), index=MONTHS, dtype=float)
    alone = interrupted_time_series(target, START, seasonality=None)
    with_control = interrupted_time_series(target, START, seasonality=None, control=control)
    assert alone.level_ci[1] < 0.8  # the shock looks like an effect
    assert with_control.level_ci[0] < 1 < with_control.level_ci[1]
    assert with_control.control and "control series" in with_control.findings()[0]


def test_too_few_months_say_so():
    short = _simulate().loc["2019-09":"2020-03"]
    with pytest.raises(InsufficientDataError, match="at least 6 observed months before"):
        interrupted_time_series(short, START, seasonality=None)
    medium = _simulate().loc["2019-01":"2020-06"]
    with pytest.raises(InsufficientDataError, match="seasonal terms need at least 24"):
        interrupted_time_series(medium, START)
    r = interrupted_time_series(medium, START, seasonality=None)
    assert any("Only 6 month" in n for n in r.notes) is False  # 6 is enough not to warn
    with pytest.raises(InsufficientDataError, match="and 3 from it"):
        interrupted_time_series(
            _simulate().loc[:"2020-01"], START, seasonality=None, slope_change=True
        )


def test_findings_and_plot():
    r = interrupted_time_series(_simulate(seed=1), START, slope_change=True)
    text = " ".join(r.findings())
    assert "level changed by" in text and "a year after the start" in text
    assert "Ljung–Box" in text
    fig = r.plot()
    assert len(fig.axes[0].lines) >= 3
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        interrupted_time_series(_simulate(seed=1), START)
