"""Count statistics against values derived by hand from their formulas."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from scipy import stats as sps

from cspanalysis.stats import adjust_pvalues, poisson_ci, poisson_rate_ratio, rate


def hand_binomial_two_sided(a: int, n: int, p: float) -> float:
    """Two-sided exact binomial p-value by the 'minimum likelihood' rule, from math.comb."""
    pmf = [math.comb(n, k) * p**k * (1 - p) ** (n - k) for k in range(n + 1)]
    observed = pmf[a]
    return min(1.0, sum(q for q in pmf if q <= observed * (1 + 1e-7)))


@pytest.mark.parametrize(
    ("a", "b", "ea", "eb"),
    [(7, 2, 1.0, 1.0), (3, 12, 1.0, 1.0), (20, 9, 12.0, 6.0), (0, 5, 1.0, 1.0), (15, 15, 2.0, 1.0)],
)
def test_exact_conditional_test_matches_hand_derived_binomial(a, b, ea, eb):
    rr = poisson_rate_ratio(a, b, ea, eb)
    n = a + b
    p0 = ea / (ea + eb)
    assert rr.p_value == pytest.approx(hand_binomial_two_sided(a, n, p0), rel=1e-9)
    # Clopper-Pearson limits from beta quantiles, transformed to the rate ratio
    lo_p = 0.0 if a == 0 else sps.beta.ppf(0.025, a, n - a + 1)
    hi_p = 1.0 if a == n else sps.beta.ppf(0.975, a + 1, n - a)
    to_ratio = lambda q: q / (1 - q) * eb / ea if q < 1 else math.inf  # noqa: E731
    assert rr.ci_low == pytest.approx(to_ratio(lo_p), rel=1e-7)
    assert rr.ci_high == pytest.approx(to_ratio(hi_p), rel=1e-7)
    if b:
        assert rr.ratio == pytest.approx((a / ea) / (b / eb))


def test_ratio_with_zero_denominator_count_is_infinite_and_both_zero_is_undefined():
    assert poisson_rate_ratio(4, 0).ratio == math.inf
    both = poisson_rate_ratio(0, 0)
    assert math.isnan(both.ratio) and both.p_value == 1.0


def test_etest_p_value_is_smaller_or_equal_for_small_counts():
    # E-test is less conservative than the exact conditional test (Krishnamoorthy & Thomson 2004)
    exact = poisson_rate_ratio(10, 3, method="exact-conditional")
    etest = poisson_rate_ratio(10, 3, method="etest")
    assert etest.p_value <= exact.p_value
    assert 0 < etest.p_value < 0.1


def test_bad_counts_are_rejected():
    with pytest.raises(ValueError, match="whole number"):
        poisson_rate_ratio(2.5, 3)
    with pytest.raises(ValueError, match="missing"):
        poisson_rate_ratio(float("nan"), 3)


def test_garwood_interval_against_gamma_quantiles():
    for k in (0, 1, 4, 30):
        lo, hi = poisson_ci(k)
        assert lo == pytest.approx(0.0 if k == 0 else sps.gamma.ppf(0.025, k))
        assert hi == pytest.approx(sps.gamma.ppf(0.975, k + 1))


def test_rate_per_thousand_and_missing_is_not_zero():
    out = rate(pd.Series([50.0, np.nan, 3.0]), pd.Series([10_000.0, 5_000.0, 0.0]))
    assert out.loc[0, "rate"] == pytest.approx(5.0)
    lo, hi = poisson_ci(50)
    assert out.loc[0, "ci_low"] == pytest.approx(lo / 10)
    assert out.loc[0, "ci_high"] == pytest.approx(hi / 10)
    assert np.isnan(out.loc[1, "rate"]) and np.isnan(out.loc[2, "rate"])


def test_holm_and_bh_by_hand():
    p = [0.01, 0.04, 0.03, 0.20]
    # Holm: sorted 0.01,0.03,0.04,0.20 times 4,3,2,1 -> 0.04,0.09,0.08->0.09 (monotone),0.20
    assert adjust_pvalues(p, "holm").tolist() == pytest.approx([0.04, 0.09, 0.09, 0.20])
    # BH: p*m/rank: 0.04, 0.0533, 0.06->0.0533 (step-up min), 0.20
    assert adjust_pvalues(p, "fdr_bh").tolist() == pytest.approx([0.04, 0.16 / 3, 0.16 / 3, 0.20])
    with_nan = adjust_pvalues([0.01, np.nan, 0.04], "holm")
    assert np.isnan(with_nan[1]) and with_nan[0] == pytest.approx(0.02)


@pytest.mark.parametrize("method", ["holm", "fdr_bh", "bonferroni"])
def test_adjustment_equals_statsmodels_per_family(method):
    """The vectorised corrections agree with statsmodels' multipletests, column by column."""
    from statsmodels.stats.multitest import multipletests

    rng = np.random.default_rng(7)
    p = rng.uniform(0, 0.2, size=(40, 5)) ** 2
    p[rng.uniform(size=p.shape) < 0.2] = np.nan
    got = adjust_pvalues(p, method)
    for j in range(p.shape[1]):
        ok = ~np.isnan(p[:, j])
        assert np.isnan(got[~ok, j]).all()
        np.testing.assert_allclose(got[ok, j], multipletests(p[ok, j], method=method)[1])
        np.testing.assert_allclose(adjust_pvalues(p[:, j], method)[ok], got[ok, j])
