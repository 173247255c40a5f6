"""The Excel workbook of a run's published tables.

:func:`write_workbook` reads the register a run left in its output folder (see
:mod:`cspanalysis.report.outputs`) and writes one ``.xlsx`` file: an *About*
sheet (the title, notes such as the partnership and period, a linked list of the
tables saying what disclosure control withheld, and the legend of symbols), then
one sheet per published table, in the order the notebook produced them.

The sheets are built from the **published** CSV files, never from the original
tables, so the workbook can hold nothing the disclosure-controlled CSVs do not.
Numbers are stored as numbers (whole numbers with a thousands separator);
disclosure symbols (``"<5"``, ``"[c]"``, ``"[x]"``) are stored as text, aligned
right in numeric columns; an empty CSV cell (a missing value) is an empty cell.

The workbook is written atomically, and the same tables give the same bytes:
document properties and zip entries carry a fixed timestamp.

Example
-------
>>> import tempfile, pathlib, pandas as pd
>>> from cspanalysis.report.outputs import RunOutputs
>>> run = pathlib.Path(tempfile.mkdtemp())
>>> _ = RunOutputs(run).table(pd.DataFrame({"n": [12, 30]}, index=["Theft", "Burglary"]),
...                           "street_crime", title="Street crime")
>>> book = write_workbook(run, run / "tables.xlsx", title="Demo partnership")
>>> import openpyxl
>>> openpyxl.load_workbook(book).sheetnames
['About', 'street_crime']
"""

from __future__ import annotations

import io
import math
import re
import zipfile
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

import pandas as pd
from openpyxl import Workbook
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.hyperlink import Hyperlink
from openpyxl.worksheet.worksheet import Worksheet
from openpyxl.writer.excel import ExcelWriter

from cspanalysis.errors import InputError
from cspanalysis.files import atomic_path
from cspanalysis.report.outputs import read_register

__all__ = ["sheet_names", "write_workbook"]

#: the timestamp stamped on the workbook unless one is given (keeps outputs reproducible)
FIXED_TIMESTAMP = datetime(2000, 1, 1)
ABOUT_SHEET = "About"
INT_FORMAT = "#,##0"
FLOAT_FORMAT = "#,##0.0##"
SMALL_FLOAT_FORMAT = "0.00E+00"
MAX_WIDTH = 60
MIN_WIDTH = 6
_MAX_SHEET_NAME = 31
_BAD_SHEET_CHARS = re.compile(r"[\[\]:*?/\\]")
_NUMBER = re.compile(r"^[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?$")
_LEADING_ZERO = re.compile(r"^[+-]?0\d")
_SYMBOL = re.compile(r"^(?:<\d+|\[[a-z]+\]|[+-]?inf)$")  # shown as text in a numeric column
_HEADER_FONT = Font(bold=True)
_HEADER_FILL = PatternFill(fill_type="solid", start_color="FFD9E1F2", end_color="FFD9E1F2")
_RIGHT = Alignment(horizontal="right")
_WRAP = Alignment(wrap_text=True, vertical="top")


def write_workbook(
    output_dir: str | Path,
    path: str | Path,
    *,
    title: str,
    notes: Sequence[str] = (),
    timestamp: datetime | None = None,
) -> Path:
    """Write the run's published tables as one Excel workbook, atomically.

    Parameters
    ----------
    output_dir
        The run's output folder, holding ``outputs.json`` and ``tables/``.
    path
        The workbook to write (``.xlsx``).
    title
        The first line of the About sheet (e.g. the draft's title).
    notes
        Further lines for the About sheet: partnership, period, the version of
        cspanalysis that produced it.
    timestamp
        The created / modified time stamped on the workbook; default a fixed
        date, so the same tables give the same workbook.

    Returns
    -------
    Path
        ``path``.

    Raises
    ------
    InputError
        When ``path`` is not an ``.xlsx`` file, or a registered table's CSV is missing.

    Example
    -------
    >>> import tempfile, pathlib, openpyxl
    >>> run = pathlib.Path(tempfile.mkdtemp())
    >>> book = write_workbook(run, run / "empty.xlsx", title="Nothing yet")
    >>> openpyxl.load_workbook(book)["About"]["A1"].value
    'Nothing yet'
    """
    output_dir = Path(output_dir)
    path = Path(path)
    if path.suffix.lower() != ".xlsx":
        raise InputError(
            "the workbook must be an .xlsx file; give a path ending in .xlsx", path=path
        )
    register = read_register(output_dir)
    entries = list(register.get("tables") or [])
    tables = [_read_published(output_dir, entry) for entry in entries]
    names = sheet_names([str(entry["name"]) for entry in entries])

    workbook = Workbook()
    about = workbook.active
    about.title = ABOUT_SHEET
    _write_about(about, title, notes, entries, names, register.get("disclosure"))
    for entry, name, table in zip(entries, names, tables, strict=True):
        _write_table(workbook.create_sheet(name), table, index=bool(entry.get("index", True)))

    stamp = (timestamp or FIXED_TIMESTAMP).replace(tzinfo=None, microsecond=0)
    workbook.properties.created = stamp
    workbook.properties.modified = stamp
    workbook.properties.creator = "cspanalysis"
    with atomic_path(path) as tmp:
        tmp.write_bytes(_reproducible_bytes(workbook, stamp))
    return path


