"""Errors raised for bad input.

Every problem with an analyst's input (a parameter file, a police.uk file, a
partner dataset, a boundary file) is raised as :class:`InputError`: one
sentence that names the file, and where possible the row, column or key, and
says what to do. Code that catches it (the CLI, the batch runner) prints the
message and nothing else; a raw traceback from deep inside pandas is a bug.
"""

from __future__ import annotations

import sys
import warnings
from pathlib import Path


class InputError(ValueError):
    """A problem with the analyst's input, described in one clear sentence.

    Examples
    --------
    >>> err = InputError("the file has no 'Month' column; re-download it",
    ...                  path="2019-01-thames-valley-street.csv")
    >>> str(err)
    "2019-01-thames-valley-street.csv: the file has no 'Month' column; re-download it"
    """

    def __init__(self, message: str, *, path: str | Path | None = None) -> None:
        self.path = None if path is None else str(path)
        self.message = message
        super().__init__(f"{display_path(path)}: {message}" if path is not None else message)


class OfflineError(InputError):
    """A download could not reach its server (no network, or the host is unreachable)."""


def display_path(path: str | Path | None) -> str:
    """Return ``path`` as it should appear in a message or an output file.

    Paths inside the current working directory are shown relative to it, and a
    home directory is shown as ``~`` so that outputs do not carry user names.

    >>> display_path(None)
    ''
    """
    if path is None:
        return ""
    text = str(path)
    try:
        p = Path(text)
        if p.is_absolute():
            try:
                return str(p.relative_to(Path.cwd()))
            except ValueError:
                home = Path.home()
                try:
                    return "~/" + str(p.relative_to(home))
                except ValueError:
                    return text
    except (OSError, RuntimeError):  # pragma: no cover - odd platforms
        return text
    return text


class DataQualityWarning(UserWarning):
    """Something in the data is unusual but usable (rows kept, and counted in the quality summary).

    Examples: coordinates outside Great Britain (the row is kept without a
    location), an LSOA code the lookup does not know, a duplicate identical file.
    """


def warn_data_quality(message: str, path: str | Path | None, *, package: str) -> None:
    """Emit a :class:`DataQualityWarning` attributed to the first caller outside ``package``.

    Loaders call this from deep inside their own modules; the warning should
    point at the analyst's line (``load_partnership(...)``), not at ours.
    """
    level, frame = 2, sys._getframe(1)
    while frame is not None:
        module = frame.f_globals.get("__name__") or ""
        if not (module == package or module.startswith(package + ".")):
            break
        level, frame = level + 1, frame.f_back
    text = message if path is None else f"{display_path(path)}: {message}"
    warnings.warn(text, DataQualityWarning, stacklevel=level)
