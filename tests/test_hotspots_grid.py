"""Grids, cell assignment, counts and kernel density (cspanalysis.hotspots)."""

from __future__ import annotations

import math
import warnings

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from shapely.geometry import Polygon, box

from cspanalysis.errors import InputError
from cspanalysis.hotspots import (
    BandwidthWarning,
    GridSizeWarning,
    assign_cells,
    auto_bandwidth,
    auto_cell_size,
    count_incidents,
    grid,
    kde,
)

# an L-shaped "partnership", 3 km x 2 km bounding box
L_SHAPE = Polygon([(0, 0), (3000, 0), (3000, 1000), (1200, 1000), (1200, 2000), (0, 2000)])


def boundary(geom=L_SHAPE) -> gpd.GeoSeries:
    return gpd.GeoSeries([geom], crs=27700)


def random_points(n: int, seed: int = 0, geom=L_SHAPE) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    minx, miny, maxx, maxy = geom.bounds
    return rng.uniform(minx - 100, maxx + 100, n), rng.uniform(miny - 100, maxy + 100, n)


def incidents_from(x, y, **cols) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        cols | {"count": np.ones(len(x), dtype=np.int64)},
        geometry=gpd.points_from_xy(x, y),
        crs=27700,
    )


# --- cell size and grid ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("width", "height", "expected"),
    [(12_345, 8_000, 100.0), (3_000, 2_000, 40.0), (40_000, 26_000, 500.0), (4_999, 9_000, 99.98)],
)
def test_auto_cell_size_follows_sfhotspot_rule(width, height, expected):
    assert auto_cell_size(boundary(box(0, 0, width, height))) == pytest.approx(expected)


@pytest.mark.parametrize("shape", ["square", "hexagon"])
def test_grid_covers_the_boundary_not_the_points(shape):
    cells = grid(boundary(), cell_size=100, shape=shape)
    assert cells.crs.to_epsg() == 27700
    assert cells["area"].sum() == pytest.approx(L_SHAPE.area, rel=1e-9)
    assert cells.geometry.within(L_SHAPE.buffer(1e-6)).all()
    # no overlaps: the union has the same area as the sum of the parts
    assert cells.union_all().area == pytest.approx(cells["area"].sum(), rel=1e-9)
    assert set(cells.geom_type) <= {"Polygon", "MultiPolygon"}
    full = 1e4 if shape == "square" else math.sqrt(3) / 2 * 1e4
    interior = cells[~cells["clipped"]]
    assert np.allclose(interior.area, full)
    # nothing in the empty corner of the L
    assert not cells.geometry.intersects(box(1300, 1100, 3000, 2000)).any()
    assert cells.attrs["hotspot_grid"]["cell_size"] == 100.0


def test_grid_default_cell_size_is_reported():
    cells = grid(boundary())
    assert cells.attrs["hotspot_grid"]["cell_size"] == 40.0
    assert cells.attrs["hotspot_grid"]["cell_size_rule"].startswith("automatic")


def test_grid_warns_above_100000_cells():
    with pytest.warns(GridSizeWarning, match="100,000"):
        cells = grid(boundary(box(0, 0, 40_000, 30_000)), cell_size=100)
    assert len(cells) == 120_000


@pytest.mark.parametrize(
    ("bad", "match"),
    [
        (gpd.GeoSeries([L_SHAPE]), "no CRS"),
        (gpd.GeoSeries([L_SHAPE], crs=4326), "to_crs"),
        (L_SHAPE, "GeoDataFrame or GeoSeries"),
    ],
)
def test_grid_rejects_boundaries_without_bng(bad, match):
    with pytest.raises(InputError, match=match):
        grid(bad, cell_size=100)


def test_grid_rejects_bad_options():
    with pytest.raises(InputError, match="shape"):
        grid(boundary(), 100, shape="triangle")
    with pytest.raises(InputError, match="cell_size"):
        grid(boundary(), -5)


@pytest.mark.parametrize("shape", ["square", "hexagon"])
def test_assign_cells_matches_a_spatial_join(shape):
    cells = grid(boundary(), cell_size=150, shape=shape)
    x, y = random_points(5000, seed=1)
    pos = assign_cells(cells, x, y)
    pts = gpd.GeoDataFrame(geometry=gpd.points_from_xy(x, y), crs=27700)
    joined = gpd.sjoin(pts, cells[["geometry"]].reset_index(), predicate="within", how="left")
    joined = joined[~joined.index.duplicated()]
    expected = joined["cell_id"].fillna(-1).astype(int).to_numpy()
    on_edges = np.isnan(joined["cell_id"].to_numpy()) & (pos >= 0)
    assert on_edges.sum() == 0
    assert np.array_equal(pos, expected)


# --- counts ------------------------------------------------------------------------------


