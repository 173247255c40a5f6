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

from __future__ import annotations

import re
import sys
import warnings
import zlib
from collections.abc import Iterable
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import shapely
from pyproj import CRS

from cspanalysis.config import Geography, LookupSpec, TableSpec
from cspanalysis.data.schema import AREA_COLUMNS, BNG, WGS84
from cspanalysis.data.vintages import Vintage, detect_vintage, read_vintage_lookup
from cspanalysis.errors import DataQualityWarning, InputError, display_path

# Column-name patterns, matched against names lower-cased with runs of other characters
# replaced by "_" (so "LSOA Code (2021)" reads "lsoa_code_2021"); shapefiles cut names to
# ten characters ("lsoa11_cod"). Earlier patterns win.
_CODE, _NAME = r"(?:code?|cd)", r"(?:name?|nm)"
_LSOA_CODE = (rf"lsoa_?(?:20)?(11|21)_?{_CODE}", rf"lsoa_?{_CODE}_?(?:20)?(11|21)?", r"lsoa")
_LSOA_NAME = (rf"lsoa_?(?:20)?(?:11|21)?_?{_NAME}", rf"lsoa_?{_NAME}_?(?:20)?(?:11|21)?", r"name")
_DISTRICT = rf"(?:ltla|lad|la|lau1?)_?(\d{{2}}|\d{{4}})_?{_CODE}"
_DISTRICT_PLAIN = ("ltla_code", "lad_code", "ladcd", "district_code", "district", "lad")
_DISTRICT_NAME_PLAIN = ("ltla_name", "lad_name", "ladnm", "district_name")
_PARTNERSHIP = rf"csp_?(\d{{2}}|\d{{4}})_?{_NAME}"
_PARTNERSHIP_PLAIN = ("csp_name", "cspnm", "partnership", "partnership_name")
_YEAR = ("mid_year", "year", "period", "date")
_VALUES = {
    "population": ("total_population", "population", "all_ages", "total", "value", "count"),
    "households": ("households", "total_households", "household_count", "value", "count"),
    "imd_decile": ("imd_decile", r"index_of_multiple_deprivation\w*_decile\w*", r"imd\w*decile"),
}
_POLYGONS = ("Polygon", "MultiPolygon")


# ----------------------------------------------------------------------------- boundaries


def read_boundaries(
    path: str | Path,
    *,
    code_column: str | None = None,
    name_column: str | None = None,
    vintage: Vintage | None = None,
    lsoas: Iterable[str] | None = None,
) -> gpd.GeoDataFrame:
    """Read LSOA polygons from GeoJSON (optionally gzipped), GeoPackage or shapefile.

    Parameters
    ----------
    path
        The boundary file.
    code_column, name_column
        Columns holding the LSOA code and name; detected when omitted.
    vintage
        ``"2011"`` or ``"2021"``; default: from the code column's name (else None).
    lsoas
        Read only these LSOA codes (filtered while reading, so a national file stays fast).

    Returns
    -------
    GeoDataFrame
        Indexed by ``lsoa``, with ``name`` and ``geometry`` in EPSG:27700;
        ``attrs["vintage"]``, and ``attrs["repaired"]``: the codes whose invalid polygon
        was repaired with :func:`shapely.make_valid` (also a DataQualityWarning).

    Examples
    --------
    >>> b = read_boundaries("../shared/data/geography/"
    ...                     "tv_lsoa11_boundaries_bsc_simplified.geojson")  # doctest: +SKIP
    >>> len(b), b.crs.to_epsg(), b.attrs["vintage"]                         # doctest: +SKIP
    (1415, 27700, '2011')
    """
    path = Path(path)
    if not path.is_file():
        raise InputError("boundary file not found; check geography.boundaries.path", path=path)
    source = f"/vsigzip/{path}" if path.suffix.lower() == ".gz" else str(path)
    layer, fields = _boundary_layer(source, path, code_column)
    code = _column(fields, _LSOA_CODE, code_column, path, "LSOA code", "code_column")
    name = _column(fields, _LSOA_NAME, name_column, path, "LSOA name", "name_column", need=False)
    wanted = None if lsoas is None else sorted({str(c).strip() for c in lsoas})
    raw = _read_polygons(source, path, layer, [c for c in (code, name) if c], code, wanted)
    codes = raw[code].astype("string").str.strip().replace("", pd.NA)
    if codes.isna().any():
        _warn(f"{int(codes.isna().sum())} polygons have no LSOA code in '{code}'; not used", path)
    keep = codes.notna() & (codes.isin(wanted) if wanted is not None else True)
    frame = gpd.GeoDataFrame(
        {"name": raw[name].astype("string").str.strip().array if name else pd.NA},
        geometry=raw.geometry.to_numpy(),
        crs=_crs(raw, path),
        index=pd.Index(codes, name="lsoa"),
    )[keep.to_numpy(dtype=bool)]
    frame["name"] = frame["name"].astype("string")
    wrong = frame.geometry.notna() & ~frame.geom_type.isin(_POLYGONS)
    if wrong.any():
        kinds = ", ".join(sorted(set(frame.geom_type[wrong])))
        raise InputError(
            f"LSOA boundaries must be polygons but {int(wrong.sum())} features are {kinds}; "
            "use an LSOA polygon boundary file",
            path=path,
        )
    frame, repaired = _repair(frame.to_crs(BNG), path)
    if not frame.index.is_unique:
        dup = frame.index[frame.index.duplicated()].unique()
        _warn(f"{len(dup)} LSOAs have several polygons ({_few(dup)}); each was merged", path)
        merged = frame.geometry.groupby(level=0).agg(shapely.union_all)
        names = frame["name"].groupby(level=0).first()
        frame = gpd.GeoDataFrame({"name": names}, geometry=merged, crs=BNG).rename_axis("lsoa")
    empty = frame.geometry.isna() | frame.geometry.is_empty
    if empty.any():
        _warn(f"{int(empty.sum())} LSOAs have an empty polygon ({_few(frame.index[empty])})", path)
    frame.index = frame.index.astype("string")
    frame.attrs.update(vintage=vintage or _vintage_of(code), repaired=repaired, path=str(path))
    return frame.sort_index()


