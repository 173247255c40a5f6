"""Turn one executed notebook into the drafts a partnership board reads.

:func:`publish_run` takes a run's executed notebook and its output folder (the
tables, figures and layers it registered through
:class:`~cspanalysis.report.outputs.RunOutputs`) and writes, beside the
executed notebook ``<folder>/<name>.ipynb``:

* ``<name>.html`` — the readable draft: no code, figures embedded, a table of
  contents, ending with the "How this was produced" appendix;
* ``<name>.docx`` — the same as an editable Word document;
* ``<name>.xlsx`` — every published table, one sheet each;
* ``<name>.gpkg`` — every map layer, for QGIS (when the run registered any);
* ``<name>/manifest.json`` — parameters, inputs with SHA-256, coverage,
  versions, outputs with SHA-256 and timing.

Every file is written to a temporary name and renamed, so an interruption
never leaves a half-written draft.

Example
-------
>>> from cspanalysis.report.publish import publish_run                    # doctest: +SKIP
>>> publish_run("out/northbrook/strategic_assessment.ipynb", params)     # doctest: +SKIP
[PosixPath('out/northbrook/strategic_assessment.html'), ...]
"""

from __future__ import annotations

import shutil
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path

import nbformat

from cspanalysis.config import Params
from cspanalysis.files import atomic_path
from cspanalysis.report.outputs import LAYERS_FILE, read_coverage, read_register
from cspanalysis.report.provenance import build_manifest, output_records, write_manifest

__all__ = ["DRAFT_SUFFIXES", "draft_title", "publish_run"]

#: the drafts written beside each executed notebook
DRAFT_SUFFIXES = (".html", ".docx", ".xlsx", ".gpkg")


def draft_title(notebook: nbformat.NotebookNode, partnership: str) -> str:
    """The draft's title: the notebook's first heading and the partnership's name.

    >>> nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_markdown_cell("# Hotspot mapping")])
    >>> draft_title(nb, "Northbrook")
    'Hotspot mapping: Northbrook'
    """
    for cell in notebook.cells:
        if cell.cell_type != "markdown":
            continue
        for line in cell.source.splitlines():
            if line.startswith("# "):
                return f"{line[2:].strip()}: {partnership}"
    return partnership


def publish_run(
    executed: str | Path,
    params: Params,
    *,
    inputs: Sequence[str | Path] = (),
    started: datetime | None = None,
    finished: datetime | None = None,
) -> list[Path]:
    """Write the HTML, Word, Excel and GeoPackage drafts and the manifest of one run.

    Parameters
    ----------
    executed
        The executed notebook ``<folder>/<name>.ipynb``; its outputs are in
        ``<folder>/<name>/``.
    params
        The partnership's parameters (from :func:`cspanalysis.load_params`).
    inputs
        Further inputs to record (the notebook that was run).
    started, finished
        When the run started and finished.

    Returns
    -------
    The files written (drafts first, the manifest last).
    """
    from cspanalysis.report.appendix import provenance_appendix
    from cspanalysis.report.draft import write_docx, write_html
    from cspanalysis.report.workbook import write_workbook

    executed = Path(executed)
    run_dir = executed.with_suffix("")
    run_dir.mkdir(exist_ok=True)  # a notebook that published nothing still gets its drafts
    register = read_register(run_dir)
    notebook = nbformat.read(executed, as_version=4)
    title = draft_title(notebook, params.name)
    _name_the_partnership(notebook, title)

    produced = [executed, *sorted(p for p in run_dir.rglob("*") if p.is_file())]
    produced = [p for p in produced if p.name != "manifest.json"]
    manifest = build_manifest(
        params,
        read_coverage(run_dir),
        inputs=inputs,
        outputs=produced,
        started=started,
        finished=finished,
        output_dir=executed.parent,
    )
    appendix = provenance_appendix(manifest, register)

    base = executed.parent / executed.stem
    drafts = [
        write_html(notebook, base.with_suffix(".html"), title=title, appendix=appendix),
        write_docx(notebook, base.with_suffix(".docx"), title=title, appendix=appendix),
        write_workbook(run_dir, base.with_suffix(".xlsx"), title=title, notes=_notes(manifest)),
    ]
    layers = run_dir / LAYERS_FILE
    gpkg = base.with_suffix(".gpkg")
    if layers.exists():
        with atomic_path(gpkg) as tmp:
            shutil.copyfile(layers, tmp)
        drafts.append(gpkg)
    else:
        gpkg.unlink(missing_ok=True)

    manifest["outputs"] = output_records([*produced, *drafts], executed.parent)
    return [*drafts, write_manifest(manifest, run_dir / "manifest.json")]


def _name_the_partnership(notebook: nbformat.NotebookNode, title: str) -> None:
    """Put the partnership's name in the draft's first heading."""
    for cell in notebook.cells:
        if cell.cell_type == "markdown" and cell.source.startswith("# "):
            _, _, rest = cell.source.partition("\n")
            cell.source = f"# {title}\n{rest}"
            return


def _notes(manifest: dict) -> list[str]:
    software = manifest["software"]
    version = software["packages"].get("cspanalysis")
    commit = software.get("cspanalysis_git")
    made = f"Produced by cspanalysis {version}" + (f" (git {commit[:12]})" if commit else "")
    return [
        f"Partnership: {manifest['partnership']['name']}",
        f"Parameter file: {manifest['parameters']['file']} "
        f"(SHA-256 {manifest['parameters']['sha256'][:12]}…)",
        made + (f" on {manifest['run']['finished'][:10]}." if manifest["run"]["finished"] else "."),
        "Full provenance (every input file with its SHA-256): manifest.json beside the tables.",
    ]
