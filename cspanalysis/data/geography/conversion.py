"""Moving tables between LSOA vintages (2011 <-> 2021): counts, deciles and the lookup."""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from cspanalysis.data.geography._messages import _few, _warn
from cspanalysis.data.vintages import Vintage, detect_vintage
from cspanalysis.errors import InputError


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
