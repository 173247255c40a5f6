"""Before-after statistics against values derived by hand from the papers' formulas."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from scipy import stats as sps

from cspanalysis.evaluation import (
    InsufficientDataError,
    pre_post,
    relative_effect_size,
    weighted_displacement_difference,
    weighted_displacement_quotient,
)

Z95 = 1.959963984540054


# ---------------------------------------------------------------------------- WDD


def test_wdd_reproduces_the_published_example():
    # Wheeler & Ratcliffe (2018), worked example: control 308 -> 318, treated 207 -> 110,
    # displacement control 150 -> 140, displacement treated 178 -> 157. The paper reports
    # WDD = -118, variance 1568, z = -2.98 and a 95% interval of -196 to -40.
    r = weighted_displacement_difference((207, 110), (308, 318), (178, 157), (150, 140))
    assert r.estimate == -118
    assert r.se == pytest.approx(math.sqrt(1568))
    assert round(r.z, 2) == -2.98
    assert round(r.ci_low) == -196 and round(r.ci_high) == -40
    assert r.p_value == pytest.approx(2 * sps.norm.cdf(-118 / math.sqrt(1568)))
    assert r.with_buffer and r.components["treated"] == -97


def test_wdd_without_buffer_and_alpha():
    t, c = (45, 30), (50, 52)
    est = (30 - 45) - (52 - 50)
    se = math.sqrt(45 + 30 + 50 + 52)
    r = weighted_displacement_difference(t, c, alpha=0.1)
    z90 = sps.norm.ppf(0.95)
    assert (r.estimate, r.se, r.z) == (est, pytest.approx(se), pytest.approx(est / se))
    assert r.ci_low == pytest.approx(est - z90 * se) and r.ci_high == pytest.approx(est + z90 * se)
    assert not r.with_buffer
    assert "fewer" in r.findings()[0]


def test_wdd_rejects_half_a_buffer_and_bad_pairs():
    with pytest.raises(ValueError, match="both"):
        weighted_displacement_difference((1, 2), (3, 4), treated_buffer=(1, 1))
    with pytest.raises(ValueError, match="before, after"):
        weighted_displacement_difference((1, 2, 3), (3, 4))
    with pytest.raises(ValueError, match=">= 0"):
        weighted_displacement_difference((-1, 2), (3, 4))


# ---------------------------------------------------------------------------- RES


def test_res_matches_the_farrington_welsh_formula():
    a, b, c, d = 431, 306, 423, 413  # target before/after, control before/after
    res = a * d / (b * c)
    v = 1 / a + 1 / b + 1 / c + 1 / d
    r = relative_effect_size((a, b), (c, d))
    assert r.res == pytest.approx(res)
    assert r.ci_low == pytest.approx(math.exp(math.log(res) - Z95 * math.sqrt(v)))
    assert r.ci_high == pytest.approx(math.exp(math.log(res) + Z95 * math.sqrt(v)))
    assert r.p_value == pytest.approx(2 * sps.norm.sf(math.log(res) / math.sqrt(v)))
    assert r.relative_change == pytest.approx(1 / res)
    assert "Relative Effect Size" in r.findings()[0]


def test_res_with_overdispersion_widens_the_interval():
    a, b, c, d = 120, 80, 200, 190
    D = 0.0008 * (a + b + c + d) + 1.2  # Farrington et al. (2007)
    r = relative_effect_size((a, b), (c, d), dispersion=D)
    se = math.sqrt(D * (1 / a + 1 / b + 1 / c + 1 / d))
    assert r.ci_high == pytest.approx(a * d / (b * c) * math.exp(Z95 * se))
    assert r.p_value > relative_effect_size((a, b), (c, d)).p_value


def test_res_undefined_with_a_zero_count_is_stated_not_computed():
    r = relative_effect_size((10, 0), (20, 25))
    assert not r.defined and math.isnan(r.res) and math.isnan(r.p_value)
    assert "target after" in r.note
    assert "not computed" in r.findings()[0]


# ---------------------------------------------------------------------------- WDQ


def test_wdq_components_from_the_bowers_johnson_formulas():
    rb, ra, db, da, cb, ca = 140, 90, 80, 95, 400, 380
    success = ra / ca - rb / cb
    buffer_m = da / ca - db / cb
    tne = (rb * ca / cb - ra) + (db * ca / cb - da)
    r = weighted_displacement_quotient((rb, ra), (db, da), (cb, ca))
    assert r.success_measure == pytest.approx(success)
    assert r.buffer_measure == pytest.approx(buffer_m)
    assert r.wdq == pytest.approx(buffer_m / success)
    assert r.total_net_effect == pytest.approx(tne)
    # buffer rose relative to control while the target fell: displacement, smaller than the
    # direct effect (-1 < WDQ < 0), so a net gain
    assert -1 < r.wdq < 0 and r.classification == "displacement"
    assert "net gain" in r.interpretation


@pytest.mark.parametrize(
    ("buffer", "label", "phrase"),
    [
        ((80, 20), "diffusion", "larger than the direct effect"),  # WDQ > 1
        ((80, 70), "diffusion", "diffusion of benefit"),  # 0 < WDQ < 1
        ((80, 80), "no change", "no displacement"),  # WDQ = 0
        ((80, 160), "displacement", "net loss"),  # WDQ < -1
    ],
)
def test_wdq_interpretation_table(buffer, label, phrase):
    r = weighted_displacement_quotient((100, 50), buffer, (200, 200))
    assert r.classification == label
    assert phrase in r.interpretation


def test_wdq_undefined_cases_are_stated_not_computed():
    no_success = weighted_displacement_quotient((100, 110), (50, 40), (200, 200))
    assert math.isnan(no_success.wdq) and no_success.classification == "undefined"
    assert no_success.success_measure == pytest.approx(110 / 200 - 100 / 200)
    assert "no success" in no_success.interpretation
    assert "not computed" in no_success.findings()[0]
    zero_control = weighted_displacement_quotient((100, 50), (50, 40), (0, 10))
    assert math.isnan(zero_control.wdq) and math.isnan(zero_control.total_net_effect)
    assert "control area's before count is 0" in zero_control.interpretation


# ---------------------------------------------------------------------------- pre/post


def _series(values, start="2019-01"):
    return pd.Series(
        values, index=pd.period_range(start, periods=len(values), freq="M"), dtype=float
    )


def test_pre_post_equal_windows_and_exact_test():
    s = _series([30, 28, 33, 31, 29, 30, 32, 20, 22, 19, 21, 18, 20])
    r = pre_post(s, "2019-08")
    # 6 months are available after, so 6 before: 2019-02..2019-07 vs 2019-08..2020-01
    before = s["2019-02":"2019-07"].sum()
    after = s["2019-08":"2020-01"].sum()
    assert (r.rate_ratio.count_b, r.rate_ratio.count_a) == (before, after)
    assert str(r.before_months.min()) == "2019-02" and len(r.after_months) == 6
    exact = sps.binomtest(int(after), int(after + before), 0.5)
    assert r.p_value == pytest.approx(exact.pvalue)
    ci = exact.proportion_ci(method="exact")
    assert r.ci[0] == pytest.approx(ci.low / (1 - ci.low))
    assert r.ratio == pytest.approx(after / before)
    assert any("seasons" in n for n in r.notes)
    assert list(r.table()["count"]) == [before, after]


def test_pre_post_missing_months_are_left_out_not_zero():
    s = _series([10, np.nan, 12, 11, 6, 5, np.nan, 7])
    r = pre_post(s, "2019-05")
    assert len(r.before_months) == 3 and len(r.after_months) == 3
    assert r.rate_ratio.exposure_b == 3 and r.rate_ratio.exposure_a == 3
    assert r.ratio == pytest.approx((6 + 5 + 7) / (10 + 12 + 11))
    assert [str(m) for m in r.missing_months] == ["2019-02", "2019-07"]
    assert any("missing" in n for n in r.notes)
    fig = r.plot()
    assert len(fig.axes) == 1


def test_pre_post_too_few_months():
    with pytest.raises(InsufficientDataError, match="at least one observed month"):
        pre_post(_series([5, 6, 7]), "2019-01")


# ------------------------------------------------------------------ pre/post, overdispersed


def _poisson_pearson_dispersion(y: np.ndarray, X: np.ndarray) -> tuple[float, int]:
    """Pearson chi2 / df of a log-link Poisson fit by plain Newton-Raphson (no statsmodels)."""
    beta = np.zeros(X.shape[1])
    beta[0] = math.log(y.mean())
    for _ in range(100):
        mu = np.exp(X @ beta)
        step = np.linalg.solve(X.T @ (mu[:, None] * X), X.T @ (y - mu))
        beta = beta + step
        if np.max(np.abs(step)) < 1e-12:
            break
    mu = np.exp(X @ beta)
    df = len(y) - X.shape[1]
    return float(np.sum((y - mu) ** 2 / mu) / df), df


def test_pre_post_dispersion_adjusted_interval_matches_the_quasi_poisson_formula():
    rng = np.random.default_rng(11)
    months = pd.period_range("2018-01", periods=48, freq="M")
    mu = 40 * (1 + 0.2 * np.sin(2 * np.pi * months.month.to_numpy() / 12))
    y = rng.poisson(mu * rng.gamma(8.0, 1 / 8.0, len(mu))).astype(float)
    s = pd.Series(y, index=months)
    r = pre_post(s, "2021-01")  # 36 months before, 12 after: 12-month windows
    # independent: Poisson fit (intercept, trend in years, annual harmonic) to the 36 pre months
    pre = y[:36]
    t = np.arange(36, dtype=float)
    ang = 2 * np.pi * months[:36].month.to_numpy() / 12
    X = np.column_stack([np.ones(36), (t - t.mean()) / 12, np.sin(ang), np.cos(ang)])
    phi, df = _poisson_pearson_dispersion(pre, X)
    assert phi > 1.5  # the gamma frailty makes it overdispersed
    assert r.dispersion == pytest.approx(phi, rel=1e-6) and r.dispersion_df == df == 32
    a, b = y[36:].sum(), y[24:36].sum()
    log_rr = math.log(a / b)
    se = math.sqrt(phi * (1 / a + 1 / b))
    q = sps.t.ppf(0.975, df)
    assert r.ratio == pytest.approx(a / b)
    assert r.ci[0] == pytest.approx(math.exp(log_rr - q * se), rel=1e-6)
    assert r.ci[1] == pytest.approx(math.exp(log_rr + q * se), rel=1e-6)
    assert r.p_value == pytest.approx(2 * sps.t.sf(abs(log_rr) / se, df), rel=1e-6)
    # the exact Poisson figures are kept, labelled, and are narrower
    exact = sps.binomtest(int(a), int(a + b), 0.5)
    assert r.poisson_p_value == pytest.approx(exact.pvalue)
    assert r.ci[0] < r.poisson_ci[0] and r.poisson_ci[1] < r.ci[1]
    text = " ".join(r.findings())
    assert "Assuming Poisson variation" in text and f"{phi:.1f} times Poisson" in text


def test_pre_post_given_dispersion_and_the_poisson_fallbacks():
    s = _series([30, 28, 33, 31, 29, 30, 32, 20, 22, 19, 21, 18, 20])
    a, b = s["2019-08":"2020-01"].sum(), s["2019-02":"2019-07"].sum()
    # a given dispersion: normal quantile, variance phi * (1/a + 1/b)
    r = pre_post(s, "2019-08", dispersion=4.0)
    se = math.sqrt(4.0 * (1 / a + 1 / b))
    assert r.ci[1] == pytest.approx(math.exp(math.log(a / b) + Z95 * se), rel=1e-9)
    assert r.p_value == pytest.approx(2 * sps.norm.sf(abs(math.log(a / b)) / se), rel=1e-9)
    # dispersion below 1 is floored: the exact Poisson test is the headline
    exact = pre_post(s, "2019-08", dispersion=0.5)
    assert exact.dispersion == 1.0 and not exact.adjusted
    assert exact.p_value == pytest.approx(sps.binomtest(int(a), int(a + b), 0.5).pvalue)
    # too few months before the start to estimate it: Poisson, said so
    short = pre_post(_series([10, 12, 6, 5]), "2019-03")
    assert short.dispersion == 1.0 and short.dispersion_df == 0
    assert any("Too few months before the start" in n for n in short.notes)
    with pytest.raises(ValueError, match="dispersion must be a finite number"):
        pre_post(s, "2019-08", dispersion=float("nan"))
