"""Messages of the police.uk reader: row lists and warnings attributed to the caller."""

from __future__ import annotations

import sys
import warnings

import numpy as np

from cspanalysis.errors import DataQualityWarning, display_path

_PACKAGE = __name__.rpartition(".")[0]  # cspanalysis.data.policeuk
_SINGULAR = {"have": "has", "are": "is"}


def _rows(rows: np.ndarray, verb: str) -> str:
    """'3 rows (rows 4, 9, 12) have', '1 row (row 4) has'; at most five row numbers are listed."""
    listed = ", ".join(str(int(r)) for r in rows[:5])
    if len(rows) == 1:
        return f"1 row (row {listed}) {_SINGULAR[verb]}"
    return f"{len(rows)} rows (rows {listed}{', ...' if len(rows) > 5 else ''}) {verb}"


def _warn(message: str, where: str | None) -> None:
    """Warn, attributing the warning to the first caller outside this package."""
    level, frame = 2, sys._getframe(1)
    while frame is not None and _inside(frame.f_globals.get("__name__", "")):
        level, frame = level + 1, frame.f_back
    text = message if where is None else f"{display_path(where)}: {message}"
    warnings.warn(text, DataQualityWarning, stacklevel=level)


def _inside(module: str) -> bool:
    return module == _PACKAGE or module.startswith(_PACKAGE + ".")
