"""Square and hexagonal grids over a partnership boundary, and points assigned to cells.

The grid covers the **boundary** (not the bounding box of the points, as
sfhotspot does), and cells are clipped to it, so a cell's ``area`` is the part
of it inside the partnership and densities near the edge are not diluted by
land outside.

Cell size (``cell_size=None``) follows sfhotspot's rule applied to the
boundary: the shorter side of its bounding box divided by 50, rounded down to
a multiple of 100 m when that is at least 100 m. For hexagons, ``cell_size``
is the distance between the centres of neighbouring cells (the flat-to-flat
width of a pointy-topped hexagon), so a hexagon's area is
``sqrt(3) / 2 * cell_size**2``.

Every grid carries the lattice it was cut from in ``cells.attrs["hotspot_grid"]``
(cell size, shape, origin), so points are assigned to cells arithmetically
(no spatial join) in :func:`assign_cells`.
"""

from __future__ import annotations

import math
import warnings
from typing import Literal

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from cspanalysis.errors import InputError
from cspanalysis.hotspots.points import check_bng
from cspanalysis.hotspots.warning_types import GridSizeWarning

#: Above this many cells :func:`grid` warns (:class:`GridSizeWarning`).
MAX_CELLS = 100_000

GRID_ATTR = "hotspot_grid"
SQRT3 = math.sqrt(3.0)


def boundary_geometry(boundary: gpd.GeoDataFrame | gpd.GeoSeries) -> shapely.Geometry:
    """The union of a boundary's polygons, repaired if invalid (EPSG:27700 required).

    >>> import geopandas as gpd
    >>> from shapely.geometry import box
    >>> boundary_geometry(gpd.GeoSeries([box(0, 0, 1, 1), box(1, 0, 2, 1)], crs=27700)).area
    2.0
    """
    check_bng(boundary, "boundary")
    geoms = boundary.geometry if isinstance(boundary, gpd.GeoDataFrame) else boundary
    geoms = geoms[geoms.notna() & ~geoms.is_empty]
    if len(geoms) == 0:
        raise InputError("the boundary has no polygons; pass the partnership boundary")
    geom = shapely.make_valid(geoms.union_all())
    if geom.area <= 0:
        raise InputError("the boundary has no area; pass polygons, not points or lines")
    return geom


def auto_cell_size(boundary: gpd.GeoDataFrame | gpd.GeoSeries) -> float:
    """sfhotspot's cell size rule on the boundary: shorter bbox side / 50, rounded down to 100 m.

    >>> import geopandas as gpd
    >>> from shapely.geometry import box
    >>> auto_cell_size(gpd.GeoSeries([box(0, 0, 12_345, 8_000)], crs=27700))
    100.0
    >>> auto_cell_size(gpd.GeoSeries([box(0, 0, 3_000, 2_000)], crs=27700))
    40.0
    """
    minx, miny, maxx, maxy = boundary_geometry(boundary).bounds
    size = min(maxx - minx, maxy - miny) / 50.0
    if size >= 100:
        size = math.floor(size / 100.0) * 100.0
    return float(size)


def cell_area(cell_size: float, shape: str) -> float:
    """Area in m² of an unclipped cell.

    >>> cell_area(100, "square"), round(cell_area(100, "hexagon"), 1)
    (10000.0, 8660.3)
    """
    return float(cell_size**2 if shape == "square" else SQRT3 / 2.0 * cell_size**2)


def _polygonal(geoms: np.ndarray) -> np.ndarray:
    """Keep only the polygonal parts of clipped cells (drop slivers of line or point)."""
    out = geoms.copy()
    mixed = np.flatnonzero(shapely.get_type_id(geoms) == 7)  # GeometryCollection
    for k in mixed:
        parts = shapely.get_parts(geoms[k])
        polys = parts[np.isin(shapely.get_type_id(parts), (3, 6))]
        out[k] = shapely.union_all(polys) if len(polys) else shapely.Polygon()
    return out


