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

from collections.abc import Sequence
from pathlib import Path
from typing import Literal

import geopandas as gpd
import pandas as pd
import pyarrow as pa

from cspanalysis.data.policeuk.cache import _cache_folder, _meta, _read_cache, _write_cache
from cspanalysis.data.policeuk.files import Source, StreetFile, find_street_files
from cspanalysis.data.policeuk.frames import (
    _bng_boundaries,
    _coverage,
    _drop_duplicates,
    _incidents,
    _lookup_frame,
    _warn_file,
)
from cspanalysis.data.policeuk.parse import PARSER_VERSION, STREET_COLUMNS, _parse
from cspanalysis.errors import InputError
from cspanalysis.files import combined_key, sha256_bytes

__all__ = ["PARSER_VERSION", "STREET_COLUMNS", "StreetFile", "find_street_files", "read_street"]


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
