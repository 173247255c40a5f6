"""Column detection for geography files: name patterns, and the vintage a code column states."""

from __future__ import annotations

import re
from collections.abc import Iterable
from pathlib import Path

from cspanalysis.data.vintages import Vintage
from cspanalysis.errors import InputError

# Column-name patterns, matched against names lower-cased with runs of other characters
# replaced by "_" (so "LSOA Code (2021)" reads "lsoa_code_2021"); shapefiles cut names to
# ten characters ("lsoa11_cod"). Earlier patterns win.
_CODE, _NAME = r"(?:code?|cd)", r"(?:name?|nm)"
_LSOA_CODE = (rf"lsoa_?(?:20)?(11|21)_?{_CODE}", rf"lsoa_?{_CODE}_?(?:20)?(11|21)?", r"lsoa")
_LSOA_NAME = (rf"lsoa_?(?:20)?(?:11|21)?_?{_NAME}", rf"lsoa_?{_NAME}_?(?:20)?(?:11|21)?", r"name")
_DISTRICT = rf"(?:ltla|lad|la|lau1?)_?(\d{{2}}|\d{{4}})_?{_CODE}"
_DISTRICT_PLAIN = ("ltla_code", "lad_code", "ladcd", "district_code", "district", "lad")
_DISTRICT_NAME_PLAIN = ("ltla_name", "lad_name", "ladnm", "district_name")
_PARTNERSHIP = rf"csp_?(\d{{2}}|\d{{4}})_?{_NAME}"
_PARTNERSHIP_PLAIN = ("csp_name", "cspnm", "partnership", "partnership_name")
_YEAR = ("mid_year", "year", "period", "date")
_VALUES = {
    "population": ("total_population", "population", "all_ages", "total", "value", "count"),
    "households": ("households", "total_households", "household_count", "value", "count"),
    "imd_decile": ("imd_decile", r"index_of_multiple_deprivation\w*_decile\w*", r"imd\w*decile"),
}


def _norm(column: str) -> str:
    return re.sub(r"[^a-z0-9]+", "_", str(column).lower()).strip("_")


def _find(columns: Iterable[str], patterns: Iterable[str], given: str | None) -> str | None:
    """``given`` if it is a column, else the first column (in pattern order) that matches."""
    columns = list(columns)
    if given is not None:
        return given if given in columns else None
    for pattern in patterns:
        for column in columns:
            if re.fullmatch(pattern, _norm(column)):
                return column
    return None


def _column(
    columns: list[str],
    patterns: Iterable[str],
    given: str | None,
    path: Path,
    what: str,
    key: str,
    *,
    need: bool = True,
) -> str | None:
    """The column for ``what``: ``given`` (which must exist) or detected by ``patterns``."""
    found = _find(columns, patterns, given)
    if found is not None or (given is None and not need):
        return found
    told = f"'{given}' is not a column" if given else f"no {what} column was found"
    raise InputError(
        f"{told} (columns: {', '.join(columns)}); set '{key}' to the column holding the {what}",
        path=path,
    )


def _dated(
    columns: list[str], pattern: str, *, oldest: bool = False, plain: Iterable[str] = ()
) -> str | None:
    """The oldest (or newest) column matching a dated ``pattern``, e.g. ltla19_code."""
    dated = [(int(m[1][-2:]), c) for c in columns if (m := re.fullmatch(pattern, _norm(c)))]
    if dated:
        return (min if oldest else max)(dated)[1]
    return _find(columns, plain, None)


def _district_name_column(columns: list[str], district: str) -> str | None:
    """The name beside a district code: ltla19_code -> ltla19_name, LAD19CD -> LAD19NM."""
    stem = re.escape(re.sub(rf"{_CODE}$", "", _norm(district)))
    return _find(columns, [stem + _NAME, *_DISTRICT_NAME_PLAIN], None)


def _vintage_of(column: str | None) -> Vintage | None:
    """The vintage a code column's name states: lsoa11_code -> 2011, LSOA21CD -> 2021."""
    m = re.fullmatch(r"lsoa_?(?:\D*_)?(?:20)?(11|21)(?:_?\D*)?", _norm(column or ""))
    return None if m is None else ("2011" if m[1] == "11" else "2021")
