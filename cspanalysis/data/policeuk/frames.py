"""Building the Incidents and Coverage frames from parsed files, with LSOA vintage mapping."""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import shapely

from cspanalysis.data.policeuk.cache import _meta
from cspanalysis.data.policeuk.files import StreetFile
from cspanalysis.data.policeuk.messages import _rows, _warn
from cspanalysis.data.policeuk.parse import _CACHE_SCHEMA, _GB_LONLAT, _TEXT
from cspanalysis.data.schema import BNG, COVERAGE_COLUMNS, INCIDENT_COLUMNS, month_span
from cspanalysis.data.vintages import Vintage, detect_vintage, map_lsoa_codes, read_vintage_lookup
from cspanalysis.errors import InputError, display_path


def _lookup_frame(lookup: pd.DataFrame | str | Path | None) -> pd.DataFrame | None:
    if lookup is None or isinstance(lookup, pd.DataFrame):
        if lookup is not None and not {"lsoa11_code", "lsoa21_code", "change_code"} <= set(lookup):
            raise InputError(
                "the LSOA lookup frame needs columns lsoa11_code, lsoa21_code and change_code; "
                "read it with cspanalysis.data.vintages.read_vintage_lookup"
            )
        return lookup
    return read_vintage_lookup(lookup)


def _bng_boundaries(boundaries: gpd.GeoDataFrame | None) -> gpd.GeoDataFrame | None:
    if boundaries is None:
        return None
    if not isinstance(boundaries, gpd.GeoDataFrame) or boundaries.crs is None:
        raise InputError(
            "boundaries must be a GeoDataFrame with a CRS, indexed by LSOA code; set one with "
            ".set_crs('EPSG:4326') or .set_crs('EPSG:27700')"
        )
    return boundaries if boundaries.crs.to_epsg() == 27700 else boundaries.to_crs(BNG)


def _drop_duplicates(
    loaded: list[tuple[StreetFile, pa.Table, str]],
) -> list[tuple[StreetFile, pa.Table, str]]:
    """One file per force-month: identical copies are read once, different ones are an error.

    The third item of each result is the Coverage ``files`` text.
    """
    groups: dict[tuple[str, int], list[tuple[StreetFile, pa.Table, str]]] = {}
    for item in loaded:
        groups.setdefault((item[0].force, item[0].month.ordinal), []).append(item)
    kept, copies = [], []
    for group in groups.values():
        first, table, key = group[0]
        for other, other_table, other_key in group[1:]:
            if other_key != key and not other_table.equals(table):
                raise InputError(
                    f"{first.force} {first.month} is also in {display_path(other.display)}, with "
                    "different rows; keep only one of the two (of overlapping police.uk "
                    "archives, keep the latest)",
                    path=first.display,
                )
        if len(group) > 1:
            names = ", ".join(display_path(s.display) for s, _, _ in group)
            copies.append(f"{first.force} {first.month} ({names})")
        kept.append((first, table, "; ".join(s.name for s, _, _ in group)))
    if copies:
        _warn(
            f"{len(copies)} force-month(s) are in more than one file with identical rows and were "
            f"read once: {'; '.join(copies[:5])}{'; ...' if len(copies) > 5 else ''}",
            None,
        )
    return kept


def _warn_file(street: StreetFile, table: pa.Table) -> None:
    """The data-quality warnings of one file (for cached files too)."""
    meta, where = _meta(table), street.display
    if meta["ignored_columns"]:
        names = ", ".join(map(repr, meta["ignored_columns"]))
        _warn(f"column(s) {names} are not police.uk street columns and were not loaded", where)
    if meta["blank_rows"]:
        _warn(f"{_rows(np.array(meta['blank_rows']), 'are')} blank and were skipped", where)
    if table.num_rows == 0:
        _warn(
            f"the file has a header but no rows; police.uk never publishes an empty force-month, "
            f"so {street.month} is counted as missing (NA), not 0: download it again",
            where,
        )
        return
    rows = table["row"].to_numpy()
    bad = table["bad_coordinates"].to_numpy(zero_copy_only=False)
    if bad.any():
        lon, lat = table["lon"].to_numpy(), table["lat"].to_numpy()
        west, south, east, north = _GB_LONLAT
        swapped = bad & (lat >= west) & (lat <= east) & (lon >= south) & (lon <= north)
        hint = "; longitude and latitude look swapped" if swapped.any() else ""
        _warn(
            f"{_rows(rows[bad], 'have')} coordinates outside Great Britain (e.g. 0,0) or only "
            f"one of longitude and latitude{hint}; they are kept without a point",
            where,
        )
    blank = table["category"].is_null().to_numpy(zero_copy_only=False)
    if blank.any():
        _warn(f"{_rows(rows[blank], 'have')} no 'Crime type'; kept with category NA", where)


