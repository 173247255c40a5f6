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

import csv
import gzip
import hashlib
import hmac
import io
import re
import sys
import warnings
import zlib
from collections.abc import Mapping
from pathlib import Path
from typing import Literal

import geopandas as gpd
import numpy as np
import pandas as pd

from cspanalysis.data.schema import BNG, COVERAGE_COLUMNS, INCIDENT_COLUMNS, WGS84, month_span
from cspanalysis.data.vintages import Vintage, detect_vintage, map_lsoa_codes
from cspanalysis.errors import DataQualityWarning, InputError, display_path

#: The partner schema's fields, in documentation order.
# fmt: off
PARTNER_COLUMNS: tuple[str, ...] = (
    "date", "month", "category", "lsoa", "longitude", "latitude",
    "easting", "northing", "count", "person_id", "location", "outcome",
)
# fmt: on

_LSOA_RE = r"[EWX]01\d{6}"
_TIME = r"(?:[ T]\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?)?"
_ISO_DATE = rf"(?P<y>\d{{4}})-(?P<m>\d{{1,2}})-(?P<d>\d{{1,2}}){_TIME}"
_UK_DATE = rf"(?P<d>\d{{1,2}})/(?P<m>\d{{1,2}})/(?P<y>\d{{4}}){_TIME}"
_MONTH = r"(?P<y>\d{4})-(?P<m>\d{2})"
_DATE_FORMATS = "YYYY-MM-DD or DD/MM/YYYY"
# Great Britain, generously (Scilly and St Kilda to Shetland); 0, 0 is a placeholder, not a place
_GB_LONLAT = (-8.9, 49.8, 2.0, 61.0)
_GB_BNG = (1.0, 1.0, 700_000.0, 1_300_000.0)
_EXCEL_MAGIC = (b"PK\x03\x04", b"\xd0\xcf\x11\xe0")


def pseudonymise(ids: pd.Series, salt: str) -> pd.Series:
    """Replace identifiers by their HMAC-SHA256 with a secret ``salt`` (hex digests).

    The same identifier and salt always give the same pseudonym, so a person's
    repeat appearances can be counted without their identifier being kept; a
    different salt gives unrelated pseudonyms. The text is hashed exactly as
    given (UTF-8); :func:`read_partner` strips surrounding spaces first. NA
    stays NA.

    Parameters
    ----------
    ids
        Identifiers (converted to text).
    salt
        The secret key; keep it out of the repository (e.g. in the environment
        variable named by the parameter file's ``privacy.salt_env``).

    Returns
    -------
    Series
        64-character lower-case hex digests (``string`` dtype), same index and name.

    Examples
    --------
    >>> import pandas as pd
    >>> pseudonymise(pd.Series(["A123", None, "A123"]), salt="s3cret").str.slice(0, 12).tolist()
    ['81490eea7f3f', <NA>, '81490eea7f3f']
    """
    if not isinstance(salt, str) or not salt:
        raise InputError(
            "the salt for pseudonymising person identifiers is empty; set a secret salt "
            "(the parameter file's privacy.salt_env names the environment variable holding it)"
        )
    text = pd.Series(ids).astype("string")
    key = salt.encode("utf-8")
    digests = {
        value: hmac.new(key, value.encode("utf-8"), hashlib.sha256).hexdigest()
        for value in text.dropna().unique()
    }
    return text.map(digests).astype("string")


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


# ---------------------------------------------------------------------------- reading


def _read_table(path: Path) -> pd.DataFrame:
    """The file as text cells (header applied, blank rows dropped), indexed by row number."""
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise InputError("partner file not found; check the path", path=path) from None
    except IsADirectoryError:
        raise InputError("is a folder; give the partner CSV file itself", path=path) from None
    except OSError as exc:
        raise InputError(f"cannot read the file ({exc.strerror})", path=path) from None
    if data[:2] == b"\x1f\x8b":
        try:
            data = gzip.decompress(data)
        except (OSError, EOFError, zlib.error):
            raise InputError(
                "the file is not a complete gzip file; download or compress it again", path=path
            ) from None
    if data.startswith(_EXCEL_MAGIC):
        raise InputError(
            "this is an Excel workbook, which is not read; in Excel use Save As "
            "'CSV UTF-8 (comma delimited)' and point the parameter file at the CSV",
            path=path,
        )
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        row = _row_of_offset(data, exc.start)
        raise InputError(
            f"row {row} is not UTF-8 text (byte 0x{data[exc.start]:02x}); save the file as "
            "'CSV UTF-8' (in Excel: Save As, CSV UTF-8)",
            path=path,
        ) from None
    if not text.strip():
        raise InputError(
            "the file is empty; a partner file needs a header row (date or month, category, ...) "
            "and one row per incident",
            path=path,
        )
    try:
        table = pd.read_csv(
            io.StringIO(text),
            header=None,
            dtype=str,
            na_filter=False,
            skip_blank_lines=False,
            engine="c",
        )
    except pd.errors.ParserError as exc:
        found = re.search(r"Expected (\d+) fields in line (\d+), saw (\d+)", str(exc))
        detail = (
            f"row {found[2]} has {found[3]} fields but the header has {found[1]}"
            if found
            else "the file is not valid CSV"
        )
        raise InputError(
            f'{detail}; quote text that contains commas ("...") or save the file again as CSV',
            path=path,
        ) from None
    header = [str(h).strip() for h in table.iloc[0]]
    body = table.iloc[1:].copy()
    body.index = pd.RangeIndex(2, len(table) + 1)  # file row numbers: header = row 1
    body.columns = pd.RangeIndex(len(header))
    blank = body.apply(lambda c: c.str.strip() == "").all(axis=1)
    body = body.loc[~blank]
    if body.empty:
        raise InputError(
            "the file has a header but no rows; a month with nothing to report needs a row "
            "with count 0",
            path=path,
        )
    body.attrs["header"] = header
    return body


