"""Message helpers shared by the geography modules: short code lists and warnings."""

from __future__ import annotations

import sys
import warnings
from collections.abc import Iterable
from pathlib import Path

from cspanalysis.errors import DataQualityWarning, display_path

_PACKAGE = __name__.rpartition(".")[0]  # "cspanalysis.data.geography"


def _few(codes: Iterable[object], n: int = 5) -> str:
    """'A, B, C, D, E, ...': at most ``n`` codes for a message."""
    codes = [str(c) for c in codes]
    return ", ".join(codes[:n]) + (", ..." if len(codes) > n else "")


def _warn(message: str, path: Path | str | None) -> None:
    """Warn, attributing the warning to the first caller outside the geography package."""
    level, frame = 2, sys._getframe(1)
    while frame is not None and _inside(frame.f_globals.get("__name__")):
        level, frame = level + 1, frame.f_back
    warnings.warn(f"{display_path(path)}: {message}", DataQualityWarning, stacklevel=level)


def _inside(module: str | None) -> bool:
    """Whether ``module`` is the geography package or one of its modules."""
    return module is not None and (module == _PACKAGE or module.startswith(_PACKAGE + "."))