def _square_lattice(bounds: tuple[float, ...], size: float):
    minx, miny, maxx, maxy = bounds
    x0 = math.floor(minx / size) * size
    y0 = math.floor(miny / size) * size
    ncol = max(1, math.ceil((maxx - x0) / size))
    nrow = max(1, math.ceil((maxy - y0) / size))
    row, col = np.divmod(np.arange(nrow * ncol), ncol)
    left = x0 + col * size
    bottom = y0 + row * size
    polys = shapely.box(left, bottom, left + size, bottom + size)
    return row, col, left + size / 2, bottom + size / 2, polys, (x0, y0)


def _hex_lattice(bounds: tuple[float, ...], size: float):
    minx, miny, maxx, maxy = bounds
    dy = size * SQRT3 / 2.0
    x0, y0 = minx - size, miny - dy
    ncol = math.ceil((maxx - x0) / size) + 2
    nrow = math.ceil((maxy - y0) / dy) + 2
    row, col = np.divmod(np.arange(nrow * ncol), ncol)
    cx = x0 + size * (col + 0.5 * (row % 2))
    cy = y0 + row * dy
    radius = size / SQRT3
    angles = np.deg2rad(30.0 + 60.0 * np.arange(7))
    ring = np.stack(
        [cx[:, None] + radius * np.cos(angles), cy[:, None] + radius * np.sin(angles)], axis=-1
    )
    polys = shapely.polygons(ring)
    return row, col, cx, cy, polys, (x0, y0)


def grid(
    boundary: gpd.GeoDataFrame | gpd.GeoSeries,
    cell_size: float | None = None,
    shape: Literal["square", "hexagon"] = "square",
) -> gpd.GeoDataFrame:
    """Cells of a square or hexagonal grid over a boundary, clipped to it.

    Parameters
    ----------
    boundary
        The partnership boundary (polygons, EPSG:27700).
    cell_size
        Cell size in metres (side of a square; centre-to-centre distance of
        hexagons). ``None``: :func:`auto_cell_size`.
    shape
        ``"square"`` or ``"hexagon"``.

    Returns
    -------
    geopandas.GeoDataFrame
        Indexed by ``cell_id`` (0, 1, …), columns ``row``, ``col`` (lattice
        position), ``x``, ``y`` (centre of the unclipped cell, m), ``area``
        (m² inside the boundary), ``clipped`` (cut by the boundary) and the
        clipped ``geometry``. ``cells.attrs["hotspot_grid"]`` records the cell
        size, shape and lattice origin actually used.

    Warns
    -----
    GridSizeWarning
        When the grid has more than 100,000 cells.

    Examples
    --------
    >>> import geopandas as gpd
    >>> from shapely.geometry import box
    >>> cells = grid(gpd.GeoSeries([box(0, 0, 1000, 500)], crs=27700), cell_size=100)
    >>> len(cells), float(cells["area"].sum())
    (50, 500000.0)
    >>> cells.attrs["hotspot_grid"]["cell_size"]
    100.0
    """
    geom = boundary_geometry(boundary)
    if shape not in ("square", "hexagon"):
        raise InputError(f"shape must be 'square' or 'hexagon', not {shape!r}")
    size = auto_cell_size(boundary) if cell_size is None else float(cell_size)
    if not size > 0 or not math.isfinite(size):
        raise InputError(f"cell_size must be a positive number of metres, not {cell_size!r}")
    minx, miny, maxx, maxy = geom.bounds
    estimate = (maxx - minx) * (maxy - miny) / cell_area(size, shape)
    if estimate > 50 * MAX_CELLS:
        raise InputError(
            f"a {size:g} m grid over this boundary would have about {estimate:,.0f} cells; "
            "choose a larger cell_size"
        )
    lattice = _square_lattice if shape == "square" else _hex_lattice
    row, col, cx, cy, polys, origin = lattice(geom.bounds, size)
    shapely.prepare(geom)
    tree = shapely.STRtree(polys)
    hit = np.unique(tree.query(geom, predicate="intersects"))
    inside = np.zeros(len(polys), dtype=bool)
    inside[tree.query(geom, predicate="contains")] = True
    clipped_geoms = polys[hit].copy()
    edge = ~inside[hit]
    clipped_geoms[edge] = _polygonal(shapely.intersection(polys[hit][edge], geom))
    area = shapely.area(clipped_geoms)
    keep = area > 1e-9 * cell_area(size, shape)
    hit, clipped_geoms, area, edge = hit[keep], clipped_geoms[keep], area[keep], edge[keep]
    cells = gpd.GeoDataFrame(
        {
            "row": row[hit].astype(np.int64),
            "col": col[hit].astype(np.int64),
            "x": cx[hit],
            "y": cy[hit],
            "area": area,
            "clipped": edge,
        },
        geometry=gpd.GeoSeries(clipped_geoms, crs=boundary.crs),
        crs=boundary.crs,
    )
    cells.index = pd.RangeIndex(len(cells), name="cell_id")
    cells.attrs[GRID_ATTR] = {
        "cell_size": size,
        "shape": shape,
        "x0": float(origin[0]),
        "y0": float(origin[1]),
        "cell_size_rule": "automatic (sfhotspot rule)" if cell_size is None else "given",
    }
    if len(cells) > MAX_CELLS:
        warnings.warn(
            f"the grid has {len(cells):,} cells of {size:g} m (more than {MAX_CELLS:,}); "
            "maps will be slow and hard to read, so consider a larger cell_size",
            GridSizeWarning,
            stacklevel=2,
        )
    return cells


