"""Drafts a partnership board reads: an executed notebook as HTML and as Word, without code.

After papermill has run a notebook for one partnership, :func:`write_html` and
:func:`write_docx` turn the executed notebook into the drafts:

* the markdown cells are the prose, their ``#``, ``##`` and ``###`` headings the
  sections, listed in a table of contents at the top;
* code cells show their outputs only: printed findings, tables (pandas
  DataFrames) and figures; the code itself is never shown;
* warnings a cell wrote to stderr are left out (they stay in the executed
  notebook, and a line at the end says how many there were); errors are kept;
* an appendix (markdown, e.g.
  :func:`cspanalysis.report.appendix.provenance_appendix` of the run's manifest)
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
from pathlib import Path, PurePosixPath, PureWindowsPath

import nbformat
from nbformat import NotebookNode

from cspanalysis.errors import InputError
from cspanalysis.files import atomic_path

__all__ = ["NOTEBOOK_ONLY", "draft_notebook", "write_docx", "write_html"]

#: cells with this tag are left out of the drafts (e.g. "change the parameters below")
NOTEBOOK_ONLY = "notebook-only"

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
    cells left with no output are removed, and so are cells tagged
    ``notebook-only`` (instructions for the analyst running the notebook). The
    notebook given is not changed.

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
        Markdown appended as the last section (e.g. the provenance appendix).

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
        if NOTEBOOK_ONLY in cell.get("metadata", {}).get("tags", []):
            continue  # words for the analyst running the notebook, not for the board
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
