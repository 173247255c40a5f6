"""Getis–Ord Gi* hot and cold spots on a grid, with one multiple-testing correction.

For cell ``i`` with binary weights ``w_ij = 1`` for every cell ``j`` whose
centre is within ``distance`` of ``i``'s centre (``i`` itself included), Ord &
Getis (1995, eq. 14–15) give the standardised statistic

``G*_i = (sum_j w_ij x_j - xbar W_i) / (S sqrt((n S1_i - W_i²) / (n - 1)))``

with ``n`` cells, ``xbar = sum x / n``, ``S² = sum x² / n - xbar²``,
``W_i = sum_j w_ij`` and ``S1_i = sum_j w_ij²`` (``= W_i`` for binary
weights). ``G*_i`` is asymptotically standard normal, so the p-value is
two-sided normal. The family of all cells is then corrected **once**, Holm by
default (family-wise error) or Benjamini–Hochberg (``"fdr_bh"``).

The default ``distance`` is the cell size × √2, i.e. the queen ring of a
square grid (8 neighbours) or the ring of 6 around a hexagon. Distances are
between centres of the unclipped cells, so every interior cell has the same
number of neighbours; cells at the boundary have fewer (an edge effect shared
by every Gi* implementation).
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass, field
from typing import Literal

import geopandas as gpd
import numpy as np
import pandas as pd
from scipy import sparse
from scipy import stats as sps
from scipy.spatial import cKDTree

from cspanalysis.errors import InputError
from cspanalysis.hotspots.warning_types import HotspotWarning
from cspanalysis.stats import adjust_pvalues

PAdjust = Literal["holm", "fdr_bh", "bonferroni", "none"]


def cell_centres(cells: gpd.GeoDataFrame) -> np.ndarray:
    """Centres (n × 2, metres) of the unclipped cells (``x``/``y`` columns, else centroids).

    >>> import geopandas as gpd
    >>> from shapely.geometry import box
    >>> cell_centres(gpd.GeoDataFrame(geometry=[box(0, 0, 2, 2)], crs=27700)).tolist()
    [[1.0, 1.0]]
    """
    if {"x", "y"} <= set(cells.columns):
        return np.column_stack([cells["x"].to_numpy(float), cells["y"].to_numpy(float)])
    c = cells.geometry.centroid
    return np.column_stack([c.x.to_numpy(), c.y.to_numpy()])


def default_distance(cells: gpd.GeoDataFrame) -> float:
    """The queen-ring distance: cell size × √2 (cell size from the grid's attrs).

    >>> import geopandas as gpd
    >>> from shapely.geometry import box
    >>> from cspanalysis.hotspots.grid import grid
    >>> round(default_distance(grid(gpd.GeoSeries([box(0, 0, 500, 500)], crs=27700), 100)), 2)
    141.42
    """
    info = cells.attrs.get("hotspot_grid")
    if info is None:
        raise InputError(
            "these cells do not record their cell size (not made by hotspots.grid()); "
            "give distance= in metres"
        )
    return float(info["cell_size"]) * math.sqrt(2.0)


def binary_weights(centres: np.ndarray, distance: float) -> sparse.csr_matrix:
    """Sparse 0/1 matrix: 1 where centres are within ``distance`` (self included).

    >>> binary_weights(np.array([[0.0, 0], [1, 0], [3, 0]]), 1.5).toarray().astype(int).tolist()
    [[1, 1, 0], [1, 1, 0], [0, 0, 1]]
    """
    n = len(centres)
    tree = cKDTree(centres)
    # a whisker of tolerance so lattice neighbours at exactly `distance` are included
    pairs = tree.query_pairs(distance * (1 + 1e-9), output_type="ndarray")
    rows = np.concatenate([pairs[:, 0], pairs[:, 1], np.arange(n)])
    cols = np.concatenate([pairs[:, 1], pairs[:, 0], np.arange(n)])
    return sparse.csr_matrix((np.ones(len(rows)), (rows, cols)), shape=(n, n))


def gistar_z(values: np.ndarray, weights: sparse.spmatrix) -> np.ndarray:
    """Ord & Getis (1995) standardised G*_i for each column of ``values`` (n or n × k).

    NaN where the values do not vary (``S = 0``).

    >>> w = binary_weights(np.array([[0.0, 0], [1, 0], [2, 0], [3, 0]]), 1.0)
    >>> gistar_z(np.array([5.0, 1, 0, 0]), w).round(3).tolist()
    [1.26, 0.728, -1.698, -1.26]
    """
    x = np.asarray(values, dtype=float)
    one = x.ndim == 1
    x2 = x[:, None] if one else x
    n = x2.shape[0]
    xbar = x2.mean(axis=0)
    s = np.sqrt(np.maximum((x2**2).mean(axis=0) - xbar**2, 0.0))
    wi = np.asarray(weights.sum(axis=1)).ravel()
    s1 = np.asarray(weights.multiply(weights).sum(axis=1)).ravel()
    lag = weights @ x2
    denom = s[None, :] * np.sqrt((n * s1 - wi**2) / (n - 1))[:, None]
    with np.errstate(divide="ignore", invalid="ignore"):
        z = (lag - xbar[None, :] * wi[:, None]) / denom
    z[:, s == 0] = np.nan
    return z[:, 0] if one else z


def adjust_columns(p: np.ndarray, method: PAdjust = "holm") -> np.ndarray:
    """Correct each column of a (tests × families) p-value matrix separately; NaN = not tested.

    :func:`cspanalysis.stats.adjust_pvalues` on a 2-D array, with the
    analyst-facing error for an unknown ``p_adjust``.

    >>> adjust_columns(np.array([[0.01, 0.5], [0.04, np.nan], [0.03, 0.01]])).round(2).tolist()
    [[0.03, 0.5], [0.06, nan], [0.06, 0.02]]
    """
    if method not in ("holm", "fdr_bh", "bonferroni", "none"):
        raise InputError("p_adjust must be 'holm', 'fdr_bh', 'bonferroni' or 'none'")
    return adjust_pvalues(np.asarray(p, dtype=float), method)


def label_hotspots(z: np.ndarray, p_adjusted: np.ndarray, alpha: float) -> np.ndarray:
    """``"hot"``, ``"cold"`` or ``"not significant"`` from z and adjusted p.

    >>> label_hotspots(np.array([3.0, -3, 3]), np.array([0.01, 0.01, 0.2]), 0.05).tolist()
    ['hot', 'cold', 'not significant']
    """
    sig = np.nan_to_num(p_adjusted, nan=1.0) < alpha
    return np.where(sig & (z > 0), "hot", np.where(sig & (z < 0), "cold", "not significant"))


@dataclass
class GiStarResult:
    """Result of :func:`gistar`.

    Attributes
    ----------
    cells
        The input cells with ``gistar`` (the z-score), ``p_value`` (two-sided
        normal), ``p_adjusted`` (corrected once over all cells) and
        ``hotspot`` (``"hot"``, ``"cold"`` or ``"not significant"`` at ``alpha``).
    options
        Options actually used (distance, neighbours, correction, alpha).

    ``result["gistar"]`` is a shortcut for ``result.cells["gistar"]``.
    """

    cells: gpd.GeoDataFrame
    options: dict = field(default_factory=dict)

    def __getitem__(self, key: str) -> pd.Series:
        """A column of :attr:`cells`."""
        return self.cells[key]

    @property
    def hot(self) -> gpd.GeoDataFrame:
        """Cells that are significant hot spots."""
        return self.cells[self.cells["hotspot"] == "hot"]

    @property
    def cold(self) -> gpd.GeoDataFrame:
        """Cells that are significant cold spots."""
        return self.cells[self.cells["hotspot"] == "cold"]

    def findings(self) -> list[str]:
        """Plain-English sentences on the hot and cold spots found."""
        o = self.options
        n = len(self.cells)
        col = o["counts_column"]
        total = self.cells[col].sum()
        share = self.hot[col].sum() / total if total else math.nan
        area = self.hot["area"].sum() / self.cells["area"].sum() if "area" in self.cells else None
        out = [
            f"Getis–Ord Gi* over {n:,} cells (neighbours within {o['distance']:,.0f} m, the cell "
            f"itself included; {o['p_adjust']} correction applied once, alpha {o['alpha']}).",
            f"{len(self.hot):,} cells are significant hot spots and {len(self.cold):,} cold spots.",
        ]
        if len(self.hot) and area is not None:
            out.append(
                f"The hot spots hold {share:.1%} of the {total:,.0f} mapped incidents "
                f"in {area:.1%} of the area."
            )
        return out

    def plot(self, **kwargs):
        """Map of Gi* hot and cold spots (see :func:`cspanalysis.hotspots.maps.map_hotspots`)."""
        from cspanalysis.hotspots.maps import map_hotspots

        return map_hotspots(self.cells, "hotspot", **kwargs)


def gistar(
    cells: gpd.GeoDataFrame,
    counts_column: str = "n",
    distance: float | None = None,
    p_adjust: PAdjust = "holm",
    alpha: float = 0.05,
) -> GiStarResult:
    """Getis–Ord Gi* z-scores, p-values and corrected p-values for every cell.

    Parameters
    ----------
    cells
        Grid cells with a numeric counts column (from
        :func:`cspanalysis.hotspots.count_incidents`).
    counts_column
        Column holding the counts (or weighted counts).
    distance
        Neighbourhood radius in metres between cell centres;
        ``None`` = cell size × √2 (the queen ring).
    p_adjust
        ``"holm"`` (default), ``"fdr_bh"``, ``"bonferroni"`` or ``"none"``.
    alpha
        Significance level for the ``hotspot`` label.

    Examples
    --------
    >>> import geopandas as gpd
    >>> from shapely.geometry import box
    >>> from cspanalysis.hotspots.grid import grid
    >>> cells = grid(gpd.GeoSeries([box(0, 0, 1000, 1000)], crs=27700), 100)
    >>> cells["n"] = 0.0
    >>> cells.loc[cells.eval("row in [4, 5] and col in [4, 5]"), "n"] = 10.0
    >>> res = gistar(cells)
    >>> res.hot.index.tolist()
    [44, 45, 54, 55]
    """
    if counts_column not in cells.columns:
        raise InputError(
            f"the cells have no column {counts_column!r}; count incidents first "
            "(count_incidents) or name the counts column"
        )
    x = pd.to_numeric(cells[counts_column], errors="coerce").to_numpy(dtype=float)
    if np.isnan(x).any():
        bad = cells.index[np.isnan(x)][0]
        raise InputError(
            f"column {counts_column!r} is missing or not numeric for cell {bad}; "
            "Gi* needs a count in every cell (0 where there were none)"
        )
    if len(x) < 3:
        raise InputError("Gi* needs at least three cells")
    d = default_distance(cells) if distance is None else float(distance)
    if not d > 0:
        raise InputError(f"distance must be a positive number of metres, not {distance!r}")
    w = binary_weights(cell_centres(cells), d)
    z = gistar_z(x, w)
    if np.isnan(z).all():
        warnings.warn(
            f"every cell has the same value of {counts_column!r}, so Gi* is undefined (NaN); "
            "there are no hot or cold spots to find",
            HotspotWarning,
            stacklevel=2,
        )
    p = 2.0 * sps.norm.sf(np.abs(z))
    p_adj = adjust_pvalues(p, p_adjust)
    out = cells.copy()
    out["gistar"] = z
    out["p_value"] = p
    out["p_adjusted"] = p_adj
    out["hotspot"] = label_hotspots(z, p_adj, alpha)
    neighbours = np.asarray(w.sum(axis=1)).ravel() - 1
    return GiStarResult(
        cells=out,
        options={
            "counts_column": counts_column,
            "distance": d,
            "distance_rule": "cell size × √2 (queen ring)" if distance is None else "given",
            "weights": "binary, self included",
            "median_neighbours": float(np.median(neighbours)),
            "p_adjust": p_adjust,
            "alpha": alpha,
            "n_cells": len(out),
        },
    )
