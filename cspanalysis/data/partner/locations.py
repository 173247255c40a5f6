"""Locations of partner rows: LSOA codes, points in EPSG:27700, and LSOA vintage mapping."""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd

from cspanalysis.data.partner.fields import _bad, _text
from cspanalysis.data.partner.messages import _rows, _warn
from cspanalysis.data.schema import BNG, WGS84
from cspanalysis.data.vintages import Vintage, detect_vintage, map_lsoa_codes
from cspanalysis.errors import InputError

_LSOA_RE = r"[EWX]01\d{6}"
# Great Britain, generously (Scilly and St Kilda to Shetland); 0, 0 is a placeholder, not a place
_GB_LONLAT = (-8.9, 49.8, 2.0, 61.0)
_GB_BNG = (1.0, 1.0, 700_000.0, 1_300_000.0)


def _parse_lsoa(cells: pd.DataFrame, path: Path) -> pd.Series:
    codes = _text(cells, "lsoa").str.upper()
    bad = codes.notna() & ~codes.str.fullmatch(_LSOA_RE).fillna(False).astype(bool)
    if bad.any():
        fix = "use codes like E01000001 (E01 or W01 and six digits)"
        raise _bad(bad, cells, "lsoa", path, "is not an LSOA code", fix)
    return codes


def _parse_points(cells: pd.DataFrame, path: Path) -> tuple[gpd.GeoSeries, np.ndarray]:
    """Points in EPSG:27700 (None without usable coordinates) and a mask of rows with bad ones.

    A row giving both pairs uses easting/northing (warning when they are over 100 m apart).
    """
    index = cells.index
    x = pd.Series(np.nan, index=index)
    y = pd.Series(np.nan, index=index)
    bad = pd.Series(False, index=index)
    swapped = pd.Series(False, index=index)
    for xf, yf, box in (("easting", "northing", _GB_BNG), ("longitude", "latitude", _GB_LONLAT)):
        if xf not in cells:
            continue
        xs, ys = _number(cells, xf, path), _number(cells, yf, path)
        given = xs.notna() | ys.notna()
        inside = xs.between(box[0], box[2]) & ys.between(box[1], box[3])
        bad |= given & ~inside
        if xf == "longitude":
            swapped |= given & ys.between(box[0], box[2]) & xs.between(box[1], box[3])
        if not inside.any():
            continue
        if xf == "longitude":
            pts = gpd.GeoSeries(
                gpd.points_from_xy(xs[inside], ys[inside]), index=xs.index[inside], crs=WGS84
            ).to_crs(BNG)
            xs, ys = pts.x.reindex(index), pts.y.reindex(index)
            both = inside & x.notna()
            far = both & (np.hypot(x - xs, y - ys) > 100)
            if far.any():
                _warn(
                    f"{_rows(far)} give longitude/latitude more than 100 m from their "
                    "easting/northing; easting/northing are used",
                    path,
                )
        use = inside & x.isna()
        x[use], y[use] = xs[use], ys[use]
    located = x.notna()
    bad &= ~located  # a row with one good pair and one bad pair keeps the good one
    if bad.any():
        hint = "; latitude and longitude look swapped" if (bad & swapped).any() else ""
        _warn(
            f"{_rows(bad)} have coordinates outside Great Britain or only half a coordinate "
            f"pair{hint}; they are kept without a point",
            path,
        )
    geometry = gpd.GeoSeries([None] * len(index), index=index, crs=BNG)
    if located.any():
        geometry[located] = gpd.points_from_xy(x[located], y[located], crs=BNG)
    return geometry, bad.to_numpy()


def _number(cells: pd.DataFrame, field: str, path: Path) -> pd.Series:
    text = cells[field].str.strip()
    number = pd.to_numeric(text.mask(text == ""), errors="coerce").astype(float)
    bad = (text != "") & ~np.isfinite(number)
    if bad.any():
        fix = "give coordinates as plain numbers, or leave both cells blank"
        raise _bad(bad, cells, field, path, "is not a number", fix)
    return number


def _map_vintage(
    codes: pd.Series,
    points: gpd.GeoSeries,
    path: Path,
    vintage: Vintage,
    source_vintage: Vintage | None,
    lookup: pd.DataFrame | None,
    boundaries: gpd.GeoDataFrame | None,
    weights: pd.Series | None,
) -> pd.DataFrame:
    try:
        if source_vintage is None and lookup is not None and codes.notna().any():
            source_vintage = detect_vintage(codes, lookup)
        source = source_vintage or vintage
        mapped = map_lsoa_codes(
            codes, source, vintage, lookup, points=points, boundaries=boundaries, weights=weights
        )
    except InputError as exc:
        raise InputError(exc.message, path=path) from None
    if source != vintage:
        how = mapped["how"]
        unknown = how == "unknown"
        if unknown.any():
            example = codes[unknown].iloc[0]
            _warn(
                f"{_rows(unknown)} have {source} LSOA codes the ONS lookup does not know "
                f"(e.g. '{example}'); their {vintage} LSOA is left blank",
                path,
            )
        assigned = how == "assigned"
        if assigned.any():
            rule = "the largest weight" if weights is not None else "the lowest code"
            _warn(
                f"{_rows(assigned)} have a {source} LSOA that became several {vintage} LSOAs "
                f"and no point to choose between them; each was given the one with {rule}",
                path,
            )
    return mapped
