"""Download police.uk archives and ONS files when online: resumable, verified, all-or-nothing.

:func:`fetch` downloads one URL to a file with the standard library only. The
bytes go to ``<dest>.part``; an interrupted download is resumed from there
with an HTTP ``Range`` request (a server that ignores it is simply downloaded
again from the start); a given SHA-256 is checked before the file is renamed
into place, so the destination either holds the complete, verified file or
does not exist. A destination that already exists (and matches ``sha256``
when given) is not downloaded again, so a notebook can call :func:`fetch`
every time it runs.

Example
-------
>>> from cspanalysis.data.fetch import fetch, policeuk_archive_url
>>> url = policeuk_archive_url("2019-01")
>>> url
'https://data.police.uk/data/archive/2019-01.zip'
>>> fetch(url, "data/downloads/")  # doctest: +SKIP
PosixPath('data/downloads/2019-01.zip')
"""

from __future__ import annotations

import contextlib
import email.message
import hashlib
import http.client
import importlib.metadata
import os
import re
import socket
import ssl
import sys
import urllib.error
import urllib.request
from pathlib import Path
from urllib.parse import unquote, urlsplit

from tqdm.auto import tqdm

from cspanalysis.errors import InputError, OfflineError
from cspanalysis.files import sha256_file

_MONTH_RE = re.compile(r"^(\d{4})-(0[1-9]|1[0-2])$")
_HEX64 = re.compile(r"^[0-9a-fA-F]{64}$")
#: The first month police.uk published street-level crime for.
POLICEUK_FIRST_MONTH = "2010-12"


def policeuk_archive_url(month: str) -> str:
    """The URL of police.uk's archive of every force's data published up to ``month``.

    Each monthly archive holds the street, outcomes and stop-and-search files
    of all forces for the three years up to that month.

    Parameters
    ----------
    month
        ``YYYY-MM``, from ``2010-12`` on.

    Examples
    --------
    >>> policeuk_archive_url("2019-01")
    'https://data.police.uk/data/archive/2019-01.zip'
    """
    text = month.strip() if isinstance(month, str) else month
    if not isinstance(text, str) or not _MONTH_RE.match(text):
        raise InputError(f"{month!r} is not a month; give it as YYYY-MM, e.g. '2019-01'")
    if text < POLICEUK_FIRST_MONTH:
        raise InputError(
            f"police.uk has no archive for {text}; its data start in {POLICEUK_FIRST_MONTH}"
        )
    return f"https://data.police.uk/data/archive/{text}.zip"


def fetch(
    url: str,
    dest: str | Path,
    *,
    sha256: str | None = None,
    resume: bool = True,
    progress: bool = True,
    timeout: float = 30.0,
    chunk_size: int = 1 << 16,
    retries: int = 2,
) -> Path:
    """Download ``url`` to ``dest``, resuming an interrupted download and checking its SHA-256.

    Parameters
    ----------
    url
        An ``http://`` or ``https://`` address.
    dest
        A file path, or an existing folder (or a path ending in ``/``) to put
        the file in, named after the last part of the URL's path when that
        has an extension (``2019-01.zip``), otherwise after the name the
        server gives in ``Content-Disposition`` (``.../download?id=3``).
    sha256
        Expected SHA-256 (hex) of the file. A mismatch raises
        :class:`InputError` and keeps nothing.
    resume
        Continue from ``<dest>.part`` when a previous download was interrupted.
    progress
        Show a progress bar on standard error (only when it is a terminal).
    timeout
        Seconds to wait for the server to connect or send data.
    chunk_size
        Bytes read at a time.
    retries
        How many times to resume within this call when the connection drops
        part-way (each attempt continues where the last stopped).

    Returns
    -------
    Path
        The downloaded file (or the existing one, when it was already complete).

    Raises
    ------
    OfflineError
        When the server cannot be reached (no network, unknown host, refused).
    InputError
        For an HTTP error status, a checksum mismatch, or a bad argument.

    Examples
    --------
    >>> fetch("https://data.police.uk/data/archive/2019-01.zip", "downloads/",
    ...       progress=False)  # doctest: +SKIP
    PosixPath('downloads/2019-01.zip')
    """
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise InputError(f"{url!r} is not a web address; give an http:// or https:// URL")
    if sha256 is not None and not _HEX64.match(sha256.strip()):
        raise InputError(f"sha256 {sha256!r} is not a SHA-256 digest (64 hexadecimal characters)")
    expected = sha256.strip().lower() if sha256 else None
    to_folder = str(dest).endswith(("/", os.sep)) or Path(dest).is_dir()
    dest = Path(dest)
    url_name = Path(unquote(parts.path)).name
    if not to_folder:
        target: Path | None = dest
    elif "." in url_name.strip("."):  # looks like a file name: known before asking the server
        target = dest / url_name
    else:  # .../download?id=3: the server's Content-Disposition names it
        target = None
    if target is not None and _complete(target, expected):
        return target

    attempt = 0
    while True:
        try:
            return _download(url, dest, target, expected, resume, progress, timeout, chunk_size)
        except _CutOffError as cut:
            attempt += 1
            target = cut.target
            if attempt > retries or not resume:
                raise OfflineError(
                    f"the download from {parts.hostname} stopped after {cut.received:,} bytes "
                    f"({cut.reason}); run again to resume, or download {url} by hand and point "
                    "the parameter file at it",
                    path=target,
                ) from None


