"""Drafts a partnership board reads: an executed notebook as HTML and as Word, without code.

After papermill has run a notebook for one partnership, :func:`write_html` and
:func:`write_docx` turn the executed notebook into the drafts:

* the markdown cells are the prose, their ``#``, ``##`` and ``###`` headings the
  sections, listed in a table of contents at the top;
* code cells show their outputs only: printed findings, tables (pandas
  DataFrames) and figures; the code itself is never shown;
* warnings a cell wrote to stderr are left out (they stay in the executed
  notebook, and a line at the end says how many there were); errors are kept;
* an appendix (markdown, e.g. :func:`provenance_appendix` of the run's manifest)
  is the last section.

The HTML is one self-contained file: figures are embedded as ``data:`` URIs and
every script is removed, so it reads offline in any browser. The Word document
is written by pandoc from a clean HTML body, so DataFrames become real Word
tables, figures inline pictures and headings Word headings (the notebook's one
``#`` heading becomes the document's title and its ``##`` sections Heading 1).
Both are written atomically.

Example
-------
>>> import nbformat, tempfile, pathlib
>>> nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_markdown_cell("# Draft\\n\\n## Trends")])
>>> out = write_html(nb, pathlib.Path(tempfile.mkdtemp()) / "draft.html")
>>> 'href="#Trends"' in out.read_text()
True
"""

from __future__ import annotations

import copy
import html
import re
from collections.abc import Mapping
from datetime import datetime
from pathlib import Path, PurePosixPath, PureWindowsPath
from typing import Any

import nbformat
from nbformat import NotebookNode

from cspanalysis.errors import InputError
from cspanalysis.files import atomic_path

__all__ = ["draft_notebook", "provenance_appendix", "write_docx", "write_html"]

#: the heading of the appendix written by :func:`provenance_appendix`
APPENDIX_HEADING = "How this was produced"
#: input files listed in the appendix (the rest are in manifest.json)
LISTED_INPUTS = 10
#: packages named in the appendix besides cspanalysis (when the manifest has them)
KEY_PACKAGES = ("pandas", "numpy", "geopandas", "statsmodels", "scipy")

OGL = "Contains public sector information licensed under the Open Government Licence v3.0."
OS_DATA = "Contains OS data © Crown copyright and database right"

_TOC_ID = "cspanalysis-toc"
_TOC_PLACEHOLDER = f'<nav id="{_TOC_ID}"></nav>'
_DRAFT_STYLE = """<style>
nav.cspanalysis-toc { margin: 1em 0 2em 0; padding: 0.5em 1.5em; border-left: 3px solid #999; }
nav.cspanalysis-toc ul { list-style: none; padding-left: 0; margin: 0.3em 0; }
nav.cspanalysis-toc li { margin: 0.2em 0; }
nav.cspanalysis-toc li.toc-h2 { padding-left: 1.5em; }
nav.cspanalysis-toc li.toc-h3 { padding-left: 3em; font-size: 95%; }
.jp-RenderedText > p, .jp-RenderedText > ul {
  font-family: var(--jp-content-font-family); font-size: var(--jp-content-font-size1);
  line-height: var(--jp-content-line-height); margin: 0.4em 0; }
</style>"""


# --------------------------------------------------------------------------- public API


def draft_notebook(notebook: str | Path | NotebookNode) -> tuple[NotebookNode, int]:
    """A code-free copy of an executed notebook, and how many stderr outputs it dropped.

    Code cells keep their outputs but lose their source; stream outputs written
    to stderr (warnings) are dropped and counted; error outputs are kept; code
    cells left with no output are removed. The notebook given is not changed.

    Parameters
    ----------
    notebook
        An executed notebook, or the path of one (``.ipynb``).

    Returns
    -------
    (notebook, number of stderr outputs dropped)

    Examples
    --------
    >>> import nbformat
    >>> from nbformat.v4 import new_code_cell, new_notebook, new_output
    >>> cell = new_code_cell("x = 1", outputs=[
    ...     new_output("stream", name="stdout", text="Crime fell.\\n"),
    ...     new_output("stream", name="stderr", text="UserWarning: few months\\n")])
    >>> nb, dropped = draft_notebook(new_notebook(cells=[cell]))
    >>> nb.cells[0].source, [o.name for o in nb.cells[0].outputs], dropped
    ('', ['stdout'], 1)
    """
    nb, _ = _load(notebook)
    return nb, _strip_code(nb)


