"""GeoPackage export of hotspot layers for QGIS, written all-or-nothing.

This is the one place in :mod:`cspanalysis.hotspots` that writes a file, and
only when the caller asks. Every layer goes into one GeoPackage; columns
GeoPackage cannot hold (periods, categoricals, pandas strings with NA) are
written as text.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pyogrio

from cspanalysis.errors import InputError
from cspanalysis.files import atomic_path


def _layer_frame(name: str, layer) -> gpd.GeoDataFrame:
    frame = layer
    for attr in ("cells", "areas"):
        if not isinstance(frame, gpd.GeoDataFrame) and hasattr(layer, attr):
            frame = getattr(layer, attr)
    if not isinstance(frame, gpd.GeoDataFrame):
        raise InputError(
            f"layer {name!r} is a {type(layer).__name__}, not a GeoDataFrame or a hotspot result"
        )
    if frame.crs is None:
        raise InputError(f"layer {name!r} has no CRS; set it before exporting")
    out = frame.copy()
    out.attrs = {}
    for col in out.columns:
        if col == out.geometry.name:
            continue
        dtype = out[col].dtype
        if isinstance(dtype, pd.PeriodDtype | pd.CategoricalDtype) or dtype.kind == "O":
            out[col] = out[col].astype("string")
    if out.index.name and out.index.name not in out.columns:
        out = out.reset_index()
    return out


def to_geopackage(layers: Mapping[str, object], path: str | Path) -> Path:
    """Write layers (GeoDataFrames or hotspot results) to one GeoPackage, atomically.

    Parameters
    ----------
    layers
        ``{layer name: GeoDataFrame or result with .cells / .areas}``.
    path
        The ``.gpkg`` file to write (replaced if it exists).

    Examples
    --------
    >>> import tempfile, pathlib, geopandas as gpd
    >>> from shapely.geometry import box
    >>> from cspanalysis.hotspots.grid import grid
    >>> cells = grid(gpd.GeoSeries([box(0, 0, 300, 100)], crs=27700), 100)
    >>> out = to_geopackage({"cells": cells}, pathlib.Path(tempfile.mkdtemp()) / "h.gpkg")
    >>> [name for name, _ in pyogrio.list_layers(out)]
    ['cells']
    """
    if not layers:
        raise InputError("there are no layers to export")
    frames = {name: _layer_frame(name, layer) for name, layer in layers.items()}
    target = Path(path)
    with atomic_path(target) as tmp:
        tmp.unlink()
        with warnings.catch_warnings():
            # the temporary name ends in .part; it is renamed to path on success
            warnings.filterwarnings("ignore", message=".*file ?name extension|.*file extension")
            for name, frame in frames.items():
                pyogrio.write_dataframe(frame, tmp, layer=name, driver="GPKG", append=False)
    return target
