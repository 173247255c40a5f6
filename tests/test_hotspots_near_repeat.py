"""Knox near-repeat table: hand-checkable counts, brute force, and a planted pattern."""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd
import pytest

from cspanalysis.errors import InputError
from cspanalysis.hotspots import near_repeat


def brute_force_table(x, y, t, db, tb, metric="euclidean"):
    nd, nt = len(db), len(tb)
    out = np.zeros((nd, nt), dtype=int)
    for i, j in itertools.combinations(range(len(x)), 2):
        if metric == "euclidean":
            d = np.hypot(x[i] - x[j], y[i] - y[j])
        else:
            d = abs(x[i] - x[j]) + abs(y[i] - y[j])
        dt = abs(t[i] - t[j])
        di = [k for k in range(nd) if d >= db[k] and (k == nd - 1 or d < db[k + 1])]
        ti = [k for k in range(nt) if dt >= tb[k] and (k == nt - 1 or dt < tb[k + 1])]
        if di and ti:
            out[di[0], ti[0]] += 1
    return out


def test_hand_checkable_configuration():
    # A and B are 50 m apart, 3 days apart; C is 150 m from A (east), 10 days after A;
    # D is 1 km away, same day as A.
    x = [0.0, 50.0, 150.0, 1000.0]
    y = [0.0, 0.0, 0.0, 0.0]
    dates = pd.to_datetime(["2024-03-01", "2024-03-04", "2024-03-11", "2024-03-01"])
    res = near_repeat(
        x, y, dates, distance_bands=[0, 100, 200], time_bands=[0, 7, 14], n_sim=9, seed=1
    )
    # pairs: AB (50 m, 3 d), AC (150 m, 10 d), AD (1000 m, 0 d),
    #        BC (100 m, 7 d), BD (950 m, 3 d), CD (850 m, 10 d)
    expected = [
        [1, 0, 0],  # [0, 100) m: AB
        [0, 2, 0],  # [100, 200) m: AC (10 d), BC (exactly 100 m and 7 d: upper bands)
        [2, 1, 0],  # [200, inf) m: AD, BD; CD
    ]
    assert res.observed.to_numpy().tolist() == expected
    assert res.observed.index.tolist() == ["[0, 100) m", "[100, 200) m", "[200, inf) m"]
    assert res.observed.columns.tolist() == ["[0, 7) days", "[7, 14) days", "[14, inf) days"]
    assert res.observed.to_numpy().sum() == 6
    assert res.options["time_unit"] == "days"


@pytest.mark.parametrize("metric", ["euclidean", "manhattan"])
def test_observed_matches_brute_force(metric):
    rng = np.random.default_rng(0)
    n = 120
    x, y = rng.uniform(0, 1500, n), rng.uniform(0, 1500, n)
    days = rng.integers(0, 200, n)
    dates = pd.Timestamp("2023-01-01") + pd.to_timedelta(days, unit="D")
    db, tb = [50, 200, 400], [1, 7, 30]  # first bands start above zero: closer pairs in no band
    res = near_repeat(x, y, dates, db, tb, metric=metric, n_sim=19, seed=0)
    assert (
        res.observed.to_numpy().tolist() == brute_force_table(x, y, days, db, tb, metric).tolist()
    )
    # shuffling dates cannot change how many pairs fall in each time band overall
    full = near_repeat(x, y, dates, [0, 200, 400], tb, metric=metric, n_sim=19, seed=0)
    assert np.allclose(full.expected.sum(axis=0), full.observed.sum(axis=0))


def test_planted_near_repeats_are_found_and_seed_reproduces():
    rng = np.random.default_rng(42)
    n0 = 300
    x, y = rng.uniform(0, 5000, n0), rng.uniform(0, 5000, n0)
    t = rng.integers(0, 365, n0)
    # half of them are followed by a repeat within 50 m and 1-6 days
    k = n0 // 2
    ang = rng.uniform(0, 2 * np.pi, k)
    r = rng.uniform(0, 50, k)
    x = np.concatenate([x, x[:k] + r * np.cos(ang)])
    y = np.concatenate([y, y[:k] + r * np.sin(ang)])
    t = np.concatenate([t, t[:k] + rng.integers(1, 7, k)])
    dates = pd.Timestamp("2024-01-01") + pd.to_timedelta(t, unit="D")
    res = near_repeat(x, y, dates, [0, 100, 200, 400], [0, 7, 14, 28], n_sim=199, seed=3)
    assert res.knox_ratio.iat[0, 0] > 5
    assert res.p_value.iat[0, 0] == pytest.approx(1 / 200)
    # far apart in space and time: as many pairs as chance would give
    assert res.knox_ratio.iat[-1, -1] == pytest.approx(1.0, abs=0.05)
    again = near_repeat(x, y, dates, [0, 100, 200, 400], [0, 7, 14, 28], n_sim=199, seed=3)
    pd.testing.assert_frame_equal(res.p_value, again.p_value)
    assert any("[0, 100) m" in s for s in res.findings())


def test_monthly_periods_give_time_in_months():
    months = pd.Series(pd.PeriodIndex(["2019-01", "2019-01", "2019-03"], freq="M"))
    res = near_repeat([0, 10, 20], [0, 0, 0], months, [0, 100], [0, 1, 2], n_sim=9)
    assert res.options["time_unit"] == "months"
    # pairs: (0,1) same month; (0,2), (1,2) two months apart
    assert res.observed.to_numpy().tolist() == [[1, 0, 2], [0, 0, 0]]


def test_bad_input():
    d = pd.to_datetime(["2024-01-01", "2024-01-02"])
    with pytest.raises(InputError, match="increasing"):
        near_repeat([0, 1], [0, 1], d, [100, 50], [0, 7])
    with pytest.raises(InputError, match="one value per incident"):
        near_repeat([0, 1, 2], [0, 1], d, [0, 100], [0, 7])
    with pytest.raises(InputError, match="metric"):
        near_repeat([0, 1], [0, 1], d, [0, 100], [0, 7], metric="chebyshev")
    with pytest.raises(InputError, match="missing value"):
        near_repeat([0, 1], [0, 1], pd.to_datetime(["2024-01-01", None]), [0, 100], [0, 7])
