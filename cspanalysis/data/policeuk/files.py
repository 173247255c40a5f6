"""Finding police.uk street files in folders, folder trees, archive zips and lists of files.

The month and force of a street file come from its name,
``YYYY-MM-<force>-street.csv`` (or ``.csv.gz``); :class:`StreetFile` names one
file on disk or one member of a police.uk archive ``.zip``.
"""

from __future__ import annotations

import os
import re
import zipfile
import zlib
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from cspanalysis.errors import InputError

Source = str | os.PathLike[str] | Sequence[str | os.PathLike[str]]

_NAME_RE = re.compile(
    r"^(?P<month>\d{4}-\d{2})-(?P<force>[a-z0-9]+(?:-[a-z0-9]+)*)-street\.csv(?:\.gz)?$", re.I
)
_OTHER_RE = re.compile(r"^\d{4}-\d{2}-.+-(?P<kind>outcomes|stop-and-search)\.csv(?:\.gz)?$", re.I)
_NAME_FORM = "YYYY-MM-<force>-street.csv (or .csv.gz), e.g. 2019-01-thames-valley-street.csv"
_MONTH_RE = r"^\d{4}-(?:0[1-9]|1[0-2])$"


@dataclass(frozen=True)
class StreetFile:
    """One monthly police.uk street file: a file on disk, or a member of an archive ``.zip``.

    Examples
    --------
    >>> f = StreetFile(pd.Period("2019-01", "M"), "thames-valley",
    ...                Path("2019-01.zip"), "2019-01/2019-01-thames-valley-street.csv")
    >>> f.name
    '2019-01.zip/2019-01/2019-01-thames-valley-street.csv'
    """

    month: pd.Period
    force: str
    path: Path
    member: str | None = None

    @property
    def name(self) -> str:
        """The file name shown in Coverage ``files``: ``<zip name>/<member>`` for a member."""
        return self.path.name if self.member is None else f"{self.path.name}/{self.member}"

    @property
    def display(self) -> str:
        """The full location, as named in messages."""
        return str(self.path if self.member is None else self.path / self.member)

    def read_bytes(self) -> bytes:
        """The file's bytes (a zip member's bytes, uncompressed from the archive)."""
        try:
            if self.member is None:
                return self.path.read_bytes()
            with zipfile.ZipFile(self.path) as archive:
                return archive.read(self.member)
        except (zipfile.BadZipFile, zlib.error, EOFError):
            raise InputError(
                "the archive member is damaged; download the archive again", path=self.display
            ) from None
        except OSError as exc:
            raise InputError(
                f"cannot read the file ({exc.strerror or exc})", path=self.display
            ) from None


def find_street_files(source: Source, forces: Sequence[str] | None = None) -> list[StreetFile]:
    """Find the police.uk street files in folders, archives and lists of files.

    Parameters
    ----------
    source
        A folder (searched recursively for ``YYYY-MM-<force>-street.csv`` or
        ``.csv.gz`` files and police.uk archive ``.zip`` files), an archive
        ``.zip`` (read in place), one street file, or a list of any of these.
        Other files are ignored, except that a file given explicitly must be
        named like a street file.
    forces
        Force slugs to keep (e.g. ``["thames-valley"]``); ``None`` keeps all.

    Returns
    -------
    list of StreetFile
        Sorted by force, month and name.

    Raises
    ------
    InputError
        A path that does not exist, a folder or archive with no street files,
        a badly named file, or a force in ``forces`` that none of the files is for.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> folder = pathlib.Path(tempfile.mkdtemp())
    >>> for name in ("2019-01-city-of-london-street.csv.gz", "2019-01-city-of-london-outcomes.csv"):
    ...     _ = (folder / name).write_bytes(b"")
    >>> [(str(f.month), f.force) for f in find_street_files(folder)]
    [('2019-01', 'city-of-london')]
    """
    items = [source] if isinstance(source, str | os.PathLike) else list(source)
    if not items:
        raise InputError("no police.uk files were given; give a folder, an archive .zip or files")
    found: list[StreetFile] = []
    for item in items:
        path = Path(item)
        if not path.exists():
            raise InputError(
                "does not exist; give a folder of police.uk street files, an archive .zip or a "
                "street file",
                path=path,
            )
        if path.is_dir():
            in_folder = [
                f
                for entry in sorted(path.rglob("*"))
                if entry.is_file() and not entry.name.startswith(".")
                for f in _street_files_in(entry, explicit=False)
            ]
            if not in_folder:
                raise InputError(
                    f"the folder holds no police.uk street files; expected files named {_NAME_FORM}"
                    ", or police.uk archive .zip files",
                    path=path,
                )
            found += in_folder
        else:
            found += _street_files_in(path, explicit=True)
    if forces is not None:
        wanted = {f.strip().lower() for f in ([forces] if isinstance(forces, str) else forces)}
        have = sorted({f.force for f in found})
        absent = sorted(wanted - set(have))
        if absent:
            raise InputError(
                f"no street files for force(s) {', '.join(absent)}; the files found are for "
                f"{', '.join(have)}",
                path=items[0] if len(items) == 1 else None,
            )
        found = [f for f in found if f.force in wanted]
    return sorted(found, key=lambda f: (f.force, f.month.ordinal, f.display))


def _street_files_in(path: Path, *, explicit: bool) -> list[StreetFile]:
    """The street file ``path`` is, or the street members of the archive it is."""
    if path.suffix.lower() == ".zip":
        try:
            with zipfile.ZipFile(path) as archive:
                members = [m for m in archive.namelist() if not m.endswith("/")]
        except (zipfile.BadZipFile, OSError):
            raise InputError(
                "is not a readable zip archive; download it again from police.uk", path=path
            ) from None
        out = [f for m in members if (f := _from_name(path, m, m.rsplit("/", 1)[-1])) is not None]
        if not out and explicit:
            raise InputError(
                "the archive holds no police.uk street files; expected members named "
                f"YYYY-MM/{_NAME_FORM} (outcomes and stop-and-search files are not read)",
                path=path,
            )
        return out
    street = _from_name(path, None, path.name)
    if street is not None:
        return [street]
    if explicit:
        other = _OTHER_RE.match(path.name)
        what = (
            f"is a police.uk {other['kind']} file, which is not read"
            if other
            else "is not named like a police.uk street file, and the month and force are read "
            "from the name"
        )
        raise InputError(f"{what}; give street files named {_NAME_FORM}", path=path)
    return []


def _from_name(path: Path, member: str | None, name: str) -> StreetFile | None:
    match = _NAME_RE.match(name)
    if match is None:
        return None
    where = path if member is None else path / member
    if not re.match(_MONTH_RE, match["month"]):
        raise InputError(
            f"the month in the file name ({match['month']}) is not a month; name it {_NAME_FORM}",
            path=where,
        )
    return StreetFile(pd.Period(match["month"], "M"), match["force"].lower(), path, member)