class _CutOffError(Exception):
    """The connection dropped part-way; the bytes so far are in the .part file."""

    def __init__(self, target: Path, received: int, reason: str) -> None:
        super().__init__(reason)
        self.target, self.received, self.reason = target, received, reason


def _complete(target: Path, expected: str | None) -> bool:
    """Whether ``target`` already holds the file (any file when no checksum is given)."""
    if not target.is_file():
        return False
    return expected is None or sha256_file(target) == expected


def _download(
    url: str,
    dest: Path,
    target: Path | None,
    expected: str | None,
    resume: bool,
    progress: bool,
    timeout: float,
    chunk_size: int,
) -> Path:
    host = urlsplit(url).hostname
    offset = 0
    if target is not None:
        part = _part(target)
        if part.is_file() and resume:
            offset = part.stat().st_size
        elif part.exists():
            part.unlink()
    request = urllib.request.Request(url, headers={"User-Agent": _user_agent()})
    if offset:
        request.add_header("Range", f"bytes={offset}-")
    try:
        response = urllib.request.urlopen(request, timeout=timeout)
    except urllib.error.HTTPError as exc:
        exc.close()
        if exc.code == 416 and target is not None:  # nothing after our .part's end
            part = _part(target)
            found = re.match(r"\s*bytes\s+\*/(\d+)", exc.headers.get("Content-Range", ""))
            if found and int(found[1]) == offset:  # the .part is already the whole file
                return _finish(part, target, sha256_file(part), expected, url)
            part.unlink(missing_ok=True)  # it is no prefix of this file: start again
            return _download(url, dest, target, expected, False, progress, timeout, chunk_size)
        raise InputError(
            f"{url} answered HTTP {exc.code} ({exc.reason}); check the address"
            + (" and that the month is published" if exc.code == 404 else ", or try later"),
            path=target or dest,
        ) from None
    except urllib.error.URLError as exc:
        raise _unreachable(url, host, exc.reason, target or dest) from None
    except (OSError, http.client.HTTPException) as exc:  # timeouts and resets included
        raise _unreachable(url, host, exc, target or dest) from None

    with response:
        if target is None:
            target = dest / _disposition_name(response.headers, url, dest)
            if _complete(target, expected):
                return target
        part = _part(target)
        status = response.status
        if status not in (200, 206):
            raise InputError(f"{url} answered HTTP {status}; expected the file", path=target)
        if status == 206 and _range_start(response.headers) != offset:
            response.close()  # not the bytes we asked for: start again from zero
            part.unlink(missing_ok=True)
            return _download(url, dest, target, expected, False, progress, timeout, chunk_size)
        if status == 200:
            offset = 0  # the server ignored the Range header and sends the whole file
        total = _total_size(response.headers, status, offset)
        digest = hashlib.sha256()
        if offset:
            with part.open("rb") as fh:
                for block in iter(lambda: fh.read(1 << 20), b""):
                    digest.update(block)
        received = offset
        bar = tqdm(
            total=total,
            initial=offset,
            unit="B",
            unit_scale=True,
            unit_divisor=1024,
            desc=target.name,
            file=sys.stderr,
            disable=not progress or not _stderr_is_terminal(),
            leave=False,
        )
        target.parent.mkdir(parents=True, exist_ok=True)
        with bar, part.open("ab" if offset else "wb") as out:
            while True:
                try:
                    chunk = response.read(chunk_size)
                except (OSError, http.client.HTTPException) as exc:  # incl. timeouts, resets
                    raise _CutOffError(target, received, _reason(exc)) from None
                if not chunk:
                    break
                out.write(chunk)
                digest.update(chunk)
                received += len(chunk)
                bar.update(len(chunk))
        if total is not None and received < total:
            raise _CutOffError(target, received, f"{total - received:,} bytes short")
    return _finish(part, target, digest.hexdigest(), expected, url)


