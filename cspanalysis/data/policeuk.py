"""police.uk street-level crime files: folders, monthly CSVs and archive zips.

:func:`read_street` reads the monthly ``YYYY-MM-<force>-street.csv`` files
published by police.uk (plain, gzipped, in ``YYYY-MM/`` sub-folders as
unzipped, or read in place from a police.uk archive ``.zip``) into the
Incidents and Coverage frames of :mod:`cspanalysis.data.schema`. The month
and force come from each file's name; the ``Month`` column must agree.

Each file is parsed once and cached as parquet, keyed by the SHA-256 of its
bytes and :data:`PARSER_VERSION`, *before* LSOA vintage mapping, so one cache
serves analyses in either vintage and a changed file is parsed again.

Bad input (rows are numbered as in the file, the header being row 1):

==========================================  ===========================================
Input                                       What happens
==========================================  ===========================================
path that does not exist                    InputError
folder or ``.zip`` with no street files     InputError saying what was expected
file name not ``YYYY-MM-<force>-street.csv``  InputError (month and force come from it)
``forces=`` slug not among the files        InputError listing the forces found
unreadable zip, 0-byte file                 InputError: download again
``.gz`` not gzip, truncated gzip            InputError: download again
bytes that are not UTF-8                    InputError naming the row
missing column, repeated column             InputError naming the columns (and outcomes
                                            or stop-and-search files for what they are)
extra, unknown column                       DataQualityWarning; the column is not loaded
row with the wrong number of fields         InputError naming the row
``Month`` not ``YYYY-MM`` (``Jan-19``)      InputError naming the row
``Month`` disagreeing with the file name    InputError naming the row
header-only file                            DataQualityWarning; the month is *missing*
                                            (NA): a force-month is never really empty,
                                            so a 0 would fake a fall in crime
blank line                                  DataQualityWarning; skipped (it holds nothing)
coordinates that are not numbers            InputError naming the row and column
coordinates at 0,0, outside Great Britain,  DataQualityWarning; row kept without a point,
or only one of the pair                     counted in ``rows_bad_coordinates``
malformed LSOA code (not ``[EWX]01`` +      InputError naming the row
6 digits)
LSOA code the lookup does not know          DataQualityWarning; ``lsoa`` NA, counted in
                                            ``rows_unknown_lsoa``
blank ``Crime type``                        DataQualityWarning; ``category`` NA
one force-month in two files                identical rows: DataQualityWarning, read once;
                                            different rows: InputError naming both
==========================================  ===========================================

Example
-------
>>> import tempfile, pathlib
>>> folder = pathlib.Path(tempfile.mkdtemp())
>>> _ = (folder / "2019-01-thames-valley-street.csv").write_text(
...     "Crime ID,Month,Reported by,Falls within,Longitude,Latitude,Location,LSOA code,"
...     "LSOA name,Crime type,Last outcome category,Context\\n"
...     ",2019-01,Thames Valley Police,Thames Valley Police,-0.970400,51.993385,"
...     "On or near Willow Drive,E01017648,Aylesbury Vale 001A,Anti-social behaviour,,\\n")
>>> incidents, coverage = read_street(folder, cache_dir=False)
>>> incidents[["month", "force", "lsoa", "category"]].astype(str).values.tolist()
[['2019-01', 'thames-valley', 'E01017648', 'Anti-social behaviour']]
>>> coverage[["source", "month", "status", "rows"]].astype(str).values.tolist()
[['police.uk:thames-valley', '2019-01', 'present', '1']]
"""

from __future__ import annotations

import csv
import functools
import gzip
import io
import json
import os
import re
import sys
import warnings
import zipfile
import zlib
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import geopandas as gpd
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.parquet as pq
import shapely
from pyproj import Transformer

from cspanalysis.data.schema import BNG, COVERAGE_COLUMNS, INCIDENT_COLUMNS, WGS84, month_span
from cspanalysis.data.vintages import Vintage, detect_vintage, map_lsoa_codes, read_vintage_lookup
from cspanalysis.errors import DataQualityWarning, InputError, display_path
from cspanalysis.files import atomic_path, combined_key, default_cache_dir, sha256_bytes

__all__ = ["PARSER_VERSION", "StreetFile", "find_street_files", "read_street"]

#: Part of every cache key: bump it whenever parsing changes what is cached.
PARSER_VERSION = "policeuk-street-1"

Source = str | os.PathLike[str] | Sequence[str | os.PathLike[str]]