def _row_of_offset(data: bytes, offset: int) -> int:
    """The CSV row (header = 1) holding byte ``offset``: counts records, not just lines."""
    prefix = data[:offset].decode("utf-8-sig", errors="replace")
    try:
        records = sum(1 for _ in csv.reader(io.StringIO(prefix)))
    except csv.Error:  # pragma: no cover - the prefix of a file pandas could not read either
        return prefix.count("\n") + 1
    return records + 1 if prefix == "" or prefix.endswith(("\n", "\r")) else max(records, 1)


def _match_columns(raw: pd.DataFrame, columns: Mapping[str, str], path: Path) -> pd.DataFrame:
    """The schema's columns, named by field (``attrs['header_of']``: field → file header).

    Every other column is dropped with a warning.
    """
    header: list[str] = raw.attrs["header"]
    bad_keys = [k for k in columns if k not in PARTNER_COLUMNS]
    if bad_keys:
        raise InputError(
            f"columns names unknown schema field(s) {', '.join(map(repr, bad_keys))}; the fields "
            f"are {', '.join(PARTNER_COLUMNS)}",
            path=path,
        )
    normal = [h.strip().lower() for h in header]
    dup = sorted({h for h in normal if h and normal.count(h) > 1})
    if dup:
        raise InputError(
            f"the header repeats column(s) {', '.join(map(repr, dup))}; give each column one name",
            path=path,
        )
    fields: dict[str, int] = {}
    for field, wanted in columns.items():
        key = str(wanted).strip().lower()
        if key not in normal:
            raise InputError(
                f"columns maps '{field}' to '{wanted}', but the file has no such column "
                f"(found: {', '.join(h for h in header if h)})",
                path=path,
            )
        fields[field] = normal.index(key)
    taken = set(fields.values())
    for field in PARTNER_COLUMNS:
        if field not in fields and field in normal and normal.index(field) not in taken:
            fields[field] = normal.index(field)
    if len(header) == 1 and (";" in header[0] or "\t" in header[0]):
        sep = "semicolons" if ";" in header[0] else "tabs"
        raise InputError(
            f"the file separates its columns with {sep}; save it as comma-separated CSV",
            path=path,
        )
    if "category" not in fields:
        raise InputError(
            f"the file has no 'category' column (found: {', '.join(h for h in header if h)}); "
            "add one, or map it with columns: {category: <header>}",
            path=path,
        )
    if "date" not in fields and "month" not in fields:
        raise InputError(
            f"the file has no 'date' or 'month' column (found: {', '.join(h for h in header if h)}"
            "); add one, or map it with columns: {date: <header>}",
            path=path,
        )
    for a, b in (("longitude", "latitude"), ("easting", "northing")):
        if (a in fields) != (b in fields):
            have, lack = (a, b) if a in fields else (b, a)
            raise InputError(
                f"the file has a '{have}' column but no '{lack}' column; give both, or neither",
                path=path,
            )
    used = set(fields.values())
    extra = [
        header[i] or f"(unnamed column {i + 1})"
        for i in range(len(header))
        if i not in used and (header[i] or (raw[i].str.strip() != "").any())
    ]
    if extra:
        _warn(
            f"column(s) {', '.join(map(repr, extra))} are not in the partner schema and were "
            "not loaded (they may hold personal data); if one is a schema field under another "
            "name, map it with 'columns'",
            path,
        )
    cells = raw[list(fields.values())].copy()
    cells.columns = list(fields)
    cells.attrs["header_of"] = {field: header[i] for field, i in fields.items()}
    return cells


# ---------------------------------------------------------------------------- fields


def _text(cells: pd.DataFrame, field: str) -> pd.Series:
    """A field's stripped text, NA where blank or when the file lacks the column."""
    if field not in cells:
        return pd.Series(pd.NA, index=cells.index, dtype="string")
    text = cells[field].astype("string").str.strip()
    return text.mask(text == "")