def grid_info(cells: gpd.GeoDataFrame) -> dict:
    """The lattice a grid was cut from (``cell_size``, ``shape``, origin); error if unknown.

    >>> import geopandas as gpd
    >>> from shapely.geometry import box
    >>> grid_info(grid(gpd.GeoSeries([box(0, 0, 500, 500)], crs=27700), 100))["shape"]
    'square'
    """
    info = cells.attrs.get(GRID_ATTR)
    if info is None or not {"row", "col", "x", "y"} <= set(cells.columns):
        raise InputError(
            "these cells were not made by cspanalysis.hotspots.grid() (or lost its attrs "
            "and row/col/x/y columns); build the grid with grid(boundary, ...)"
        )
    return dict(info)


def _lattice_position(info: dict, x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    size, x0, y0 = info["cell_size"], info["x0"], info["y0"]
    if info["shape"] == "square":
        return np.floor((y - y0) / size).astype(np.int64), np.floor((x - x0) / size).astype(
            np.int64
        )
    dy = size * SQRT3 / 2.0
    r0 = np.rint((y - y0) / dy).astype(np.int64)
    best_r = np.zeros_like(r0)
    best_c = np.zeros_like(r0)
    best_d = np.full(len(x), np.inf)
    for dr in (-1, 0, 1):
        r = r0 + dr
        c = np.rint((x - x0) / size - 0.5 * (r % 2)).astype(np.int64)
        d = (x - (x0 + size * (c + 0.5 * (r % 2)))) ** 2 + (y - (y0 + r * dy)) ** 2
        better = d < best_d
        best_r[better], best_c[better], best_d[better] = r[better], c[better], d[better]
    return best_r, best_c


def assign_cells(cells: gpd.GeoDataFrame, x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Position (``iloc``) of the cell containing each point, or -1 outside the grid.

    Points in a clipped edge cell but outside the boundary get -1.

    >>> import geopandas as gpd
    >>> from shapely.geometry import box
    >>> cells = grid(gpd.GeoSeries([box(0, 0, 300, 100)], crs=27700), 100)
    >>> assign_cells(cells, np.array([50.0, 250.0, 950.0]), np.array([50.0, 50.0, 50.0])).tolist()
    [0, 2, -1]
    """
    info = grid_info(cells)
    x = np.asarray(x, dtype=float)
    y = np.asarray(y, dtype=float)
    r, c = _lattice_position(info, x, y)
    keys = pd.MultiIndex.from_arrays([cells["row"].to_numpy(), cells["col"].to_numpy()])
    pos = keys.get_indexer(pd.MultiIndex.from_arrays([r, c]))
    edge_cells = cells["clipped"].to_numpy()
    check = np.flatnonzero(pos >= 0)
    check = check[edge_cells[pos[check]]]
    if len(check):
        geoms = np.asarray(cells.geometry.array, dtype=object)[pos[check]]
        pos[check[~shapely.intersects_xy(geoms, x[check], y[check])]] = -1
    return pos