def _finish(part: Path, target: Path, got: str, expected: str | None, url: str) -> Path:
    """Check the checksum, then rename the .part into place (or delete it and raise)."""
    if expected is not None and got != expected:
        part.unlink(missing_ok=True)
        raise InputError(
            f"the download of {url} has SHA-256 {got}, but {expected} was expected; nothing was "
            "kept (the file on the server may have changed: check the checksum you gave)",
            path=target,
        )
    os.replace(part, target)
    return target


def _part(target: Path) -> Path:
    return target.with_name(target.name + ".part")


def _range_start(headers: email.message.Message) -> int | None:
    """The first byte of a 206 answer, from ``Content-Range: bytes START-END/TOTAL``."""
    found = re.match(r"\s*bytes\s+(\d+)-\d+/(\d+|\*)", headers.get("Content-Range", ""))
    return int(found[1]) if found else None


def _total_size(headers: email.message.Message, status: int, offset: int) -> int | None:
    """The whole file's size in bytes, when the server says."""
    if status == 206:
        found = re.match(r"\s*bytes\s+\d+-\d+/(\d+)", headers.get("Content-Range", ""))
        if found:
            return int(found[1])
    length = headers.get("Content-Length")
    if length and length.isdigit():
        return int(length) + (offset if status == 206 else 0)
    return None


def _disposition_name(headers: email.message.Message, url: str, dest: Path) -> str:
    """A safe file name from ``Content-Disposition`` (never a path outside ``dest``)."""
    message = email.message.Message()
    message["Content-Disposition"] = headers.get("Content-Disposition", "")
    raw = message.get_filename() or ""
    name = Path(raw.replace("\\", "/")).name.strip()
    if not name or name.startswith("."):
        raise InputError(
            f"cannot tell a file name for {url} (the address has none and the server gives none); "
            "give dest as a file path",
            path=dest,
        )
    return name


def _unreachable(url: str, host: str | None, reason: object, where: Path) -> InputError:
    if isinstance(reason, ssl.SSLError):
        return InputError(
            f"could not verify the secure connection to {host} ({_reason(reason)}); a proxy or "
            f"firewall may be in the way: download {url} by hand and point the parameter file "
            "at it",
            path=where,
        )
    return OfflineError(
        f"could not reach {host} ({_reason(reason)}); check the connection, or download {url} "
        "by hand and point the parameter file at it",
        path=where,
    )


def _reason(exc: object) -> str:
    if isinstance(exc, socket.gaierror):
        return "host name not found"
    if isinstance(exc, ConnectionRefusedError):
        return "connection refused"
    if isinstance(exc, TimeoutError):
        return "timed out"
    text = str(getattr(exc, "strerror", None) or exc).strip()
    return text or type(exc).__name__


def _user_agent() -> str:
    try:
        version = importlib.metadata.version("cspanalysis")
    except importlib.metadata.PackageNotFoundError:  # pragma: no cover - a bare source tree
        version = "0+unknown"
    return f"cspanalysis/{version} python-urllib/{sys.version_info.major}.{sys.version_info.minor}"


def _stderr_is_terminal() -> bool:
    with contextlib.suppress(AttributeError, ValueError, OSError):
        return sys.stderr.isatty()
    return False
