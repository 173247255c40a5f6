"""Statistical disclosure control for published tables of partner data about people.

A table of counts drawn from partner records about people (victims, offenders,
service users) can identify someone when a count is small. Following the
GSS/ONS guidance on statistical disclosure control of tables, :func:`suppress`
applies two steps:

**Primary suppression.** A count from 1 to ``threshold - 1`` (default 1–4) is
shown as ``"<5"``. Zeros are shown as ``0`` (configurable), and missing values
(a month a source did not supply) as ``"[x]"``, never as 0. Totals are counts
too: a small total is suppressed like any other cell.

**Secondary (complementary) suppression.** When a table is published with
totals, a suppressed cell could be worked out by subtraction (total minus the
other cells of its row or column), so further cells are withheld and shown as
``"[c]"`` (the GSS symbol for "confidential"). The method:

1. *Line rule*, repeated to a fixed point: every row and column that has a
   total (the total row and total column included) and exactly one withheld
   cell gets a second one: the smallest non-zero shown cell of that line,
   preferring a cell whose crossing line already has a withheld cell (so no
   new lone cell is created) and an inner cell over a total. Zeros are never
   used as complements, so a ``"[c]"`` cell is always a count of at least
   ``threshold``, and readers can be told so.
2. *Audit*: the line rule alone is not always enough (two suppressed blocks
   joined by a single cell can still be solved), so every withheld cell is
   then checked with linear programming (:func:`scipy.optimize.linprog`): its
   smallest and largest values consistent with every shown cell, every total,
   ``"<5"`` meaning 1–4 and ``"[c]"`` meaning at least 5 are computed. Because
   the constraint matrix of a table with margins is totally unimodular, these
   bounds are whole numbers, so *max > min* means at least two whole values
   remain possible. A cell that can still be pinned down gets a further
   complement in one of its lines, and the two steps repeat.

Guarantee: on return, no withheld cell's value can be worked out exactly from
the published cells and totals (its feasible interval holds at least two whole
numbers), unless :attr:`SuppressedTable.unprotected` lists it (and a
:class:`DisclosureWarning` was raised), which happens only when its lines have
no shown non-zero cell left to withhold. It does not guarantee a minimum width
("protection level") of that interval, nor protect against other tables
published from the same records (differencing between tables); publish
consistent tables from one suppressed table where possible.

**Rounding** (``method="round"``) is the alternative rule: every count, totals
included, is rounded independently to the nearest multiple of ``base``
(halves up), so a shown 0 may stand for a count below ``base / 2`` and totals
may not add up.

**Exempt tables** (``exempt=True``): police.uk street-level counts are already
public, so tables of them are shown unchanged.

References: Government Statistical Service, *Statistical disclosure control
for tables* (GSS/ONS guidance); Hundepool et al. (2012), *Statistical
Disclosure Control*, ch. 4 ("cell suppression", "secondary suppression").

Example
-------
>>> import pandas as pd
>>> counts = pd.Series({"Victims": 3, "Witnesses": 10, "Suspects": 12}, name="people")
>>> table = suppress(counts, margins="add")
>>> table.display.tolist()
['<5', '[c]', '12', '25']
>>> table.findings()[0]
'1 count from 1 to 4 is shown as "<5".'
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass, field
from typing import Literal

import numpy as np
import pandas as pd
from scipy.optimize import linprog

from cspanalysis.errors import InputError

__all__ = ["DisclosureWarning", "SuppressedTable", "suppress"]

#: labels that mark a total row or column when ``margins="auto"``
TOTAL_LABELS = frozenset({"total", "totals", "all", "grand total"})
SECONDARY_SYMBOL = "[c]"
_LISTED = 12  # withheld cells named in findings()
MISSING_SYMBOL = "[x]"

Cell = tuple[int, int]


class DisclosureWarning(UserWarning):
    """A withheld cell could not be fully protected by secondary suppression."""


@dataclass
class SuppressedTable:
    """A table ready to publish, with what was withheld and why.

    Attributes
    ----------
    values
        The original counts (with totals, when ``margins="add"`` added them).
    display
        The published table as strings: counts, ``"<5"`` (primary),
        ``"[c]"`` (secondary), ``"[x]"`` (missing), or rounded counts.
    mask_primary, mask_secondary
        True where a cell was withheld as a small count / as a complement.
    method, threshold, base, exempt
        The rule applied (``method`` is ``"suppress"``, ``"round"`` or ``"none"``).
    total_row, total_column
        Whether the table carries a total row / total column (resolved ``margins``).
    unprotected
        Labels of withheld cells that could still be worked out (empty unless warned).
    """

    values: pd.DataFrame | pd.Series
    display: pd.DataFrame | pd.Series
    mask_primary: pd.DataFrame | pd.Series
    mask_secondary: pd.DataFrame | pd.Series
    method: str
    threshold: int
    base: int
    exempt: bool
    total_row: bool
    total_column: bool
    unprotected: list[tuple[object, ...]] = field(default_factory=list)

    @property
    def n_primary(self) -> int:
        """Number of cells shown as ``"<threshold"``."""
        return int(np.asarray(self.mask_primary).sum())

    @property
    def n_secondary(self) -> int:
        """Number of cells withheld as complements (``"[c]"``)."""
        return int(np.asarray(self.mask_secondary).sum())

    @property
    def published(self) -> pd.DataFrame | pd.Series:
        """The published table with shown counts as integers and symbols as strings (for Excel)."""
        return self.display.map(lambda text: int(text) if text.isdigit() else text)

    def findings(self) -> list[str]:
        """Plain-English sentences saying what was withheld and why.

        >>> import pandas as pd
        >>> print(suppress(pd.Series([7, 2], index=["a", "b"]), exempt=True).findings()[0])
        Counts are shown unchanged: they are already public (police.uk).
        """
        if self.method == "none":
            return ["Counts are shown unchanged: they are already public (police.uk)."]
        if self.method == "round":
            half = math.ceil(self.base / 2) - 1
            return [
                f"Every count is rounded to the nearest {self.base}, totals separately, so "
                f"totals may not add up and a 0 may stand for a count from 1 to {half}."
                if half >= 1
                else f"Every count is rounded to the nearest {self.base}."
            ]
        small = f"from 1 to {self.threshold - 1}"
        out = []
        if self.n_primary:
            out.append(
                f'{self.n_primary} count {small} is shown as "<{self.threshold}".'
                if self.n_primary == 1
                else f'{self.n_primary} counts {small} are shown as "<{self.threshold}".'
            )
        else:
            out.append(f"No count is {small}, so nothing is suppressed.")
        if self.n_secondary:
            cells = "cell is" if self.n_secondary == 1 else "cells are"
            out.append(
                f'{self.n_secondary} further {cells} withheld as "{SECONDARY_SYMBOL}" (each a '
                f"count of at least {self.threshold}) so that no suppressed count can be worked "
                "out from the totals (complementary suppression)."
            )
        withheld = self._withheld_labels()
        if withheld:
            shown = ", ".join(withheld[:_LISTED])
            more = f" and {len(withheld) - _LISTED} more" if len(withheld) > _LISTED else ""
            out.append(f"Withheld: {shown}{more}.")
        if self.unprotected:
            out.append(
                f"{len(self.unprotected)} withheld cell(s) could still be worked out from the "
                f"totals: {self.unprotected}; publish the table without totals."
            )
        return out

    def _withheld_labels(self) -> list[str]:
        """``"row × column (symbol)"`` for every withheld cell, in table order."""
        mask = np.asarray(self.mask_primary) | np.asarray(self.mask_secondary)
        display = np.asarray(self.display)
        if mask.ndim == 1:
            return [f"{self.display.index[i]} ({display[i]})" for i in np.flatnonzero(mask)]
        return [
            f"{self.display.index[r]} × {self.display.columns[c]} ({display[r, c]})"
            for r, c in np.argwhere(mask)
        ]


def suppress(
    table: pd.DataFrame | pd.Series,
    threshold: int = 5,
    *,
    margins: bool | Literal["auto", "add"] = "auto",
    exempt: bool = False,
    method: Literal["suppress", "round"] = "suppress",
    base: int = 5,
    zero: str = "0",
) -> SuppressedTable:
    """Apply disclosure control to a table of counts (1-D or 2-D).

    Parameters
    ----------
    table
        Whole non-negative counts; NA for a value not supplied. A Series is a
        1-D table, a DataFrame a 2-D one.
    threshold
        Counts from 1 to ``threshold - 1`` are suppressed (default 5: "<5").
    margins
        ``"auto"``: a last row / last column labelled Total, All or Grand total
        is a total; ``True``: the last row and the last column (the last value
        of a Series) are totals; ``False``: no totals are published, so only
        primary suppression applies; ``"add"``: add totals, then suppress.
        Totals given must equal the sum of their cells.
    exempt
        True for counts that are already public (police.uk): shown unchanged.
    method
        ``"suppress"`` (primary and secondary suppression) or ``"round"``
        (every count rounded to the nearest ``base``).
    base
        Rounding base for ``method="round"``.
    zero
        How a zero count is shown (default ``"0"``; e.g. ``"-"``).

    Returns
    -------
    SuppressedTable

    Raises
    ------
    InputError
        For counts that are negative or not whole, or totals that do not add up.

    Examples
    --------
    >>> import pandas as pd
    >>> t = pd.DataFrame({"2023": [2, 8, 10], "2024": [6, 9, 15]},
    ...                  index=["Theft", "Violence", "Total"])
    >>> t["Total"] = t.sum(axis=1)
    >>> suppress(t).display
             2023 2024 Total
    Theft      <5  [c]     8
    Violence  [c]  [c]    17
    Total      10   15    25
    """
    if not isinstance(threshold, int | np.integer) or threshold < 3:
        raise InputError(
            f"threshold must be a whole number of at least 3 (below it '<threshold' would "
            f"reveal the count), not {threshold!r}"
        )
    if method not in ("suppress", "round"):
        raise InputError(f"method must be 'suppress' or 'round', not {method!r}")
    if method == "round" and (not isinstance(base, int | np.integer) or base < 1):
        raise InputError(f"base must be a whole number of at least 1, not {base!r}")
    is_series = isinstance(table, pd.Series)
    frame = table.to_frame() if is_series else table
    if not isinstance(frame, pd.DataFrame):
        raise InputError(
            f"suppress() needs a pandas Series or DataFrame, not {type(table).__name__}"
        )
    values = _counts(frame)
    frame_values = pd.DataFrame(values, index=frame.index, columns=frame.columns)
    total_row, total_column, frame_values = _resolve_margins(frame_values, margins, is_series)
    values = frame_values.to_numpy(dtype=float)
    _check_totals(frame_values, values, total_row, total_column)

    missing = np.isnan(values)
    primary = np.zeros(values.shape, dtype=bool)
    secondary = np.zeros(values.shape, dtype=bool)
    unprotected: list[Cell] = []
    display = np.empty(values.shape, dtype=object)
    shown = np.where(missing, 0, values).astype(np.int64)
    if exempt:
        used = "none"
        display[...] = shown.astype(str)
    elif method == "round":
        used = "round"
        display[...] = (np.floor(shown / base + 0.5).astype(np.int64) * base).astype(str)
    else:
        used = "suppress"
        primary = ~missing & (values > 0) & (values < threshold)
        lines = _lines(values, total_row, total_column)
        secondary, unprotected = _secondary(values, primary, lines, threshold)
        display[...] = shown.astype(str)
        display[primary] = f"<{threshold}"
        display[secondary] = SECONDARY_SYMBOL
    display[~missing & (values == 0) & ~secondary] = zero
    display[missing] = MISSING_SYMBOL

    def wrap(arr: np.ndarray) -> pd.DataFrame | pd.Series:
        out = pd.DataFrame(arr, index=frame_values.index, columns=frame_values.columns)
        return out.iloc[:, 0].rename(table.name) if is_series else out

    labels = [_label(frame_values, cell, is_series) for cell in unprotected]
    if labels:
        warnings.warn(
            f"{len(labels)} withheld cell(s) could still be worked out from the totals "
            f"({labels}); publish this table without totals.",
            DisclosureWarning,
            stacklevel=2,
        )
    values_out = frame_values.astype("Float64") if missing.any() else frame_values.astype("int64")
    return SuppressedTable(
        values=values_out.iloc[:, 0] if is_series else values_out,
        display=wrap(display),
        mask_primary=wrap(primary),
        mask_secondary=wrap(secondary),
        method=used,
        threshold=int(threshold),
        base=int(base),
        exempt=bool(exempt),
        total_row=total_row,
        total_column=total_column,
        unprotected=labels,
    )


# --------------------------------------------------------------------------- input


def _counts(frame: pd.DataFrame) -> np.ndarray:
    """The table as floats (NaN for NA), after checking every value is a whole count."""
    try:
        numeric = frame.apply(pd.to_numeric, errors="raise").astype("Float64")
    except (TypeError, ValueError):
        bad = [c for c in frame.columns if not _is_numeric_column(frame[c])]
        raise InputError(
            f"column {bad[0]!r} holds text, not counts; pass a table of whole numbers only"
        ) from None
    values = numeric.to_numpy(dtype=float, na_value=np.nan)
    bad = ~np.isnan(values) & ((values < 0) | (values != np.round(values)) | np.isinf(values))
    if bad.any():
        r, c = map(int, np.argwhere(bad)[0])
        raise InputError(
            f"row {frame.index[r]!r}, column {frame.columns[c]!r} is {values[r, c]!r}; "
            "disclosure control needs whole, non-negative counts"
        )
    return values


def _is_numeric_column(column: pd.Series) -> bool:
    try:
        pd.to_numeric(column, errors="raise")
    except (TypeError, ValueError):
        return False
    return True


def _is_total_label(label: object) -> bool:
    return isinstance(label, str) and label.strip().lower() in TOTAL_LABELS


def _resolve_margins(
    frame: pd.DataFrame, margins: bool | str, is_series: bool
) -> tuple[bool, bool, pd.DataFrame]:
    if margins == "add":
        out = frame.copy()
        if not is_series:
            out["Total"] = frame.sum(axis=1, min_count=1)
        out.loc["Total"] = out.sum(axis=0, min_count=1)
        return True, not is_series, out
    if margins == "auto":
        total_row = len(frame) > 1 and _is_total_label(frame.index[-1])
        total_column = not is_series and frame.shape[1] > 1 and _is_total_label(frame.columns[-1])
        return total_row, total_column, frame
    if margins is True:
        if len(frame) < 2 or (not is_series and frame.shape[1] < 2):
            raise InputError("margins=True needs at least one cell besides the totals")
        return True, not is_series, frame
    if margins is False:
        return False, False, frame
    raise InputError(f"margins must be True, False, 'auto' or 'add', not {margins!r}")


def _check_totals(
    frame: pd.DataFrame, values: np.ndarray, total_row: bool, total_col: bool
) -> None:
    """Totals must equal the sum of their (non-missing) cells, or suppression is meaningless."""
    for axis, has_total in ((0, total_row), (1, total_col)):
        if not has_total:
            continue
        inner = values[:-1, :] if axis == 0 else values[:, :-1]
        given = values[-1, :] if axis == 0 else values[:, -1]
        sums = np.nansum(inner, axis=axis)
        for k in np.flatnonzero(~np.isnan(given) & (sums != given)):
            where = f"column {frame.columns[k]!r}" if axis == 0 else f"row {frame.index[k]!r}"
            raise InputError(
                f"{where}: the total {given[k]:g} is not the sum of its cells ({sums[k]:g}); "
                "correct the total or pass margins=False if it is not a total"
            )


def _label(frame: pd.DataFrame, cell: Cell, is_series: bool) -> tuple[object, ...]:
    r, c = cell
    return (frame.index[r],) if is_series else (frame.index[r], frame.columns[c])


# --------------------------------------------------------------------------- suppression


def _lines(values: np.ndarray, total_row: bool, total_col: bool) -> list[list[Cell]]:
    """Every linear constraint the published totals impose: lists of cells, the total last.

    A line whose total is missing imposes nothing; missing cells are left out.
    """
    n_rows, n_cols = values.shape
    lines: list[list[Cell]] = []
    inner_cols = range(n_cols - 1) if total_col else range(n_cols)
    inner_rows = range(n_rows - 1) if total_row else range(n_rows)
    if total_col:
        for r in range(n_rows):
            lines.append([(r, c) for c in inner_cols] + [(r, n_cols - 1)])
    if total_row:
        for c in range(n_cols):
            lines.append([(r, c) for r in inner_rows] + [(n_rows - 1, c)])
    kept = []
    for line in lines:
        if np.isnan(values[line[-1]]):
            continue
        kept.append([cell for cell in line if not np.isnan(values[cell])])
    return kept


def _secondary(
    values: np.ndarray, primary: np.ndarray, lines: list[list[Cell]], threshold: int
) -> tuple[np.ndarray, list[Cell]]:
    """Complementary suppression: the line rule to a fixed point, then an LP audit."""
    withheld = primary.copy()
    if not lines or not primary.any():
        return np.zeros_like(primary), []
    lines_of: dict[Cell, list[int]] = {}
    for k, line in enumerate(lines):
        for cell in line:
            lines_of.setdefault(cell, []).append(k)
    totals = {line[-1] for line in lines}

    def complement(k: int) -> Cell | None:
        """The best shown non-zero cell of line ``k`` to withhold next."""

        def key(cell: Cell) -> tuple[int, float, int, Cell]:
            crossing = [j for j in lines_of[cell] if j != k]
            lone = any(sum(withheld[c] for c in lines[j]) == 0 for j in crossing)
            return (int(lone), values[cell], int(cell in totals), cell)

        candidates = [c for c in lines[k] if not withheld[c] and values[c] > 0]
        return min(candidates, key=key) if candidates else None

    unprotected: list[Cell] = []
    for _ in range(values.size + 1):
        changed = True
        while changed:
            changed = False
            for k, line in enumerate(lines):
                if sum(withheld[c] for c in line) == 1:
                    cell = complement(k)
                    if cell is not None:
                        withheld[cell] = True
                        changed = True
        exposed = _audit(values, withheld, primary, lines, threshold)
        unprotected = []
        added = False
        for cell in exposed:
            options = [complement(k) for k in lines_of.get(cell, [])]
            options = [c for c in options if c is not None]
            if options:
                withheld[min(options, key=lambda c: (values[c], c))] = True
                added = True
                break
            unprotected.append(cell)
        if not added:
            break
    return withheld & ~primary, unprotected


def _audit(
    values: np.ndarray,
    withheld: np.ndarray,
    primary: np.ndarray,
    lines: list[list[Cell]],
    threshold: int,
) -> list[Cell]:
    """Withheld cells whose value the published table pins to a single number."""
    cells = [tuple(map(int, c)) for c in np.argwhere(withheld)]
    index = {cell: i for i, cell in enumerate(cells)}
    rows, rhs = [], []
    for line in lines:
        if not any(withheld[c] for c in line):
            continue
        coef = np.zeros(len(cells))
        known = 0.0
        for pos, cell in enumerate(line):
            sign = -1.0 if pos == len(line) - 1 else 1.0
            if withheld[cell]:
                coef[index[cell]] += sign
            else:
                known += sign * values[cell]
        rows.append(coef)
        rhs.append(-known)
    if not rows:
        return []
    a_eq, b_eq = np.array(rows), np.array(rhs)
    bounds = [(1, threshold - 1) if primary[c] else (threshold, None) for c in cells]
    exposed = []
    for i, cell in enumerate(cells):
        objective = np.zeros(len(cells))
        objective[i] = 1.0
        low = linprog(objective, A_eq=a_eq, b_eq=b_eq, bounds=bounds, method="highs")
        high = linprog(-objective, A_eq=a_eq, b_eq=b_eq, bounds=bounds, method="highs")
        if low.status != 0 or high.status not in (0, 3):  # 3: unbounded above, so protected
            exposed.append(cell)  # pragma: no cover - the true values are always feasible
            continue
        if high.status == 0 and -high.fun - low.fun < 0.5:
            exposed.append(cell)
    return exposed