def sheet_names(names: Sequence[str]) -> list[str]:
    """Excel sheet names for tables: at most 31 characters, no ``[]:*?/\\``, unique.

    Names are compared without regard to case (as Excel does); a repeat gets a
    suffix ``~2``, ``~3``... The name ``About`` is kept for the first sheet.

    >>> sheet_names(["crime_by_month", "about", "x[1]", "History"])
    ['crime_by_month', 'about~2', 'x_1_', 'History_']
    >>> [len(n) for n in sheet_names(["a" * 40, "a" * 40])]
    [31, 31]
    """
    used = {ABOUT_SHEET.lower()}
    out = []
    for name in names:
        base = _BAD_SHEET_CHARS.sub("_", name).strip("'") or "table"
        if base.lower() == "history":  # reserved by Excel
            base += "_"
        candidate = base[:_MAX_SHEET_NAME]
        k = 1
        while candidate.lower() in used:
            k += 1
            suffix = f"~{k}"
            candidate = base[: _MAX_SHEET_NAME - len(suffix)] + suffix
        used.add(candidate.lower())
        out.append(candidate)
    return out


# --------------------------------------------------------------------------- reading


def _read_published(output_dir: Path, entry: dict[str, Any]) -> pd.DataFrame:
    """A published CSV as text cells ("" for an empty cell), headers included as columns."""
    file = output_dir / str(entry["file"])
    if not file.is_file():
        raise InputError(
            f"table {entry['name']!r} is in the register but its file {entry['file']} is "
            "missing: the run did not finish writing it; run the notebook again",
            path=file,
        )
    return pd.read_csv(file, dtype=str, keep_default_na=False)


def _parse_number(text: str) -> int | float | None:
    """The number a CSV cell holds, or None for text (codes with leading zeros stay text)."""
    if not _NUMBER.match(text) or _LEADING_ZERO.match(text):
        return None
    if re.fullmatch(r"[+-]?\d+", text):
        return int(text)
    value = float(text)
    return value if math.isfinite(value) else None


def _column_kind(cells: list[str]) -> str:
    """``"bool"``, ``"int"``, ``"float"`` (numbers and symbols only) or ``"text"``."""
    filled = [c for c in cells if c != ""]
    if filled and all(c in ("True", "False") for c in filled):
        return "bool"
    numbers = []
    for cell in filled:
        value = _parse_number(cell)
        if value is None:
            if not _SYMBOL.match(cell):
                return "text"
        else:
            numbers.append(value)
    if not numbers:
        return "text"
    return "int" if all(isinstance(v, int) for v in numbers) else "float"


# --------------------------------------------------------------------------- writing


def _write_table(sheet: Worksheet, table: pd.DataFrame, *, index: bool) -> None:
    header = ["" if str(c).startswith("Unnamed: ") else str(c) for c in table.columns]
    n_rows, n_cols = table.shape
    widths = [len(h) for h in header]
    for c, name in enumerate(header, start=1):
        cell = sheet.cell(row=1, column=c, value=name or None)
        cell.font = _HEADER_FONT
        cell.fill = _HEADER_FILL
    for c, column in enumerate(table.columns, start=1):
        cells = table[column].tolist()
        kind = "text" if (index and c == 1) else _column_kind(cells)
        if kind in ("int", "float"):
            sheet.cell(row=1, column=c).alignment = _RIGHT
        for r, text in enumerate(cells, start=2):
            if text == "":
                continue
            cell = sheet.cell(row=r, column=c)
            shown = text
            value = _parse_number(text) if kind in ("int", "float") else None
            if kind == "bool":
                cell.value = text == "True"
                shown = text.upper()
            elif value is not None:
                cell.value = value
                if kind == "int":
                    cell.number_format = INT_FORMAT
                    shown = f"{value:,}"
                elif value != 0 and abs(value) < 0.001:
                    cell.number_format = SMALL_FLOAT_FORMAT
                    shown = f"{value:.2e}"
                else:
                    cell.number_format = FLOAT_FORMAT
                    shown = f"{value:,.3f}".rstrip("0")
            else:
                cell.value = text
                cell.data_type = "s"  # never read "=..." as a formula
                if kind in ("int", "float"):
                    cell.alignment = _RIGHT
            widths[c - 1] = max(widths[c - 1], len(shown))
    for c, width in enumerate(widths, start=1):
        sheet.column_dimensions[get_column_letter(c)].width = min(
            MAX_WIDTH, max(MIN_WIDTH, width + 2)
        )
    sheet.freeze_panes = "B2" if index and n_cols > 1 else "A2"
    if n_cols:
        sheet.auto_filter.ref = f"A1:{get_column_letter(n_cols)}{n_rows + 1}"