_NAME_RE = re.compile(
    r"^(?P<month>\d{4}-\d{2})-(?P<force>[a-z0-9]+(?:-[a-z0-9]+)*)-street\.csv(?:\.gz)?$", re.I
)
_OTHER_RE = re.compile(r"^\d{4}-\d{2}-.+-(?P<kind>outcomes|stop-and-search)\.csv(?:\.gz)?$", re.I)
_NAME_FORM = "YYYY-MM-<force>-street.csv (or .csv.gz), e.g. 2019-01-thames-valley-street.csv"
_MONTH_RE = r"^\d{4}-(?:0[1-9]|1[0-2])$"
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
_SINGULAR = {"have": "has", "are": "is"}
_TEXT = ("crime_id", "category", "lsoa_source", "location", "outcome")
_CACHE_SCHEMA = pa.schema(
    [("row", pa.int32()), *((c, pa.string()) for c in _TEXT)]
    + [(c, pa.float64()) for c in ("lon", "lat", "x", "y")]
    + [("bad_coordinates", pa.bool_())]
)


@dataclass(frozen=True)
class StreetFile:
    """One monthly police.uk street file: a file on disk, or a member of an archive ``.zip``.

    Examples
    --------
    >>> f = StreetFile(pd.Period("2019-01", "M"), "thames-valley",
    ...                Path("2019-01.zip"), "2019-01/2019-01-thames-valley-street.csv")
    >>> f.name
    '2019-01.zip/2019-01/2019-01-thames-valley-street.csv'
    """

    month: pd.Period
    force: str
    path: Path
    member: str | None = None

    @property
    def name(self) -> str:
        """The file name shown in Coverage ``files``: ``<zip name>/<member>`` for a member."""
        return self.path.name if self.member is None else f"{self.path.name}/{self.member}"

    @property
    def display(self) -> str:
        """The full location, as named in messages."""
        return str(self.path if self.member is None else self.path / self.member)

    def read_bytes(self) -> bytes:
        """The file's bytes (a zip member's bytes, uncompressed from the archive)."""
        try:
            if self.member is None:
                return self.path.read_bytes()
            with zipfile.ZipFile(self.path) as archive:
                return archive.read(self.member)
        except (zipfile.BadZipFile, zlib.error, EOFError):
            raise InputError(
                "the archive member is damaged; download the archive again", path=self.display
            ) from None
        except OSError as exc:
            raise InputError(
                f"cannot read the file ({exc.strerror or exc})", path=self.display
            ) from None


def find_street_files(source: Source, forces: Sequence[str] | None = None) -> list[StreetFile]:
    """Find the police.uk street files in folders, archives and lists of files.

    Parameters
    ----------
    source
        A folder (searched recursively for ``YYYY-MM-<force>-street.csv`` or
        ``.csv.gz`` files and police.uk archive ``.zip`` files), an archive
        ``.zip`` (read in place), one street file, or a list of any of these.
        Other files are ignored, except that a file given explicitly must be
        named like a street file.
    forces
        Force slugs to keep (e.g. ``["thames-valley"]``); ``None`` keeps all.

    Returns
    -------
    list of StreetFile
        Sorted by force, month and name.

    Raises
    ------
    InputError
        A path that does not exist, a folder or archive with no street files,
        a badly named file, or a force in ``forces`` that none of the files is for.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> folder = pathlib.Path(tempfile.mkdtemp())
    >>> for name in ("2019-01-city-of-london-street.csv.gz", "2019-01-city-of-london-outcomes.csv"):
    ...     _ = (folder / name).write_bytes(b"")
    >>> [(str(f.month), f.force) for f in find_street_files(folder)]
    [('2019-01', 'city-of-london')]
    """
    items = [source] if isinstance(source, str | os.PathLike) else list(source)
    if not items:
        raise InputError("no police.uk files were given; give a folder, an archive .zip or files")
    found: list[StreetFile] = []
    for item in items:
        path = Path(item)
        if not path.exists():
            raise InputError(
                "does not exist; give a folder of police.uk street files, an archive .zip or a "
                "street file",
                path=path,
            )
        if path.is_dir():
            in_folder = [
                f
                for entry in sorted(path.rglob("*"))
                if entry.is_file() and not entry.name.startswith(".")
                for f in _street_files_in(entry, explicit=False)
            ]
            if not in_folder:
                raise InputError(
                    f"the folder holds no police.uk street files; expected files named {_NAME_FORM}"
                    ", or police.uk archive .zip files",
                    path=path,
                )
            found += in_folder
        else:
            found += _street_files_in(path, explicit=True)
    if forces is not None:
        wanted = {f.strip().lower() for f in ([forces] if isinstance(forces, str) else forces)}
        have = sorted({f.force for f in found})
        absent = sorted(wanted - set(have))
        if absent:
            raise InputError(
                f"no street files for force(s) {', '.join(absent)}; the files found are for "
                f"{', '.join(have)}",
                path=items[0] if len(items) == 1 else None,
            )
        found = [f for f in found if f.force in wanted]
    return sorted(found, key=lambda f: (f.force, f.month.ordinal, f.display))


