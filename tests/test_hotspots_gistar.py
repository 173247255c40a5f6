"""Getis–Ord Gi* against the Ord & Getis (1995) formula, esda, and a planted cluster."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pytest
from scipy import stats as sps
from shapely.geometry import box
from statsmodels.stats.multitest import multipletests

from cspanalysis.errors import InputError
from cspanalysis.hotspots import HotspotWarning, gistar, grid


def square_grid(n=8, size=100.0, shape="square"):
    return grid(gpd.GeoSeries([box(0, 0, n * size, n * size)], crs=27700), size, shape=shape)


def ord_getis_1995(x: np.ndarray, xy: np.ndarray, d: float) -> np.ndarray:
    """G*_i written out from Ord & Getis (1995, eqs. 14-15), with explicit loops."""
    n = len(x)
    xbar = x.sum() / n
    s = np.sqrt((x**2).sum() / n - xbar**2)
    z = np.empty(n)
    for i in range(n):
        w = np.array([1.0 if np.hypot(*(xy[i] - xy[j])) <= d + 1e-6 else 0.0 for j in range(n)])
        wi = w.sum()
        s1 = (w**2).sum()
        z[i] = ((w * x).sum() - xbar * wi) / (s * np.sqrt((n * s1 - wi**2) / (n - 1)))
    return z


@pytest.mark.parametrize("shape", ["square", "hexagon"])
def test_gistar_matches_the_ord_getis_formula(shape):
    cells = square_grid(shape=shape)
    rng = np.random.default_rng(0)
    cells["n"] = rng.poisson(2.0, len(cells)).astype(float)
    res = gistar(cells)
    xy = cells[["x", "y"]].to_numpy()
    expected = ord_getis_1995(cells["n"].to_numpy(), xy, 100 * np.sqrt(2))
    assert np.allclose(res["gistar"], expected, rtol=1e-10)
    assert np.allclose(res["p_value"], 2 * sps.norm.sf(np.abs(expected)))
    # Holm over all cells, once
    assert np.allclose(res["p_adjusted"], multipletests(res["p_value"], method="holm")[1])
    assert res.options["distance"] == pytest.approx(100 * np.sqrt(2))
    assert res.options["median_neighbours"] == (8 if shape == "square" else 6)


def test_gistar_matches_esda_analytical_z():
    esda = pytest.importorskip("esda")
    from libpysal.weights import DistanceBand

    cells = square_grid(10)
    rng = np.random.default_rng(1)
    cells["n"] = rng.poisson(3.0, len(cells)).astype(float)
    xy = cells[["x", "y"]].to_numpy()
    w = DistanceBand(xy, threshold=100 * np.sqrt(2) + 1e-6, binary=True, silence_warnings=True)
    g = esda.G_Local(cells["n"].to_numpy(), w, transform="B", star=True, permutations=0)
    assert np.allclose(gistar(cells)["gistar"], g.Zs)


def test_gistar_fdr_option_and_given_distance():
    cells = square_grid()
    cells["n"] = np.random.default_rng(2).poisson(2.0, len(cells)).astype(float)
    res = gistar(cells, distance=250, p_adjust="fdr_bh")
    expected = ord_getis_1995(cells["n"].to_numpy(), cells[["x", "y"]].to_numpy(), 250)
    assert np.allclose(res["gistar"], expected)
    assert np.allclose(res["p_adjusted"], multipletests(res["p_value"], method="fdr_bh")[1])
    assert res.options["distance_rule"] == "given"


def test_gistar_finds_a_planted_cluster_and_nothing_in_noise():
    cells = square_grid(20)
    rng = np.random.default_rng(3)
    cells["n"] = rng.poisson(1.0, len(cells)).astype(float)
    block = cells.eval("row >= 8 and row <= 10 and col >= 8 and col <= 10")
    cells.loc[block, "n"] += rng.poisson(8.0, int(block.sum()))
    res = gistar(cells)
    hot = set(res.hot.index)
    centre = cells.index[cells.eval("row == 9 and col == 9")][0]
    assert centre in hot
    assert hot <= set(cells.index[cells.eval("row >= 7 and row <= 11 and col >= 7 and col <= 11")])
    cells["n"] = rng.poisson(1.0, len(cells)).astype(float)
    assert len(gistar(cells).hot) == 0
    assert any("hot spots" in s for s in res.findings())


def test_gistar_bad_input():
    cells = square_grid()
    with pytest.raises(InputError, match="no column 'n'"):
        gistar(cells)
    cells["n"] = 1.0
    cells.loc[3, "n"] = np.nan
    with pytest.raises(InputError, match="cell 3"):
        gistar(cells)
    cells["n"] = 2.0
    with pytest.warns(HotspotWarning, match="same value"):
        res = gistar(cells)
    assert res["gistar"].isna().all() and (res["hotspot"] == "not significant").all()


@pytest.mark.parametrize("method", ["holm", "fdr_bh", "bonferroni", "none"])
def test_adjust_columns_matches_stats_adjust_pvalues(method):
    from cspanalysis.hotspots.gistar import adjust_columns
    from cspanalysis.stats import adjust_pvalues

    rng = np.random.default_rng(7)
    p = rng.uniform(0, 0.2, (50, 3)) ** 2
    p[[3, 10, 40], 1] = np.nan
    p[:, 2] = 0.03  # ties
    got = adjust_columns(p, method)
    for k in range(3):
        assert np.allclose(got[:, k], adjust_pvalues(p[:, k], method), equal_nan=True)
