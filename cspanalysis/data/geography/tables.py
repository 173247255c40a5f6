"""Geography tables: the LSOA lookup, population, households and deprivation (CSV)."""

from __future__ import annotations

import zlib
from pathlib import Path

import numpy as np
import pandas as pd

from cspanalysis.config import LookupSpec, TableSpec
from cspanalysis.data.geography._columns import (
    _DISTRICT,
    _DISTRICT_PLAIN,
    _LSOA_CODE,
    _LSOA_NAME,
    _PARTNERSHIP,
    _PARTNERSHIP_PLAIN,
    _VALUES,
    _YEAR,
    _column,
    _dated,
    _district_name_column,
    _find,
    _vintage_of,
)
from cspanalysis.data.geography._messages import _few, _warn
from cspanalysis.errors import InputError


def read_lookup(spec: LookupSpec) -> pd.DataFrame:
    """Read the LSOA → district → partnership lookup (CSV, optionally gzipped).

    Columns are detected unless ``spec`` names them: the LSOA code (``lsoa11_code``,
    ``LSOA21CD`` ...); the district, preferring the *oldest* district code present
    (``ltla19_code`` before ``ltla22_code``: Thames Valley partnerships follow the 2019
    districts, e.g. Buckinghamshire's four); its name; the partnership (``csp24_name``).

    Returns
    -------
    DataFrame
        Indexed by ``lsoa``: ``name`` (LSOA name), ``district``, ``district_name``,
        ``partnership`` (NA where the file has none); ``attrs["vintage"]``.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "lookup.csv"
    >>> _ = path.write_text("LSOA21CD,LAD22CD,LAD19CD,LAD19NM\\n"
    ...                     "E01000001,E09000001,E09000001,City of London\\n")
    >>> lookup = read_lookup(LookupSpec(path=path))
    >>> lookup.loc["E01000001", "district_name"], lookup.attrs["vintage"]
    ('City of London', '2021')
    """
    path = Path(spec.path)
    raw = _read_csv(path, "lookup", "geography.lookup.path")
    cols = list(raw.columns)
    code = _column(cols, _LSOA_CODE, spec.lsoa_column, path, "LSOA code", "lsoa_column")
    district = spec.district_column or _dated(cols, _DISTRICT, oldest=True, plain=_DISTRICT_PLAIN)
    district = _column(cols, (), district, path, "district code", "district_column")
    dname = spec.district_name_column or _district_name_column(cols, district)
    dname = _column(cols, (), dname, path, "district name", "district_name_column", need=False)
    part = spec.partnership_column or _dated(cols, _PARTNERSHIP, plain=_PARTNERSHIP_PLAIN)
    part = _column(cols, (), part, path, "partnership", "partnership_column", need=False)
    chosen = {
        "name": _find(cols, _LSOA_NAME[:2], None),
        "district": district,
        "district_name": dname,
        "partnership": part,
    }
    out = pd.DataFrame({k: raw[c] if c else "" for k, c in chosen.items()}).astype("string")
    out = out.apply(lambda column: column.str.strip()).replace("", pd.NA)
    out.index = pd.Index(raw[code].str.strip(), name="lsoa")
    blank = np.asarray(out.index == "")
    repeated = out.reset_index().duplicated().to_numpy() & ~blank
    if blank.any() or repeated.any():
        counts = (
            (blank.sum(), f"rows without an LSOA code in '{code}'"),
            (repeated.sum(), "repeated rows"),
        )
        _warn(" and ".join(f"{n} {what}" for n, what in counts if n) + " are not used", path)
        out = out[~blank & ~repeated]
    clash = out.index[out.index.duplicated()].unique()
    if len(clash):
        raise InputError(
            f"{len(clash)} LSOAs appear on several rows with different districts "
            f"({_few(clash)}); a lookup has one row per LSOA",
            path=path,
        )
    no_district = out.index[out["district"].isna()]
    if len(no_district):
        _warn(f"{len(no_district)} LSOAs have no district ({_few(no_district)})", path)
    out.attrs.update(vintage=_vintage_of(code), path=str(path))
    return out


def read_population(spec: TableSpec) -> pd.Series:
    """LSOA population (float, index ``lsoa``, ``attrs["vintage"]``) for one year.

    A table with several years (a ``mid_year`` or ``year`` column) needs ``spec.year``.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "pop.csv"
    >>> _ = path.write_text("lsoa11_code,mid_year,total_population\\n"
    ...                     "E01000001,2019,1500\\nE01000001,2020,1510\\n")
    >>> read_population(TableSpec(path=path, year=2019)).to_dict()
    {'E01000001': 1500.0}
    """
    return _read_values(spec, "population")


def read_households(spec: TableSpec) -> pd.Series:
    """LSOA households (float, index ``lsoa``, ``attrs["vintage"]``); see :func:`read_population`.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "hh.csv"
    >>> _ = path.write_text("LSOA Code,Households\\nE01000001,\\"1,205\\"\\n")
    >>> read_households(TableSpec(path=path)).to_dict()
    {'E01000001': 1205.0}
    """
    return _read_values(spec, "households")