def _write_about(
    sheet: Worksheet,
    title: str,
    notes: Sequence[str],
    entries: list[dict[str, Any]],
    names: list[str],
    rule: dict[str, Any] | None,
) -> None:
    sheet.append([title])
    sheet["A1"].font = Font(bold=True, size=14)
    for note in notes:
        sheet.append([str(note)])
    sheet.append([])
    sheet.append(["Tables"])
    sheet.cell(row=sheet.max_row, column=1).font = Font(bold=True, size=12)
    if not entries:
        sheet.append(["No tables were published by this run."])
    else:
        sheet.append(["Sheet", "Title", "Disclosure control", "What was withheld"])
        for cell in sheet[sheet.max_row]:
            cell.font = _HEADER_FONT
            cell.fill = _HEADER_FILL
        for entry, name in zip(entries, names, strict=True):
            sentences = entry.get("disclosure")
            if entry.get("about_people"):
                applied = "Applied: partner data about people"
            else:
                applied = "Not needed: no partner data about people (e.g. police.uk, public)"
            withheld = " ".join(sentences) if sentences else ""
            sheet.append([name, str(entry.get("title") or name), applied, withheld])
            row = sheet.max_row
            link = sheet.cell(row=row, column=1)
            link.hyperlink = Hyperlink(ref=link.coordinate, location=f"'{name}'!A1", display=name)
            link.style = "Hyperlink"
            sheet.cell(row=row, column=4).alignment = _WRAP
    sheet.append([])
    sheet.append(["Symbols"])
    sheet.cell(row=sheet.max_row, column=1).font = Font(bold=True, size=12)
    for symbol, meaning in _legend(rule):
        sheet.append([symbol, meaning])
        sheet.cell(row=sheet.max_row, column=1).data_type = "s"
    for letter, width in zip("ABCD", (32, 48, 40, 80), strict=True):
        sheet.column_dimensions[letter].width = width


def _legend(rule: dict[str, Any] | None) -> list[tuple[str, str]]:
    """The symbols a reader may meet, and what each means under the run's rule."""
    rule = rule or {}
    threshold = int(rule.get("threshold") or 5)
    missing = ("[x] or empty", "not supplied by the source (missing, not zero)")
    if rule.get("method") == "round":
        base = int(rule.get("base") or 5)
        rounded = (
            "rounded counts",
            f"in tables about people every count is rounded to the nearest {base}, "
            "totals separately, so totals may not add up",
        )
        withheld = ("[c]", "withheld because it would reveal a count that was rounded away")
        return [rounded, withheld, missing]
    return [
        (
            f"<{threshold}",
            f"a count from 1 to {threshold - 1}, withheld so that no one can be identified",
        ),
        (
            "[c]",
            "withheld so that a suppressed count cannot be worked out from the other cells "
            f"and totals (a count of at least {threshold})",
        ),
        missing,
    ]


def _reproducible_bytes(workbook: Workbook, stamp: datetime) -> bytes:
    """The workbook as .xlsx bytes with fixed zip timestamps and document properties.

    ``Workbook.save`` stamps the current time as "modified", so the writer is called
    directly, then the zip is repacked with a fixed date for every entry.
    """
    raw = io.BytesIO()
    with zipfile.ZipFile(raw, "w", zipfile.ZIP_DEFLATED, allowZip64=True) as archive:
        ExcelWriter(workbook, archive).save()
    date_time = (max(stamp.year, 1980), stamp.month, stamp.day, stamp.hour, stamp.minute, 0)
    out = io.BytesIO()
    with (
        zipfile.ZipFile(raw) as source,
        zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target,
    ):
        for info in source.infolist():
            entry = zipfile.ZipInfo(info.filename, date_time=date_time)
            entry.compress_type = zipfile.ZIP_DEFLATED
            entry.external_attr = 0o600 << 16
            target.writestr(entry, source.read(info.filename))
    return out.getvalue()
