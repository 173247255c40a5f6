"""Parsing the partner schema's text, month and count fields, with errors naming the row."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from cspanalysis.errors import InputError

_TIME = r"(?:[ T]\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?)?"
_ISO_DATE = rf"(?P<y>\d{{4}})-(?P<m>\d{{1,2}})-(?P<d>\d{{1,2}}){_TIME}"
_UK_DATE = rf"(?P<d>\d{{1,2}})/(?P<m>\d{{1,2}})/(?P<y>\d{{4}}){_TIME}"
_MONTH = r"(?P<y>\d{4})-(?P<m>\d{2})"
_DATE_FORMATS = "YYYY-MM-DD or DD/MM/YYYY"


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