def _boundary_layer(source: str, path: Path, code_column: str | None) -> tuple[str, list[str]]:
    """The (first) polygon layer with an LSOA code column, and its field names."""
    try:
        infos = [
            (str(n), pyogrio.read_info(source, layer=str(n)))
            for n, _ in pyogrio.list_layers(source)
        ]
    except (pyogrio.errors.DataSourceError, pyogrio.errors.DataLayerError) as exc:
        detail = str(exc).split(";")[0].replace(source, "").strip(" '")
        raise InputError(
            f"cannot be read as GeoJSON, GeoPackage or shapefile ({detail}); "
            "give an LSOA boundary file in one of those formats",
            path=path,
        ) from None
    layers = [
        (n, list(i["fields"]))
        for n, i in infos
        if "polygon" in str(i["geometry_type"]).lower() or len(infos) == 1
    ]
    if not layers:
        raise InputError("has no polygon layer; give an LSOA polygon boundary file", path=path)
    coded = [(n, f) for n, f in layers if _find(f, _LSOA_CODE, code_column) is not None]
    return (coded or layers)[0]


def _read_polygons(
    source: str, path: Path, layer: str, columns: list[str], code: str, wanted: list[str] | None
) -> gpd.GeoDataFrame:
    """Read the layer, keeping only ``wanted`` codes while reading when the list is short."""
    where = None
    if wanted is not None and len(wanted) <= 5000:
        quoted = ",".join("'" + c.replace("'", "''") + "'" for c in wanted)  # SQL literals
        where = f'"{code}" IN ({quoted or "NULL"})'
    errors = (
        pyogrio.errors.DataSourceError,
        pyogrio.errors.DataLayerError,
        pyogrio.errors.FeatureError,
        pyogrio.errors.GeometryError,
    )
    try:
        try:
            return pyogrio.read_dataframe(source, layer=layer, columns=columns, where=where)
        except pyogrio.errors.DataLayerError:
            if where is None:
                raise
            return pyogrio.read_dataframe(source, layer=layer, columns=columns)  # no SQL here
    except errors as exc:
        raise InputError(
            f"cannot read the polygons ({str(exc).split(';')[0]}); download the file again",
            path=path,
        ) from None


def _crs(raw: gpd.GeoDataFrame, path: Path) -> CRS | str:
    """The file's CRS; a file without one is taken as lon/lat only if it looks like lon/lat."""
    if raw.crs is not None:
        return raw.crs
    x0, y0, x1, y1 = raw.total_bounds if len(raw) else (0, 0, 0, 0)
    if -180 <= x0 <= x1 <= 180 and -90 <= y0 <= y1 <= 90:
        _warn(
            "the file has no coordinate reference system; its coordinates look like "
            "longitude/latitude, so EPSG:4326 was assumed",
            path,
        )
        return WGS84
    raise InputError(
        "the file has no coordinate reference system and its coordinates are not longitude/"
        "latitude; save it with its CRS (for a shapefile, the .prj file beside it)",
        path=path,
    )


