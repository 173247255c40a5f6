"""Message helpers shared by the geography modules: short code lists and warnings."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from cspanalysis.errors import warn_data_quality

_PACKAGE = __name__.rpartition(".")[0]  # "cspanalysis.data.geography"


def _few(codes: Iterable[object], n: int = 5) -> str:
    """'A, B, C, D, E, ...': at most ``n`` codes for a message."""
    codes = [str(c) for c in codes]
    return ", ".join(codes[:n]) + (", ..." if len(codes) > n else "")


def _warn(message: str, path: Path | str | None) -> None:
    """Warn, attributing the warning to the first caller outside this package."""
    warn_data_quality(message, path, package=_PACKAGE)
