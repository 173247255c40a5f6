"""Hotspot mapping for Community Safety Partnerships.

One call per method, sensible defaults reported back, results as small
objects with tidy (Geo)DataFrames, ``findings()`` and ``plot()``:

- :func:`grid` square or hexagonal cells over the partnership boundary;
- :func:`count_incidents` counts (or harm-weighted sums) per cell and period;
- :func:`kde` kernel density (quartic or Gaussian), optional dual-KDE rate;
- :func:`gistar` Getis–Ord Gi* with one multiple-testing correction;
- :func:`hotspot_change` per-cell exact Poisson test between two periods;
- :func:`classify` persistent / emerging / former / intermittent hot spots;
- :func:`repeat_locations` and :func:`concentration` (Lorenz, Gini, baseline);
- :func:`near_repeat` Knox near-repeat table with Monte Carlo p-values;
- :func:`predictive_accuracy` PAI, PEI, RRI and hit rate;
- :func:`lisa` local Moran's I of LSOA rates;
- :func:`map_cells`, :func:`map_hotspots` static maps, :func:`interactive_map`
  (folium, optional) and :func:`to_geopackage` for QGIS.

Every input is a GeoDataFrame in British National Grid (EPSG:27700). Incidents
with no location count in totals and are excluded from maps; every result
says how many.

Example
-------
>>> import geopandas as gpd
>>> from shapely.geometry import Point, box
>>> from cspanalysis import hotspots
>>> boundary = gpd.GeoSeries([box(0, 0, 2000, 2000)], crs=27700)
>>> cells = hotspots.grid(boundary, cell_size=200)
>>> cluster = [Point(x, y) for x in (900, 1100) for y in (900, 1100)] * 10
>>> spread = [Point(100 * i + 50, 150) for i in range(20)]
>>> inc = gpd.GeoDataFrame({"count": [1] * 60}, geometry=cluster + spread, crs=27700)
>>> counts = hotspots.count_incidents(cells, inc)
>>> res = hotspots.gistar(counts.cells)
>>> sorted(res.hot.index.tolist())
[44, 45, 54, 55]
"""

from __future__ import annotations

from cspanalysis.hotspots.accuracy import AccuracyResult, predictive_accuracy
from cspanalysis.hotspots.change import ChangeResult, hotspot_change
from cspanalysis.hotspots.classify import ClassifyResult, classify
from cspanalysis.hotspots.counts import CellCounts, count_incidents
from cspanalysis.hotspots.export import to_geopackage
from cspanalysis.hotspots.gistar import GiStarResult, gistar
from cspanalysis.hotspots.grid import assign_cells, auto_cell_size, grid
from cspanalysis.hotspots.kde import KDEResult, auto_bandwidth, kde
from cspanalysis.hotspots.lisa import LisaResult, lisa
from cspanalysis.hotspots.maps import interactive_map, map_cells, map_hotspots
from cspanalysis.hotspots.near_repeat import NearRepeatResult, near_repeat
from cspanalysis.hotspots.repeats import (
    ConcentrationResult,
    RepeatResult,
    concentration,
    repeat_locations,
)
from cspanalysis.hotspots.warning_types import (
    BandwidthWarning,
    GridSizeWarning,
    HotspotWarning,
    MissingPeriodWarning,
)

__all__ = [
    "AccuracyResult",
    "BandwidthWarning",
    "CellCounts",
    "ChangeResult",
    "ClassifyResult",
    "ConcentrationResult",
    "GiStarResult",
    "GridSizeWarning",
    "HotspotWarning",
    "KDEResult",
    "LisaResult",
    "MissingPeriodWarning",
    "NearRepeatResult",
    "RepeatResult",
    "assign_cells",
    "auto_bandwidth",
    "auto_cell_size",
    "classify",
    "concentration",
    "count_incidents",
    "gistar",
    "grid",
    "hotspot_change",
    "interactive_map",
    "kde",
    "lisa",
    "map_cells",
    "map_hotspots",
    "near_repeat",
    "predictive_accuracy",
    "repeat_locations",
    "to_geopackage",
]
