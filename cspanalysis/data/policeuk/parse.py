"""Reading and validating one police.uk street file into the table that is cached.

:func:`_parse` turns a file's bytes (plain or gzipped CSV) into an Arrow table
of the columns in ``_CACHE_SCHEMA``, with the file's row numbers, points in
EPSG:27700 and the facts warnings are later made of in its metadata; bad input
raises :class:`~cspanalysis.errors.InputError` naming the row and column.
"""

from __future__ import annotations

import csv
import functools
import gzip
import io
import json
import zlib

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
from pyproj import Transformer

from cspanalysis.data.policeuk.files import _MONTH_RE, StreetFile
from cspanalysis.data.schema import BNG, WGS84
from cspanalysis.errors import InputError

#: Part of every cache key: bump it whenever parsing changes what is cached.
PARSER_VERSION = "policeuk-street-1"

#: The 12 columns of a police.uk street file, in the order police.uk publishes them.
STREET_COLUMNS: tuple[str, ...] = (
    "Crime ID",
    "Month",
    "Reported by",
    "Falls within",
    "Longitude",
    "Latitude",
    "Location",
    "LSOA code",
    "LSOA name",
    "Crime type",
    "Last outcome category",
    "Context",
)

_LSOA_RE = r"^[EWX]01\d{6}$"
# header -> cached field; the columns every street file must have
_FIELDS = {
    "Crime ID": "crime_id",
    "Month": "month",
    "Longitude": "lon",
    "Latitude": "lat",
    "Location": "location",
    "LSOA code": "lsoa_source",
    "Crime type": "category",
    "Last outcome category": "outcome",
}
_UNUSED = ("Reported by", "Falls within", "LSOA name", "Context")
_GB_LONLAT = (-8.9, 49.8, 2.0, 61.0)  # Great Britain, generously; 0,0 is a placeholder
_TEXT = ("crime_id", "category", "lsoa_source", "location", "outcome")
_CACHE_SCHEMA = pa.schema(
    [("row", pa.int32()), *((c, pa.string()) for c in _TEXT)]
    + [(c, pa.float64()) for c in ("lon", "lat", "x", "y")]
    + [("bad_coordinates", pa.bool_())]
)


def _parse(raw: bytes, street: StreetFile) -> pa.Table:
    """Parse one street file's bytes into the cached table (see ``_CACHE_SCHEMA``)."""
    where = street.display
    data = _decompress(raw, street)
    data = data.removeprefix(b"\xef\xbb\xbf")
    if not data or data.isspace():
        raise InputError("the file is empty; download it again from police.uk", path=where)
    header = _header(data, where)
    columns = _match_header(header, where)
    names = [f"c{i}" for i in range(len(header))]
    invalid: list[tuple[int | None, int, int]] = []

    def on_invalid(row: pacsv.InvalidRow) -> str:
        invalid.append((row.number, row.actual_columns, row.expected_columns))
        return "skip"

    def read(threads: bool) -> pa.Table:
        return pacsv.read_csv(
            io.BytesIO(data),
            read_options=pacsv.ReadOptions(column_names=names, skip_rows=1, use_threads=threads),
            parse_options=pacsv.ParseOptions(
                ignore_empty_lines=False, invalid_row_handler=on_invalid
            ),
            convert_options=pacsv.ConvertOptions(
                column_types=dict.fromkeys(names, pa.string()),
                include_columns=[names[columns[h]] for h in _FIELDS],
                null_values=[""],
                strings_can_be_null=True,
            ),
        )

    try:
        table = read(threads=True)
        if invalid and invalid[0][0] is None:  # row numbers are only known single-threaded
            invalid.clear()
            table = read(threads=False)
    except pa.ArrowInvalid as exc:
        if "UTF8" in str(exc):
            raise _not_utf8(data, where) from None
        detail = str(exc).split("\n")[0].removeprefix("CSV parse error: ")
        raise InputError(
            f"is not valid CSV ({detail}); download it again from police.uk", path=where
        ) from None
    if invalid:
        number, actual, expected = invalid[0]
        raise InputError(
            f"row {number} has {actual} fields but the header has {expected}; download the file "
            "again from police.uk (a field with a comma must be in double quotes)",
            path=where,
        )
    table = table.rename_columns([_FIELDS[h] for h in _FIELDS])
    rows = np.arange(2, table.num_rows + 2, dtype=np.int32)
    blank = np.logical_and.reduce(
        [c.is_null().to_numpy(zero_copy_only=False) for c in table.columns]
    )
    if blank.any():
        table, rows = table.filter(pa.array(~blank)), rows[~blank]
    month = _check_months(table["month"], rows, street)
    _check_lsoa(table["lsoa_source"], rows, where)
    lon, lat = (
        _coordinates(table[c], rows, h, where)
        for c, h in (("lon", "Longitude"), ("lat", "Latitude"))
    )
    given = ~np.isnan(lon) | ~np.isnan(lat)
    west, south, east, north = _GB_LONLAT
    inside = (lon >= west) & (lon <= east) & (lat >= south) & (lat <= north)
    x = np.full(len(lon), np.nan)
    y = np.full(len(lon), np.nan)
    if inside.any():
        x[inside], y[inside] = _to_bng().transform(lon[inside], lat[inside])
    extra = [h for h in header if h not in _FIELDS and h not in _UNUSED]
    meta = {"month": month, "ignored_columns": extra, "blank_rows": _numbers_of(blank)}
    return pa.table(
        {
            "row": pa.array(rows, pa.int32()),
            **{c: table[c] for c in _TEXT},
            "lon": lon,
            "lat": lat,
            "x": x,
            "y": y,
            "bad_coordinates": given & ~inside,
        },
        schema=_CACHE_SCHEMA.with_metadata({"cspanalysis": json.dumps(meta)}),
    )


