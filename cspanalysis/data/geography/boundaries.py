"""LSOA boundary files: reading polygons, their CRS, and repairing invalid ones."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pyogrio
import shapely
from pyproj import CRS

from cspanalysis.data.geography._columns import _LSOA_CODE, _LSOA_NAME, _column, _find, _vintage_of
from cspanalysis.data.geography._messages import _few, _warn
from cspanalysis.data.schema import BNG, WGS84
from cspanalysis.data.vintages import Vintage
from cspanalysis.errors import InputError

_POLYGONS = ("Polygon", "MultiPolygon")


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
