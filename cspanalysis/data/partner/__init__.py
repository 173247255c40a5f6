"""Partner datasets (council ASB, fire, hospital, domestic abuse, youth offending) in one schema.

A partner dataset is a CSV file (UTF-8, optionally gzipped; Excel workbooks
must be saved as CSV) with a header row and one row per incident or per
pre-aggregated group of incidents. Its columns (``docs/partner_schema.md`` has
the full description and an example):

- ``date`` (``YYYY-MM-DD`` or ``DD/MM/YYYY``, a time after it ignored) or
  ``month`` (``YYYY-MM``), or both when they agree; ``category`` (required);
- a location, one of: ``lsoa`` (``E01``/``W01``, or ``X01`` for the fictional
  demo, and six digits), ``longitude``/``latitude`` (WGS 84) or
  ``easting``/``northing`` (British National Grid), or none;
- ``count`` (whole number >= 0, default 1; 0 says the month was supplied with
  nothing to report), ``person_id`` (pseudonymised with a secret salt, never
  kept in clear), ``location`` and ``outcome`` (free text).

Headers match ignoring case and surrounding spaces; ``columns`` maps a field to
a differently named header. Any other column is **not loaded** (it may hold
personal data) and a :class:`DataQualityWarning` lists it. Points are made in
EPSG:27700; coordinates outside Great Britain leave the row without a point,
with a warning. A row with only coordinates gets its LSOA later, by point in
polygon, in :func:`cspanalysis.load_partnership`.

Coverage rule: every month from the file's first to its last is listed; a month
with at least one row (count 0 rows included) is ``present``, any other month
is ``missing`` with NA counts, never 0.

Example
-------
>>> import tempfile, pathlib
>>> path = pathlib.Path(tempfile.mkdtemp()) / "fires.csv"
>>> _ = path.write_text("date,category,lsoa,count\\n"
...                     "03/01/2024,Deliberate fire,E01000001,2\\n"
...                     "2024-03-09,Deliberate fire,E01000002,1\\n")
>>> incidents, coverage = read_partner(path, name="fire")
>>> incidents[["month", "lsoa", "count"]].astype(str).values.tolist()
[['2024-01', 'E01000001', '2'], ['2024-03', 'E01000002', '1']]
>>> print(coverage[["month", "status", "rows"]].to_string(index=False))
  month  status  rows
2024-01 present     1
2024-02 missing  <NA>
2024-03 present     1
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Literal

import geopandas as gpd
import numpy as np
import pandas as pd

from cspanalysis.data.partner.fields import _parse_counts, _parse_months, _text
from cspanalysis.data.partner.locations import _map_vintage, _parse_lsoa, _parse_points
from cspanalysis.data.partner.messages import _rows, _warn
from cspanalysis.data.partner.privacy import pseudonymise
from cspanalysis.data.partner.read import PARTNER_COLUMNS, _match_columns, _read_table
from cspanalysis.data.schema import BNG, COVERAGE_COLUMNS, INCIDENT_COLUMNS, month_span
from cspanalysis.errors import InputError

__all__ = ["PARTNER_COLUMNS", "pseudonymise", "read_partner"]


def read_partner(
    path: str | Path,
    *,
    name: str,
    columns: Mapping[str, str] | None = None,
    salt: str | None = None,
    vintage: Literal["2011", "2021"] = "2011",
    source_vintage: Literal["2011", "2021"] | None = None,
    lookup: pd.DataFrame | None = None,
    boundaries: gpd.GeoDataFrame | None = None,
    weights: pd.Series | None = None,
) -> tuple[gpd.GeoDataFrame, pd.DataFrame]:
    """Read a partner dataset in the partner schema into Incidents and Coverage frames.

    Parameters
    ----------
    path
        The CSV file (``.csv`` or gzipped ``.csv.gz``), UTF-8 with a header row.
    name
        The dataset's name, e.g. ``"council-asb"``: the Incidents ``source``
        and, as ``partner:<name>``, the Coverage ``source``.
    columns
        Schema field → the file's header, for files whose headers differ, e.g.
        ``{"date": "Incident Date", "category": "Type"}``.
    salt
        Secret salt for :func:`pseudonymise`; required when the file has
        person identifiers.
    vintage
        LSOA vintage of the analysis; codes are mapped to it.
    source_vintage
        LSOA vintage of the file's codes; default: detected from the codes
        with ``lookup`` (or taken to be ``vintage`` when there is no lookup).
    lookup
        The ONS LSOA 2011 → 2021 lookup (:func:`~cspanalysis.data.vintages.read_vintage_lookup`).
    boundaries, weights
        Optional target-vintage LSOA polygons (EPSG:27700, indexed by code) and
        weights (e.g. population) used to resolve split or merged LSOAs; see
        :func:`~cspanalysis.data.vintages.map_lsoa_codes`.

    Returns
    -------
    incidents : GeoDataFrame
        One row per file row (blank lines aside), in file order, with the
        Incidents columns of :mod:`cspanalysis.data.schema` plus
        ``lsoa_mapping`` (how the LSOA was mapped: ``unchanged``,
        ``one-to-one``, ``point-in-polygon``, ``nearest``, ``assigned``,
        ``unknown`` or ``none``).
    coverage : DataFrame
        One row per month from the first to the last month of the file; see
        the coverage rule in the module docstring. Extra columns
        ``rows_bad_coordinates`` and ``rows_unknown_lsoa`` count rows kept
        without a point and rows whose code the lookup does not know.

    Raises
    ------
    InputError
        Naming the row (header = row 1), column and fix, for a file not usable as it is.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "asb.csv"
    >>> _ = path.write_text("Incident Date,Type,longitude,latitude\\n"
    ...                     "15/01/2024,Noise,-0.9781,51.4543\\n")
    >>> inc, cov = read_partner(path, name="asb", columns={"date": "Incident Date",
    ...                                                     "category": "Type"})
    >>> inc.crs.to_epsg(), [round(v) for v in inc.geometry.iloc[0].coords[0]]
    (27700, [471102, 173308])
    """
    path = Path(path)
    if not isinstance(name, str) or not name.strip():
        raise InputError("the partner dataset needs a non-empty name", path=path)
    name = name.strip()
    cells = _match_columns(_read_table(path), columns or {}, path)
    header_of: dict[str, str] = cells.attrs["header_of"]
    index = cells.index
    ids = _text(cells, "person_id")
    if ids.notna().any() and not salt:  # checked first: nothing else is worth doing without it
        raise InputError(
            f"column '{header_of['person_id']}' holds person identifiers but no salt was given; "
            "set the secret salt (privacy.salt_env in the parameter file) so they can be "
            "pseudonymised, or remove the column",
            path=path,
        )

    month = _parse_months(cells, path)
    count = _parse_counts(cells, path)
    category = _text(cells, "category")
    blank_category = category.isna() & (count > 0)
    if blank_category.any():
        _warn(f"{_rows(blank_category)} have no category; they are kept with category NA", path)
    lsoa_source = _parse_lsoa(cells, path)
    points, bad_coords = _parse_points(cells, path)
    person = pseudonymise(ids, salt) if ids.notna().any() and salt else ids
    mapped = _map_vintage(
        lsoa_source, points, path, vintage, source_vintage, lookup, boundaries, weights
    )

    incidents = gpd.GeoDataFrame(
        {
            "month": month,
            "category": category,
            "source": pd.Series(name, index=index, dtype="string"),
            "force": pd.Series(pd.NA, index=index, dtype="string"),
            "crime_id": pd.Series(pd.NA, index=index, dtype="string"),
            "lsoa": mapped["lsoa"].astype("string"),
            "lsoa_source": lsoa_source,
            "location": _text(cells, "location"),
            "outcome": _text(cells, "outcome"),
            "count": count,
            "person_id": person,
            "lsoa_mapping": mapped["how"].astype("string"),
        },
        geometry=points,
        crs=BNG,
    )
    incidents = incidents[[*INCIDENT_COLUMNS, "lsoa_mapping"]].reset_index(drop=True)
    coverage = _coverage(
        month,
        name=name,
        file_name=path.name,
        flags={
            "rows_no_location": (lsoa_source.isna() & points.isna()).to_numpy(),
            "rows_bad_coordinates": bad_coords,
            "rows_unknown_lsoa": (mapped["how"] == "unknown").to_numpy(),
        },
    )
    return incidents, coverage


def _coverage(
    month: pd.Series, *, name: str, file_name: str, flags: dict[str, np.ndarray]
) -> pd.DataFrame:
    """One row per month of the span: present (>= 1 row) or missing (NA counts)."""
    ordinal = month.array.asi8  # grouping integers is much faster than grouping Periods
    per = pd.DataFrame({"month": ordinal, "rows": 1, **flags}).groupby("month").sum()
    span = month_span(month)
    out = per.reindex(span.asi8).astype("Int64").reset_index(drop=True)
    out.insert(0, "month", pd.Series(span, dtype="period[M]"))
    present = out["rows"].notna()
    out["source"] = pd.Series(f"partner:{name}", index=out.index, dtype="string")
    out["status"] = pd.Series(np.where(present, "present", "missing"), dtype="string")
    out["files"] = pd.Series(np.where(present, file_name, ""), dtype="string")
    for column in ("rows_outside", "rows_in_area"):
        out[column] = pd.array([pd.NA] * len(out), dtype="Int64")
    return out[[*COVERAGE_COLUMNS, *(c for c in out.columns if c not in COVERAGE_COLUMNS)]]
