"""The "How this was produced" appendix of every draft, from the run's manifest.

:func:`provenance_appendix` writes, in markdown, what a reader needs to trust
and reproduce a draft (the Reproducible Analytical Pipelines practice of
recording code version and inputs in every output): the partnership, the
parameter file and its SHA-256, the cspanalysis version and git commit, key
package versions, when the run happened and how long it took, the months each
source supplied and those missing (missing, not zero), the input files with
their sizes and SHA-256, what disclosure control withheld, and the licence
attributions. It never writes an absolute path or a user name.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import datetime
from pathlib import PurePosixPath, PureWindowsPath
from typing import Any

__all__ = ["APPENDIX_HEADING", "provenance_appendix"]

#: the heading of the appendix written by :func:`provenance_appendix`
APPENDIX_HEADING = "How this was produced"
#: input files listed in the appendix (the rest are in manifest.json)
LISTED_INPUTS = 10
#: packages named in the appendix besides cspanalysis (when the manifest has them)
KEY_PACKAGES = ("pandas", "numpy", "geopandas", "statsmodels", "scipy")

OGL = "Contains public sector information licensed under the Open Government Licence v3.0."
OS_DATA = "Contains OS data © Crown copyright and database right"


def provenance_appendix(
    manifest: Mapping[str, Any], register: Mapping[str, Any] | None = None
) -> str:
    """The markdown of the drafts' last section, "How this was produced".

    Parameters
    ----------
    manifest
        A run's manifest (:func:`cspanalysis.report.build_manifest`, or the
        ``manifest.json`` it was written to, read back).
    register
        The run's outputs register (:func:`cspanalysis.report.outputs.read_register`),
        for what disclosure control withheld in each table.

    Returns
    -------
    str
        Markdown starting with ``## How this was produced``: the partnership,
        the parameter file and its SHA-256, the software, when the run took
        place, what each source covered (missing months listed: missing, not
        zero), the input files, disclosure control and the licence statements.
        It holds no absolute path or user name.

    Examples
    --------
    >>> manifest = {"partnership": {"name": "Northbrook", "code": "X22000001"},
    ...             "parameters": {"file": "northbrook.yaml", "sha256": "ab" * 32},
    ...             "inputs": [], "coverage": {"council-asb": {"first_month": "2020-04",
    ...                 "last_month": "2024-03", "months_present": 47,
    ...                 "missing_months": ["2022-12"]}},
    ...             "software": {"python": "3.11.9", "packages": {"cspanalysis": "0.1.0"},
    ...                          "cspanalysis_git": None}, "run": {}}
    >>> text = provenance_appendix(manifest)
    >>> text.splitlines()[0]
    '## How this was produced'
    >>> "missing (not zero): 2022-12" in text
    True
    """
    part = manifest.get("partnership") or {}
    params = manifest.get("parameters") or {}
    software = manifest.get("software") or {}
    packages = software.get("packages") or {}
    lines = [f"## {APPENDIX_HEADING}", ""]

    name = _md(str(part.get("name") or "the partnership"))
    code = f" ({_md(str(part['code']))})" if part.get("code") else ""
    lines.append(
        f"This draft was produced by the cspanalysis library for {name}{code}, from a notebook "
        "run with papermill. Everything it shows can be reproduced from the parameter file and "
        "input files below; `manifest.json`, written beside the draft, lists them all with "
        "their SHA-256 checksums."
    )
    lines.append("")
    if params.get("file"):
        lines.append(
            f"- **Parameter file:** `{_safe_name(str(params['file']))}`, "
            f"SHA-256 `{params.get('sha256') or 'not recorded'}`."
        )
    version = packages.get("cspanalysis")
    commit = software.get("cspanalysis_git")
    soft = f"cspanalysis {version or '(version not recorded)'}"
    if commit:
        sha, _, dirty = str(commit).partition("+")
        soft += f", git commit `{sha[:12]}`" + (" with uncommitted changes" if dirty else "")
    if software.get("python"):
        soft += f", Python {software['python']}"
    others = [f"{p} {packages[p]}" for p in KEY_PACKAGES if packages.get(p)]
    if others:
        soft += "; " + ", ".join(others)
    lines.append(f"- **Software:** {soft}.")
    lines.append(f"- **Run:** {_run_text(manifest.get('run') or {})}")
    lines.append("")

    lines += ["### Data coverage", ""]
    coverage = manifest.get("coverage")
    if not coverage:
        lines.append("Which months each source supplied was not recorded for this run.")
    else:
        lines.append(
            "A month a source did not supply is missing, not zero: it is left out of "
            "every count and rate, never counted as no crime."
        )
        lines.append("")
        for source, info in sorted(coverage.items()):
            lines.append(f"- {_coverage_text(str(source), info)}")
    lines.append("")

    lines += _inputs_lines(manifest.get("inputs") or [])
    lines += _disclosure_lines(register)

    lines += ["### Licence", "", OGL]
    if any(
        str(f.get("key", "")).startswith("geography.boundaries")
        for f in manifest.get("inputs") or []
    ):
        year = _year((manifest.get("run") or {}).get("started"))
        lines += ["", OS_DATA + (f" {year}." if year else ".")]
    return "\n".join(lines) + "\n"


# --------------------------------------------------------------------------- notebook


def _md(text: str) -> str:
    """Escape characters markdown would read as markup."""
    return re.sub(r"([\\`*_\[\]<>#|])", r"\\\1", text)


def _safe_name(path: str) -> str:
    """A recorded path as it may be shown: an absolute one is reduced to its file name."""
    for pure in (PurePosixPath(path), PureWindowsPath(path)):
        if pure.is_absolute() or pure.drive:
            return pure.name
    if path.startswith("~"):
        return PurePosixPath(path).name
    return path


def _size(n: float) -> str:
    for unit in ("bytes", "kB", "MB", "GB"):
        if n < 1000 or unit == "GB":
            return f"{int(n)} bytes" if unit == "bytes" else f"{n:.1f} {unit}"
        n /= 1000
    raise AssertionError("unreachable")


def _when(stamp: str | None) -> tuple[str | None, datetime | None]:
    if not stamp:
        return None, None
    try:
        moment = datetime.fromisoformat(str(stamp))
    except ValueError:
        return str(stamp), None
    zone = ""
    offset = moment.utcoffset()
    if offset is not None:
        zone = " UTC" if offset.total_seconds() == 0 else moment.strftime(" UTC%z")
    return moment.strftime("%Y-%m-%d %H:%M") + zone, moment


def _year(stamp: str | None) -> int | None:
    moment = _when(stamp)[1]
    return None if moment is None else moment.year


def _duration(seconds: float) -> str:
    seconds = round(seconds)
    if seconds < 60:
        return f"{seconds} s"
    minutes, secs = divmod(seconds, 60)
    if minutes < 60:
        return f"{minutes} min {secs} s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes} min"


def _run_text(run: Mapping[str, Any]) -> str:
    started, _ = _when(run.get("started"))
    finished, _ = _when(run.get("finished"))
    if started is None:
        return "the time of the run was not recorded."
    text = f"started {started}"
    if finished is not None:
        text += f", finished {finished}"
    if run.get("seconds") is not None:
        text += f" ({_duration(float(run['seconds']))})"
    return text + "."


def _coverage_text(source: str, info: Mapping[str, Any]) -> str:
    n = info.get("months_present") or 0
    first, last = info.get("first_month"), info.get("last_month")
    missing = list(info.get("missing_months") or [])
    text = f"**{_md(source)}:** {n} month{'s' if n != 1 else ''} supplied"
    if first and last:
        text += f", {first} to {last}"
    if missing:
        text += f"; {len(missing)} missing (not zero): {', '.join(map(str, missing))}."
    else:
        text += "; no month missing."
    return text


def _inputs_lines(inputs: list[Mapping[str, Any]]) -> list[str]:
    """The input files: how many, their size, and a short table (a folder's files on one row)."""
    lines = ["### Input files", ""]
    if not inputs:
        return [*lines, "No input file was recorded.", ""]
    total = sum(int(f.get("bytes") or 0) for f in inputs)
    n = len(inputs)
    lines.append(
        f"{n} input file{'s' if n != 1 else ''}, {_size(total)} in all "
        "(`{data_root}` is the folder the data were read from)."
    )
    groups: dict[str, list[Mapping[str, Any]]] = {}
    for f in inputs:
        groups.setdefault(str(f.get("key", "")), []).append(f)
    rows = []
    for files in groups.values():
        paths = [_safe_name(str(f.get("path", ""))) for f in files]
        size = _size(sum(int(f.get("bytes") or 0) for f in files))
        if len(files) == 1:
            rows.append((paths[0], size, str(files[0].get("sha256") or "")[:12]))
        else:
            folder = _common_folder(paths)
            rows.append((f"{folder} ({len(files)} files)", size, "see manifest.json"))
    lines += ["", "| File | Size | SHA-256 (first 12) |", "|---|---:|---|"]
    for name, size, sha in rows[:LISTED_INPUTS]:
        sha = f"`{sha}`" if len(sha) == 12 else sha
        lines.append(f"| {_md(name)} | {size} | {sha} |")
    if len(rows) > LISTED_INPUTS:
        listed = sum(len(files) for files in list(groups.values())[:LISTED_INPUTS])
        lines += ["", f"{n - listed} more in manifest.json."]
    return [*lines, ""]


def _common_folder(paths: list[str]) -> str:
    parts = [PurePosixPath(p).parent.parts for p in paths]
    common = []
    for level in zip(*parts, strict=False):
        if len(set(level)) != 1:
            break
        common.append(level[0])
    return (str(PurePosixPath(*common)) if common else ".") + "/"


def _disclosure_lines(register: Mapping[str, Any] | None) -> list[str]:
    lines = ["### Disclosure control", ""]
    public = "Counts from police.uk are already public and are shown as published there."
    if register is None:
        return [*lines, public, ""]
    tables = register.get("tables") or []
    people = [t for t in tables if t.get("about_people")]
    rule = register.get("disclosure") or {}
    method = rule.get("method", "suppress")
    threshold = int(rule.get("threshold", 5))
    base = int(rule.get("base", 5))
    if not people:
        return [*lines, "No table in this draft holds partner data about people. " + public, ""]
    if method == "round":
        how = f"every count in them is rounded to the nearest {base}"
    else:
        how = (
            f'counts from 1 to {threshold - 1} are shown as "<{threshold}", with further cells '
            'withheld as "[c]" where a total would give a suppressed count away'
        )
    n = len(people)
    lines.append(
        f"{n} table{'s' if n != 1 else ''} of partner data about people "
        f"{'have' if n != 1 else 'has'} disclosure control: {how}. " + public
    )
    lines.append("")
    for t in people:
        said = _md(" ".join(t.get("disclosure") or [])) or "No detail was recorded."
        lines.append(f"- **{_md(str(t.get('title') or t.get('name')))}:** {said}")
    return [*lines, ""]