def _street_files_in(path: Path, *, explicit: bool) -> list[StreetFile]:
    """The street file ``path`` is, or the street members of the archive it is."""
    if path.suffix.lower() == ".zip":
        try:
            with zipfile.ZipFile(path) as archive:
                members = [m for m in archive.namelist() if not m.endswith("/")]
        except (zipfile.BadZipFile, OSError):
            raise InputError(
                "is not a readable zip archive; download it again from police.uk", path=path
            ) from None
        out = [f for m in members if (f := _from_name(path, m, m.rsplit("/", 1)[-1])) is not None]
        if not out and explicit:
            raise InputError(
                "the archive holds no police.uk street files; expected members named "
                f"YYYY-MM/{_NAME_FORM} (outcomes and stop-and-search files are not read)",
                path=path,
            )
        return out
    street = _from_name(path, None, path.name)
    if street is not None:
        return [street]
    if explicit:
        other = _OTHER_RE.match(path.name)
        what = (
            f"is a police.uk {other['kind']} file, which is not read"
            if other
            else "is not named like a police.uk street file, and the month and force are read "
            "from the name"
        )
        raise InputError(f"{what}; give street files named {_NAME_FORM}", path=path)
    return []


def _from_name(path: Path, member: str | None, name: str) -> StreetFile | None:
    match = _NAME_RE.match(name)
    if match is None:
        return None
    where = path if member is None else path / member
    if not re.match(_MONTH_RE, match["month"]):
        raise InputError(
            f"the month in the file name ({match['month']}) is not a month; name it {_NAME_FORM}",
            path=where,
        )
    return StreetFile(pd.Period(match["month"], "M"), match["force"].lower(), path, member)


# ---------------------------------------------------------------------------- parsing


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


# ---------------------------------------------------------------------------- cache


def _cache_folder(cache_dir: str | Path | Literal[False] | None) -> Path | None:
    if cache_dir is False:
        return None
    return Path(default_cache_dir() if cache_dir is None else cache_dir) / "policeuk"


def _read_cache(path: Path) -> pa.Table | None:
    """The cached table, or None when absent or unreadable (it is then parsed and rewritten)."""
    if not path.is_file():
        return None
    try:
        table = pq.read_table(path)
        json.loads(table.schema.metadata[b"cspanalysis"])
    except Exception:
        return None
    return table if table.schema.remove_metadata().equals(_CACHE_SCHEMA) else None


def _write_cache(path: Path, table: pa.Table) -> None:
    try:
        with atomic_path(path) as tmp:
            pq.write_table(table, tmp, compression="zstd")
    except OSError as exc:
        warnings.warn(
            f"could not write the police.uk cache {display_path(path)} ({exc})", stacklevel=3
        )


def _meta(table: pa.Table) -> dict:
    return json.loads(table.schema.metadata[b"cspanalysis"])


# ---------------------------------------------------------------------------- reading