def write_html(
    notebook: str | Path | NotebookNode,
    path: str | Path,
    *,
    title: str | None = None,
    appendix: str | None = None,
) -> Path:
    """Write the board's HTML draft of an executed notebook: prose and results, no code.

    Parameters
    ----------
    notebook
        The executed notebook, or its path (images a markdown cell links to are
        looked up beside it and embedded).
    path
        The HTML file to write (atomically).
    title
        The page title; default: the text of the first heading.
    appendix
        Markdown appended as the last section (e.g. :func:`provenance_appendix`).

    Returns
    -------
    Path
        ``path``.

    Examples
    --------
    >>> import nbformat, tempfile, pathlib
    >>> from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_output
    >>> nb = new_notebook(cells=[new_markdown_cell("# Northbrook\\n\\n## Trends"),
    ...     new_code_cell("secret_var = 1", outputs=[new_output("stream", text="Crime fell.")])])
    >>> text = write_html(nb, pathlib.Path(tempfile.mkdtemp()) / "d.html").read_text()
    >>> "Crime fell." in text, "secret_var" in text, "<title>Northbrook</title>" in text
    (True, False, True)
    """
    nb, folder = _prepared(notebook, appendix, toc=True)
    body = _export(nb, "lab", folder)
    body = re.sub(r"<script\b[^>]*>.*?</script\s*>", "", body, flags=re.DOTALL | re.IGNORECASE)
    body = _printed_as_prose(body)
    body, headings = _number_headings(body)
    body = body.replace(_TOC_PLACEHOLDER, _toc_html(headings), 1)
    if title is None:
        title = headings[0][2] if headings else Path(str(path)).stem
    body = re.sub(
        r"<title>.*?</title>",
        lambda _: f"<title>{html.escape(title)}</title>",
        body,
        count=1,
        flags=re.DOTALL,
    )
    body = body.replace("</head>", _DRAFT_STYLE + "\n</head>", 1)
    path = Path(path)
    with atomic_path(path) as tmp:
        tmp.write_text(body, encoding="utf-8")
    return path


def write_docx(
    notebook: str | Path | NotebookNode,
    path: str | Path,
    *,
    title: str | None = None,
    appendix: str | None = None,
) -> Path:
    """Write the board's editable Word draft of an executed notebook (via pandoc).

    The notebook's ``#`` heading (when it is its only one and comes first)
    becomes the document's title and its ``##``/``###`` headings Word's
    Heading 1/Heading 2; otherwise headings keep their levels. A table of
    contents follows the title; DataFrames are Word tables, figures inline
    pictures, printed findings paragraphs. No code is included.

    Parameters
    ----------
    notebook, title, appendix
        As for :func:`write_html`.
    path
        The ``.docx`` file to write (atomically).

    Returns
    -------
    Path
        ``path``.

    Examples
    --------
    >>> import nbformat, tempfile, pathlib
    >>> nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_markdown_cell("# Draft\\n\\n## A")])
    >>> write_docx(nb, pathlib.Path(tempfile.mkdtemp()) / "d.docx").stat().st_size > 1000
    True
    """
    import pypandoc

    nb, folder = _prepared(notebook, appendix, toc=False)
    body = _export(nb, "basic", folder)
    body = _clean_for_pandoc(body)
    body, headings = _number_headings(body)
    h1 = [h for h in headings if h[0] == 1]
    extra = ["--toc", "--toc-depth=3", "--metadata=toc-title:Contents"]
    head = ""
    if len(h1) == 1 and headings[0] is h1[0]:
        # the one level-1 heading is the title: drop it from the body and shift the rest up
        body = re.sub(r"<h1\b[^>]*>.*?</h1\s*>", "", body, count=1, flags=re.DOTALL)
        head = f"<title>{html.escape(title or h1[0][2])}</title>"
        extra.append("--shift-heading-level-by=-1")
    elif title:
        head = f"<title>{html.escape(title)}</title>"
    document = (
        f'<!DOCTYPE html>\n<html><head><meta charset="utf-8">{head}</head>\n'
        f"<body>\n{body}\n</body></html>\n"
    )
    path = Path(path)
    with atomic_path(path) as tmp:
        pypandoc.convert_text(
            document, "docx", format="html", outputfile=str(tmp), extra_args=extra
        )
    return path


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