def read_deprivation(spec: TableSpec) -> pd.Series:
    """Index of Multiple Deprivation decile per LSOA (Int64, 1 = most deprived 10%).

    Examples
    --------
    >>> import tempfile, pathlib
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "imd.csv"
    >>> _ = path.write_text("lsoa11_code,IMD_decile\\nE01000001,9\\n")
    >>> read_deprivation(TableSpec(path=path)).tolist()
    [9]
    """
    return _read_values(spec, "imd_decile")


def _read_values(spec: TableSpec, what: str) -> pd.Series:
    path = Path(spec.path)
    key = "deprivation" if what == "imd_decile" else what
    raw = _read_csv(path, key, f"geography.{key}.path")
    cols = list(raw.columns)
    code = _column(cols, _LSOA_CODE, spec.code_column, path, "LSOA code", "code_column")
    value = _column(cols, _VALUES[what], spec.value_column, path, key, "value_column")
    year_col = _column(cols, _YEAR, spec.year_column, path, "year", "year_column", need=False)
    if year_col is not None:
        years = raw[year_col].str.strip().str[:4]
        found = ", ".join(sorted(set(years) - {""}))
        if spec.year is not None and not (years == str(spec.year)).any():
            raise InputError(
                f"has no rows for year {spec.year} in '{year_col}' (years: {found}); "
                "set 'year' to one of them",
                path=path,
            )
        if spec.year is None and years.nunique() > 1:
            raise InputError(
                f"holds several years in '{year_col}' ({found}); set 'year' to choose one",
                path=path,
            )
        raw = raw if spec.year is None else raw[years == str(spec.year)]
    elif spec.year is not None:
        raise InputError(
            f"'year: {spec.year}' is set but no year column was found (columns: "
            f"{', '.join(cols)}); set 'year_column'",
            path=path,
        )
    text = raw[value].str.strip().str.replace(",", "", regex=False)
    numbers = pd.to_numeric(text.mask(text == ""), errors="coerce").astype(float)
    bad = numbers.isna() & (text != "")
    if what == "imd_decile":
        bad |= numbers.notna() & ~numbers.isin(range(1, 11))
    elif not bad.any():
        bad = numbers < 0
    if bad.any():
        rows = ", ".join(str(r + 2) for r in raw.index[bad][:3])  # header is file row 1
        allowed = "a whole number 1-10" if what == "imd_decile" else "a number, zero or more"
        raise InputError(
            f"column '{value}' is not {allowed} on row(s) {rows} (e.g. "
            f"'{text[bad].iloc[0]}'); correct the cells",
            path=path,
        )
    series = pd.Series(numbers.to_numpy(), index=pd.Index(raw[code].str.strip(), name="lsoa"))
    series = series[series.index != ""].rename(what)
    if not series.index.is_unique:
        dup = series.index[series.index.duplicated()].unique()
        hint = "set 'year'" if year_col and spec.year is None else "keep one row per LSOA"
        raise InputError(f"{len(dup)} LSOAs appear more than once ({_few(dup)}); {hint}", path=path)
    if series.isna().any():
        blank = series.index[series.isna()]
        _warn(f"{len(blank)} LSOAs have a blank '{value}' ({_few(blank)}): unknown, not 0", path)
    series.index = series.index.astype("string")
    series = series.astype("Int64") if what == "imd_decile" else series
    series.attrs.update(vintage=_vintage_of(code), path=str(path))
    return series


def _read_csv(path: Path, what: str, key: str) -> pd.DataFrame:
    if not path.is_file():
        raise InputError(f"{what} file not found; check {key}", path=path)
    if path.suffix.lower() in {".xlsx", ".xls", ".ods"}:
        raise InputError(f"the {what} must be a CSV file; save the sheet as CSV UTF-8", path=path)
    for encoding in ("utf-8-sig", "cp1252"):  # ONS files are UTF-8; Excel exports often not
        try:
            frame = pd.read_csv(path, dtype=str, keep_default_na=False, encoding=encoding)
        except UnicodeDecodeError:
            continue
        except pd.errors.EmptyDataError:
            raise InputError(f"the {what} file is empty", path=path) from None
        except pd.errors.ParserError as exc:
            raise InputError(
                f"is not a valid CSV table ({str(exc).strip()}); save it again as CSV", path=path
            ) from None
        except (EOFError, OSError, zlib.error) as exc:
            raise InputError(
                f"cannot read the {what} file ({type(exc).__name__}); it may be "
                "incomplete: download it again",
                path=path,
            ) from None
        frame.columns = [str(c).strip() for c in frame.columns]
        return frame
    raise AssertionError("unreachable: cp1252 decodes any byte")  # pragma: no cover
