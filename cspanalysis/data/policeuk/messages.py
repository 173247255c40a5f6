"""Messages of the police.uk reader: row lists and warnings attributed to the caller."""

from __future__ import annotations

import numpy as np

from cspanalysis.errors import warn_data_quality

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
    warn_data_quality(message, where, package=_PACKAGE)