def _repair(frame: gpd.GeoDataFrame, path: Path) -> tuple[gpd.GeoDataFrame, list[str]]:
    """Repair invalid polygons with make_valid, keeping their polygonal parts."""
    bad = frame.geometry.notna() & ~frame.geometry.is_empty & ~frame.geometry.is_valid
    if not bad.any():
        return frame, []
    frame = frame.copy()
    frame.loc[bad, "geometry"] = [_polygonal(g) for g in shapely.make_valid(frame.geometry[bad])]
    codes = [str(c) for c in frame.index[bad]]
    _warn(f"{len(codes)} invalid polygons ({_few(codes)}) were repaired with make_valid", path)
    return frame, codes


def _polygonal(geom: shapely.Geometry) -> shapely.Geometry:
    if geom.geom_type in _POLYGONS:
        return geom
    parts = [p for p in shapely.get_parts(geom) if p.geom_type in _POLYGONS]
    return shapely.union_all(parts) if parts else shapely.Polygon()


# ---------------------------------------------------------------------------------- tables


def read_lookup(spec: LookupSpec) -> pd.DataFrame:
    """Read the LSOA → district → partnership lookup (CSV, optionally gzipped).

    Columns are detected unless ``spec`` names them: the LSOA code (``lsoa11_code``,
    ``LSOA21CD`` ...); the district, preferring the *oldest* district code present
    (``ltla19_code`` before ``ltla22_code``: Thames Valley partnerships follow the 2019
    districts, e.g. Buckinghamshire's four); its name; the partnership (``csp24_name``).

    Returns
    -------
    DataFrame
        Indexed by ``lsoa``: ``name`` (LSOA name), ``district``, ``district_name``,
        ``partnership`` (NA where the file has none); ``attrs["vintage"]``.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "lookup.csv"
    >>> _ = path.write_text("LSOA21CD,LAD22CD,LAD19CD,LAD19NM\\n"
    ...                     "E01000001,E09000001,E09000001,City of London\\n")
    >>> lookup = read_lookup(LookupSpec(path=path))
    >>> lookup.loc["E01000001", "district_name"], lookup.attrs["vintage"]
    ('City of London', '2021')
    """
    path = Path(spec.path)
    raw = _read_csv(path, "lookup", "geography.lookup.path")
    cols = list(raw.columns)
    code = _column(cols, _LSOA_CODE, spec.lsoa_column, path, "LSOA code", "lsoa_column")
    district = spec.district_column or _dated(cols, _DISTRICT, oldest=True, plain=_DISTRICT_PLAIN)
    district = _column(cols, (), district, path, "district code", "district_column")
    dname = spec.district_name_column or _district_name_column(cols, district)
    dname = _column(cols, (), dname, path, "district name", "district_name_column", need=False)
    part = spec.partnership_column or _dated(cols, _PARTNERSHIP, plain=_PARTNERSHIP_PLAIN)
    part = _column(cols, (), part, path, "partnership", "partnership_column", need=False)
    chosen = {
        "name": _find(cols, _LSOA_NAME[:2], None),
        "district": district,
        "district_name": dname,
        "partnership": part,
    }
    out = pd.DataFrame({k: raw[c] if c else "" for k, c in chosen.items()}).astype("string")
    out = out.apply(lambda column: column.str.strip()).replace("", pd.NA)
    out.index = pd.Index(raw[code].str.strip(), name="lsoa")
    blank = np.asarray(out.index == "")
    repeated = out.reset_index().duplicated().to_numpy() & ~blank
    if blank.any() or repeated.any():
        counts = (
            (blank.sum(), f"rows without an LSOA code in '{code}'"),
            (repeated.sum(), "repeated rows"),
        )
        _warn(" and ".join(f"{n} {what}" for n, what in counts if n) + " are not used", path)
        out = out[~blank & ~repeated]
    clash = out.index[out.index.duplicated()].unique()
    if len(clash):
        raise InputError(
            f"{len(clash)} LSOAs appear on several rows with different districts "
            f"({_few(clash)}); a lookup has one row per LSOA",
            path=path,
        )
    no_district = out.index[out["district"].isna()]
    if len(no_district):
        _warn(f"{len(no_district)} LSOAs have no district ({_few(no_district)})", path)
    out.attrs.update(vintage=_vintage_of(code), path=str(path))
    return out


def read_population(spec: TableSpec) -> pd.Series:
    """LSOA population (float, index ``lsoa``, ``attrs["vintage"]``) for one year.

    A table with several years (a ``mid_year`` or ``year`` column) needs ``spec.year``.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "pop.csv"
    >>> _ = path.write_text("lsoa11_code,mid_year,total_population\\n"
    ...                     "E01000001,2019,1500\\nE01000001,2020,1510\\n")
    >>> read_population(TableSpec(path=path, year=2019)).to_dict()
    {'E01000001': 1500.0}
    """
    return _read_values(spec, "population")


