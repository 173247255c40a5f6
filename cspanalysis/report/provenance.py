"""Provenance: the ``manifest.json`` that says exactly how a draft was produced.

Following the Reproducible Analytical Pipelines practice of recording the code
version and the inputs in every output, :func:`build_manifest` gathers

* the parameter file's text and SHA-256 (a pseudonymisation ``salt`` written
  in it is replaced by ``[redacted]`` in the text; the hash is of the file);
* every input file the parameter file names, folders expanded to their files,
  with its size in bytes and SHA-256;
* coverage: for each source, the months it supplied and the months missing;
* the outputs with their sizes and SHA-256;
* the versions of cspanalysis and the packages that shape its results, and
  the git commit of cspanalysis when it runs from a git checkout;
* the run's start, finish and duration.

No absolute path or user name is written: an input under the data root is
recorded as ``{data_root}/…``, one inside the parameter file's folder
relative to it, and any other by its file name alone (``{elsewhere}/name``,
never a ``..`` path, which would reveal the machine's layout); the hash
still identifies it. The same inputs give the same manifest apart from the
``run`` block (the timings), and :func:`write_manifest` writes it with sorted
keys, atomically.

Example
-------
>>> import cspanalysis                                             # doctest: +SKIP
>>> data = cspanalysis.load_partnership("params/demo/northbrook.yaml")  # doctest: +SKIP
>>> manifest = build_manifest(data.params, data.coverage)         # doctest: +SKIP
>>> write_manifest(manifest, "out/northbrook/manifest.json")      # doctest: +SKIP
"""

from __future__ import annotations

import json
import os
import platform
import re
import subprocess
from collections.abc import Iterable, Mapping
from datetime import datetime
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

import pandas as pd

from cspanalysis.config import Params, iter_data_paths, load_params
from cspanalysis.errors import InputError
from cspanalysis.files import atomic_path, sha256_bytes, sha256_file

__all__ = ["MANIFEST_VERSION", "PACKAGES", "build_manifest", "output_records", "write_manifest"]

#: bump when the manifest's layout changes
MANIFEST_VERSION = 1

#: packages whose versions are recorded (None when not installed)
PACKAGES: tuple[str, ...] = (
    "cspanalysis",
    "pandas",
    "numpy",
    "geopandas",
    "statsmodels",
    "scipy",
    "pyarrow",
    "papermill",
)

REDACTED = "[redacted]"


