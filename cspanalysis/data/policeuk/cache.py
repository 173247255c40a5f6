"""The parquet cache of parsed street files: one file per key, written atomically."""

from __future__ import annotations

import json
import warnings
from pathlib import Path
from typing import Literal

import pyarrow as pa
import pyarrow.parquet as pq

from cspanalysis.data.policeuk.parse import _CACHE_SCHEMA
from cspanalysis.errors import display_path
from cspanalysis.files import atomic_path, default_cache_dir


def _cache_folder(cache_dir: str | Path | Literal[False] | None) -> Path | None:
    if cache_dir is False:
        return None
    return Path(default_cache_dir() if cache_dir is None else cache_dir) / "policeuk"


def _read_cache(path: Path) -> pa.Table | None:
    """The cached table, or None when absent or unreadable (it is then parsed and rewritten)."""
    if not path.is_file():
        return None
    try:
        table = pq.read_table(path)
        json.loads(table.schema.metadata[b"cspanalysis"])
    except Exception:
        return None
    return table if table.schema.remove_metadata().equals(_CACHE_SCHEMA) else None


def _write_cache(path: Path, table: pa.Table) -> None:
    try:
        with atomic_path(path) as tmp:
            pq.write_table(table, tmp, compression="zstd")
    except OSError as exc:
        warnings.warn(
            f"could not write the police.uk cache {display_path(path)} ({exc})", stacklevel=3
        )


def _meta(table: pa.Table) -> dict:
    return json.loads(table.schema.metadata[b"cspanalysis"])