def _load(notebook: str | Path | NotebookNode) -> tuple[NotebookNode, Path | None]:
    if isinstance(notebook, NotebookNode):
        return copy.deepcopy(notebook), None
    path = Path(notebook)
    if not path.is_file():
        raise InputError(
            "no such notebook; give the executed .ipynb file papermill wrote", path=path
        )
    try:
        nb = nbformat.read(path, as_version=4)
    except Exception as exc:  # nbformat raises several unrelated types for a bad file
        raise InputError(
            f"not a readable Jupyter notebook ({type(exc).__name__}); give the executed .ipynb "
            "file papermill wrote",
            path=path,
        ) from None
    return nb, path.parent


def _strip_code(nb: NotebookNode) -> int:
    """Drop code and stderr outputs from ``nb`` in place; return how many outputs were dropped."""
    private = _private_paths(nb)
    dropped = 0
    cells = []
    for cell in nb.cells:
        if cell.cell_type == "code":
            kept = []
            for output in cell.get("outputs", []):
                if output.get("output_type") == "stream" and output.get("name") == "stderr":
                    dropped += 1
                else:
                    kept.append(output)
            if not kept:
                continue
            cell.source = ""
            cell.outputs = [_without_paths(output, private) for output in kept]
        cells.append(cell)
    nb.cells = cells
    return dropped


def _private_paths(nb: NotebookNode) -> list[tuple[str, str]]:
    """Absolute paths an output may print, each with what a draft shows instead.

    The paths are the home folder (shown as ``~``) and the absolute paths papermill
    injected as parameters (a file shown by its name, a folder as ``{parameter}``).
    """
    swaps: list[tuple[str, str]] = []
    parameters = nb.metadata.get("papermill", {}).get("parameters", {}) or {}
    for name, value in parameters.items():
        if not isinstance(value, str) or len(value) < 2:
            continue
        pure = PureWindowsPath(value) if PureWindowsPath(value).drive else PurePosixPath(value)
        if not pure.is_absolute():
            continue
        shown = pure.name if pure.suffix else "{" + str(name) + "}"
        if len(value.rstrip("/\\")) > 3:  # never a bare root such as "/" or "C:\\"
            swaps.append((value.rstrip("/\\"), shown))
    home = str(Path.home())
    if len(home) > 1:
        swaps.append((home, "~"))
    return sorted(swaps, key=lambda pair: -len(pair[0]))


def _without_paths(output: NotebookNode, swaps: list[tuple[str, str]]) -> NotebookNode:
    """The output with the private paths in its text replaced (see :func:`_private_paths`)."""

    def clean(text: str) -> str:
        for path, shown in swaps:
            text = text.replace(path, shown)
        return text

    if isinstance(output.get("text"), str):
        output["text"] = clean(output["text"])
    for mime in ("text/plain", "text/html", "text/markdown"):
        value = output.get("data", {}).get(mime)
        if isinstance(value, str):
            output["data"][mime] = clean(value)
        elif isinstance(value, list):
            output["data"][mime] = [clean(part) for part in value]
    return output