def _numbers_of(blank: np.ndarray) -> list[int]:
    """File row numbers (header = 1) of the rows in ``blank`` (a mask over all data rows)."""
    return [int(i) + 2 for i in np.flatnonzero(blank)]


def _decompress(raw: bytes, street: StreetFile) -> bytes:
    gz_name = street.display.lower().endswith(".gz")
    if raw[:2] != b"\x1f\x8b":
        if gz_name and raw:
            raise InputError(
                "has a .gz name but is not gzip-compressed; download it again, or remove .gz "
                "from the name if it is plain CSV",
                path=street.display,
            )
        return raw
    try:
        return gzip.decompress(raw)
    except (OSError, EOFError, zlib.error):
        raise InputError(
            "is not a complete gzip file (the download or copy was cut short); download it again",
            path=street.display,
        ) from None


def _header(data: bytes, where: str) -> list[str]:
    end = data.find(b"\n")
    first = (data if end < 0 else data[:end]).rstrip(b"\r")
    try:
        text = first.decode("utf-8")
    except UnicodeDecodeError:
        raise _not_utf8(data, where) from None
    return [h.strip() for h in next(csv.reader([text]))]


def _match_header(header: list[str], where: str) -> dict[str, int]:
    """Index of each required column; errors for repeated and missing columns."""
    repeated = sorted({h for h in header if header.count(h) > 1})
    if repeated:
        raise InputError(
            f"the header repeats column(s) {', '.join(map(repr, repeated))}; download the file "
            "again from police.uk",
            path=where,
        )
    missing = [h for h in _FIELDS if h not in header]
    if missing:
        if "Outcome type" in header:
            what = "this is a police.uk outcomes file, not a street file"
        elif "Part of a policing operation" in header or "Object of search" in header:
            what = "this is a police.uk stop-and-search file, not a street file"
        elif len(header) == 1 and (";" in header[0] or "\t" in header[0]):
            what = "the columns are not separated by commas"
        else:
            what = "download the file again from police.uk"
        raise InputError(
            f"the file has no {' or '.join(map(repr, missing))} column (found: "
            f"{', '.join(h or '(blank)' for h in header)}); {what}",
            path=where,
        )
    return {h: header.index(h) for h in _FIELDS}


