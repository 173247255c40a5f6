"""Local Moran's I (LISA) for crime rates by LSOA: high-high, low-low and outlier areas.

Rates are incidents per ``per`` residents. Neighbours are queen contiguity
(areas sharing an edge or a corner, within ``snap`` metres to allow for
generalised boundaries), row-standardised, and inference is by
conditional permutation (esda ``Moran_Local``, seeded; its pseudo p-value is one-sided, in the
direction of the observed statistic). Permutation p-values
cannot fall below ``1 / (permutations + 1)``, so a family-wise (Holm)
correction over hundreds of LSOAs can never reach significance with 999
permutations; the default correction here is therefore the false discovery
rate (Benjamini–Hochberg), applied once over all areas.

Areas with no population (NaN or 0) have no rate: they are left out of the
analysis and counted in ``options["areas_without_rate"]``.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from typing import Literal

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from cspanalysis.errors import InputError
from cspanalysis.hotspots.points import check_bng
from cspanalysis.stats import adjust_pvalues

QUADRANTS = {1: "high-high", 2: "low-high", 3: "low-low", 4: "high-low"}


def touching_weights(areas: gpd.GeoDataFrame, snap: float = 1.0):
    """Queen-style contiguity: areas whose polygons are within ``snap`` metres are neighbours.

    libpysal's ``Queen`` matches shared vertices exactly, so generalised
    boundaries (whose neighbours do not share vertices) come out as islands;
    this tests distances between the polygons instead.

    >>> import geopandas as gpd
    >>> from shapely.geometry import box
    >>> sq = gpd.GeoSeries([box(0, 0, 1, 1), box(1.5, 0, 2, 1), box(5, 5, 6, 6)], crs=27700)
    >>> touching_weights(gpd.GeoDataFrame(geometry=sq), snap=1.0).neighbors
    {0: [1], 1: [0], 2: []}
    """
    from libpysal.weights import W

    geoms = np.asarray(areas.geometry.array, dtype=object)
    tree = shapely.STRtree(geoms)
    left, right = tree.query(geoms, predicate="dwithin", distance=snap)
    keep = left != right
    neighbours: dict[int, list[int]] = {i: [] for i in range(len(geoms))}
    for i, j in zip(left[keep].tolist(), right[keep].tolist(), strict=True):
        neighbours[i].append(j)
    return W({i: sorted(v) for i, v in neighbours.items()}, silence_warnings=True)


@dataclass
class LisaResult:
    """Result of :func:`lisa`.

    Attributes
    ----------
    areas
        The input areas with ``rate``, ``local_i``, ``p_value`` (permutation),
        ``p_adjusted`` and ``cluster`` (``"high-high"``, ``"low-low"``,
        ``"high-low"``, ``"low-high"`` or ``"not significant"``; NA without a rate).
    options
        Rate scale, weights, permutations, seed, correction and alpha.
    """

    areas: gpd.GeoDataFrame
    options: dict = field(default_factory=dict)

    def __getitem__(self, key: str) -> pd.Series:
        """A column of :attr:`areas`."""
        return self.areas[key]

    def findings(self) -> list[str]:
        """Plain-English sentences on clusters of high and low rates."""
        c = self.areas["cluster"].value_counts()
        o = self.options
        return [
            f"Local Moran's I on rates per {o['per']:g} residents in {o['n_areas']:,} areas "
            f"({o['permutations']} permutations, {o['p_adjust']} correction, alpha {o['alpha']}).",
            f"{c.get('high-high', 0):,} areas are in high-rate clusters and "
            f"{c.get('low-low', 0):,} in low-rate clusters; {c.get('high-low', 0):,} high-rate "
            f"areas sit among low ones.",
        ]

    def plot(self, **kwargs):
        """Map of LISA clusters."""
        from cspanalysis.hotspots.maps import map_hotspots

        kwargs.setdefault("title", "Clusters of high and low crime rates (local Moran's I)")
        return map_hotspots(self.areas, "cluster", **kwargs)


def lisa(
    areas: gpd.GeoDataFrame,
    counts_column: str,
    population_column: str = "population",
    per: float = 1000.0,
    permutations: int = 999,
    seed: int = 0,
    p_adjust: Literal["holm", "fdr_bh", "bonferroni", "none"] = "fdr_bh",
    alpha: float = 0.05,
    snap: float = 1.0,
) -> LisaResult:
    """Local Moran's I of crime rates over areas (LSOAs), with one multiple-testing correction.

    Parameters
    ----------
    areas
        Polygons (EPSG:27700) with a counts column and a population column.
    counts_column, population_column
        Incidents and residents per area.
    per
        Rate scale (per 1,000 residents by default).
    permutations, seed
        Conditional permutations for the p-values and their seed.
    p_adjust, alpha
        Correction over all areas (FDR by default, see module docs) and level.
    snap
        Areas closer than this many metres count as touching (generalised
        boundaries do not share vertices exactly).

    Examples
    --------
    >>> import geopandas as gpd
    >>> from shapely.geometry import box
    >>> sq = [box(i, j, i + 1, j + 1) for i in range(6) for j in range(6)]
    >>> areas = gpd.GeoDataFrame({"n": [30 if (i < 2 and j < 2) else 1 for i in range(6)
    ...     for j in range(6)], "population": 1000.0}, geometry=sq, crs=27700)
    >>> res = lisa(areas, "n")
    >>> res.areas["cluster"].iloc[0]
    'high-high'
    """
    import esda

    check_bng(areas, "areas")
    for col in (counts_column, population_column):
        if col not in areas.columns:
            raise InputError(f"the areas have no column {col!r}; add it or name another column")
    pop = pd.to_numeric(areas[population_column], errors="coerce").to_numpy(float)
    cnt = pd.to_numeric(areas[counts_column], errors="coerce").to_numpy(float)
    ok = np.isfinite(pop) & (pop > 0) & np.isfinite(cnt)
    if ok.sum() < 5:
        raise InputError("local Moran's I needs at least five areas with a population and a count")
    sub = areas[ok]
    rate = cnt[ok] / pop[ok] * per
    w = touching_weights(sub, snap)
    w.transform = "r"
    islands = list(w.islands)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        warnings.filterwarnings(
            "ignore", message="The alternative hypothesis", category=DeprecationWarning
        )
        ml = esda.Moran_Local(
            rate, w, permutations=permutations, seed=seed, keep_simulations=False, n_jobs=1
        )
    p = np.asarray(ml.p_sim, dtype=float)
    p[islands] = np.nan
    p_adj = adjust_pvalues(p, p_adjust)
    sig = np.nan_to_num(p_adj, nan=1.0) < alpha
    quad = np.array([QUADRANTS[q] for q in ml.q], dtype=object)
    cluster = np.where(sig, quad, "not significant")
    out = areas.copy()
    out["rate"] = np.nan
    out["local_i"] = np.nan
    out["p_value"] = np.nan
    out["p_adjusted"] = np.nan
    out["cluster"] = pd.Series(pd.NA, index=out.index, dtype="string")
    out.loc[ok, "rate"] = rate
    out.loc[ok, "local_i"] = ml.Is
    out.loc[ok, "p_value"] = p
    out.loc[ok, "p_adjusted"] = p_adj
    out.loc[ok, "cluster"] = cluster
    return LisaResult(
        areas=out,
        options={
            "per": per,
            "weights": f"queen contiguity (within {snap:g} m), row-standardised",
            "permutations": permutations,
            "seed": seed,
            "p_adjust": p_adjust,
            "alpha": alpha,
            "n_areas": int(ok.sum()),
            "areas_without_rate": int((~ok).sum()),
            "islands": len(islands),
        },
    )