def _prepared(
    notebook: str | Path | NotebookNode, appendix: str | None, *, toc: bool
) -> tuple[NotebookNode, Path | None]:
    """The draft notebook with its table of contents placeholder and appendix cells."""
    nb, folder = _load(notebook)
    dropped = _strip_code(nb)
    if toc:
        first = nb.cells[0] if nb.cells else None
        starts_with_heading = (
            first is not None
            and first.cell_type == "markdown"
            and first.source.lstrip().startswith("#")
        )
        nb.cells.insert(
            1 if starts_with_heading else 0, nbformat.v4.new_markdown_cell(_TOC_PLACEHOLDER)
        )
    tail = appendix.rstrip() + "\n" if appendix else ""
    if dropped:
        tail += "\n" + _warnings_note(dropped) + "\n"
    if tail:
        nb.cells.append(nbformat.v4.new_markdown_cell(tail))
    return nb, folder


def _warnings_note(n: int) -> str:
    if n == 1:
        return (
            "*1 warning message written during the run is in the executed notebook, "
            "not in this draft.*"
        )
    return (
        f"*{n} warning messages written during the run are in the executed notebook, "
        "not in this draft.*"
    )


def _export(nb: NotebookNode, template: str, folder: Path | None) -> str:
    from nbconvert import HTMLExporter

    exporter = HTMLExporter(
        template_name=template,
        exclude_input=True,
        exclude_input_prompt=True,
        exclude_output_prompt=True,
        embed_images=folder is not None,
    )
    resources = {"metadata": {"path": str(folder) if folder is not None else ""}}
    body, _ = exporter.from_notebook_node(nb, resources=resources)
    return body


# --------------------------------------------------------------------------- headings


_HEADING = re.compile(r"<h([1-3])\b([^>]*)>(.*?)</h\1\s*>", re.DOTALL | re.IGNORECASE)
_ID = re.compile(r"""\bid\s*=\s*(["'])(.*?)\1""", re.DOTALL)


def _text_of(fragment: str) -> str:
    fragment = re.sub(r'<a\b[^>]*class="anchor-link"[^>]*>.*?</a>', "", fragment, flags=re.DOTALL)
    return " ".join(html.unescape(re.sub(r"<[^>]+>", "", fragment)).split())


def _number_headings(body: str) -> tuple[str, list[tuple[int, str, str]]]:
    """Give every h1-h3 a unique id; return the body and the (level, id, text) of each."""
    headings: list[tuple[int, str, str]] = []
    taken = {html.unescape(m.group(2)) for m in _ID.finditer(body)}
    used: set[str] = set()

    def fix(match: re.Match[str]) -> str:
        level, attrs, inner = int(match.group(1)), match.group(2), match.group(3)
        text = _text_of(inner)
        found = _ID.search(attrs)
        hid = html.unescape(found.group(2)) if found else ""
        if not hid or hid in used:
            base = re.sub(r"[^\w-]+", "-", text).strip("-") or "section"
            hid, k = base, 2
            while hid in used or hid in taken:
                hid, k = f"{base}-{k}", k + 1
            taken.add(hid)
            new_id = f'id="{html.escape(hid)}"'
            attrs = _ID.sub(lambda _: new_id, attrs, count=1) if found else f" {new_id}{attrs}"
            inner = re.sub(
                r'(<a\b[^>]*class="anchor-link"[^>]*href=")[^"]*(")',
                lambda m: m.group(1) + "#" + html.escape(hid) + m.group(2),
                inner,
            )
        used.add(hid)
        headings.append((level, hid, text))
        return f"<h{level}{attrs}>{inner}</h{level}>"

    return _HEADING.sub(fix, body), headings


