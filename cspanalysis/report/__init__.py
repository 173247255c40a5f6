"""How results reach people: disclosure control and provenance (exporters to follow).

- :func:`suppress` applies disclosure control (small-count suppression with
  complementary suppression, or rounding) to a table before it is published;
- :func:`build_manifest` / :func:`write_manifest` record how a draft was
  produced (parameters, inputs with SHA-256, coverage, versions, timing).

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

from cspanalysis.report.disclosure import DisclosureWarning, SuppressedTable, suppress
from cspanalysis.report.outputs import RunOutputs, publish_table
from cspanalysis.report.provenance import build_manifest, write_manifest

__all__ = [
    "DisclosureWarning",
    "RunOutputs",
    "SuppressedTable",
    "build_manifest",
    "publish_table",
    "suppress",
    "write_manifest",
]
