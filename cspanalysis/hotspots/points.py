"""From an Incidents frame to point coordinates and weights, counting what cannot be mapped.

Every hotspot method starts here. police.uk publishes about one row in ten
with no location; such rows count in totals but cannot be placed on a map, so
they are dropped from the points *and counted* (``n_no_location``), and every
result reports that number.

Weights combine the Incidents ``count`` column (records a row stands for: 1
for police.uk, possibly more for pre-aggregated partner rows) with an optional
harm weight, given either as the name of a numeric column or as a mapping from
``category`` to weight (e.g. Cambridge Crime Harm Index days).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from cspanalysis.errors import InputError

#: British National Grid (metres): the CRS of every frame in the project.
BNG_EPSG = 27700

Weight = str | Mapping[str, float] | None


@dataclass(frozen=True)
class IncidentPoints:
    """Coordinates (metres, EPSG:27700) and weights of the incidents that have a location.

    Attributes
    ----------
    x, y, weight
        Arrays of equal length, one entry per located row.
    rows
        Positions (``iloc``) of those rows in the input frame.
    n_rows
        Rows in the input frame.
    n_no_location
        Rows without a point geometry (empty or missing), excluded from maps.
    weight_no_location
        Sum of the weights of those rows (what they would have added).
    """

    x: np.ndarray
    y: np.ndarray
    weight: np.ndarray
    rows: np.ndarray
    n_rows: int
    n_no_location: int
    weight_no_location: float

    @property
    def total_weight(self) -> float:
        """Weighted total of all rows, located or not."""
        return float(self.weight.sum() + self.weight_no_location)


def check_bng(frame: gpd.GeoDataFrame | gpd.GeoSeries, what: str) -> None:
    """Raise :class:`InputError` unless ``frame`` is a geopandas object in EPSG:27700.

    >>> import geopandas as gpd
    >>> check_bng(gpd.GeoSeries([], crs=27700), "boundary")
    """
    if not isinstance(frame, gpd.GeoDataFrame | gpd.GeoSeries):
        raise InputError(
            f"the {what} must be a GeoDataFrame or GeoSeries, not {type(frame).__name__}; "
            "build one with geopandas and set its CRS"
        )
    if frame.crs is None:
        raise InputError(
            f"the {what} has no CRS; set it (e.g. .set_crs(27700) for British National Grid)"
        )
    if frame.crs.to_epsg() != BNG_EPSG:
        raise InputError(
            f"the {what} is in {frame.crs.name}, not British National Grid; "
            "reproject it with .to_crs(27700) first"
        )


def row_weights(incidents: pd.DataFrame, weight: Weight = None) -> np.ndarray:
    """Weight of every row: ``count`` (1 when absent) times the harm weight, if any.

    >>> import pandas as pd
    >>> df = pd.DataFrame({"category": ["Burglary", "Shoplifting"], "count": [1, 2]})
    >>> row_weights(df, {"Burglary": 10.0, "Shoplifting": 1.0}).tolist()
    [10.0, 2.0]
    """
    n = len(incidents)
    if "count" in incidents.columns:
        base = pd.to_numeric(incidents["count"], errors="coerce").to_numpy(dtype=float)
        if np.isnan(base).any():
            bad = int(np.flatnonzero(np.isnan(base))[0])
            raise InputError(
                f"the incidents' 'count' column is missing or not a number in row {bad}; "
                "every row must say how many records it stands for (1 for police.uk rows)"
            )
    else:
        base = np.ones(n)
    if weight is None:
        return base
    if isinstance(weight, str):
        if weight not in incidents.columns:
            raise InputError(
                f"the weight column {weight!r} is not in the incidents; "
                f"choose one of {list(incidents.columns)} or pass a mapping category -> weight"
            )
        w = pd.to_numeric(incidents[weight], errors="coerce").to_numpy(dtype=float)
        what = f"column {weight!r}"
    else:
        if "category" not in incidents.columns:
            raise InputError("weights by category need a 'category' column in the incidents")
        w = incidents["category"].map(dict(weight)).to_numpy(dtype=float, na_value=np.nan)
        what = "the category weights"
    if np.isnan(w).any():
        bad = int(np.flatnonzero(np.isnan(w))[0])
        label = incidents["category"].iloc[bad] if "category" in incidents.columns else ""
        raise InputError(
            f"{what} give no weight for row {bad} {f'({label!r})' if label else ''}; "
            "give every category a weight (0 to leave it out)"
        )
    if (w < 0).any():
        raise InputError(f"{what} contain negative weights; weights must be >= 0")
    return base * w


def incident_points(incidents: gpd.GeoDataFrame, weight: Weight = None) -> IncidentPoints:
    """Extract located points and their weights from an Incidents GeoDataFrame.

    Parameters
    ----------
    incidents
        GeoDataFrame in EPSG:27700 with Point geometries (None for rows with no
        location) and optionally ``count`` and ``category`` columns.
    weight
        ``None`` (each row weighs its ``count``), a numeric column name, or a
        mapping ``category -> weight``.

    Examples
    --------
    >>> import geopandas as gpd
    >>> from shapely.geometry import Point
    >>> inc = gpd.GeoDataFrame({"count": [1, 1, 1]},
    ...                        geometry=[Point(0, 0), None, Point(5, 5)], crs=27700)
    >>> pts = incident_points(inc)
    >>> pts.x.tolist(), pts.n_no_location
    ([0.0, 5.0], 1)
    """
    check_bng(incidents, "incidents")
    w = row_weights(incidents, weight)
    geoms = np.asarray(incidents.geometry.array, dtype=object)
    gtype = shapely.get_type_id(geoms)
    empty = shapely.is_empty(geoms)
    is_point = (gtype == 0) & ~empty
    other = (gtype > 0) & ~empty
    if other.any():
        bad = int(np.flatnonzero(other)[0])
        raise InputError(
            f"incident row {bad} has a {geoms[bad].geom_type} geometry, "
            "not a Point; hotspot methods need one point per incident (use .centroid)"
        )
    rows = np.flatnonzero(is_point)
    coords = shapely.get_coordinates(geoms[rows])
    return IncidentPoints(
        x=coords[:, 0].astype(float),
        y=coords[:, 1].astype(float),
        weight=w[rows],
        rows=rows,
        n_rows=len(incidents),
        n_no_location=int((~is_point).sum()),
        weight_no_location=float(w[~is_point].sum()),
    )
