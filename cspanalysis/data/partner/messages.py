"""Messages of the partner reader: row lists and warnings attributed to the caller."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from cspanalysis.errors import warn_data_quality

_PACKAGE = __name__.rpartition(".")[0]  # cspanalysis.data.partner


def _rows(mask: pd.Series) -> str:
    """'3 rows (rows 4, 9, 12)'; at most five row numbers are listed."""
    rows = [int(r) for r in mask[mask].index]
    listed = ", ".join(map(str, rows[:5]))
    if len(rows) == 1:
        return f"1 row (row {listed})"
    return f"{len(rows)} rows (rows {listed}{', ...' if len(rows) > 5 else ''})"


def _warn(message: str, path: Path) -> None:
    """Warn, attributing the warning to the first caller outside this package."""
    warn_data_quality(message, path, package=_PACKAGE)
