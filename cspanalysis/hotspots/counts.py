"""Incidents counted per grid cell, optionally weighted and split by period.

The result states how many incidents could not be mapped: rows with no
location (about one in ten on police.uk) and points outside the boundary.
They count in the totals, never on the map.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import geopandas as gpd
import numpy as np
import pandas as pd

from cspanalysis.errors import InputError
from cspanalysis.hotspots.grid import assign_cells, grid_info
from cspanalysis.hotspots.points import Weight, incident_points


@dataclass
class CellCounts:
    """Result of :func:`count_incidents`.

    Attributes
    ----------
    cells
        The grid with ``n`` (weighted count per cell) and ``density``
        (``n`` per km² of the cell's area inside the boundary).
    by_period
        When ``by`` was given: a DataFrame indexed by ``cell_id`` with one
        column per period (or group), else ``None``.
    total, mapped, no_location, outside
        Weighted totals: all rows; rows placed in a cell; rows with no
        location; located rows outside the grid.
    options
        The options actually used.
    """

    cells: gpd.GeoDataFrame
    by_period: pd.DataFrame | None
    total: float
    mapped: float
    no_location: float
    outside: float
    options: dict = field(default_factory=dict)

    def __getitem__(self, key: str) -> pd.Series:
        """A column of :attr:`cells`, e.g. ``counts["n"]``."""
        return self.cells[key]

    def findings(self) -> list[str]:
        """Plain-English sentences on where the incidents are.

        >>> # see count_incidents for an example
        """
        n_cells = len(self.cells)
        nonzero = int((self.cells["n"] > 0).sum())
        out = [
            f"{self.mapped:,.0f} of {self.total:,.0f} incidents were placed in {n_cells:,} cells "
            f"of {self.options['cell_size']:g} m; {nonzero:,} cells had at least one."
        ]
        if self.no_location:
            out.append(
                f"{self.no_location:,.0f} incidents ({self.no_location / self.total:.1%}) had no "
                "location and are counted in totals but not mapped."
            )
        if self.outside:
            out.append(
                f"{self.outside:,.0f} located incidents fell outside the boundary "
                "and are not mapped."
            )
        return out

    def plot(self, **kwargs):
        """Map of counts per cell (see :func:`cspanalysis.hotspots.maps.map_cells`)."""
        from cspanalysis.hotspots.maps import map_cells

        kwargs.setdefault("legend_label", "incidents per cell")
        kwargs.setdefault("title", "Incidents per cell")
        return map_cells(self.cells, "n", **kwargs)


def count_incidents(
    cells: gpd.GeoDataFrame,
    incidents: gpd.GeoDataFrame,
    weight: Weight = None,
    by: str | None = None,
) -> CellCounts:
    """Count (or sum harm weights of) incidents in each cell of a grid.

    Parameters
    ----------
    cells
        A grid from :func:`cspanalysis.hotspots.grid`.
    incidents
        Incidents GeoDataFrame (EPSG:27700); rows with no geometry are counted
        as ``no_location``.
    weight
        ``None`` (each row counts its ``count``), a numeric column name, or a
        mapping ``category -> weight`` (harm weights).
    by
        Optional column to split by, e.g. ``"month"``; every value present
        gets a column in :attr:`CellCounts.by_period`.

    Examples
    --------
    >>> import geopandas as gpd
    >>> from shapely.geometry import Point, box
    >>> from cspanalysis.hotspots.grid import grid
    >>> cells = grid(gpd.GeoSeries([box(0, 0, 200, 100)], crs=27700), 100)
    >>> inc = gpd.GeoDataFrame({"count": [1, 1, 1, 1]},
    ...     geometry=[Point(10, 10), Point(20, 20), Point(150, 50), None], crs=27700)
    >>> res = count_incidents(cells, inc)
    >>> res.cells["n"].tolist(), res.no_location
    ([2.0, 1.0], 1.0)
    """
    info = grid_info(cells)
    pts = incident_points(incidents, weight)
    pos = assign_cells(cells, pts.x, pts.y)
    inside = pos >= 0
    n = np.bincount(pos[inside], weights=pts.weight[inside], minlength=len(cells))
    out = cells.copy()
    out["n"] = n
    out["density"] = n / (out["area"].to_numpy() / 1e6)
    by_period = None
    if by is not None:
        if by not in incidents.columns:
            raise InputError(
                f"the incidents have no column {by!r} to split by; "
                f"choose one of {list(incidents.columns)}"
            )
        labels = incidents[by].iloc[pts.rows[inside]]
        if labels.isna().any():
            raise InputError(f"the incidents' {by!r} column has missing values; fill or drop them")
        frame = pd.DataFrame(
            {"cell": out.index[pos[inside]], "group": labels.to_numpy(), "w": pts.weight[inside]}
        )
        by_period = (
            frame.pivot_table(index="cell", columns="group", values="w", aggfunc="sum")
            .reindex(out.index)
            .fillna(0.0)
        )
        by_period.index.name = "cell_id"
        by_period.columns.name = by
    return CellCounts(
        cells=out,
        by_period=by_period,
        total=pts.total_weight,
        mapped=float(pts.weight[inside].sum()),
        no_location=pts.weight_no_location,
        outside=float(pts.weight[~inside].sum()),
        options={
            "cell_size": info["cell_size"],
            "shape": info["shape"],
            "weight": weight if weight is None or isinstance(weight, str) else dict(weight),
            "by": by,
        },
    )
