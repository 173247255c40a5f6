"""What a run publishes: its tables, figures and map layers, registered for the drafts.

A notebook hands every table, figure and map layer it wants in the draft to a
:class:`RunOutputs`. Each is written at once, atomically, under the run's output
folder:

* ``tables/<name>.csv`` — the **published** table: disclosure control applied
  when it holds partner data about people (see :func:`publish_table`), floats
  written with 12 significant digits and ``\\n`` line ends, so the same inputs
  give the same bytes run after run;
* ``figures/<name>.png``;
* ``map_layers.gpkg`` — every map layer, for QGIS;
* ``coverage.json`` — which months each source supplied (for the manifest);
* ``outputs.json`` — the register of all of the above, in the order the notebook
  produced them, with titles and what disclosure control withheld. The batch
  (:mod:`cspanalysis.batch`) reads it to build the Excel workbook and the
  provenance appendix.

Disclosure control (GSS guidance, as implemented by
:func:`cspanalysis.report.suppress`) applies to tables marked
``about_people=True``: counts from 1 to ``threshold - 1`` become ``"<5"`` with
complementary suppression against the table's totals. Other numbers in a row
that had a count withheld (changes, percentages, rates, intervals) are derived
from that count and would give it away, so they are withheld too (``"[c]"``).
Tables of police.uk counts, which are already public, are published as they are.

Example
-------
>>> import tempfile, pandas as pd
>>> outputs = RunOutputs(tempfile.mkdtemp())
>>> shown = outputs.table(pd.DataFrame({"current": [3, 40], "previous": [9, 38],
...                                     "change": [-6, 2]}, index=["Noise", "Graffiti"]),
...                       "partner_change", title="Partner data", about_people=True,
...                       counts=["current", "previous"])
>>> shown.loc["Noise"].astype(str).tolist()
['<5', '9', '[c]']
>>> [t["name"] for t in outputs.register["tables"]]
['partner_change']
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd

from cspanalysis.config import Disclosure, Params
from cspanalysis.errors import InputError
from cspanalysis.files import atomic_path
from cspanalysis.report.disclosure import SECONDARY_SYMBOL, SuppressedTable, suppress

__all__ = [
    "REGISTER",
    "RunOutputs",
    "publish_table",
    "read_coverage",
    "read_register",
    "write_table_csv",
]

#: the register's file name in a run's output folder
REGISTER = "outputs.json"
#: the GeoPackage of every map layer of a run
LAYERS_FILE = "map_layers.gpkg"
#: significant digits of floats in published CSV tables
FLOAT_FORMAT = "%.12g"


def publish_table(
    table: pd.DataFrame | pd.Series,
    *,
    about_people: bool,
    counts: Sequence[str] | None = None,
    rule: Disclosure | None = None,
    margins: bool | Literal["auto", "add"] = "auto",
) -> tuple[pd.DataFrame, SuppressedTable | None]:
    """The table as it may be published, and what disclosure control did.

    Parameters
    ----------
    table
        The table (a Series is treated as a one-column frame).
    about_people
        True for partner data about people (victims, offenders, service users):
        disclosure control applies. False (police.uk counts, already public):
        the table is returned unchanged.
    counts
        The columns holding counts; default: every integer-typed column whose
        values are all non-negative (name them when counts are stored as floats).
    rule
        The rule (threshold, method, base); default: suppress counts 1–4.
    margins
        Passed to :func:`~cspanalysis.report.suppress`: ``"auto"`` treats a last
        row labelled Total / All as a total.

    Returns
    -------
    (published table, SuppressedTable or None when not about people)

    Examples
    --------
    >>> t = pd.DataFrame({"n": [2, 7, 9], "pct": [22.2, 77.8, 100.0]},
    ...                  index=["Graffiti", "Noise", "Total"])
    >>> shown, info = publish_table(t, about_people=True, counts=["n"])
    >>> shown["n"].astype(str).tolist(), shown["pct"].astype(str).tolist()
    (['<5', '[c]', '9'], ['[c]', '[c]', '100.0'])
    """
    frame = table.to_frame() if isinstance(table, pd.Series) else table.copy()
    if not about_people:
        return frame, None
    rule = rule or Disclosure()
    if counts is None:
        counts = [c for c in frame.columns if _is_count_column(frame[c])]
    missing = [c for c in counts if c not in frame.columns]
    if missing:
        raise InputError(f"publish_table: no column(s) {missing}; the table has {list(frame)}")
    if not counts:
        raise InputError(
            "publish_table: a table about people needs at least one count column "
            "(whole, non-negative numbers); name them with counts=[...]"
        )
    result = suppress(
        frame[list(counts)],
        rule.threshold,
        margins=margins,
        method=rule.method,
        base=rule.base,
    )
    published = result.published
    out = frame.reindex(published.index).astype(object)
    for column in published.columns:  # with margins="add", a Total column is new
        out[column] = published[column]
    if rule.method == "round":
        values = result.values.to_numpy(dtype=float)
        hidden = ((values >= 1) & (values < rule.threshold)).any(axis=1)
    else:
        hidden = (np.asarray(result.mask_primary) | np.asarray(result.mask_secondary)).any(axis=1)
    derived = [c for c in frame.columns if c not in counts and _is_numeric(frame[c])]
    for column in derived:
        out.loc[hidden, column] = SECONDARY_SYMBOL
    return out, result


def write_table_csv(table: pd.DataFrame, path: str | Path, *, index: bool = True) -> Path:
    """Write a table as CSV, atomically, with the same bytes for the same table.

    Floats are written with 12 significant digits and lines end in ``\\n``.

    >>> import tempfile, pathlib
    >>> folder = pathlib.Path(tempfile.mkdtemp())
    >>> p = write_table_csv(pd.DataFrame({"x": [1 / 3]}), folder / "t.csv")
    >>> p.read_text()
    ',x\\n0,0.333333333333\\n'
    """
    path = Path(path)
    table = table.copy()
    # e.g. counts mixed with "<5"
    for column in table.select_dtypes(include=["object", "string"]).columns:
        table[column] = table[column].map(_format_float)
    with atomic_path(path) as tmp:
        table.to_csv(tmp, index=index, float_format=FLOAT_FORMAT, lineterminator="\n")
    return path


def _format_float(value: Any) -> Any:
    if isinstance(value, float | np.floating):
        return "" if np.isnan(value) else FLOAT_FORMAT % value
    return value


class RunOutputs:
    """The tables, figures and map layers one run publishes (see the module docs).

    Parameters
    ----------
    output_dir
        The run's output folder (created). A register left there by an earlier
        run is started afresh.
    params
        The partnership's parameters: their ``disclosure`` rule is used.
    """

    def __init__(self, output_dir: str | Path, params: Params | None = None) -> None:
        self.dir = Path(output_dir)
        (self.dir / "tables").mkdir(parents=True, exist_ok=True)
        (self.dir / "figures").mkdir(parents=True, exist_ok=True)
        self.rule = params.disclosure if params is not None else Disclosure()
        self.register: dict[str, Any] = {
            "tables": [],
            "figures": [],
            "layers": [],
            "disclosure": self.rule.model_dump(),
        }
        self._save()

    # ------------------------------------------------------------------ tables
    def table(
        self,
        table: pd.DataFrame | pd.Series,
        name: str,
        *,
        title: str | None = None,
        about_people: bool = False,
        counts: Sequence[str] | None = None,
        margins: bool | Literal["auto", "add"] = "auto",
        index: bool = True,
    ) -> pd.DataFrame:
        """Publish a table: write ``tables/<name>.csv`` and return what may be shown.

        Display the returned table, not the original: for ``about_people=True``
        it is the disclosure-controlled one. See :func:`publish_table`.
        """
        _check_name(name)
        published, info = publish_table(
            table, about_people=about_people, counts=counts, rule=self.rule, margins=margins
        )
        path = write_table_csv(published, self.dir / "tables" / f"{name}.csv", index=index)
        entry = {
            "name": name,
            "title": title or name.replace("_", " ").capitalize(),
            "file": path.relative_to(self.dir).as_posix(),
            "about_people": about_people,
            "index": index,
            "disclosure": None if info is None else info.findings(),
        }
        self._add("tables", entry)
        return published

    # ------------------------------------------------------------------ figures
    def figure(self, fig: Any, name: str, *, title: str | None = None) -> Any:
        """Write a matplotlib figure to ``figures/<name>.png`` (atomically) and return it."""
        _check_name(name)
        path = self.dir / "figures" / f"{name}.png"
        with atomic_path(path) as tmp:
            fig.savefig(tmp, format="png", bbox_inches="tight", metadata={"Software": None})
        entry = {
            "name": name,
            "title": title or name.replace("_", " ").capitalize(),
            "file": path.relative_to(self.dir).as_posix(),
        }
        self._add("figures", entry)
        return fig

    # ------------------------------------------------------------------ layers
    def layers(self, layers: Mapping[str, Any]) -> Path:
        """Write map layers (GeoDataFrames or hotspot results) to ``map_layers.gpkg``.

        Every call replaces the GeoPackage, so pass all of the run's layers at once.
        """
        from cspanalysis.hotspots import to_geopackage

        for name in layers:
            _check_name(name)
        path = to_geopackage(dict(layers), self.dir / LAYERS_FILE)
        self.register["layers"] = [{"name": name, "file": LAYERS_FILE} for name in layers]
        self._save()
        return path

    # ------------------------------------------------------------------ coverage
    def coverage(self, coverage: pd.DataFrame) -> Path:
        """Record which months each source supplied (``coverage.json``, for the manifest)."""
        from cspanalysis.report.provenance import summarise_coverage

        path = self.dir / "coverage.json"
        text = json.dumps(summarise_coverage(coverage), sort_keys=True, indent=2)
        with atomic_path(path) as tmp:
            tmp.write_text(text + "\n", encoding="utf-8")
        self.register["coverage"] = path.name
        self._save()
        return path

    # ------------------------------------------------------------------ internals
    def _add(self, kind: str, entry: dict[str, Any]) -> None:
        items = self.register[kind]
        names = [e["name"] for e in items]
        if entry["name"] in names:  # a cell run again: replace it where it was
            items[names.index(entry["name"])] = entry
        else:
            items.append(entry)
        self._save()

    def _save(self) -> None:
        text = json.dumps(self.register, indent=2, ensure_ascii=False)
        with atomic_path(self.dir / REGISTER) as tmp:
            tmp.write_text(text + "\n", encoding="utf-8")


def read_coverage(output_dir: str | Path) -> dict[str, Any] | None:
    """The coverage a run recorded with :meth:`RunOutputs.coverage` (None when it did not).

    >>> import tempfile
    >>> read_coverage(tempfile.mkdtemp()) is None
    True
    """
    path = Path(output_dir) / "coverage.json"
    if not path.exists():
        return None
    return json.loads(path.read_text(encoding="utf-8"))


def read_register(output_dir: str | Path) -> dict[str, Any]:
    """The register a run left in ``output_dir`` (empty lists when there is none).

    >>> import tempfile
    >>> read_register(tempfile.mkdtemp())["tables"]
    []
    """
    path = Path(output_dir) / REGISTER
    if not path.exists():
        return {"tables": [], "figures": [], "layers": [], "disclosure": None}
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except ValueError as exc:
        raise InputError(f"{path}: not a valid outputs register ({exc})", path=path) from None


def _check_name(name: str) -> None:
    if not name or any(ch in name for ch in '/\\:*?"<>|') or name.startswith("."):
        raise InputError(f"output name {name!r}: use letters, digits, '-' and '_' only")


def _is_numeric(column: pd.Series) -> bool:
    return pd.api.types.is_numeric_dtype(column) and not pd.api.types.is_bool_dtype(column)


def _is_count_column(column: pd.Series) -> bool:
    """Integer-typed and non-negative: a float column of whole values may be a percentage."""
    if not pd.api.types.is_integer_dtype(column):
        return False
    values = column.dropna().to_numpy(dtype=float)
    return bool(len(values)) and bool(np.all(values >= 0))