def _toc_html(headings: list[tuple[int, str, str]]) -> str:
    items = "\n".join(
        f'<li class="toc-h{level}"><a href="#{html.escape(hid)}">{html.escape(text)}</a></li>'
        for level, hid, text in headings
    )
    return (
        f'<nav id="{_TOC_ID}" class="cspanalysis-toc" aria-label="Contents">'
        f"<p><strong>Contents</strong></p>\n<ul>\n{items}\n</ul></nav>"
    )


# --------------------------------------------------------------------------- pandoc input


def _clean_for_pandoc(body: str) -> str:
    """Make nbconvert's basic HTML read well as a Word document."""
    body = re.sub(r"<(script|style)\b[^>]*>.*?</\1\s*>", "", body, flags=re.DOTALL | re.I)
    body = re.sub(r'<a\b[^>]*class="anchor-link"[^>]*>.*?</a>', "", body, flags=re.DOTALL)
    body = re.sub(r"<thead\b[^>]*>.*?</thead\s*>", _flatten_header, body, flags=re.DOTALL | re.I)
    return _printed_as_prose(body)


#: the <div> around printed text (stdout, text/plain results) in the lab and basic templates
_PRINTED = re.compile(
    r'(<div\b[^>]*(?:data-mime-type="(?:application/vnd\.jupyter\.stdout|text/plain)"'
    r'|class="[^"]*\boutput_(?:stdout|execute_result|display_data)\b[^"]*")[^>]*>\s*)'
    r"<pre>(.*?)</pre>",
    re.DOTALL,
)


def _printed_as_prose(body: str) -> str:
    """Turn printed findings (stdout and plain-text results, not errors) into paragraphs."""
    return _PRINTED.sub(lambda m: m.group(1) + _pre_as_paragraphs(m.group(2)), body)


def _flatten_header(match: re.Match[str]) -> str:
    """Fold pandas' row of index names into the header row above it.

    A DataFrame whose index has a name gets a second header row holding only
    that name; in Word that reads as a stray row, so the name moves up (taking
    the place of the columns' name, when they have one).
    """
    thead = match.group(0)
    rows = re.findall(r"<tr\b[^>]*>(.*?)</tr\s*>", thead, flags=re.DOTALL | re.I)
    if len(rows) < 2:
        return thead
    cells = [
        re.findall(r"<t[hd]\b([^>]*)>(.*?)</t[hd]\s*>", r, flags=re.DOTALL | re.I) for r in rows
    ]
    above, last = cells[-2], cells[-1]
    if any("colspan" in attrs for attrs, _ in above + last) or len(above) != len(last):
        return thead
    names = [text for _, text in last]
    k = next((i for i, text in enumerate(names) if not text.strip()), len(names))
    if k == 0 or any(text.strip() for text in names[k:]):
        return thead
    if k > 1 and any(text.strip() for _, text in above[:k]):
        return thead
    merged = names[:k] + [text for _, text in above[k:]]
    new_rows = [*rows[:-2], "".join(f"<th>{text}</th>" for text in merged)]
    return "<thead>" + "".join(f"<tr>{r}</tr>" for r in new_rows) + "</thead>"


def _pre_as_paragraphs(text: str) -> str:
    """Printed text as paragraphs and "- " bullet lists, unless it is laid out in columns."""
    lines = text.splitlines()
    if any(re.search(r"\S {2,}\S", line) for line in lines):
        return f"<pre>{text}</pre>"
    out: list[str] = []
    items: list[str] = []
    for line in (raw.strip() for raw in lines):
        bullet = re.match(r"^[-*•]\s+(.*)$", line)
        if bullet:
            items.append(f"<li>{bullet.group(1)}</li>")
            continue
        if items:
            out.append("<ul>" + "".join(items) + "</ul>")
            items = []
        if line:
            out.append(f"<p>{line}</p>")
    if items:
        out.append("<ul>" + "".join(items) + "</ul>")
    return "".join(out)


# --------------------------------------------------------------------------- appendix parts


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