def read_households(spec: TableSpec) -> pd.Series:
    """LSOA households (float, index ``lsoa``, ``attrs["vintage"]``); see :func:`read_population`.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "hh.csv"
    >>> _ = path.write_text("LSOA Code,Households\\nE01000001,\\"1,205\\"\\n")
    >>> read_households(TableSpec(path=path)).to_dict()
    {'E01000001': 1205.0}
    """
    return _read_values(spec, "households")


def read_deprivation(spec: TableSpec) -> pd.Series:
    """Index of Multiple Deprivation decile per LSOA (Int64, 1 = most deprived 10%).

    Examples
    --------
    >>> import tempfile, pathlib
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "imd.csv"
    >>> _ = path.write_text("lsoa11_code,IMD_decile\\nE01000001,9\\n")
    >>> read_deprivation(TableSpec(path=path)).tolist()
    [9]
    """
    return _read_values(spec, "imd_decile")


def _read_values(spec: TableSpec, what: str) -> pd.Series:
    path = Path(spec.path)
    key = "deprivation" if what == "imd_decile" else what
    raw = _read_csv(path, key, f"geography.{key}.path")
    cols = list(raw.columns)
    code = _column(cols, _LSOA_CODE, spec.code_column, path, "LSOA code", "code_column")
    value = _column(cols, _VALUES[what], spec.value_column, path, key, "value_column")
    year_col = _column(cols, _YEAR, spec.year_column, path, "year", "year_column", need=False)
    if year_col is not None:
        years = raw[year_col].str.strip().str[:4]
        found = ", ".join(sorted(set(years) - {""}))
        if spec.year is not None and not (years == str(spec.year)).any():
            raise InputError(
                f"has no rows for year {spec.year} in '{year_col}' (years: {found}); "
                "set 'year' to one of them",
                path=path,
            )
        if spec.year is None and years.nunique() > 1:
            raise InputError(
                f"holds several years in '{year_col}' ({found}); set 'year' to choose one",
                path=path,
            )
        raw = raw if spec.year is None else raw[years == str(spec.year)]
    elif spec.year is not None:
        raise InputError(
            f"'year: {spec.year}' is set but no year column was found (columns: "
            f"{', '.join(cols)}); set 'year_column'",
            path=path,
        )
    text = raw[value].str.strip().str.replace(",", "", regex=False)
    numbers = pd.to_numeric(text.mask(text == ""), errors="coerce").astype(float)
    bad = numbers.isna() & (text != "")
    if what == "imd_decile":
        bad |= numbers.notna() & ~numbers.isin(range(1, 11))
    elif not bad.any():
        bad = numbers < 0
    if bad.any():
        rows = ", ".join(str(r + 2) for r in raw.index[bad][:3])  # header is file row 1
        allowed = "a whole number 1-10" if what == "imd_decile" else "a number, zero or more"
        raise InputError(
            f"column '{value}' is not {allowed} on row(s) {rows} (e.g. "
            f"'{text[bad].iloc[0]}'); correct the cells",
            path=path,
        )
    series = pd.Series(numbers.to_numpy(), index=pd.Index(raw[code].str.strip(), name="lsoa"))
    series = series[series.index != ""].rename(what)
    if not series.index.is_unique:
        dup = series.index[series.index.duplicated()].unique()
        hint = "set 'year'" if year_col and spec.year is None else "keep one row per LSOA"
        raise InputError(f"{len(dup)} LSOAs appear more than once ({_few(dup)}); {hint}", path=path)
    if series.isna().any():
        blank = series.index[series.isna()]
        _warn(f"{len(blank)} LSOAs have a blank '{value}' ({_few(blank)}): unknown, not 0", path)
    series.index = series.index.astype("string")
    series = series.astype("Int64") if what == "imd_decile" else series
    series.attrs.update(vintage=_vintage_of(code), path=str(path))
    return series


def _read_csv(path: Path, what: str, key: str) -> pd.DataFrame:
    if not path.is_file():
        raise InputError(f"{what} file not found; check {key}", path=path)
    if path.suffix.lower() in {".xlsx", ".xls", ".ods"}:
        raise InputError(f"the {what} must be a CSV file; save the sheet as CSV UTF-8", path=path)
    for encoding in ("utf-8-sig", "cp1252"):  # ONS files are UTF-8; Excel exports often not
        try:
            frame = pd.read_csv(path, dtype=str, keep_default_na=False, encoding=encoding)
        except UnicodeDecodeError:
            continue
        except pd.errors.EmptyDataError:
            raise InputError(f"the {what} file is empty", path=path) from None
        except pd.errors.ParserError as exc:
            raise InputError(
                f"is not a valid CSV table ({str(exc).strip()}); save it again as CSV", path=path
            ) from None
        except (EOFError, OSError, zlib.error) as exc:
            raise InputError(
                f"cannot read the {what} file ({type(exc).__name__}); it may be "
                "incomplete: download it again",
                path=path,
            ) from None
        frame.columns = [str(c).strip() for c in frame.columns]
        return frame
    raise AssertionError("unreachable: cp1252 decodes any byte")  # pragma: no cover


