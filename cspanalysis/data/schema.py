"""The three frames every analysis reads: Incidents, Areas and Coverage.

This module is the single statement of their columns (DESIGN.md, "Data
flow"); loaders build them and :func:`check_incidents` / :func:`check_areas`
/ :func:`check_coverage` assert that a frame has the agreed shape, so a
mistake in a loader fails loudly in the tests rather than quietly in a
notebook.

Incidents (a GeoDataFrame in EPSG:27700, one row per record)
    ``month``     pandas Period[M]
    ``category``  str: the police.uk crime type, or a partner category
    ``source``    str: ``"police.uk"`` or the partner dataset's name
    ``force``     str or NA: the police.uk force slug (``thames-valley``)
    ``crime_id``  str or NA: police.uk Crime ID (blank for ASB, so NA)
    ``lsoa``      str or NA: LSOA code in the *analysis vintage*
    ``lsoa_source`` str or NA: the LSOA code exactly as the source gave it
    ``location``  str or NA: e.g. "On or near Willow Drive"
    ``outcome``   str or NA: police.uk "Last outcome category"
    ``count``     int64: records this row stands for (1 for police.uk rows;
                  partner rows may be pre-aggregated)
    ``person_id`` str or NA: salted SHA-256 pseudonym (partner data only)
    ``geometry``  Point in EPSG:27700, or None when the source gave no location

Coverage (a DataFrame, one row per source × month over the whole span)
    ``source``    str: ``"police.uk:<force>"`` or ``"partner:<name>"``
    ``month``     pandas Period[M]
    ``status``    "present" | "missing"
    ``rows``      Int64 (NA when missing): rows the source supplied that month
    ``rows_no_location`` Int64: rows with no coordinates and no LSOA
    ``rows_outside``     Int64: rows whose LSOA is outside the area asked for
                  (the force area for :func:`read_street`, the partnership for
                  :func:`cspanalysis.load_partnership`)
    ``rows_in_area``     Int64: rows attributed to the area asked for
    ``files``     str: the file name(s) the month came from ("" when missing)

Areas (a GeoDataFrame in EPSG:27700, indexed by LSOA code, named ``lsoa``)
    ``name``, ``district`` (code), ``district_name``, ``partnership``,
    ``population`` (float, NaN when unknown), ``households`` (float, NaN when
    unknown), ``imd_decile`` (Int64, NA when unknown; 1 = most deprived),
    ``geometry`` (Polygon/MultiPolygon).
"""

from __future__ import annotations

import geopandas as gpd
import pandas as pd

#: British National Grid: metres, the CRS of every frame in the project.
BNG = "EPSG:27700"
#: WGS 84 longitude/latitude, the CRS of police.uk coordinates and ONS GeoJSON.
WGS84 = "EPSG:4326"

INCIDENT_COLUMNS: tuple[str, ...] = (
    "month",
    "category",
    "source",
    "force",
    "crime_id",
    "lsoa",
    "lsoa_source",
    "location",
    "outcome",
    "count",
    "person_id",
    "geometry",
)

COVERAGE_COLUMNS: tuple[str, ...] = (
    "source",
    "month",
    "status",
    "rows",
    "rows_no_location",
    "rows_outside",
    "rows_in_area",
    "files",
)

AREA_COLUMNS: tuple[str, ...] = (
    "name",
    "district",
    "district_name",
    "partnership",
    "population",
    "households",
    "imd_decile",
    "geometry",
)

_STRING_INCIDENT_COLUMNS = tuple(
    c for c in INCIDENT_COLUMNS if c not in ("month", "count", "geometry")
)


def empty_incidents() -> gpd.GeoDataFrame:
    """Return an Incidents frame with no rows and the agreed columns and dtypes.

    >>> empty_incidents().columns.tolist()[:3]
    ['month', 'category', 'source']
    """
    data: dict[str, pd.Series] = {
        "month": pd.Series([], dtype="period[M]"),
        **{c: pd.Series([], dtype="string") for c in _STRING_INCIDENT_COLUMNS},
        "count": pd.Series([], dtype="int64"),
    }
    frame = pd.DataFrame(data)[[c for c in INCIDENT_COLUMNS if c != "geometry"]]
    return gpd.GeoDataFrame(frame, geometry=gpd.GeoSeries([], crs=BNG), crs=BNG)


def month_span(months: pd.Series | pd.Index) -> pd.PeriodIndex:
    """Every month from the earliest to the latest of ``months``, gaps included.

    >>> month_span(pd.PeriodIndex(["2018-06", "2018-10"], freq="M")).size
    5
    """
    months = pd.PeriodIndex(months, freq="M")
    if len(months) == 0:
        return pd.PeriodIndex([], freq="M")
    return pd.period_range(months.min(), months.max(), freq="M")


def describe_months(months) -> str:
    """Months as compact ranges: ``'2018-07 to 2018-09, 2019-05'`` (``'none'`` when empty).

    >>> describe_months(["2018-07", "2018-08", "2018-09", "2019-05"])
    '2018-07 to 2018-09, 2019-05'
    """
    ms = sorted({pd.Period(m, freq="M") for m in months})
    if not ms:
        return "none"
    out: list[str] = []
    start = prev = ms[0]
    for m in ms[1:]:
        if m == prev + 1:
            prev = m
            continue
        out.append(str(start) if start == prev else f"{start} to {prev}")
        start = prev = m
    out.append(str(start) if start == prev else f"{start} to {prev}")
    return ", ".join(out)


def check_incidents(frame: gpd.GeoDataFrame) -> None:
    """Raise ``AssertionError`` unless ``frame`` has the Incidents shape."""
    assert isinstance(frame, gpd.GeoDataFrame), "Incidents must be a GeoDataFrame"
    missing = [c for c in INCIDENT_COLUMNS if c not in frame.columns]
    assert not missing, f"Incidents lack columns {missing}"
    assert frame.crs is not None and frame.crs.to_epsg() == 27700, "Incidents must be EPSG:27700"
    assert isinstance(frame["month"].dtype, pd.PeriodDtype), "Incidents.month must be Period[M]"
    assert frame["count"].dtype.kind in "iu", "Incidents.count must be integer"


def check_coverage(frame: pd.DataFrame) -> None:
    """Raise ``AssertionError`` unless ``frame`` has the Coverage shape."""
    missing = [c for c in COVERAGE_COLUMNS if c not in frame.columns]
    assert not missing, f"Coverage lacks columns {missing}"
    assert isinstance(frame["month"].dtype, pd.PeriodDtype), "Coverage.month must be Period[M]"
    assert set(frame["status"].unique()) <= {"present", "missing"}
    miss = frame["status"] == "missing"
    assert frame.loc[miss, "rows"].isna().all(), "a missing month must have rows = NA, never 0"


def check_areas(frame: gpd.GeoDataFrame) -> None:
    """Raise ``AssertionError`` unless ``frame`` has the Areas shape."""
    assert isinstance(frame, gpd.GeoDataFrame), "Areas must be a GeoDataFrame"
    missing = [c for c in AREA_COLUMNS if c not in frame.columns]
    assert not missing, f"Areas lack columns {missing}"
    assert frame.index.name == "lsoa", "Areas must be indexed by 'lsoa'"
    assert frame.index.is_unique, "Areas index must be unique"
    assert frame.crs is not None and frame.crs.to_epsg() == 27700, "Areas must be EPSG:27700"
