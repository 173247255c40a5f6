"""Kernel density of incidents evaluated at grid-cell centres.

Kernels (``d`` the distance from a cell centre to an incident, ``h`` the bandwidth):

* ``"quartic"`` (the default, as in sfhotspot, ArcGIS and CrimeStat):
  ``K(d) = 3 / (pi h²) * (1 - d²/h²)²`` for ``d < h``, else 0;
* ``"gaussian"``: a normal kernel with standard deviation ``h / 4`` (the
  convention of MASS ``kde2d``), truncated at ``h`` (four standard
  deviations; the mass lost is ``exp(-8) = 0.03%``).

Both integrate to one, so the surface is in **incidents per km²** (weighted
incidents when weights are given) and sums, over the plane, to the number of
incidents.

Bandwidth (``bandwidth=None``): the normal-reference rule of MASS
``bandwidth.nrd`` (``4 × 1.06 × min(sd, IQR / 1.34) × n^(-1/5)``), computed
on the x and on the y coordinates and **averaged** (sfhotspot intends to
average the two axes but does not), then multiplied by ``adjust``.

Computation (``method="auto"``): exact sums over a KD-tree of the distinct
incident locations when that is small (police.uk points are snapped to a few
thousand anonymised map points, so this is the usual case), else linear
binning on a fine lattice (spacing a quarter of the smaller of the bandwidth
and the cell size) and FFT convolution, interpolated bilinearly at the cell
centres. Neither loops over cells in Python.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass, field
from typing import Literal

import geopandas as gpd
import numpy as np
import pandas as pd
from scipy import ndimage, signal
from scipy.spatial import cKDTree

from cspanalysis.errors import InputError
from cspanalysis.hotspots.grid import cell_area, grid_info
from cspanalysis.hotspots.points import Weight, incident_points
from cspanalysis.hotspots.warning_types import BandwidthWarning

Kernel = Literal["quartic", "gaussian"]

#: ``method="auto"`` sums exactly when distinct points × cells within reach is below this.
EXACT_PAIR_LIMIT = 20_000_000


def bandwidth_nrd(values: np.ndarray) -> float:
    """MASS ``bandwidth.nrd``: ``4 × 1.06 × min(sd, IQR / 1.34) × n^(-1/5)``.

    >>> round(bandwidth_nrd(np.arange(100.0)), 3)
    48.971
    """
    v = np.asarray(values, dtype=float)
    if len(v) < 2:
        return math.nan
    q75, q25 = np.percentile(v, [75, 25])
    scale = min(float(np.std(v, ddof=1)), (q75 - q25) / 1.34)
    if scale <= 0:
        scale = float(np.std(v, ddof=1))
    return 4.0 * 1.06 * scale * len(v) ** (-0.2)


def auto_bandwidth(x: np.ndarray, y: np.ndarray) -> float:
    """Average of :func:`bandwidth_nrd` on the x and y coordinates.

    >>> rng = np.random.default_rng(0)
    >>> x, y = rng.normal(0, 100, 500), rng.normal(0, 300, 500)
    >>> bool(auto_bandwidth(x, y) == (bandwidth_nrd(x) + bandwidth_nrd(y)) / 2)
    True
    """
    return (bandwidth_nrd(x) + bandwidth_nrd(y)) / 2.0


def kernel_values(d2: np.ndarray, bandwidth: float, kernel: Kernel) -> np.ndarray:
    """Kernel weight per m² at squared distances ``d2`` (m²).

    >>> round(float(kernel_values(np.array([0.0]), 100.0, "quartic")[0]) * 1e6, 2)
    95.49
    """
    h2 = bandwidth**2
    if kernel == "quartic":
        u = 1.0 - d2 / h2
        return np.where(u > 0, 3.0 / (math.pi * h2) * u * u, 0.0)
    if kernel == "gaussian":
        s2 = h2 / 16.0
        return np.where(d2 < h2, np.exp(-d2 / (2 * s2)) / (2 * math.pi * s2), 0.0)
    raise InputError(f"kernel must be 'quartic' or 'gaussian', not {kernel!r}")


def _unique_points(x, y, w):
    xy = np.column_stack([x, y])
    uniq, inverse = np.unique(xy, axis=0, return_inverse=True)
    return uniq[:, 0], uniq[:, 1], np.bincount(inverse.ravel(), weights=w, minlength=len(uniq))


def _exact(x, y, w, ex, ey, h, kernel):
    ux, uy, uw = _unique_points(x, y, w)
    out = np.zeros(len(ex))
    if len(ux) == 0:
        return out
    pts = cKDTree(np.column_stack([ux, uy]))
    centres = cKDTree(np.column_stack([ex, ey]))
    pairs = centres.sparse_distance_matrix(pts, h, output_type="ndarray")
    vals = kernel_values(pairs["v"] ** 2, h, kernel) * uw[pairs["j"]]
    out += np.bincount(pairs["i"], weights=vals, minlength=len(ex))
    return out


def _binned(x, y, w, ex, ey, h, kernel, spacing):
    minx = min(ex.min(), x.min() if len(x) else ex.min()) - h - 2 * spacing
    miny = min(ey.min(), y.min() if len(y) else ey.min()) - h - 2 * spacing
    maxx = max(ex.max(), x.max() if len(x) else ex.max()) + h + 2 * spacing
    maxy = max(ey.max(), y.max() if len(y) else ey.max()) + h + 2 * spacing
    nx = math.ceil((maxx - minx) / spacing) + 1
    ny = math.ceil((maxy - miny) / spacing) + 1
    fx = (x - minx) / spacing
    fy = (y - miny) / spacing
    ix = np.floor(fx).astype(np.int64)
    iy = np.floor(fy).astype(np.int64)
    dx, dy = fx - ix, fy - iy
    counts = np.zeros(ny * nx)
    for ox, oy, share in (
        (0, 0, (1 - dx) * (1 - dy)),
        (1, 0, dx * (1 - dy)),
        (0, 1, (1 - dx) * dy),
        (1, 1, dx * dy),
    ):
        counts += np.bincount((iy + oy) * nx + ix + ox, weights=w * share, minlength=ny * nx)
    counts = counts.reshape(ny, nx)
    r = math.ceil(h / spacing)
    offs = np.arange(-r, r + 1) * spacing
    kern = kernel_values(offs[None, :] ** 2 + offs[:, None] ** 2, h, kernel)
    dens = signal.fftconvolve(counts, kern, mode="same")
    dens = np.clip(dens, 0.0, None)
    coords = np.vstack([(ey - miny) / spacing, (ex - minx) / spacing])
    return ndimage.map_coordinates(dens, coords, order=1, mode="nearest")


@dataclass
class KDEResult:
    """Result of :func:`kde`.

    Attributes
    ----------
    cells
        The grid with ``kde`` (incidents per km² at the cell centre) and, when a
        denominator was given, ``kde_denominator`` and ``kde_ratio``
        (incidents per ``per`` units of the denominator).
    bandwidth
        Bandwidth used (m), after ``adjust``.
    options
        Options actually used: kernel, bandwidth rule, adjust, method, cell size.
    n_points, n_no_location
        Located incidents used, and rows with no location (not in the surface).
    """

    cells: gpd.GeoDataFrame
    bandwidth: float
    options: dict = field(default_factory=dict)
    n_points: int = 0
    n_no_location: int = 0

    def __getitem__(self, key: str) -> pd.Series:
        """A column of :attr:`cells`, e.g. ``result["kde"]``."""
        return self.cells[key]

    def findings(self) -> list[str]:
        """Plain-English sentences describing the surface."""
        top = self.cells["kde"].idxmax()
        out = [
            f"Kernel density ({self.options['kernel']} kernel, bandwidth {self.bandwidth:,.0f} m, "
            f"{self.options['bandwidth_rule']}) from {self.n_points:,} located incidents.",
            f"The highest density, {self.cells.at[top, 'kde']:,.1f} incidents per km², is in cell "
            f"{top} (centre {self.cells.at[top, 'x']:,.0f}, {self.cells.at[top, 'y']:,.0f}).",
        ]
        if self.n_no_location:
            out.append(
                f"{self.n_no_location:,} incidents had no location and are not in the surface."
            )
        return out

    def plot(self, column: str = "kde", **kwargs):
        """Map of the surface (see :func:`cspanalysis.hotspots.maps.map_cells`)."""
        from cspanalysis.hotspots.maps import map_cells

        kwargs.setdefault(
            "legend_label",
            "incidents per km²" if column == "kde" else f"{column} (see options)",
        )
        kwargs.setdefault("title", "Kernel density of incidents")
        return map_cells(self.cells, column, **kwargs)


def _density(pts_x, pts_y, pts_w, ex, ey, h, kernel, method, cell_sz, shape):
    if len(pts_x) == 0:
        return np.zeros(len(ex)), "none"
    if method == "auto":
        n_unique = len(np.unique(np.column_stack([pts_x, pts_y]), axis=0))
        reach = math.pi * h * h / cell_area(cell_sz, shape) + 1
        method = "exact" if n_unique * reach <= EXACT_PAIR_LIMIT else "binned"
    if method == "exact":
        return _exact(pts_x, pts_y, pts_w, ex, ey, h, kernel) * 1e6, method
    if method == "binned":
        spacing = min(h, cell_sz) / 4.0
        span = (np.ptp(ex) + 2 * h) * (np.ptp(ey) + 2 * h)
        spacing = max(spacing, math.sqrt(span / 2.5e7))
        near = (
            (pts_x > ex.min() - h)
            & (pts_x < ex.max() + h)
            & (pts_y > ey.min() - h)
            & (pts_y < ey.max() + h)
        )
        dens = _binned(pts_x[near], pts_y[near], pts_w[near], ex, ey, h, kernel, spacing)
        return dens * 1e6, method
    raise InputError(f"method must be 'auto', 'exact' or 'binned', not {method!r}")


def kde(
    cells: gpd.GeoDataFrame,
    incidents: gpd.GeoDataFrame,
    bandwidth: float | None = None,
    adjust: float = 1.0,
    kernel: Kernel = "quartic",
    weight: Weight = None,
    denominator: gpd.GeoDataFrame | None = None,
    denominator_column: str | None = None,
    per: float = 1000.0,
    method: Literal["auto", "exact", "binned"] = "auto",
) -> KDEResult:
    """Kernel density of incidents at the centre of every grid cell.

    Parameters
    ----------
    cells
        A grid from :func:`cspanalysis.hotspots.grid`.
    incidents
        Incidents GeoDataFrame (EPSG:27700); rows with no location are left
        out and counted.
    bandwidth
        Kernel radius in metres; ``None`` for the automatic rule (module docs).
    adjust
        Multiplier applied to the bandwidth (automatic or given).
    kernel
        ``"quartic"`` or ``"gaussian"``.
    weight
        Harm weights: a column name or a mapping ``category -> weight``.
    denominator, denominator_column
        Optional points (e.g. LSOA population-weighted centroids) whose
        ``denominator_column`` (e.g. ``"population"``) is smoothed with the same
        kernel; then ``kde_ratio = kde / kde_denominator × per`` is a rate
        surface (dual KDE), NaN where the denominator density is 0.
    per
        Scale of the rate (per 1,000 residents by default).
    method
        ``"auto"``, ``"exact"`` (KD-tree sums) or ``"binned"`` (FFT).

    Warns
    -----
    BandwidthWarning
        When the bandwidth is smaller than the cell size.

    Examples
    --------
    >>> import geopandas as gpd
    >>> from shapely.geometry import Point, box
    >>> from cspanalysis.hotspots.grid import grid
    >>> cells = grid(gpd.GeoSeries([box(0, 0, 1000, 1000)], crs=27700), 100)
    >>> inc = gpd.GeoDataFrame({"count": [1]}, geometry=[Point(400, 400)], crs=27700)
    >>> res = kde(cells, inc, bandwidth=300)
    >>> round(float(res.cells["kde"].max()), 1)  # 3 / (pi 0.3²) at 71 m from the point
    9.5
    """
    info = grid_info(cells)
    cell_sz, shape = info["cell_size"], info["shape"]
    pts = incident_points(incidents, weight)
    if not adjust > 0:
        raise InputError(f"adjust must be a positive multiplier, not {adjust!r}")
    if bandwidth is None:
        if len(pts.x) < 2:
            raise InputError(
                "an automatic bandwidth needs at least two located incidents; give bandwidth="
            )
        base = auto_bandwidth(pts.x, pts.y)
        rule = "automatic: MASS bandwidth.nrd averaged over x and y"
    else:
        base = float(bandwidth)
        rule = "given"
    if not (base > 0 and math.isfinite(base)):
        raise InputError(f"the bandwidth must be a positive number of metres, not {base!r}")
    h = base * adjust
    if h < cell_sz:
        warnings.warn(
            f"the bandwidth ({h:,.0f} m) is smaller than the cell size ({cell_sz:g} m), so the "
            "surface will be spiky and depend on where cells fall; use a larger bandwidth "
            "(adjust=) or a smaller cell_size",
            BandwidthWarning,
            stacklevel=2,
        )
    ex = cells["x"].to_numpy(dtype=float)
    ey = cells["y"].to_numpy(dtype=float)
    dens, used = _density(pts.x, pts.y, pts.weight, ex, ey, h, kernel, method, cell_sz, shape)
    out = cells.copy()
    out["kde"] = dens
    if denominator is not None:
        if denominator_column is None or denominator_column not in denominator.columns:
            raise InputError(
                "a rate surface needs denominator_column= naming a numeric column of the "
                f"denominator points, one of {list(denominator.columns)}"
            )
        dpts = incident_points(denominator, denominator_column)
        dd, _ = _density(dpts.x, dpts.y, dpts.weight, ex, ey, h, kernel, used, cell_sz, shape)
        out["kde_denominator"] = dd
        with np.errstate(divide="ignore", invalid="ignore"):
            out["kde_ratio"] = np.where(dd > 0, dens / dd * per, np.nan)
    return KDEResult(
        cells=out,
        bandwidth=h,
        options={
            "kernel": kernel,
            "bandwidth_rule": rule,
            "bandwidth_before_adjust": base,
            "adjust": adjust,
            "method": used,
            "cell_size": cell_sz,
            "shape": shape,
            "units": "incidents per km²",
            "per": per if denominator is not None else None,
        },
        n_points=len(pts.x),
        n_no_location=pts.n_no_location,
    )