def read_street(
    source: Source,
    *,
    vintage: Literal["2011", "2021"] = "2011",
    lookup: pd.DataFrame | str | Path | None = None,
    forces: Sequence[str] | None = None,
    source_vintage: Literal["2011", "2021"] | None = None,
    boundaries: gpd.GeoDataFrame | None = None,
    cache_dir: str | Path | Literal[False] | None = None,
) -> tuple[gpd.GeoDataFrame, pd.DataFrame]:
    """Read police.uk street files into Incidents and Coverage frames.

    Parameters
    ----------
    source
        A folder (flat, or ``YYYY-MM/`` sub-folders as unzipped from
        police.uk), a police.uk archive ``.zip`` (read in place), a street
        file (``.csv`` or ``.csv.gz``), or a list of these; see
        :func:`find_street_files`.
    vintage
        LSOA vintage of the analysis: ``lsoa`` is given in it.
    lookup
        The ONS LSOA 2011 → 2021 lookup, as a frame from
        :func:`~cspanalysis.data.vintages.read_vintage_lookup` or its path.
        With it, each file's vintage is detected from its codes and codes the
        lookup does not know are counted; without it, the files are taken to
        be in ``vintage`` already.
    forces
        Force slugs to keep, e.g. ``["thames-valley"]``; ``None`` keeps all.
    source_vintage
        LSOA vintage of the files, when known (overrides detection).
    boundaries
        LSOA polygons of the analysis vintage, indexed by code (reprojected to
        EPSG:27700 if needed); a split or merged LSOA is then resolved by the
        row's point. Without them such rows get the lowest code, with a warning.
    cache_dir
        Folder for parsed files (``<cache_dir>/policeuk/<key>.parquet``);
        ``None``: :func:`cspanalysis.files.default_cache_dir`; ``False``: no cache.

    Returns
    -------
    incidents : GeoDataFrame
        One row per file row, in EPSG:27700, with the Incidents columns of
        :mod:`cspanalysis.data.schema` and ``lsoa_mapping`` (``unchanged``,
        ``one-to-one``, ``point-in-polygon``, ``nearest``, ``assigned``,
        ``unknown`` or ``none``; see
        :func:`~cspanalysis.data.vintages.map_lsoa_codes`), sorted by force,
        month and file row. Rows without a location are kept with geometry None;
        ``location`` is the text as published (``"No Location"`` for those).
    coverage : DataFrame
        One row per force × month from the earliest to the latest month of all
        the files: ``present``, or ``missing`` (no file, or a header-only file)
        with NA counts, never 0. ``rows_no_location`` counts rows with neither a
        usable point nor an LSOA; ``rows_outside`` and ``rows_in_area`` are NA
        (:func:`cspanalysis.load_partnership` fills them). Extra columns
        ``rows_bad_coordinates`` and ``rows_unknown_lsoa`` (NA without a lookup).

    Raises
    ------
    InputError
        One sentence naming the file (and the row and column) and the fix; see
        the table in the module docstring. Nothing is cached after an error.

    Examples
    --------
    >>> from cspanalysis.data.policeuk import read_street
    >>> inc, cov = read_street("../shared/data/police_uk/thames-valley")  # doctest: +SKIP
    >>> cov.loc[cov["status"] == "missing", "month"].astype(str).tolist()  # doctest: +SKIP
    ['2018-07', '2018-08', '2018-09']
    """
    for value, what in ((vintage, "vintage"), (source_vintage, "source_vintage")):
        if value is not None and value not in ("2011", "2021"):
            raise InputError(f"{what} must be '2011' or '2021', not {value!r}")
    files = find_street_files(source, forces)
    table = _lookup_frame(lookup)
    if source_vintage not in (None, vintage) and table is None:
        raise InputError(
            f"the files have {source_vintage} LSOA codes but the analysis uses {vintage}; give "
            "the ONS LSOA 2011 to 2021 lookup (lookup=...)"
        )
    polygons = _bng_boundaries(boundaries)
    folder = _cache_folder(cache_dir)
    loaded, pending = _load(files, folder)
    kept = _drop_duplicates(loaded)
    for street, parsed, _ in kept:
        _warn_file(street, parsed)
    incidents, unknown = _incidents(kept, vintage, table, source_vintage, polygons)
    coverage = _coverage(kept, incidents, unknown)
    for path, parsed in pending:  # only now: an error above leaves no cache file
        _write_cache(path, parsed)
    return incidents, coverage


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


def _load(
    files: list[StreetFile], folder: Path | None
) -> tuple[list[tuple[StreetFile, pa.Table, str]], list[tuple[Path, pa.Table]]]:
    """Each file's table (from the cache, or parsed) and its key; and the cache files to write."""
    loaded: list[tuple[StreetFile, pa.Table, str]] = []
    pending: list[tuple[Path, pa.Table]] = []
    for street in files:
        raw = street.read_bytes()
        key = combined_key([sha256_bytes(raw), PARSER_VERSION])
        target = None if folder is None else folder / f"{key}.parquet"
        table = None if target is None else _read_cache(target)
        if table is None:
            table = _parse(raw, street)
            if target is not None:
                pending.append((target, table))
        else:
            month = _meta(table)["month"]
            if month and month != str(street.month):
                raise InputError(
                    f"row {table['row'][0]}, column 'Month': '{month}' disagrees with the month in "
                    f"the file name ({street.month}); rename the file or download it again",
                    path=street.display,
                )
        loaded.append((street, table, key))
    return loaded, pending


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
        _warn_mapping(street, row_numbers, codes, how, file_of == i, vintages[i], vintage)
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
        _warn(
            f"{_rows(row_numbers[assigned], 'have')} a {file_vintage} LSOA that became several "
            f"{vintage} LSOAs and no point or boundaries to choose between them; each was given "
            "the lowest code (pass boundaries= to place them by their point)",
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


# ---------------------------------------------------------------------------- messages


def _rows(rows: np.ndarray, verb: str) -> str:
    """'3 rows (rows 4, 9, 12) have', '1 row (row 4) has'; at most five row numbers are listed."""
    listed = ", ".join(str(int(r)) for r in rows[:5])
    if len(rows) == 1:
        return f"1 row (row {listed}) {_SINGULAR[verb]}"
    return f"{len(rows)} rows (rows {listed}{', ...' if len(rows) > 5 else ''}) {verb}"


def _warn(message: str, where: str | None) -> None:
    """Warn, attributing the warning to the first caller outside this module."""
    level, frame = 2, sys._getframe(1)
    while frame is not None and frame.f_globals.get("__name__") == __name__:
        level, frame = level + 1, frame.f_back
    text = message if where is None else f"{display_path(where)}: {message}"
    warnings.warn(text, DataQualityWarning, stacklevel=level)