# --------------------------------------------------------------------------- column names


def _norm(column: str) -> str:
    return re.sub(r"[^a-z0-9]+", "_", str(column).lower()).strip("_")


def _find(columns: Iterable[str], patterns: Iterable[str], given: str | None) -> str | None:
    """``given`` if it is a column, else the first column (in pattern order) that matches."""
    columns = list(columns)
    if given is not None:
        return given if given in columns else None
    for pattern in patterns:
        for column in columns:
            if re.fullmatch(pattern, _norm(column)):
                return column
    return None


def _column(
    columns: list[str],
    patterns: Iterable[str],
    given: str | None,
    path: Path,
    what: str,
    key: str,
    *,
    need: bool = True,
) -> str | None:
    """The column for ``what``: ``given`` (which must exist) or detected by ``patterns``."""
    found = _find(columns, patterns, given)
    if found is not None or (given is None and not need):
        return found
    told = f"'{given}' is not a column" if given else f"no {what} column was found"
    raise InputError(
        f"{told} (columns: {', '.join(columns)}); set '{key}' to the column holding the {what}",
        path=path,
    )


def _dated(
    columns: list[str], pattern: str, *, oldest: bool = False, plain: Iterable[str] = ()
) -> str | None:
    """The oldest (or newest) column matching a dated ``pattern``, e.g. ltla19_code."""
    dated = [(int(m[1][-2:]), c) for c in columns if (m := re.fullmatch(pattern, _norm(c)))]
    if dated:
        return (min if oldest else max)(dated)[1]
    return _find(columns, plain, None)


def _district_name_column(columns: list[str], district: str) -> str | None:
    """The name beside a district code: ltla19_code -> ltla19_name, LAD19CD -> LAD19NM."""
    stem = re.escape(re.sub(rf"{_CODE}$", "", _norm(district)))
    return _find(columns, [stem + _NAME, *_DISTRICT_NAME_PLAIN], None)


def _vintage_of(column: str | None) -> Vintage | None:
    """The vintage a code column's name states: lsoa11_code -> 2011, LSOA21CD -> 2021."""
    m = re.fullmatch(r"lsoa_?(?:\D*_)?(?:20)?(11|21)(?:_?\D*)?", _norm(column or ""))
    return None if m is None else ("2011" if m[1] == "11" else "2021")


# ------------------------------------------------------------------------------- vintages


def vintage_weights(
    lookup: pd.DataFrame,
    source: Vintage,
    target: Vintage,
    *,
    target_polygons: gpd.GeoSeries | None = None,
    source_polygons: gpd.GeoSeries | None = None,
) -> pd.DataFrame:
    """Share of each ``source``-vintage LSOA that lies in each ``target``-vintage LSOA.

    A source LSOA's shares sum to 1. With one counterpart the share is 1; with several
    (a split), the shares are areas of intersection when both vintages' polygons are
    given, the counterparts' own areas (which tile the source) when only
    ``target_polygons`` are, and equal otherwise.

    Returns
    -------
    DataFrame
        Columns ``source``, ``target``, ``weight``.

    >>> lookup = pd.DataFrame({"lsoa11_code": ["A", "B", "B"], "lsoa21_code": ["A", "B1", "B2"],
    ...                        "change_code": ["U", "S", "S"]})
    >>> vintage_weights(lookup, "2011", "2021")["weight"].tolist()
    [1.0, 0.5, 0.5]
    """
    columns = ["lsoa11_code", "lsoa21_code"] if source == "2011" else ["lsoa21_code", "lsoa11_code"]
    pairs = lookup[columns].drop_duplicates().set_axis(["source", "target"], axis=1)
    pairs = pairs.sort_values(["source", "target"], ignore_index=True)
    n = pairs.groupby("source")["target"].transform("size")
    pairs["weight"] = 1.0 / n
    split = pairs[n > 1]
    if target_polygons is not None and len(split):
        parts = target_polygons.reindex(split["target"]).to_numpy()
        if source_polygons is not None:
            whole = source_polygons.reindex(split["source"]).to_numpy()
            parts = shapely.intersection(whole, parts)
        area = pd.Series(shapely.area(parts), index=split.index)
        total = area.groupby(split["source"]).transform("sum")
        known = area.notna().groupby(split["source"]).transform("all") & (total > 0)
        pairs.loc[known[known].index, "weight"] = (area / total)[known]
    return pairs


