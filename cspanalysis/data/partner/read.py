"""Reading a partner file into text cells and matching its header to the partner schema."""

from __future__ import annotations

import csv
import gzip
import io
import re
import zlib
from collections.abc import Mapping
from pathlib import Path

import pandas as pd

from cspanalysis.data.partner.messages import _warn
from cspanalysis.errors import InputError

#: The partner schema's fields, in documentation order.
# fmt: off
PARTNER_COLUMNS: tuple[str, ...] = (
    "date", "month", "category", "lsoa", "longitude", "latitude",
    "easting", "northing", "count", "person_id", "location", "outcome",
)
# fmt: on

_EXCEL_MAGIC = (b"PK\x03\x04", b"\xd0\xcf\x11\xe0")


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