def _incidents(
    kept: list[tuple[StreetFile, pa.Table, str]],
    vintage: Vintage,
    lookup: pd.DataFrame | None,
    source_vintage: Vintage | None,
    boundaries: gpd.GeoDataFrame | None,
) -> tuple[gpd.GeoDataFrame, np.ndarray]:
    """The Incidents frame and a mask of rows whose code the lookup does not know."""
    tables = [t.replace_schema_metadata(None) for _, t, _ in kept]
    whole = pa.concat_tables(tables) if tables else _CACHE_SCHEMA.empty_table()
    sizes = np.array([t.num_rows for t in tables], dtype=np.int64)
    file_of = np.repeat(np.arange(len(tables)), sizes)
    text = {c: _strings(whole[c]) for c in _TEXT}
    n = whole.num_rows
    x, y = whole["x"].to_numpy(), whole["y"].to_numpy()
    geometry = np.full(n, None, dtype=object)
    located = ~np.isnan(x)
    geometry[located] = shapely.points(x[located], y[located])
    points = gpd.GeoSeries(geometry, crs=BNG)
    codes = text["lsoa_source"]
    lsoa = codes.copy()
    how = _strings(pc.if_else(whole["lsoa_source"].is_null(), "none", "unchanged"))
    if lookup is not None:  # just the lookup rows of the codes present: the same answers, faster
        present = pc.unique(whole["lsoa_source"].drop_null())
        lookup = lookup[
            _isin(lookup["lsoa11_code"], present) | _isin(lookup["lsoa21_code"], present)
        ]
    vintages = [_file_vintage(s, t, vintage, lookup, source_vintage) for s, t, _ in kept]
    for file_vintage in sorted(set(vintages)):
        rows = np.isin(file_of, [i for i, v in enumerate(vintages) if v == file_vintage])
        if file_vintage == vintage:
            if lookup is not None:
                known = lookup["lsoa11_code" if vintage == "2011" else "lsoa21_code"]
                unknown = rows & codes.notna().to_numpy() & ~_isin(codes, pa.array(known.unique()))
                lsoa[unknown] = pd.NA
                how[unknown] = "unknown"
            continue
        mapped = map_lsoa_codes(
            codes[rows], file_vintage, vintage, lookup, points=points[rows], boundaries=boundaries
        )
        lsoa[rows], how[rows] = mapped["lsoa"], mapped["how"]
    row_numbers = whole["row"].to_numpy()
    for i, (street, _, _) in enumerate(kept):
        _warn_mapping(
            street,
            row_numbers,
            codes,
            how,
            file_of == i,
            vintages[i],
            vintage,
            has_boundaries=boundaries is not None,
        )
    streets = [s for s, _, _ in kept]
    months = np.array([s.month.ordinal for s in streets], dtype=np.int64)[file_of]
    columns = {
        "month": pd.PeriodIndex.from_ordinals(months, freq="M"),
        "category": text["category"],
        "source": _strings(pa.repeat(pa.scalar("police.uk"), n)),
        "force": _strings(pa.array([s.force for s in streets], pa.string()).take(file_of)),
        "crime_id": text["crime_id"],
        "lsoa": lsoa,
        "lsoa_source": codes,
        "location": text["location"],
        "outcome": text["outcome"],
        "count": np.ones(n, dtype=np.int64),
        "person_id": _strings(pa.nulls(n, pa.string())),
        "geometry": points,
        "lsoa_mapping": how,
    }
    assert list(columns)[:-1] == list(INCIDENT_COLUMNS)
    incidents = gpd.GeoDataFrame(columns, geometry="geometry", crs=BNG)
    return incidents, (how == "unknown").to_numpy() if lookup is not None else None


def _file_vintage(
    street: StreetFile,
    table: pa.Table,
    vintage: Vintage,
    lookup: pd.DataFrame | None,
    source_vintage: Vintage | None,
) -> Vintage:
    if source_vintage is not None:
        return source_vintage
    codes = pc.unique(table["lsoa_source"].drop_null()).to_pandas()
    if lookup is None or codes.empty:
        return vintage
    try:
        return detect_vintage(codes, lookup) or vintage
    except InputError as exc:
        raise InputError(exc.message, path=street.display) from None


