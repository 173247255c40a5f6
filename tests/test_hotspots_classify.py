"""Classification over time: persistent, emerging and former hotspots planted in synthetic data."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from shapely.geometry import box

from cspanalysis.errors import InputError
from cspanalysis.hotspots import classify, grid
from cspanalysis.hotspots.classify import auto_period, classify_cells, mann_kendall_z


def synthetic(months: pd.PeriodIndex, seed: int = 0):
    """20 x 20 grid of 100 m; background 0.3 per cell-month, three planted 2 x 2 clusters."""
    cells = grid(gpd.GeoSeries([box(0, 0, 2000, 2000)], crs=27700), 100)
    rng = np.random.default_rng(seed)
    centres = {"persistent": (500, 500), "emerging": (1500, 1500), "former": (500, 1500)}
    n_m = len(months)
    xs, ys, ms = [], [], []
    for k, m in enumerate(months):
        n = rng.poisson(0.3 * 400)
        xs.append(rng.uniform(0, 2000, n))
        ys.append(rng.uniform(0, 2000, n))
        ms += [m] * n
        for name, (cx, cy) in centres.items():
            on = (
                name == "persistent"
                or (name == "emerging" and k >= n_m * 3 // 4)
                or (name == "former" and k < n_m // 2)
            )
            if on:
                n = rng.poisson(40)
                xs.append(rng.uniform(cx - 100, cx + 100, n))
                ys.append(rng.uniform(cy - 100, cy + 100, n))
                ms += [m] * n
    inc = gpd.GeoDataFrame(
        {"month": pd.PeriodIndex(ms, freq="M"), "count": 1},
        geometry=gpd.points_from_xy(np.concatenate(xs), np.concatenate(ys)),
        crs=27700,
    )
    return cells, inc, centres


def cells_at(cells, cx, cy):
    return cells.index[(abs(cells["x"] - cx) < 100) & (abs(cells["y"] - cy) < 100)]


def test_planted_persistent_emerging_and_former_hotspots_are_classified():
    months = pd.period_range("2018-01", "2019-12", freq="M")
    cells, inc, centres = synthetic(months)
    res = classify(cells, inc)
    assert res.options["period"] == "month" and res.options["n_periods"] == 24
    for name, (cx, cy) in centres.items():
        got = res.cells.loc[cells_at(cells, cx, cy), "classification"]
        assert (got == f"{name} hotspot").all(), (name, got.tolist())
    far = res.cells.loc[cells_at(cells, 1500, 500), "classification"]
    assert (far == "no pattern").all()
    summary = res.summary()
    assert summary.loc["persistent hotspot", "cells"] >= 4
    assert len(res.per_period) == len(cells) * 24
    assert any("emerging" in s for s in res.findings())


def test_period_choice_and_missing_periods():
    assert [auto_period(n) for n in (12, 24, 25, 120, 121)] == [
        "month",
        "month",
        "quarter",
        "quarter",
        "year",
    ]
    months = pd.period_range("2017-01", "2019-12", freq="M")
    cells, inc, _ = synthetic(months, seed=1)
    gap = inc[~inc["month"].astype(str).isin(["2018-04", "2018-05", "2018-06"])]
    res = classify(cells, gap)
    assert res.options["period"] == "quarter"
    assert res.options["missing_periods"] == ["2018-04–2018-06"]
    assert res.options["n_periods"] == 11
    assert (res.cells["periods"] == 11).all()


def test_classify_cells_rules():
    hot = np.zeros((6, 10), bool)
    cold = np.zeros((6, 10), bool)
    hot[0, :9] = True  # persistent (90%)
    hot[1, 8:] = True  # emerging: new, never hot before the 2 recent periods
    hot[2, [1, 4]] = True  # intermittent: no trend
    hot[3, 0] = cold[3, 5] = True  # mixed
    hot[4, :5] = True  # former: hot early, z falls
    hot[5, [2, 6, 7, 8, 9]] = True  # hot recently and once before: emerging if z rises
    z = np.where(hot, 3.0, np.where(cold, -3.0, 0.0))
    z[2] = np.tile([0.5, -0.5], 5)
    z[5] = [-1, -1, 2, -1, -1, -1, 3, 3, 3, 3]  # Mann-Kendall S = 23, z = 22 / sqrt(125)
    got = classify_cells(hot, cold, z)
    assert got.tolist() == [
        "persistent hotspot",
        "emerging hotspot",
        "intermittent hotspot",
        "mixed",
        "former hotspot",
        "emerging hotspot",
    ]
    # with a flat z series the last one is merely intermittent
    z[5] = 0.0
    assert classify_cells(hot, cold, z)[5] == "intermittent hotspot"


def test_mann_kendall_matches_scipy_kendalltau_sign_and_variance():
    from scipy import stats as sps

    rng = np.random.default_rng(4)
    z = rng.normal(size=(5, 12)) + np.linspace(0, 2, 12)
    s_expected = [
        sum(np.sign(row[j] - row[i]) for i in range(12) for j in range(i + 1, 12)) for row in z
    ]
    var = 12 * 11 * 29 / 18
    expected = [(s - np.sign(s)) / np.sqrt(var) for s in s_expected]
    assert np.allclose(mann_kendall_z(z), expected)
    tau = [sps.kendalltau(np.arange(12), row).statistic for row in z]
    assert np.allclose(np.array(s_expected) / (12 * 11 / 2), tau)


def test_bad_input():
    months = pd.period_range("2019-01", "2019-01", freq="M")
    cells, inc, _ = synthetic(months)
    with pytest.raises(InputError, match="fewer than two"):
        classify(cells, inc)
    with pytest.raises(InputError, match="period must be"):
        classify(cells, inc, period="fortnight")