def counts_to_vintage(
    values: pd.Series,
    source: Vintage,
    target: Vintage,
    lookup: pd.DataFrame,
    *,
    target_polygons: gpd.GeoSeries | None = None,
    source_polygons: gpd.GeoSeries | None = None,
) -> pd.Series:
    """Map counts (population, households) from ``source`` LSOAs to ``target`` LSOAs.

    Merged LSOAs are summed and split ones apportioned (:func:`vintage_weights`), so
    totals are kept; a target with any unknown part is NaN, never a partial sum.

    >>> lookup = pd.DataFrame({"lsoa11_code": ["A", "B", "C"], "lsoa21_code": ["A", "BC", "BC"],
    ...                        "change_code": ["U", "M", "M"]})
    >>> values = pd.Series({"A": 10.0, "B": 5.0, "C": 7.0})
    >>> counts_to_vintage(values, "2011", "2021", lookup).to_dict()
    {'A': 10.0, 'BC': 12.0}
    """
    if source == target:
        return values
    w = vintage_weights(
        lookup, source, target, target_polygons=target_polygons, source_polygons=source_polygons
    )
    w = w[w["target"].isin(w.loc[w["source"].isin(values.index), "target"])]  # absent part: NaN
    part = values.reindex(w["source"]).to_numpy(dtype=float) * w["weight"].to_numpy()
    grouped = pd.Series(part, index=pd.Index(w["target"], name="lsoa")).groupby(level=0)
    out = grouped.sum().where(grouped.count() == grouped.size()).rename(values.name)
    out.attrs = {**values.attrs, "vintage": target}
    return out


def deciles_to_vintage(
    deciles: pd.Series,
    source: Vintage,
    target: Vintage,
    lookup: pd.DataFrame,
    *,
    population: pd.Series | None = None,
) -> pd.Series:
    """Map deprivation deciles from ``source`` LSOAs to ``target`` LSOAs.

    A target made from one source LSOA keeps its decile (unchanged, or a child of a
    split); one made from several takes their mean decile weighted by ``population``
    (of the source vintage; equal weights where unknown), rounded half up, and is listed
    in ``attrs["imd_decile_approximate"]``: it is not an official figure.

    >>> lookup = pd.DataFrame({"lsoa11_code": ["A", "B", "C"], "lsoa21_code": ["A", "BC", "BC"],
    ...                        "change_code": ["U", "M", "M"]})
    >>> deciles = pd.Series({"A": 3, "B": 2, "C": 9}, dtype="Int64")
    >>> out = deciles_to_vintage(deciles, "2011", "2021", lookup,
    ...                          population=pd.Series({"B": 100.0, "C": 300.0}))
    >>> out.to_dict(), out.attrs["imd_decile_approximate"]
    ({'A': 3, 'BC': 7}, ['BC'])
    """
    if source == target:
        return deciles
    w = vintage_weights(lookup, source, target)
    w = w[w["target"].isin(w.loc[w["source"].isin(deciles.index), "target"])].copy()
    w["decile"] = deciles.reindex(w["source"]).to_numpy(dtype=float, na_value=np.nan)
    people = 1.0 if population is None else population.reindex(w["source"]).to_numpy(float)
    w["pw"] = w["weight"] * people
    unknown = w["pw"].isna().groupby(w["target"]).transform("any")
    w.loc[unknown, "pw"] = w.loc[unknown, "weight"]
    g = w.assign(dw=w["decile"] * w["pw"]).groupby("target")
    mean = (g["dw"].sum() / g["pw"].sum()).where(g["decile"].count() == g.size())
    out = np.floor(mean + 0.5).astype("Int64").rename(deciles.name).rename_axis("lsoa")
    several = g["source"].size()
    out.attrs = {
        **deciles.attrs,
        "vintage": target,
        "imd_decile_approximate": sorted(several.index[several > 1]),
    }
    return out


def _lookup_to_vintage(
    lookup: pd.DataFrame, source: Vintage, target: Vintage, vlookup: pd.DataFrame, path: Path
) -> pd.DataFrame:
    """Give each ``target``-vintage LSOA the district of the counterpart with the largest share."""
    w = vintage_weights(vlookup, source, target)
    w = w[w["source"].isin(lookup.index)]
    w = w.sort_values(["target", "weight", "source"], ascending=[True, False, True])
    rows = lookup.reindex(w["source"]).set_axis(pd.Index(w["target"], name="lsoa"))
    n_districts = rows["district"].groupby(level=0).nunique()
    mixed = n_districts.index[n_districts > 1]
    if len(mixed):
        _warn(
            f"{len(mixed)} {target} LSOAs ({_few(mixed)}) join {source} LSOAs of different "
            "districts; each takes the district of its largest part",
            path,
        )
    out = rows[~rows.index.duplicated()].assign(name=pd.NA).astype("string")
    out.attrs = {**lookup.attrs, "vintage": target}
    return out


