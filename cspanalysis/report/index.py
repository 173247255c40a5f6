"""The batch index: ``index.html`` listing every run with its status, free of absolute paths.

Written by :func:`cspanalysis.batch.run_batch`; errors are HTML-escaped and
cleaned of absolute paths and user names before they reach the page.
"""

from __future__ import annotations

import html
import os
import re
from collections.abc import Sequence
from pathlib import Path

import pandas as pd

from cspanalysis.files import atomic_path

__all__ = ["PathScrubber", "write_index"]


def write_index(
    runs: pd.DataFrame,
    out_dir: str | Path,
    *,
    params_files: Sequence[Path] = (),
    data_root: Path | None = None,
) -> Path:
    """Write ``out_dir/index.html``: every run with its status, error and relative links.

    Errors are HTML-escaped and stripped of absolute paths: the output folder
    becomes a relative link, the data root ``{data_root}``, the home folder
    ``~`` and any other absolute path ``{elsewhere}/<file name>``.

    >>> import tempfile, pathlib
    >>> out = pathlib.Path(tempfile.mkdtemp())
    >>> runs = pd.DataFrame([{"partnership": "x", "notebook": "a", "status": "failed",
    ...                       "seconds": 1.0, "error": "bad <row> in /tmp/q/f.csv",
    ...                       "path": None}])
    >>> text = write_index(runs, out).read_text()
    >>> "bad &lt;row&gt; in {elsewhere}/f.csv" in text
    True
    """
    out_dir = Path(out_dir)
    clean = PathScrubber(out_dir, params_files, data_root)
    counts = runs["status"].value_counts()
    summary = ", ".join(f"{counts.get(s, 0)} {s}" for s in ("done", "unchanged", "failed"))
    lines = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        "<title>cspanalysis batch</title>",
        "<style>body{font-family:sans-serif;margin:2em}table{border-collapse:collapse}"
        "td,th{border:1px solid #ccc;padding:.3em .6em;text-align:left;vertical-align:top}"
        ".failed{background:#fde0dc}.done{background:#e3f4e1}.unchanged{background:#eef}"
        "</style></head><body>",
        "<h1>Batch runs</h1>",
        f"<p>{len(runs)} runs: {html.escape(summary)}.</p>",
        "<table><thead><tr><th>Partnership</th><th>Notebook</th><th>Status</th>"
        "<th>Seconds</th><th>Drafts</th><th>Executed notebook</th><th>Log</th><th>Error</th>"
        "</tr></thead>",
        "<tbody>",
    ]
    for row in runs.itertuples(index=False):
        link = ""
        if row.path is not None and not pd.isna(row.path):
            rel = clean.link(Path(row.path))
            if rel is not None:
                link = f'<a href="{html.escape(rel)}">{html.escape(Path(rel).name)}</a>'
        drafts = []
        if row.status != "failed":
            for label, rel in (
                ("HTML", f"{row.partnership}/{row.notebook}.html"),
                ("Word", f"{row.partnership}/{row.notebook}.docx"),
                ("Excel", f"{row.partnership}/{row.notebook}.xlsx"),
                ("GeoPackage", f"{row.partnership}/{row.notebook}.gpkg"),
                ("manifest", f"{row.partnership}/{row.notebook}/manifest.json"),
            ):
                if (out_dir / rel).exists():
                    drafts.append(f'<a href="{html.escape(rel)}">{label}</a>')
        log_rel = f"{row.partnership}/{row.notebook}.log"
        log = f'<a href="{html.escape(log_rel)}">log</a>' if (out_dir / log_rel).exists() else ""
        lines.append(
            f'<tr class="{html.escape(row.status)}"><td>{html.escape(row.partnership)}</td>'
            f"<td>{html.escape(row.notebook)}</td><td>{html.escape(row.status)}</td>"
            f"<td>{row.seconds:.1f}</td><td>{' · '.join(drafts)}</td><td>{link}</td><td>{log}</td>"
            f"<td>{html.escape(clean.text(row.error or ''))}</td></tr>"
        )
    lines += ["</tbody></table>", "</body></html>"]
    target = out_dir / "index.html"
    with atomic_path(target) as tmp:
        tmp.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return target


_ABSOLUTE = re.compile(
    r"(?<![\w.~}])(?:[A-Za-z]:)?[/\\](?:[^\s/\\'\"<>()]+[/\\])+([^\s/\\'\"<>()]+)"
)


class PathScrubber:
    """Takes absolute paths and user names out of text meant for readers.

    The output folder becomes a relative path, the data root ``{data_root}``,
    the home folder ``~`` and any other absolute path ``{elsewhere}/<file name>``.

    >>> scrub = PathScrubber(Path("/srv/out"), [], Path("/srv/data"))
    >>> scrub.text("read /srv/data/x.csv; see /usr/lib/python3/site.py")
    'read {data_root}/x.csv; see {elsewhere}/site.py'
    """

    def __init__(self, out_dir: Path, params_files: Sequence[Path], data_root: Path | None):
        self.out_dir = out_dir.resolve()
        swaps = [(str(self.out_dir) + os.sep, "")]
        if data_root is not None:
            swaps.append((str(Path(data_root).resolve()), "{data_root}"))
        for p in params_files:
            swaps.append((str(Path(p).resolve().parent) + os.sep, ""))
        home = str(Path.home())
        if len(home) > 1:
            swaps.append((home, "~"))
        # longest first, so a folder inside another is replaced before its parent
        self.swaps = sorted(set(swaps), key=lambda s: -len(s[0]))

    def text(self, text: str) -> str:
        for old, new in self.swaps:
            text = text.replace(old, new)
        return _ABSOLUTE.sub(lambda m: "{elsewhere}/" + m.group(1), text)

    def link(self, path: Path) -> str | None:
        path = path.resolve()
        if not path.is_relative_to(self.out_dir):
            return None
        return path.relative_to(self.out_dir).as_posix()
