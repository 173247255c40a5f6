"""Hotspot change between periods: per-cell exact Poisson test, one correction, missing months."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from scipy import stats as sps
from shapely.geometry import Point, box
from statsmodels.stats.multitest import multipletests

from cspanalysis.errors import InputError
from cspanalysis.hotspots import MissingPeriodWarning, grid, hotspot_change


def make_incidents(rng, months, lam_by_cell, cells):
    rows = []
    for m in months:
        for cid, lam in lam_by_cell.items():
            n = rng.poisson(lam(m))
            cx, cy = cells.at[cid, "x"], cells.at[cid, "y"]
            rows += [(m, Point(cx + dx, cy + dy)) for dx, dy in rng.uniform(-40, 40, (n, 2))]
    return gpd.GeoDataFrame(
        {"month": pd.PeriodIndex([r[0] for r in rows], freq="M"), "count": 1},
        geometry=[r[1] for r in rows],
        crs=27700,
    )


@pytest.fixture
def setup():
    cells = grid(gpd.GeoSeries([box(0, 0, 1000, 1000)], crs=27700), 100)
    rng = np.random.default_rng(0)
    months = [str(p) for p in pd.period_range("2019-01", "2019-12", freq="M")]
    surge = 55  # this cell's rate rises fivefold in the second half of the year

    def lam(cid):
        if cid == surge:
            return lambda m: 2.0 if m < "2019-07" else 10.0
        return lambda m: 1.0

    inc = make_incidents(rng, months, {c: lam(c) for c in cells.index}, cells)
    return cells, inc, surge


def test_change_flags_the_planted_increase_and_matches_an_exact_binomial_test(setup):
    cells, inc, surge = setup
    res = hotspot_change(cells, inc, ("2019-01", "2019-06"), ("2019-07", "2019-12"))
    c = res.cells
    assert c.at[surge, "change"] == "significant increase"
    assert (c.drop(surge)["change"] != "significant increase").all()
    # independent: counts by plain pandas, p-values by scipy's exact binomial test
    m = inc["month"].astype(str)
    idx = (inc.geometry.y // 100).astype(int) * 10 + (inc.geometry.x // 100).astype(int)
    before = idx[m < "2019-07"].value_counts().reindex(c.index, fill_value=0)
    after = idx[m >= "2019-07"].value_counts().reindex(c.index, fill_value=0)
    assert c["n_before"].tolist() == before.tolist()
    assert c["n_after"].tolist() == after.tolist()
    p = [sps.binomtest(int(a), int(a + b), 0.5).pvalue for a, b in zip(after, before, strict=True)]
    assert np.allclose(c["p_value"], p)
    assert np.allclose(c["p_adjusted"], multipletests(p, method="holm")[1])
    assert res.options["exposure_before"] == res.options["exposure_after"] == 6
    assert "increased" in res.findings()[1]


def test_a_month_without_data_is_left_out_of_the_exposure(setup):
    cells, inc, _ = setup
    gap = inc[inc["month"].astype(str) != "2019-03"]
    with pytest.warns(MissingPeriodWarning, match="2019-03"):
        res = hotspot_change(cells, gap, ("2019-01", "2019-06"), ("2019-07", "2019-12"))
    assert res.options["exposure_before"] == 5
    # rate ratio uses 5 months before, 6 after
    c = res.cells.iloc[0]
    assert c["rate_ratio"] == pytest.approx((c["n_after"] / 6) / (c["n_before"] / 5))


def test_cells_without_incidents_are_not_tested():
    cells = grid(gpd.GeoSeries([box(0, 0, 300, 100)], crs=27700), 100)
    inc = gpd.GeoDataFrame(
        {"month": pd.PeriodIndex(["2019-01", "2019-02"], freq="M"), "count": 1},
        geometry=[Point(50, 50), Point(50, 50)],
        crs=27700,
    )
    res = hotspot_change(cells, inc, ("2019-01", "2019-01"), ("2019-02", "2019-02"))
    assert res.cells["change"].tolist() == ["no significant change", "no incidents", "no incidents"]
    assert res.cells["p_value"].isna().tolist() == [False, True, True]
    assert res.options["n_tested"] == 1


def test_bad_periods(setup):
    cells, inc, _ = setup
    with pytest.raises(InputError, match="overlap"):
        hotspot_change(cells, inc, ("2019-01", "2019-06"), ("2019-06", "2019-12"))
    with pytest.raises(InputError, match="before it starts"):
        hotspot_change(cells, inc, ("2019-06", "2019-01"), ("2019-07", "2019-12"))
    with pytest.raises(InputError, match="whole-number"):
        hotspot_change(
            cells, inc.assign(w=0.5), ("2019-01", "2019-06"), ("2019-07", "2019-12"), weight="w"
        )