def _table_vintage(
    table: pd.Series | pd.DataFrame,
    analysis: Vintage,
    vlookup: pd.DataFrame | None,
    path: Path,
    what: str,
) -> Vintage:
    """A table's vintage: stated by its code column, else told by its codes, else the analysis'."""
    found = table.attrs.get("vintage")
    if found is None and vlookup is not None:
        try:
            found = detect_vintage(pd.Series(table.index), vlookup)
        except InputError as exc:
            raise InputError(exc.message, path=path) from None
    if found is not None and found != analysis and vlookup is None:
        raise InputError(
            f"the {what} uses {found} LSOA codes but the analysis uses {analysis}; add "
            "'geography.vintage_lookup' (the ONS LSOA 2011 to 2021 lookup) to map them",
            path=path,
        )
    return found or analysis


# ---------------------------------------------------------------------------- partnership


def partnership_lsoas(
    lookup: pd.DataFrame, districts: Iterable[str] = (), lsoas: Iterable[str] = ()
) -> pd.Index:
    """The partnership's LSOAs: all LSOAs of ``districts`` (codes, or names in any case)
    and the ``lsoas`` listed, as a sorted Index named ``lsoa``.

    >>> lookup = pd.DataFrame({"district": ["E07000179", "E07000180", "E06000038"],
    ...                        "district_name": ["South Oxfordshire", "Vale of White Horse",
    ...                                          "Reading"]},
    ...                       index=pd.Index(["A", "B", "C"], name="lsoa"))
    >>> partnership_lsoas(lookup, ["E07000179", "vale of white horse"]).tolist()
    ['A', 'B']
    """
    path = lookup.attrs.get("path")
    districts = [districts] if isinstance(districts, str) else list(districts)
    lsoas = [lsoas] if isinstance(lsoas, str) else list(lsoas)
    codes = lookup["district"].astype("string").str.upper().fillna("")
    names = lookup["district_name"].astype("string").str.casefold().fillna("")
    chosen = np.zeros(len(lookup), dtype=bool)
    unknown = []
    for d in (str(d).strip() for d in districts):
        hit = ((codes == d.upper()) | (names == d.casefold())).to_numpy(dtype=bool)
        unknown += [] if hit.any() else [repr(d)]
        chosen |= hit
    if unknown:
        valid = lookup.dropna(subset=["district"]).drop_duplicates("district")
        valid = valid.sort_values("district")[["district", "district_name"]]
        some = ", ".join(f"{c} ({n})" for c, n in valid.head(6).fillna("?").to_numpy())
        raise InputError(
            f"district {', '.join(unknown)} is not in the lookup; give district codes or names "
            f"as the lookup has them, e.g. {some} ({len(valid)} districts in all)",
            path=path,
        )
    extra = pd.Index([str(c).strip() for c in lsoas], dtype="string")
    missing = extra[~extra.isin(lookup.index)]
    if len(missing):
        raise InputError(
            f"LSOA {_few(missing)} is not in the lookup; give LSOA codes of the "
            f"analysis vintage, e.g. {_few(lookup.index[:3])}",
            path=path,
        )
    result = lookup.index[chosen].astype("string").union(extra).unique().sort_values()
    if result.empty:
        raise InputError("the partnership has no LSOAs; give its districts or LSOAs", path=path)
    return result.rename("lsoa")


