"""HTML and Word drafts of an executed notebook: no code, findings, tables, figures, contents."""

from __future__ import annotations

import re
import shutil
import subprocess
from html.parser import HTMLParser
from pathlib import Path

import nbformat
import numpy as np
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

from cspanalysis.errors import InputError
from cspanalysis.report.appendix import OGL, OS_DATA, provenance_appendix
from cspanalysis.report.draft import draft_notebook, write_docx, write_html

#: a name that only the code uses: it must never reach a draft
CODE_MARKER = "zz_secret_variable"
FINDING = "Burglary fell by 17 percent in the last year."
WARNING_TEXT = "Watch out: only 11 months of data"
#: the DataFrame the notebook shows, with values no other output has
TABLE = {"Burglary": 4321, "Robbery": 987, "Shoplifting": 6543}
APPENDIX = "## How this was produced\n\nMade from northbrook.yaml by the test.\n"

CELLS = [
    new_markdown_cell("# Northbrook draft\n\nAn introduction for the board."),
    new_markdown_cell("## Section A\n\nProse of section A."),
    new_code_cell(f"{CODE_MARKER} = 17\nprint('{FINDING}')"),
    new_markdown_cell("### Sub\n\nA table follows."),
    new_code_cell(
        "import pandas as pd\n"
        f"zz_table = pd.DataFrame({{'count': {list(TABLE.values())}}},\n"
        f"    index=pd.Index({list(TABLE)}, name='category'))\n"
        "zz_table"
    ),
    new_markdown_cell("## Section B\n\nA figure and a warning."),
    new_code_cell(
        "%matplotlib inline\n"
        "import matplotlib.pyplot as plt\n"
        "zz_fig, zz_ax = plt.subplots(figsize=(4, 3))\n"
        "zz_ax.bar(['a', 'b'], [3, 5])\n"
        "plt.show()"
    ),
    new_code_cell(f"import sys\nprint('{WARNING_TEXT}', file=sys.stderr)"),
]
HEADINGS = ["Northbrook draft", "Section A", "Sub", "Section B", "How this was produced"]


@pytest.fixture(scope="module")
def executed() -> nbformat.NotebookNode:
    from nbclient import NotebookClient

    nb = new_notebook(cells=[nbformat.from_dict(c) for c in CELLS])
    nb.metadata["kernelspec"] = {
        "name": "python3",
        "display_name": "Python 3",
        "language": "python",
    }
    NotebookClient(nb, kernel_name="python3", timeout=120).execute()
    return nb


