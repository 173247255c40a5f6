"""Writing the demo in the real formats, byte for byte reproducibly.

police.uk street files keep police.uk's 12 columns, CRLF line ends, 6-decimal
coordinates, "No Location" rows at the end of each month and blank Crime IDs
for anti-social behaviour. ONS-style tables and GeoJSON (EPSG:4326, 7
decimals, no timestamps) follow the files in ``../shared/data``. Floats are
formatted explicitly and gzip headers carry no time, so the same inputs give
the same bytes on every run.
"""

from __future__ import annotations

import gzip
import io
import json
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
from shapely.geometry import mapping

from cspanalysis.data.demo import parameters as planted
from cspanalysis.data.demo.landscape import Landscape
from cspanalysis.data.policeuk import STREET_COLUMNS


def write_police_uk(
    folder: Path, land: Landscape, rows: pd.DataFrame, months: pd.PeriodIndex
) -> list[Path]:
    """Write ``YYYY-MM/YYYY-MM-<force>-street.csv`` for every month; return the paths."""
    pts = land.points
    codes = land.lsoas.index.to_numpy()[pts["lsoa"].to_numpy()]
    names = land.lsoas["name"].to_numpy()[pts["lsoa"].to_numpy()]
    # the five columns a snap point decides: Longitude .. LSOA name
    where = np.array(
        [
            f"{lon:.6f},{lat:.6f},{loc},{code},{name}"
            for lon, lat, loc, code, name in zip(
                pts["lon"], pts["lat"], pts["location"], codes, names, strict=True
            )
        ]
        + [",,No Location,,"],
        dtype=object,
    )
    force = planted.FORCE_NAME
    header = ",".join(STREET_COLUMNS)
    paths = []
    month_of_row = rows["month"].to_numpy()
    point = rows["point"].to_numpy()
    for m, month in enumerate(months):
        sel = month_of_row == m
        text = [header]
        text += [
            f"{cid},{month},{force},{force},{place},{ctype},{outcome},"
            for cid, place, ctype, outcome in zip(
                rows["crime_id"].to_numpy()[sel],
                where[point[sel]],
                rows["crime_type"].to_numpy()[sel],
                rows["outcome"].to_numpy()[sel],
                strict=True,
            )
        ]
        path = folder / f"{month}" / f"{month}-{planted.FORCE_SLUG}-street.csv"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(("\r\n".join(text) + "\r\n").encode("utf-8"))
        paths.append(path)
    return paths


def write_csv(path: Path, frame: pd.DataFrame) -> Path:
    """A plain UTF-8 CSV (LF line ends), floats as given by the frame's strings."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", encoding="utf-8", newline="") as fh:
        frame.to_csv(fh, index=False, lineterminator="\n")
    return path


def write_csv_gz(path: Path, frame: pd.DataFrame) -> Path:
    """A gzipped CSV whose bytes do not depend on the time it was written."""
    path.parent.mkdir(parents=True, exist_ok=True)
    buffer = io.StringIO()
    frame.to_csv(buffer, index=False, lineterminator="\n")
    with (
        open(path, "wb") as raw,
        gzip.GzipFile(filename="", mode="wb", fileobj=raw, mtime=0, compresslevel=6) as gz,
    ):
        gz.write(buffer.getvalue().encode("utf-8"))
    return path


def write_geojson(path: Path, frame: gpd.GeoDataFrame, name: str) -> Path:
    """A GeoJSON FeatureCollection in EPSG:4326 with coordinates rounded to 7 decimals."""
    path.parent.mkdir(parents=True, exist_ok=True)
    wgs = frame.to_crs("EPSG:4326")
    props = [c for c in wgs.columns if c != wgs.geometry.name]
    features = []
    for _, row in wgs.iterrows():
        geom = mapping(row.geometry)
        geom = {"type": geom["type"], "coordinates": _round(geom["coordinates"], 7)}
        features.append(
            {"type": "Feature", "properties": {c: _plain(row[c]) for c in props}, "geometry": geom}
        )
    doc = {"type": "FeatureCollection", "name": name, "features": features}
    path.write_text(json.dumps(doc, separators=(",", ":")) + "\n", encoding="utf-8")
    return path


def write_json(path: Path, obj: Any) -> Path:
    """Indented JSON with keys in the order given."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(obj, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    return path


def _round(coords: Any, digits: int) -> Any:
    if isinstance(coords, (int, float)):
        return round(float(coords), digits)
    return [_round(c, digits) for c in coords]


def _plain(value: Any) -> Any:
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, np.floating):
        return float(value)
    return value