def _not_utf8(data: bytes, where: str) -> InputError:
    offset = len(data)  # (only if pyarrow and Python were to disagree on what is UTF-8)
    try:
        data.decode("utf-8")
    except UnicodeDecodeError as exc:
        offset = exc.start
    prefix = data[:offset].decode("utf-8", errors="replace")
    try:
        records = sum(1 for _ in csv.reader(io.StringIO(prefix)))
    except csv.Error:  # pragma: no cover - a prefix csv cannot read
        records = prefix.count("\n") + 1
    row = records + 1 if prefix == "" or prefix.endswith(("\n", "\r")) else max(records, 1)
    return InputError(
        f"row {row} is not UTF-8 text (byte 0x{data[offset : offset + 1].hex()}); download the "
        "file again from police.uk (saving it in Excel changes its encoding)",
        path=where,
    )


def _first(mask: np.ndarray, rows: np.ndarray, values: np.ndarray) -> tuple[int, str, str]:
    """Row number and value of the first row in ``mask``, and '(n more rows like it)'."""
    hits = np.flatnonzero(mask)
    more = f" ({len(hits) - 1} more rows like it)" if len(hits) > 1 else ""
    value = values[hits[0]]
    return int(rows[hits[0]]), ("blank" if value is None else f"'{value}'"), more


def _check_months(column: pa.ChunkedArray, rows: np.ndarray, street: StreetFile) -> str:
    """The one month of the rows (``""`` for none); errors unless it is the file name's month."""
    expected = str(street.month)
    distinct = pc.unique(column).to_pylist()
    if not distinct or distinct == [expected]:
        return expected if distinct else ""
    values = column.to_numpy(zero_copy_only=False)
    wellformed = pc.fill_null(pc.match_substring_regex(column, _MONTH_RE), False)
    malformed = ~wellformed.to_numpy(zero_copy_only=False)
    if malformed.any():
        row, shown, more = _first(malformed, rows, values)
        raise InputError(
            f"row {row}, column 'Month': {shown} is not a month in police.uk's YYYY-MM form{more}; "
            "download the file again (opening and saving it in Excel turns 2019-01 into Jan-19)",
            path=street.display,
        )
    row, shown, more = _first(values != expected, rows, values)
    raise InputError(
        f"row {row}, column 'Month': {shown} disagrees with the month in the file name "
        f"({expected}){more}; rename the file or download it again",
        path=street.display,
    )


def _check_lsoa(column: pa.ChunkedArray, rows: np.ndarray, where: str) -> None:
    good = pc.fill_null(pc.match_substring_regex(column, _LSOA_RE), True)
    if pc.all(good).as_py() is not False:
        return
    row, shown, more = _first(
        ~good.to_numpy(zero_copy_only=False), rows, column.to_numpy(zero_copy_only=False)
    )
    raise InputError(
        f"row {row}, column 'LSOA code': {shown} is not an LSOA code{more}; LSOA codes are E01 or "
        "W01 and six digits (e.g. E01017648): download the file again from police.uk",
        path=where,
    )


def _coordinates(column: pa.ChunkedArray, rows: np.ndarray, header: str, where: str) -> np.ndarray:
    """Floats (NaN where blank); an error naming the row for text that is not a number."""
    try:
        number = pc.cast(column, pa.float64()).to_numpy(zero_copy_only=False).astype(float)
    except pa.ArrowInvalid:
        number = pd.to_numeric(column.to_pandas(), errors="coerce").to_numpy(dtype=float)
    bad = column.is_valid().to_numpy(zero_copy_only=False) & ~np.isfinite(number)
    if bad.any():
        row, shown, more = _first(bad, rows, column.to_numpy(zero_copy_only=False))
        raise InputError(
            f"row {row}, column '{header}': {shown} is not a number{more}; download the file "
            "again from police.uk",
            path=where,
        )
    return number


@functools.cache
def _to_bng() -> Transformer:
    return Transformer.from_crs(WGS84, BNG, always_xy=True)