def test_counts_match_plain_spatial_join_and_report_unmapped_rows():
    cells = grid(boundary(), cell_size=200)
    x, y = random_points(2000, seed=2)
    cats = np.where(np.arange(2000) % 3 == 0, "Burglary", "Shoplifting")
    inc = incidents_from(
        x,
        y,
        category=cats,
        month=pd.PeriodIndex(np.where(np.arange(2000) % 2, "2019-01", "2019-02"), freq="M"),
    )
    inc.loc[inc.index[:50], "geometry"] = None
    res = count_incidents(cells, inc, weight={"Burglary": 10.0, "Shoplifting": 1.0}, by="month")

    located = inc[inc.geometry.notna()]
    joined = gpd.sjoin(located, cells[["geometry"]].reset_index(), predicate="within")
    joined = joined[~joined.index.duplicated()]
    w = np.where(joined["category"] == "Burglary", 10.0, 1.0)
    expected = pd.Series(w, index=joined["cell_id"]).groupby(level=0).sum()
    got = res.cells["n"]
    assert np.allclose(got.reindex(expected.index), expected)
    assert got.drop(expected.index).eq(0).all()
    all_w = np.where(inc["category"] == "Burglary", 10.0, 1.0)
    assert res.total == pytest.approx(all_w.sum())
    assert res.no_location == pytest.approx(all_w[:50].sum())
    assert res.mapped + res.outside + res.no_location == pytest.approx(res.total)
    assert res.outside > 0  # points scattered beyond the boundary
    assert np.allclose(res.by_period.sum(axis=1), got)
    assert list(res.by_period.columns.astype(str)) == ["2019-01", "2019-02"]
    assert any("no location" in s for s in res.findings())


def test_counts_reject_missing_weights():
    cells = grid(boundary(), cell_size=200)
    inc = incidents_from([100.0], [100.0], category=["Arson"])
    with pytest.raises(InputError, match="Arson"):
        count_incidents(cells, inc, weight={"Burglary": 1.0})


# --- kernel density ----------------------------------------------------------------------


def brute_force_kde(px, py, cx, cy, h, kernel):
    d2 = (cx[:, None] - px[None, :]) ** 2 + (cy[:, None] - py[None, :]) ** 2
    if kernel == "quartic":
        k = np.where(d2 < h * h, 3 / (np.pi * h * h) * (1 - d2 / (h * h)) ** 2, 0.0)
    else:
        s2 = (h / 4) ** 2
        k = np.where(d2 < h * h, np.exp(-d2 / (2 * s2)) / (2 * np.pi * s2), 0.0)
    return k.sum(axis=1) * 1e6


@pytest.mark.parametrize("kernel", ["quartic", "gaussian"])
@pytest.mark.parametrize("shape", ["square", "hexagon"])
def test_kde_exact_and_binned_match_a_brute_force_sum(kernel, shape):
    cells = grid(boundary(), cell_size=100, shape=shape)
    x, y = random_points(400, seed=3)
    inc = incidents_from(x, y)
    expected = brute_force_kde(x, y, cells["x"].to_numpy(), cells["y"].to_numpy(), 300, kernel)
    exact = kde(cells, inc, bandwidth=300, kernel=kernel, method="exact")
    binned = kde(cells, inc, bandwidth=300, kernel=kernel, method="binned")
    assert np.allclose(exact.cells["kde"], expected, rtol=1e-9, atol=1e-9)
    assert np.abs(binned.cells["kde"] - expected).max() < 0.03 * expected.max()
    assert exact.options["method"] == "exact" and binned.options["method"] == "binned"


def test_kde_integrates_to_the_number_of_incidents():
    big = box(-5000, -5000, 5000, 5000)
    cells = grid(boundary(big), cell_size=50)
    rng = np.random.default_rng(4)
    inc = incidents_from(rng.normal(0, 500, 300), rng.normal(0, 500, 300))
    res = kde(cells, inc, bandwidth=400)
    assert (res.cells["kde"] * res.cells["area"] / 1e6).sum() == pytest.approx(300, rel=0.01)


def test_kde_automatic_bandwidth_averages_both_axes():
    rng = np.random.default_rng(5)
    x, y = rng.normal(1500, 200, 500), rng.normal(500, 600, 500)

    def nrd(v):
        iqr = np.subtract(*np.percentile(v, [75, 25]))
        return 4 * 1.06 * min(np.std(v, ddof=1), iqr / 1.34) * len(v) ** -0.2

    assert auto_bandwidth(x, y) == pytest.approx((nrd(x) + nrd(y)) / 2)
    cells = grid(boundary(), cell_size=100)
    res = kde(cells, incidents_from(x, y), adjust=0.5)
    assert res.bandwidth == pytest.approx((nrd(x) + nrd(y)) / 4)
    assert res.options["adjust"] == 0.5
    assert "averaged over x and y" in res.options["bandwidth_rule"]


def test_kde_warns_when_bandwidth_below_cell_size_and_counts_unlocated():
    cells = grid(boundary(), cell_size=200)
    inc = incidents_from([500.0, 600.0], [500.0, 500.0])
    inc.loc[1, "geometry"] = None
    with pytest.warns(BandwidthWarning, match="smaller than the cell size"):
        res = kde(cells, inc, bandwidth=100)
    assert res.n_no_location == 1 and res.n_points == 1


def test_dual_kde_rate_surface():
    cells = grid(boundary(), cell_size=100)
    x, y = random_points(300, seed=6)
    inc = incidents_from(x, y)
    pop = incidents_from(x, y, population=np.full(300, 2.0))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        res = kde(cells, inc, bandwidth=400, denominator=pop, denominator_column="population")
    ok = res.cells["kde_denominator"] > 0
    assert np.allclose(res.cells.loc[ok, "kde_ratio"], 500.0)  # 1 incident per 2 people
    assert res.cells.loc[~ok, "kde_ratio"].isna().all()