@pytest.fixture(scope="module")
def html_file(executed, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("html") / "draft.html"
    return write_html(executed, out, appendix=APPENDIX)


@pytest.fixture(scope="module")
def docx_file(executed, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("docx") / "draft.docx"
    return write_docx(executed, out, appendix=APPENDIX)


class _Collect(HTMLParser):
    """Ids, links, images, table cells and headings of an HTML page."""

    def __init__(self) -> None:
        super().__init__()
        self.ids: set[str] = set()
        self.hrefs: list[str] = []
        self.imgs: list[str] = []
        self.cells: list[str] = []
        self.headings: list[tuple[str, str]] = []
        self._tag: str | None = None
        self._text: list[str] = []
        self._in_nav = False
        self.toc: list[str] = []

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if "id" in a:
            self.ids.add(a["id"])
        if tag == "nav":
            self._in_nav = True
        if tag == "a" and a.get("href", "").startswith("#") and self._in_nav:
            self.toc.append(a["href"][1:])
        if tag == "a" and a.get("href"):
            self.hrefs.append(a["href"])
        if tag == "img":
            self.imgs.append(a.get("src", ""))
        if tag in ("td", "th", "h1", "h2", "h3"):
            self._tag, self._text = tag, []

    def handle_endtag(self, tag):
        if tag == "nav":
            self._in_nav = False
        if tag == self._tag:
            text = " ".join("".join(self._text).replace("¶", "").split())
            if tag in ("td", "th"):
                self.cells.append(text)
            else:
                self.headings.append((tag, text))
            self._tag = None

    def handle_data(self, data):
        if self._tag:
            self._text.append(data)


def _parse(text: str) -> _Collect:
    parser = _Collect()
    parser.feed(text)
    return parser


# --------------------------------------------------------------------------- draft notebook


def test_draft_notebook_drops_code_and_counts_stderr(executed):
    nb, dropped = draft_notebook(executed)
    assert dropped == 1
    assert all(c.source == "" for c in nb.cells if c.cell_type == "code")
    streams = [o for c in nb.cells for o in c.get("outputs", []) if o.output_type == "stream"]
    assert [o.name for o in streams] == ["stdout"]
    # the executed notebook keeps its code and its warning
    assert CODE_MARKER in executed.cells[2].source
    assert any(o.get("name") == "stderr" for o in executed.cells[-1].outputs)


def test_draft_notebook_keeps_errors():
    cell = new_code_cell("1/0")
    cell.outputs = [
        nbformat.v4.new_output("error", ename="ZeroDivisionError", evalue="division by zero")
    ]
    nb, dropped = draft_notebook(new_notebook(cells=[cell]))
    assert dropped == 0
    assert nb.cells[0].outputs[0].ename == "ZeroDivisionError"


def test_draft_notebook_bad_path(tmp_path):
    with pytest.raises(InputError, match="no such notebook"):
        draft_notebook(tmp_path / "missing.ipynb")
    bad = tmp_path / "bad.ipynb"
    bad.write_text("not json")
    with pytest.raises(InputError, match="not a readable Jupyter notebook"):
        draft_notebook(bad)


# --------------------------------------------------------------------------- HTML


def test_html_has_no_code_and_no_warnings(html_file):
    text = html_file.read_text(encoding="utf-8")
    for code in (CODE_MARKER, "zz_table", "zz_ax", "plt.subplots", "import pandas"):
        assert code not in text
    assert WARNING_TEXT not in text
    assert "1 warning message written during the run is in the executed notebook" in text


def test_html_shows_finding_table_and_embedded_figure(html_file):
    text = html_file.read_text(encoding="utf-8")
    page = _parse(text)
    assert FINDING in text
    for name, count in TABLE.items():
        assert name in page.cells and str(count) in page.cells
    pngs = [src for src in page.imgs if src.startswith("data:image/png;base64,")]
    assert len(pngs) == 1
    assert all(src.startswith("data:") for src in page.imgs)
    assert not re.search(r"<script\b", text, flags=re.IGNORECASE)
    assert not re.search(r"""src=["']https?:""", text)


def test_html_contents_link_to_every_heading(html_file):
    page = _parse(html_file.read_text(encoding="utf-8"))
    assert [text for _, text in page.headings] == HEADINGS
    assert [tag for tag, _ in page.headings] == ["h1", "h2", "h3", "h2", "h2"]
    assert len(page.toc) == len(HEADINGS)
    assert set(page.toc) <= page.ids
    assert "<title>Northbrook draft</title>" in html_file.read_text(encoding="utf-8")


def test_html_title_and_duplicate_headings(tmp_path):
    nb = new_notebook(
        cells=[new_markdown_cell("# Report\n\n## Notes\n\ntext"), new_markdown_cell("## Notes")]
    )
    text = write_html(nb, tmp_path / "d.html", title="Board <draft>").read_text()
    page = _parse(text)
    assert "<title>Board &lt;draft&gt;</title>" in text
    assert len(page.toc) == 3 and len(set(page.toc)) == 3
    assert set(page.toc) <= page.ids
    assert "warning message" not in text


def test_html_is_atomic_on_failure(tmp_path, monkeypatch):
    target = tmp_path / "d.html"
    target.write_text("old")
    from cspanalysis.report import draft

    def boom(*args, **kwargs):
        raise RuntimeError("export failed")

    monkeypatch.setattr(draft, "_number_headings", boom)
    with pytest.raises(RuntimeError):
        write_html(new_notebook(cells=[new_markdown_cell("# T")]), target)
    assert target.read_text() == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["d.html"]


# --------------------------------------------------------------------------- Word


def test_docx_headings_tables_pictures(docx_file):
    docx = pytest.importorskip("docx")
    doc = docx.Document(str(docx_file))
    styled = [
        (p.style.name, p.text.strip())
        for p in doc.paragraphs
        if p.style.name.startswith(("Heading", "Title"))
    ]
    assert styled == [
        ("Title", "Northbrook draft"),
        ("Heading 1", "Section A"),
        ("Heading 2", "Sub"),
        ("Heading 1", "Section B"),
        ("Heading 1", "How this was produced"),
    ]
    assert len(doc.tables) == 1
    rows = [[c.text.strip() for c in row.cells] for row in doc.tables[0].rows]
    assert rows[0] == ["category", "count"]  # the index name row folded into the header
    assert rows[1:] == [[name, str(count)] for name, count in TABLE.items()]
    assert len(doc.inline_shapes) == 1
    body = "\n".join(p.text for p in doc.paragraphs)
    assert FINDING in body
    assert "1 warning message written during the run" in body
    assert WARNING_TEXT not in body
    for code in (CODE_MARKER, "zz_table", "plt.subplots"):
        assert code not in body
    # printed findings are ordinary paragraphs, not code blocks
    finding = next(p for p in doc.paragraphs if FINDING in p.text)
    assert "Source Code" not in finding.style.name


def _has_toc(path: Path) -> bool:
    import zipfile

    with zipfile.ZipFile(path) as z:
        return "TOC \\o" in z.read("word/document.xml").decode("utf-8")


def test_docx_toc_field(docx_file):
    assert _has_toc(docx_file)


def test_docx_keeps_levels_without_single_title(tmp_path):
    docx = pytest.importorskip("docx")
    nb = new_notebook(cells=[new_markdown_cell("# One\n\n## Two\n\n# Three")])
    doc = docx.Document(str(write_docx(nb, tmp_path / "d.docx")))
    styled = [(p.style.name, p.text) for p in doc.paragraphs if p.style.name.startswith("Head")]
    assert styled == [("Heading 1", "One"), ("Heading 2", "Two"), ("Heading 1", "Three")]


# --------------------------------------------------------------------------- Chromium


def _chromium() -> str:
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    found = found or shutil.which("google-chrome")
    if not found:
        pytest.skip("no chromium / google-chrome on PATH to render the HTML draft")
    return found


def _browser(binary: str, profile: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [
            binary,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            f"--user-data-dir={profile}",
            *args,
        ],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_html_renders_in_chromium(html_file, tmp_path):
    binary = _chromium()
    from PIL import Image

    png = tmp_path / "shot.png"
    done = _browser(
        binary,
        tmp_path / "profile",
        f"--screenshot={png}",
        "--window-size=1200,2000",
        html_file.as_uri(),
    )
    assert png.is_file(), done.stderr[-2000:]
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    with Image.open(png) as image:
        assert image.size == (1200, 2000)
        pixels = np.asarray(image.convert("L"), dtype=float)
    assert pixels.std() > 5  # not a blank page
    assert (pixels < 100).mean() > 0.001  # some dark text

    dom = _browser(binary, tmp_path / "profile2", "--dump-dom", html_file.as_uri()).stdout
    page = _parse(dom)
    assert [t for tag, t in page.headings if tag in ("h1", "h2")] == [
        "Northbrook draft",
        "Section A",
        "Section B",
        "How this was produced",
    ]


# --------------------------------------------------------------------------- appendix

MANIFEST = {
    "manifest_version": 1,
    "partnership": {"name": "Northbrook", "code": "X22000001"},
    "parameters": {"file": "northbrook.yaml", "sha256": "a1b2" * 16, "text": "name: X\n"},
    "inputs": [
        {
            "key": "police_uk[0].path",
            "path": f"{{data_root}}/police_uk/force/2024-0{m}/street.csv",
            "bytes": 1000,
            "sha256": f"{m}" * 64,
        }
        for m in range(1, 4)
    ]
    + [
        {
            "key": "geography.boundaries.path",
            "path": "{data_root}/geography/lsoa.geojson",
            "bytes": 2_500_000,
            "sha256": "fedcba9876543210" * 4,
        },
        {"key": "partner[0].path", "path": "/home/alice/asb.csv", "bytes": 10, "sha256": "0" * 64},
    ],
    "coverage": {
        "council-asb": {
            "first_month": "2020-04",
            "last_month": "2024-03",
            "months_present": 46,
            "missing_months": ["2022-12", "2023-01"],
            "rows_in_area": 10,
        },
        "police.uk:force": {
            "first_month": "2019-04",
            "last_month": "2024-03",
            "months_present": 60,
            "missing_months": [],
            "rows_in_area": 99,
        },
    },
    "outputs": [],
    "software": {
        "python": "3.11.7",
        "packages": {"cspanalysis": "0.1.0", "pandas": "2.2.3", "numpy": "2.1.0", "scipy": None},
        "cspanalysis_git": "0123456789abcdef0123456789abcdef01234567+dirty",
    },
    "run": {
        "started": "2026-01-05T09:00:00+00:00",
        "finished": "2026-01-05T09:02:05+00:00",
        "seconds": 125.0,
    },
}
REGISTER = {
    "tables": [
        {"name": "crime_change", "title": "Crime change", "about_people": False},
        {
            "name": "asb_victims",
            "title": "Repeat ASB victims",
            "about_people": True,
            "disclosure": ['2 counts from 1 to 4 are shown as "<5".', "Withheld: Noise."],
        },
    ],
    "disclosure": {"method": "suppress", "threshold": 5, "base": 5},
}


def test_appendix_values():
    text = provenance_appendix(MANIFEST, REGISTER)
    assert text.startswith("## How this was produced\n")
    assert "Northbrook (X22000001)" in text
    assert "`northbrook.yaml`" in text and "a1b2" * 16 in text
    assert "git commit `0123456789ab` with uncommitted changes" in text
    assert "cspanalysis 0.1.0" in text and "pandas 2.2.3" in text and "numpy 2.1.0" in text
    assert "scipy" not in text  # not installed: not listed
    assert "started 2026-01-05 09:00 UTC" in text and "(2 min 5 s)" in text
    assert "council\\-asb" in text or "council-asb" in text
    assert "2 missing (not zero): 2022-12, 2023-01" in text
    assert "60 months supplied, 2019-04 to 2024-03; no month missing" in text
    # 5 files, 3000 + 2_500_000 + 10 bytes; the folder's three files on one row
    assert "5 input files, 2.5 MB in all" in text
    assert "(3 files)" in text and "`fedcba987654`" in text
    assert "alice" not in text and "/home" not in text
    assert "asb.csv" in text
    assert "Repeat ASB victims" in text and "Withheld: Noise." in text
    assert "1 table of partner data about people has disclosure control" in text
    assert "Crime change" not in text
    assert "police.uk are already public" in text
    assert OGL in text
    assert OS_DATA + " 2026." in text


def test_appendix_without_boundaries_register_or_coverage():
    manifest = {
        **MANIFEST,
        "inputs": MANIFEST["inputs"][:3] * 5,
        "coverage": None,
        "run": {"started": None, "finished": None, "seconds": None},
    }
    text = provenance_appendix(manifest)
    assert OS_DATA not in text and OGL in text
    assert "15 input files" in text
    assert "not recorded" in text
    assert "police.uk are already public" in text


def test_appendix_lists_at_most_ten_rows():
    inputs = [
        {"key": f"k{i}", "path": f"f{i}.csv", "bytes": 1, "sha256": f"{i:064d}"} for i in range(13)
    ]
    text = provenance_appendix({**MANIFEST, "inputs": inputs})
    rows = [line for line in text.splitlines() if line.startswith("| f")]
    assert len(rows) == 10
    assert "3 more in manifest.json." in text


def test_appendix_renders_in_html(executed, tmp_path):
    appendix = provenance_appendix(MANIFEST, REGISTER)
    page = _parse(write_html(executed, tmp_path / "d.html", appendix=appendix).read_text())
    assert "Data coverage" in [t for _, t in page.headings]
    assert "fedcba987654" in page.cells
    assert set(page.toc) <= page.ids
