"""ONS geography: LSOA boundaries, the LSOA → district → partnership lookup, population,
households and deprivation, put together as the partnership's Areas and boundary.

Files
-----
Boundaries are GeoJSON (``.geojson``, also gzipped ``.geojson.gz``), GeoPackage or
shapefile (also a zipped shapefile); tables are CSV files (optionally gzipped). Column
names are detected (``lsoa11_code``, ``LSOA21CD``, ``LSOA Code`` ...) unless the
parameter file names them. Every frame is returned in British National Grid (EPSG:27700).

Vintages
--------
An analysis uses one LSOA *vintage* (``"2011"`` or ``"2021"``); a file's vintage is read
from its code column's name (``lsoa11_code``, ``LSOA21CD``) or, failing that, from the
codes that exist in only one vintage of the ONS lookup (``geography.vintage_lookup``).

* **Boundaries** must be in the analysis vintage: a polygon cannot be split, so a
  2011 boundary file for a 2021 analysis is an :class:`~cspanalysis.errors.InputError`
  naming the file to use instead.
* **The lookup** (LSOA → district → partnership) may be in the other vintage: each
  analysis-vintage LSOA takes the district of its counterpart(s) in the ONS lookup.
* **Population and households** in the other vintage are mapped as counts: LSOAs
  that merged are summed; an LSOA that split is apportioned among its children by
  the share of polygon *area* (the intersection with the parent's polygon when both
  vintages' polygons are given, else the children's own areas, which tile the
  parent), or equally when polygons are not available. Totals are preserved.
* **Deprivation deciles** in the other vintage: unchanged and split LSOAs keep the
  parent's decile; an LSOA formed from several takes their population-weighted mean
  decile, rounded, and is listed in ``attrs["imd_decile_approximate"]`` because a
  decile of a merged area is not an official figure.
* A table in the other vintage with no ``geography.vintage_lookup`` is an
  :class:`~cspanalysis.errors.InputError` saying to add it.

Missing is not zero: an LSOA with a polygon but no population (households,
decile) gets NaN (NA) and a :class:`~cspanalysis.errors.DataQualityWarning`.

Example
-------
>>> import tempfile, pathlib
>>> import geopandas as gpd
>>> from shapely.geometry import box
>>> from cspanalysis.config import Geography
>>> folder = pathlib.Path(tempfile.mkdtemp())
>>> squares = gpd.GeoDataFrame({"lsoa11_code": ["E01000001", "E01000002"],
...                             "lsoa11_name": ["A 001A", "A 001B"]},
...                            geometry=[box(0, 0, 1000, 1000), box(1000, 0, 2000, 1000)],
...                            crs="EPSG:27700")
>>> squares.to_file(folder / "lsoa.gpkg")
>>> _ = (folder / "lookup.csv").write_text("lsoa11_code,ltla19_code,ltla19_name\\n"
...     "E01000001,E09000001,City of London\\nE01000002,E09000001,City of London\\n")
>>> geo = Geography(boundaries={"path": folder / "lsoa.gpkg"},
...                 lookup={"path": folder / "lookup.csv"})
>>> areas, boundary = build_areas(geo, districts=["city of london"], partnership="City")
>>> areas[["name", "district", "partnership"]].values.tolist()
[['A 001A', 'E09000001', 'City'], ['A 001B', 'E09000001', 'City']]
>>> float(boundary.area.iloc[0])
2000000.0
"""

from cspanalysis.data.geography.areas import build_areas, partnership_lsoas
from cspanalysis.data.geography.boundaries import read_boundaries
from cspanalysis.data.geography.conversion import (
    counts_to_vintage,
    deciles_to_vintage,
    vintage_weights,
)
from cspanalysis.data.geography.tables import (
    read_deprivation,
    read_households,
    read_lookup,
    read_population,
)

__all__ = [
    "build_areas",
    "counts_to_vintage",
    "deciles_to_vintage",
    "partnership_lsoas",
    "read_boundaries",
    "read_deprivation",
    "read_households",
    "read_lookup",
    "read_population",
    "vintage_weights",
]