def _warn_mapping(
    street: StreetFile,
    row_numbers: np.ndarray,
    codes: pd.Series,
    how: pd.Series,
    rows: np.ndarray,
    file_vintage: Vintage,
    vintage: Vintage,
    *,
    has_boundaries: bool = False,
) -> None:
    unknown = rows & (how == "unknown").to_numpy()
    if unknown.any():
        example = codes[unknown].iloc[0]
        _warn(
            f"{_rows(row_numbers[unknown], 'have')} {file_vintage} LSOA codes the ONS lookup does "
            f"not know (e.g. '{example}'); their LSOA is left blank",
            street.display,
        )
    assigned = rows & (how == "assigned").to_numpy()
    if assigned.any():
        why = (
            "whose polygons are not among the boundaries given (they lie outside the area loaded)"
            if has_boundaries
            else "and no boundaries to choose between them by point (pass boundaries=)"
        )
        _warn(
            f"{_rows(row_numbers[assigned], 'have')} a {file_vintage} LSOA that became several "
            f"{vintage} LSOAs {why}; each was given the lowest code",
            street.display,
        )


def _coverage(
    kept: list[tuple[StreetFile, pa.Table, str]],
    incidents: gpd.GeoDataFrame,
    unknown: np.ndarray | None,
) -> pd.DataFrame:
    """One row per force × month of the whole span; missing months have NA counts."""
    sizes = np.array([t.num_rows for _, t, _ in kept], dtype=np.int64)
    file_of = np.repeat(np.arange(len(kept)), sizes)
    no_location = incidents.geometry.isna().to_numpy() & incidents["lsoa_source"].isna().to_numpy()
    bad = np.concatenate([t["bad_coordinates"].to_numpy(zero_copy_only=False) for _, t, _ in kept])

    def per_file(mask: np.ndarray) -> np.ndarray:
        return np.bincount(file_of, weights=mask, minlength=len(kept)).astype(np.int64)

    per = pd.DataFrame(
        {
            "force": [s.force for s, _, _ in kept],
            "month": [s.month.ordinal for s, _, _ in kept],
            "rows": sizes,
            "rows_no_location": per_file(no_location),
            "rows_bad_coordinates": per_file(bad),
            "rows_unknown_lsoa": per_file(unknown) if unknown is not None else np.nan,
            "files": [name for _, _, name in kept],
        }
    )
    span = month_span(pd.PeriodIndex.from_ordinals(per["month"].to_numpy(), freq="M"))
    grid = pd.MultiIndex.from_product(
        [sorted(set(per["force"])), span.asi8], names=["force", "month"]
    )
    out = per[per["rows"] > 0].set_index(["force", "month"]).reindex(grid).reset_index()
    present = out["rows"].notna()
    counts = ["rows", "rows_no_location", "rows_bad_coordinates", "rows_unknown_lsoa"]
    coverage = pd.DataFrame(
        {
            "source": pd.array("police.uk:" + out["force"].astype(object), dtype="string"),
            "month": pd.PeriodIndex.from_ordinals(out["month"].to_numpy(), freq="M"),
            "status": pd.array(np.where(present, "present", "missing"), dtype="string"),
            **{c: out[c].astype("Float64").astype("Int64") for c in counts},
            "rows_outside": pd.array([pd.NA] * len(out), dtype="Int64"),
            "rows_in_area": pd.array([pd.NA] * len(out), dtype="Int64"),
            "files": pd.array(out["files"].fillna("").astype(object), dtype="string"),
        }
    )
    return coverage[[*COVERAGE_COLUMNS, "rows_bad_coordinates", "rows_unknown_lsoa"]]


def _isin(values: pd.Series, wanted: pa.Array) -> np.ndarray:
    """``values.isin(wanted)`` for many ``wanted`` strings, fast (pandas loops over them)."""
    found = pc.is_in(pa.array(values, type=pa.string(), from_pandas=True), value_set=wanted)
    return found.to_numpy(zero_copy_only=False)


def _strings(values: pa.Array | pa.ChunkedArray) -> pd.Series:
    """Arrow strings as a pandas ``string`` Series (NA for null), without a copy through Python."""
    return values.to_pandas(types_mapper={pa.string(): pd.StringDtype()}.get)