def build_manifest(
    params: Params | str | Path,
    coverage: pd.DataFrame | Mapping[str, Any] | None = None,
    inputs: Iterable[str | Path] = (),
    outputs: Iterable[str | Path] = (),
    started: datetime | None = None,
    finished: datetime | None = None,
    *,
    output_dir: str | Path | None = None,
) -> dict[str, Any]:
    """Describe a run: parameters, inputs, coverage, outputs, versions and timing.

    Parameters
    ----------
    params
        The validated parameter file (from :func:`cspanalysis.load_params`, so
        it knows its source file), or the path of one.
    coverage
        The Coverage frame of the partnership (``PartnershipData.coverage``), or
        its :func:`summarise_coverage` (as a run recorded it in ``coverage.json``).
    inputs
        Further input files or folders not named in the parameter file (e.g.
        the notebook run); recorded like the parameter file's inputs.
    outputs
        Files the run wrote; recorded relative to ``output_dir``.
    started, finished
        When the run started and finished (timezone-aware, ideally UTC).
    output_dir
        The run's output folder; default: the folder holding all ``outputs``.

    Returns
    -------
    dict
        JSON-ready; see :func:`write_manifest`.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> folder = pathlib.Path(tempfile.mkdtemp())
    >>> _ = (folder / "street").mkdir()
    >>> _ = (folder / "street" / "2024-01-x-street.csv").write_text("Month\\n2024-01\\n")
    >>> _ = (folder / "p.yaml").write_text("name: X\\nareas: {districts: [E1]}\\n"
    ...                                     "police_uk: [{path: street}]\\n")
    >>> m = build_manifest(folder / "p.yaml")
    >>> [(f["key"], f["path"], f["bytes"]) for f in m["inputs"]]
    [('police_uk[0].path', 'street/2024-01-x-street.csv', 14)]
    >>> m["parameters"]["file"]
    'p.yaml'
    """
    if not isinstance(params, Params):
        params = load_params(params)
    if params.source_path is None:
        raise InputError(
            "the parameters were not read from a file; load them with load_params(path)"
        )
    source = Path(params.source_path)
    places = _Places(data_root=params.data_root, base=source.parent)

    records = []
    for key, path in iter_data_paths(params):
        records += _file_records(key, Path(path), places)
    for path in inputs:
        records += _file_records("inputs", Path(path).resolve(), places)

    out_records = output_records(outputs, output_dir)

    raw = source.read_bytes()
    manifest: dict[str, Any] = {
        "manifest_version": MANIFEST_VERSION,
        "partnership": {"name": params.name, "code": params.code},
        "parameters": {
            "file": source.name,
            "sha256": sha256_bytes(raw),
            "text": _redact(raw.decode("utf-8"), params),
        },
        "inputs": records,
        "coverage": (
            summarise_coverage(coverage) if isinstance(coverage, pd.DataFrame) else coverage
        ),
        "outputs": out_records,
        "software": {
            "python": platform.python_version(),
            "packages": {name: _version(name) for name in PACKAGES},
            "cspanalysis_git": git_commit(),
        },
        "run": _run_block(started, finished),
    }
    return manifest


def write_manifest(manifest: Mapping[str, Any], path: str | Path) -> Path:
    """Write ``manifest`` as JSON (sorted keys, 2-space indent, UTF-8), atomically.

    The same manifest always gives the same bytes.

    >>> import tempfile, pathlib
    >>> out = pathlib.Path(tempfile.mkdtemp()) / "manifest.json"
    >>> write_manifest({"b": 1, "a": [2]}, out).read_text()
    '{\\n  "a": [\\n    2\\n  ],\\n  "b": 1\\n}\\n'
    """
    path = Path(path)
    text = json.dumps(manifest, sort_keys=True, indent=2, ensure_ascii=False, allow_nan=False)
    with atomic_path(path) as tmp:
        tmp.write_text(text + "\n", encoding="utf-8")
    return path


def output_records(
    outputs: Iterable[str | Path], output_dir: str | Path | None = None
) -> list[dict[str, Any]]:
    """Path (relative to ``output_dir``), size and SHA-256 of each output, in path order.

    ``output_dir`` defaults to the folder holding all ``outputs``.

    >>> import tempfile, pathlib
    >>> folder = pathlib.Path(tempfile.mkdtemp())
    >>> _ = (folder / "t.csv").write_text("a\\n")
    >>> output_records([folder / "t.csv"], folder)[0]["path"]
    't.csv'
    """
    outputs = [Path(p).resolve() for p in outputs]
    if output_dir is None and outputs:
        output_dir = Path(os.path.commonpath([p.parent for p in outputs]))
    return [
        {
            "path": _relative_or_name(p, Path(output_dir).resolve()),
            "bytes": p.stat().st_size,
            "sha256": sha256_file(p),
        }
        for p in sorted(outputs)
    ]