def build_areas(
    geography: Geography,
    *,
    districts: Iterable[str] = (),
    lsoas: Iterable[str] = (),
    vintage: Vintage = "2011",
    partnership: str,
) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame]:
    """The partnership's Areas frame and its boundary, in the analysis ``vintage``.

    Parameters
    ----------
    geography
        The parameter file's ``geography`` section.
    districts, lsoas
        The partnership: district codes or names (all their LSOAs) and/or LSOA codes.
    vintage
        The analysis vintage, ``"2011"`` or ``"2021"``.
    partnership
        The partnership's name, put in every row's ``partnership`` and the boundary.

    Returns
    -------
    areas, boundary
        ``areas`` has :data:`~cspanalysis.data.schema.AREA_COLUMNS`, indexed by ``lsoa``,
        with ``attrs`` ``vintage``, ``repaired`` and ``imd_decile_approximate``;
        ``boundary`` is one row (``name``, ``geometry``), the union of the polygons.
        Both in EPSG:27700. The module docstring has an example.
    """
    vl = read_vintage_lookup(geography.vintage_lookup) if geography.vintage_lookup else None
    path = Path(geography.lookup.path)
    lookup = read_lookup(geography.lookup)
    lookup_vintage = _table_vintage(lookup, vintage, vl, path, "lookup")
    if lookup_vintage != vintage:
        lookup = _lookup_to_vintage(lookup, lookup_vintage, vintage, vl, path)
    wanted = partnership_lsoas(lookup, districts, lsoas)

    readers = {
        "population": read_population,
        "households": read_households,
        "deprivation": read_deprivation,
    }
    tables: dict[str, tuple[pd.Series, Vintage]] = {}
    for key, reader in readers.items():
        spec = getattr(geography, key)
        if spec is not None:
            table = reader(spec)
            tables[key] = table, _table_vintage(table, vintage, vl, Path(spec.path), f"{key} table")

    need = wanted  # with the siblings of split LSOAs, whose areas apportion counts
    if vl is not None and any(v != vintage for _, v in tables.values()):
        here, other = (
            ("lsoa11_code", "lsoa21_code") if vintage == "2011" else ("lsoa21_code", "lsoa11_code")
        )
        parents = vl.loc[vl[here].isin(wanted), other]
        need = need.union(pd.Index(vl.loc[vl[other].isin(parents), here], dtype="string"))
    spec = geography.boundaries
    bounds = read_boundaries(
        spec.path, code_column=spec.code_column, name_column=spec.name_column, lsoas=need
    )
    found = bounds.attrs["vintage"]
    if found is not None and found != vintage:
        raise InputError(
            f"the boundaries are {found} LSOAs but the analysis uses {vintage}; polygons cannot "
            f"be split or merged, so use an LSOA {vintage} boundary file (or set vintage: "
            f'"{found}")',
            path=spec.path,
        )
    missing = wanted[~wanted.isin(bounds.index)]
    if len(missing):
        raise InputError(
            f"{len(missing)} of the partnership's {len(wanted)} LSOAs have no polygon "
            f"({_few(missing)}); use a boundary file of {vintage} LSOAs covering the partnership",
            path=spec.path,
        )

    areas = bounds.loc[wanted].copy()
    areas["name"] = areas["name"].fillna(lookup["name"].reindex(wanted))
    areas[["district", "district_name"]] = lookup[["district", "district_name"]].reindex(wanted)
    areas["partnership"] = pd.Series(partnership, index=wanted, dtype="string")
    for key in ("population", "households"):
        mapped = pd.Series(np.nan, index=wanted)
        if key in tables:
            table, found = tables[key]
            mapped = counts_to_vintage(table, found, vintage, vl, target_polygons=bounds.geometry)
        areas[key] = mapped.reindex(wanted).to_numpy(dtype=float)
    approximate: list[str] = []
    areas["imd_decile"] = pd.Series(pd.NA, index=wanted, dtype="Int64")
    if "deprivation" in tables:
        table, found = tables["deprivation"]
        pop, pop_vintage = tables.get("population", (None, None))
        people = pop if pop_vintage == found else None
        mapped = deciles_to_vintage(table, found, vintage, vl, population=people)
        areas["imd_decile"] = mapped.reindex(wanted).astype("Int64").array
        approximate = [c for c in mapped.attrs.get("imd_decile_approximate", []) if c in wanted]
    for key, column in (("population",) * 2, ("households",) * 2, ("deprivation", "imd_decile")):
        unknown = areas.index[areas[column].isna()]
        if key in tables and len(unknown):
            _warn(
                f"{len(unknown)} of the partnership's LSOAs have no {column.replace('_', ' ')} "
                f"({_few(unknown)}); left unknown (NaN), not 0",
                getattr(geography, key).path,
            )

    areas = gpd.GeoDataFrame(areas[list(AREA_COLUMNS)], geometry="geometry", crs=BNG)
    areas.attrs = {
        "vintage": vintage,
        "imd_decile_approximate": approximate,
        "repaired": [c for c in bounds.attrs["repaired"] if c in wanted],
    }
    union = _polygonal(shapely.make_valid(shapely.union_all(areas.geometry.dropna().to_numpy())))
    boundary = gpd.GeoDataFrame(
        {"name": pd.array([partnership], dtype="string")}, geometry=[union], crs=BNG
    )
    return areas, boundary


# -------------------------------------------------------------------------------- messages


def _few(codes: Iterable[object], n: int = 5) -> str:
    """'A, B, C, D, E, ...': at most ``n`` codes for a message."""
    codes = [str(c) for c in codes]
    return ", ".join(codes[:n]) + (", ..." if len(codes) > n else "")


def _warn(message: str, path: Path | str | None) -> None:
    """Warn, attributing the warning to the first caller outside this module."""
    level, frame = 2, sys._getframe(1)
    while frame is not None and frame.f_globals.get("__name__") == __name__:
        level, frame = level + 1, frame.f_back
    warnings.warn(f"{display_path(path)}: {message}", DataQualityWarning, stacklevel=level)
