"""The partnership's LSOAs, and its Areas frame and boundary in the analysis vintage."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from cspanalysis.config import Geography
from cspanalysis.data.geography._messages import _few, _warn
from cspanalysis.data.geography.boundaries import _polygonal, read_boundaries
from cspanalysis.data.geography.conversion import (
    _lookup_to_vintage,
    _table_vintage,
    counts_to_vintage,
    deciles_to_vintage,
)
from cspanalysis.data.geography.tables import (
    read_deprivation,
    read_households,
    read_lookup,
    read_population,
)
from cspanalysis.data.schema import AREA_COLUMNS, BNG
from cspanalysis.data.vintages import Vintage, read_vintage_lookup
from cspanalysis.errors import InputError

#: metres: sliver gaps narrower than twice this between LSOA polygons are closed in the boundary
BOUNDARY_CLOSING = 5.0


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
    # Generalised LSOA polygons do not meet exactly: their union is riddled with sliver gaps
    # (652 interior rings for Reading). A morphological closing of BOUNDARY_CLOSING metres
    # removes gaps narrower than twice that without moving the outline measurably.
    union = _polygonal(
        shapely.make_valid(
            union.buffer(BOUNDARY_CLOSING, join_style="mitre").buffer(
                -BOUNDARY_CLOSING, join_style="mitre"
            )
        )
    )
    boundary = gpd.GeoDataFrame(
        {"name": pd.array([partnership], dtype="string")}, geometry=[union], crs=BNG
    )
    return areas, boundary