def summarise_coverage(coverage: pd.DataFrame) -> dict[str, Any]:
    """Per source: first and last month, months supplied, months missing, rows in the area.

    >>> import pandas as pd
    >>> cov = pd.DataFrame({"source": ["police.uk:x"] * 3,
    ...                     "month": pd.PeriodIndex(["2024-01", "2024-02", "2024-03"], freq="M"),
    ...                     "status": ["present", "missing", "present"],
    ...                     "rows_in_area": pd.array([5, None, 7], dtype="Int64")})
    >>> summarise_coverage(cov)["police.uk:x"]["missing_months"]
    ['2024-02']
    """
    out: dict[str, Any] = {}
    for source, group in coverage.groupby("source", sort=True):
        group = group.sort_values("month")
        present = group["status"] == "present"
        months = [str(m) for m in group.loc[present, "month"]]
        rows = group.loc[present, "rows_in_area"] if "rows_in_area" in group else None
        out[str(source)] = {
            "first_month": months[0] if months else None,
            "last_month": months[-1] if months else None,
            "months_present": len(months),
            "missing_months": [str(m) for m in group.loc[~present, "month"]],
            "rows_in_area": None if rows is None else int(rows.sum()),
        }
    return out


def git_commit() -> str | None:
    """The git commit of the cspanalysis source, or None when it is not a git checkout.

    A ``+dirty`` suffix says the checkout has uncommitted changes.

    >>> commit = git_commit()
    >>> commit is None or len(commit.split("+")[0]) == 40
    True
    """
    package = Path(__file__).resolve().parents[1]

    def git(*args: str) -> str | None:
        try:
            done = subprocess.run(
                ["git", "-C", str(package), *args],
                capture_output=True,
                text=True,
                timeout=10,
                check=False,
            )
        except (OSError, subprocess.SubprocessError):
            return None
        return done.stdout.strip() if done.returncode == 0 else None

    top = git("rev-parse", "--show-toplevel")
    if not top or not package.is_relative_to(Path(top).resolve()):
        return None
    commit = git("rev-parse", "HEAD")
    if commit is None:
        return None
    dirty = git("status", "--porcelain", "--untracked-files=no", "--", str(package))
    return commit + ("+dirty" if dirty else "")


# --------------------------------------------------------------------------- helpers


class _Places:
    """Turns absolute paths into ones that carry no user name or machine layout."""

    def __init__(self, data_root: Path | None, base: Path) -> None:
        self.data_root = None if data_root is None else Path(data_root).resolve()
        self.base = base.resolve()

    def show(self, path: Path) -> str:
        path = path.resolve()
        if self.data_root is not None and path.is_relative_to(self.data_root):
            rel = path.relative_to(self.data_root).as_posix()
            return "{data_root}" + ("" if rel == "." else f"/{rel}")
        if path.is_relative_to(self.base):
            return path.relative_to(self.base).as_posix()
        # never climb with '..': a relative path out of the folder would still reveal the
        # machine's layout (and, e.g. under /tmp/pytest-of-<user>, a user name)
        return "{elsewhere}/" + path.name


def _file_records(key: str, path: Path, places: _Places) -> list[dict[str, Any]]:
    files = sorted(p for p in path.rglob("*") if p.is_file()) if path.is_dir() else [path]
    return [
        {"key": key, "path": places.show(f), "bytes": f.stat().st_size, "sha256": sha256_file(f)}
        for f in files
    ]


def _relative_or_name(path: Path, folder: Path) -> str:
    return path.relative_to(folder).as_posix() if path.is_relative_to(folder) else path.name


def _redact(text: str, params: Params) -> str:
    """The parameter file's text with its salt and home folder taken out."""
    if params.privacy.salt:
        text = re.sub(r"^(\s*salt\s*:\s*).*$", rf"\g<1>{REDACTED}", text, flags=re.MULTILINE)
        text = text.replace(params.privacy.salt, REDACTED)
    home = str(Path.home())
    if len(home) > 1:
        text = text.replace(home, "~")
    return text


def _version(name: str) -> str | None:
    try:
        return version(name)
    except PackageNotFoundError:
        return None


def _run_block(started: datetime | None, finished: datetime | None) -> dict[str, Any]:
    seconds = None
    if started is not None and finished is not None:
        seconds = round((finished - started).total_seconds(), 3)
    return {
        "started": None if started is None else started.isoformat(),
        "finished": None if finished is None else finished.isoformat(),
        "seconds": seconds,
    }