def _bad(
    mask: pd.Series, cells: pd.DataFrame, field: str, path: Path, problem: str, fix: str
) -> InputError:
    """One sentence naming the first offending row, column and value, and how many share it."""
    rows = mask[mask].index
    first = rows[0]
    more = f" ({len(rows) - 1} more rows like it)" if len(rows) > 1 else ""
    value = str(cells.loc[first, field]).strip()
    value = value if len(value) <= 40 else value[:37] + "..."
    shown = f"'{value}'" if value else "blank"
    header = cells.attrs["header_of"][field]
    return InputError(f"row {first}, column '{header}': {shown} {problem}{more}; {fix}", path=path)


def _ymd(values: pd.Series, pattern: str) -> pd.DataFrame:
    """Year, month and day (float, NaN where ``pattern`` does not match) of each value."""
    parts = values.str.extract(f"^(?:{pattern})$")
    return pd.DataFrame(
        {
            "year": pd.to_numeric(parts["y"]),
            "month": pd.to_numeric(parts["m"]),
            "day": pd.to_numeric(parts["d"]) if "d" in parts else 1.0,
        }
    )


def _parse_months(cells: pd.DataFrame, path: Path) -> pd.Series:
    """Period[M] of each row from ``date`` and/or ``month`` (they must agree when both given)."""
    candidates: dict[str, pd.Series] = {}
    for field, patterns, problem, fix in (
        ("date", (_ISO_DATE, _UK_DATE), "is not a date", f"use {_DATE_FORMATS} (day first)"),
        ("month", (_MONTH,), "is not a month", "use YYYY-MM, e.g. 2024-01"),
    ):
        if field not in cells:
            continue
        values = cells[field].str.strip()
        distinct = pd.Series(values.unique())  # dates repeat: parse each text once
        ymd = _ymd(distinct, patterns[0])
        for other in patterns[1:]:
            ymd = ymd.fillna(_ymd(distinct, other))
        stamp = pd.to_datetime(ymd.astype(float), errors="coerce")
        bad = stamp.isna()
        if bad.any():
            raise _bad(values.isin(distinct[bad]), cells, field, path, problem, fix)
        month = stamp.dt.to_period("M")
        odd = (month > pd.Timestamp.now().to_period("M")) | (month.dt.year < 1900)
        if odd.any():
            odd_rows = values.isin(distinct[odd])
            raise _bad(
                odd_rows, cells, field, path, "is in the future or before 1900", "check the year"
            )
        candidates[field] = pd.Series(
            pd.PeriodIndex(month)[pd.Index(distinct).get_indexer(values)], index=values.index
        )
    if len(candidates) == 2:
        differ = candidates["date"] != candidates["month"]
        if differ.any():
            first = differ[differ].index[0]
            more = f" ({int(differ.sum()) - 1} more rows like it)" if differ.sum() > 1 else ""
            raise InputError(
                f"row {first}: date '{cells.loc[first, 'date'].strip()}' is not in month "
                f"'{cells.loc[first, 'month'].strip()}'{more}; correct the row, or give only "
                "one of the two columns",
                path=path,
            )
    return next(iter(candidates.values())).astype("period[M]")


def _parse_counts(cells: pd.DataFrame, path: Path) -> pd.Series:
    if "count" not in cells:
        return pd.Series(1, index=cells.index, dtype="int64")
    text = cells["count"].str.strip()
    number = pd.to_numeric(text.where(text.str.fullmatch(r"[+-]?\d+(?:\.\d*)?")), errors="coerce")
    bad = number.isna() | (number < 0) | (number != np.floor(number)) | (number > 2**53)
    if bad.any():
        fix = "give a whole number: 0, 1, 2, ... (0 says the month had nothing to report)"
        raise _bad(bad, cells, "count", path, "is not a whole number of 0 or more", fix)
    return number.astype("int64")


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


# ---------------------------------------------------------------------------- coverage


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


# ---------------------------------------------------------------------------- messages


def _rows(mask: pd.Series) -> str:
    """'3 rows (rows 4, 9, 12)'; at most five row numbers are listed."""
    rows = [int(r) for r in mask[mask].index]
    listed = ", ".join(map(str, rows[:5]))
    if len(rows) == 1:
        return f"1 row (row {listed})"
    return f"{len(rows)} rows (rows {listed}{', ...' if len(rows) > 5 else ''})"


def _warn(message: str, path: Path) -> None:
    """Warn, attributing the warning to the first caller outside this module."""
    level, frame = 2, sys._getframe(1)
    while frame is not None and frame.f_globals.get("__name__") == __name__:
        level, frame = level + 1, frame.f_back
    warnings.warn(f"{display_path(path)}: {message}", DataQualityWarning, stacklevel=level)
