"""How results reach people: published tables, drafts, disclosure control and provenance.

- :class:`RunOutputs` is what a notebook publishes through: tables (with
  disclosure control for partner data about people), figures, map layers;
- :func:`suppress` applies disclosure control (small-count suppression with
  complementary suppression, or rounding) to a table before it is published;
- :func:`write_html`, :func:`write_docx` and :func:`write_workbook` turn an
  executed notebook and its tables into the HTML, Word and Excel drafts, and
  :func:`publish_run` writes them all for one run, with its manifest;
- :func:`build_manifest` / :func:`write_manifest` record how a draft was
  produced (parameters, inputs with SHA-256, coverage, versions, timing), and
  :func:`provenance_appendix` says it in the draft's last section.

This package imports result objects and the parameter schema, never data
loaders; it writes files only through explicit writers (``write_manifest``).

Example
-------
>>> import pandas as pd
>>> from cspanalysis.report import suppress
>>> suppress(pd.Series({"a": 2, "b": 9, "c": 30}), margins="add").display.tolist()
['<5', '[c]', '30', '41']
"""

from __future__ import annotations

from cspanalysis.report.appendix import provenance_appendix
from cspanalysis.report.disclosure import DisclosureWarning, SuppressedTable, suppress
from cspanalysis.report.draft import write_docx, write_html
from cspanalysis.report.outputs import RunOutputs, publish_table
from cspanalysis.report.provenance import build_manifest, write_manifest
from cspanalysis.report.publish import publish_run
from cspanalysis.report.workbook import write_workbook

__all__ = [
    "DisclosureWarning",
    "RunOutputs",
    "SuppressedTable",
    "build_manifest",
    "provenance_appendix",
    "publish_run",
    "publish_table",
    "suppress",
    "write_docx",
    "write_html",
    "write_manifest",
    "write_workbook",
]
