"""Content hashing and all-or-nothing file writes.

Two guarantees the whole project relies on: a cache is keyed by the *content*
of its inputs (so a changed file invalidates it, a touched one does not), and
no output is ever left half-written (we write to a temporary file in the same
folder and rename it into place, which is atomic on POSIX and Windows).
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import tempfile
from collections.abc import Iterable, Iterator
from pathlib import Path

_CHUNK = 1 << 20


def sha256_file(path: str | Path) -> str:
    """Return the SHA-256 hex digest of a file's bytes.

    >>> import tempfile, pathlib
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "x.txt"
    >>> _ = p.write_bytes(b"abc")
    >>> sha256_file(p)[:16]
    'ba7816bf8f01cfea'
    """
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(_CHUNK), b""):
            h.update(chunk)
    return h.hexdigest()


def sha256_bytes(data: bytes) -> str:
    """Return the SHA-256 hex digest of ``data``."""
    return hashlib.sha256(data).hexdigest()


def combined_key(parts: Iterable[str]) -> str:
    """Combine several strings (hashes, versions, options) into one cache key.

    The order of ``parts`` matters; callers sort when it should not.

    >>> combined_key(["a", "b"]) == combined_key(["a", "b"])
    True
    >>> combined_key(["a", "b"]) == combined_key(["b", "a"])
    False
    """
    h = hashlib.sha256()
    for part in parts:
        h.update(part.encode("utf-8"))
        h.update(b"\x00")
    return h.hexdigest()


@contextlib.contextmanager
def atomic_path(target: str | Path) -> Iterator[Path]:
    """Yield a temporary path beside ``target``; on success rename it to ``target``.

    If the body raises, the temporary file is removed and ``target`` is left as
    it was, so no half-written output ever survives an error or an interrupt.

    >>> import tempfile, pathlib
    >>> out = pathlib.Path(tempfile.mkdtemp()) / "table.csv"
    >>> with atomic_path(out) as tmp:
    ...     _ = tmp.write_text("a,b\\n1,2\\n")
    >>> out.read_text()
    'a,b\\n1,2\\n'
    """
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".part", dir=target.parent)
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        yield tmp
        # mkstemp creates 0600 files; give the output the permissions a normal open() would
        umask = os.umask(0)
        os.umask(umask)
        with contextlib.suppress(FileNotFoundError):
            os.chmod(tmp, 0o666 & ~umask)
        os.replace(tmp, target)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()
        raise


def default_cache_dir() -> Path:
    """Where parsed data is cached unless a parameter file says otherwise.

    ``$CSPANALYSIS_CACHE`` if set, else ``$XDG_CACHE_HOME/cspanalysis``, else
    ``~/.cache/cspanalysis``.
    """
    env = os.environ.get("CSPANALYSIS_CACHE")
    if env:
        return Path(env)
    xdg = os.environ.get("XDG_CACHE_HOME")
    base = Path(xdg) if xdg else Path.home() / ".cache"
    return base / "cspanalysis"
