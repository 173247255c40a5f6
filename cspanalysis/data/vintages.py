"""LSOA vintages: mapping 2011 codes to 2021 codes and back through the ONS lookup.

police.uk published street files with 2011 LSOA codes until it moved to 2021
codes; an analysis uses one *vintage* and every source is mapped into it
through the ONS "LSOA (2011) to LSOA (2021) to LAD (2022) best-fit lookup",
whose ``change_code`` says what happened to each LSOA:

=====  ==========================================================
``U``  unchanged: the same code in both vintages (about 97%)
``S``  split: one 2011 LSOA became several 2021 LSOAs
``M``  merged: several 2011 LSOAs became one 2021 LSOA
``X``  complex: boundaries redrawn; treated like a split
=====  ==========================================================

A code with exactly one counterpart maps directly (unchanged, merged going
forward, split going backward). A code with several counterparts (split going
forward, merged going backward, complex) is resolved per row:

1. **point in polygon** when the row has coordinates and target-vintage
   polygons are supplied: the counterpart whose polygon holds the point
   (exact, because LSOAs of both vintages nest inside the old code's extent);
2. **nearest** counterpart polygon when the point falls in none of them
   (generalised boundaries leave slivers);
3. otherwise the counterpart with the largest ``weights`` value (e.g.
   population) or, with no weights, the lowest code, so the result is
   deterministic. Such rows are labelled ``"assigned"`` in the returned
   ``how`` column so a data-quality summary can count them.

police.uk rows with an LSOA always have coordinates, so with polygons every
police.uk row is resolved exactly; only LSOA-only partner rows need rule 3.

Example
-------
>>> import pandas as pd
>>> lookup = pd.DataFrame({"lsoa11_code": ["A", "B", "B", "C", "D"],
...                        "lsoa21_code": ["A", "B1", "B2", "CD", "CD"],
...                        "change_code": ["U", "S", "S", "M", "M"]})
>>> res = map_lsoa_codes(pd.Series(["A", "C", "B", None]), "2011", "2021", lookup)
>>> res["lsoa"].tolist()
['A', 'CD', 'B1', <NA>]
>>> res["how"].tolist()
['unchanged', 'one-to-one', 'assigned', 'none']
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

import geopandas as gpd
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from cspanalysis.errors import InputError

Vintage = Literal["2011", "2021"]
_ArrayLike = pd.Series | pd.Index | np.ndarray

_ALIASES = {
    "lsoa11_code": ("lsoa11_code", "lsoa11cd", "lsoa11_cd", "lsoa2011_code"),
    "lsoa21_code": ("lsoa21_code", "lsoa21cd", "lsoa21_cd", "lsoa2021_code"),
    "change_code": ("change_code", "chgind", "change", "chg_ind"),
}


def read_vintage_lookup(path: str | Path) -> pd.DataFrame:
    """Read the ONS LSOA 2011 → 2021 lookup (CSV, optionally gzipped).

    Returns a frame with columns ``lsoa11_code``, ``lsoa21_code``,
    ``change_code``; ONS header spellings (``LSOA11CD``, ``CHGIND``) are
    accepted.
    """
    path = Path(path)
    try:
        frame = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8")
    except FileNotFoundError:
        raise InputError("LSOA vintage lookup not found; check the path", path=path) from None
    except (UnicodeDecodeError, EOFError, OSError, pd.errors.ParserError) as exc:
        raise InputError(
            f"cannot read the LSOA vintage lookup ({type(exc).__name__}); "
            "use the ONS LSOA (2011) to LSOA (2021) lookup CSV",
            path=path,
        ) from None
    lower = {c.lower().strip(): c for c in frame.columns}
    rename: dict[str, str] = {}
    for want, options in _ALIASES.items():
        found = next((lower[o] for o in options if o in lower), None)
        if found is None:
            raise InputError(
                f"the LSOA vintage lookup has no '{want}' column (found: "
                f"{', '.join(frame.columns)}); use the ONS LSOA (2011) to LSOA (2021) lookup",
                path=path,
            )
        rename[found] = want
    out = frame.rename(columns=rename)[list(_ALIASES)]
    out = out[(out["lsoa11_code"] != "") & (out["lsoa21_code"] != "")]
    return out.drop_duplicates(ignore_index=True)


def detect_vintage(codes: pd.Series, lookup: pd.DataFrame) -> Vintage | None:
    """Which vintage a set of LSOA codes is in, judged by the codes only one vintage has.

    Returns ``None`` when every code exists in both vintages (then no mapping
    is needed). Raises :class:`InputError` when the codes mix codes that exist
    only in 2011 with codes that exist only in 2021.

    >>> lookup = pd.DataFrame({"lsoa11_code": ["A", "B"], "lsoa21_code": ["A", "B1"],
    ...                        "change_code": ["U", "S"]})
    >>> detect_vintage(pd.Series(["A", "B1"]), lookup)
    '2021'
    """
    present = set(pd.Series(codes).dropna().unique())
    codes11 = set(lookup["lsoa11_code"].to_numpy(dtype=object))  # iterating arrow strings is slow
    codes21 = set(lookup["lsoa21_code"].to_numpy(dtype=object))
    n11 = len(present & (codes11 - codes21))
    n21 = len(present & (codes21 - codes11))
    if n11 and n21:
        raise InputError(
            f"the LSOA codes mix both vintages ({n11} codes exist only in 2011, {n21} only in "
            "2021); load files of each vintage as separate sources"
        )
    if n11:
        return "2011"
    if n21:
        return "2021"
    return None


def map_lsoa_codes(
    codes: pd.Series,
    source: Vintage,
    target: Vintage,
    lookup: pd.DataFrame | None,
    *,
    points: gpd.GeoSeries | None = None,
    boundaries: gpd.GeoDataFrame | None = None,
    weights: pd.Series | None = None,
) -> pd.DataFrame:
    """Map LSOA ``codes`` from the ``source`` vintage to the ``target`` vintage.

    Parameters
    ----------
    codes
        LSOA codes (NA where the row has none).
    source, target
        ``"2011"`` or ``"2021"``.
    lookup
        The ONS lookup (see :func:`read_vintage_lookup`); needed when the
        vintages differ.
    points
        Optional point geometry per row (same index as ``codes``, EPSG:27700),
        used with ``boundaries`` to resolve one-to-many mappings exactly.
    boundaries
        Optional polygons of the *target* vintage, indexed by LSOA code, in
        the same CRS as ``points``.
    weights
        Optional weight per target LSOA (e.g. population) used when a
        one-to-many mapping cannot be resolved by location.

    Returns
    -------
    DataFrame
        Same index as ``codes``: ``lsoa`` (target code, NA when unknown) and
        ``how``: ``unchanged`` | ``one-to-one`` | ``point-in-polygon`` |
        ``nearest`` | ``assigned`` | ``unknown`` (code not in the lookup) |
        ``none`` (no code given).
    """
    codes = pd.Series(codes, dtype="string")
    has = codes.notna().to_numpy()
    values = codes.to_numpy(dtype=object, na_value=None)
    lsoa = values.copy()
    how = np.where(has, "unchanged", "none").astype(object)
    if source == target:
        return _frame(lsoa, how, codes.index)
    if lookup is None:
        raise InputError(
            f"LSOA codes are {source} vintage but the analysis uses {target}; give the ONS "
            "LSOA 2011 to 2021 lookup as geography.vintage_lookup in the parameter file"
        )
    src_col, dst_col = (
        ("lsoa11_code", "lsoa21_code") if source == "2011" else ("lsoa21_code", "lsoa11_code")
    )
    pairs = lookup[[src_col, dst_col]].drop_duplicates()
    n_targets = pairs.groupby(src_col)[dst_col].nunique()
    single = pairs[pairs[src_col].map(n_targets) == 1].set_index(src_col)[dst_col]
    unchanged = lookup.loc[lookup["change_code"] == "U", "lsoa11_code"]

    position = _positions(codes, single.index)
    mapped = np.append(single.to_numpy(dtype=object), None)[position]  # -1 (absent): None
    is_single = has & pd.notna(mapped)
    same = _isin(codes, unchanged) & (mapped == values)
    lsoa[is_single] = mapped[is_single]
    how[is_single] = np.where(same[is_single], "unchanged", "one-to-one")
    multi_mask = has & ~is_single & _isin(codes, n_targets.index)
    unknown = has & ~is_single & ~multi_mask
    lsoa[unknown] = None
    how[unknown] = "unknown"
    out = _frame(lsoa, how, codes.index)
    if not multi_mask.any():
        return out

    candidates = pairs[_isin(pairs[src_col], codes[multi_mask].unique())]
    resolved = pd.Series(pd.NA, index=codes.index[multi_mask], dtype="string")
    how = pd.Series("assigned", index=resolved.index, dtype="string")
    if points is not None and boundaries is not None:
        pts = points.reindex(resolved.index)
        located = pts.notna() & ~pts.is_empty
        if located.any():
            cand = candidates[_isin(candidates[dst_col], boundaries.index)]
            rows = pd.DataFrame(
                {"row": resolved.index[located], src_col: codes[resolved.index[located]].to_numpy()}
            )
            combo = rows.merge(cand, on=src_col, how="inner")
            if len(combo):
                poly = gpd.GeoSeries(
                    boundaries.geometry.reindex(combo[dst_col]).to_numpy(), crs=boundaries.crs
                )
                pt = gpd.GeoSeries(pts.reindex(combo["row"]).to_numpy(), crs=boundaries.crs)
                inside = poly.covers(pt).to_numpy()
                dist = poly.distance(pt).to_numpy()
                combo = combo.assign(inside=inside, dist=np.where(inside, -1.0, dist))
                best = combo.sort_values(["row", "dist", dst_col]).drop_duplicates("row")
                best = best.set_index("row")
                resolved.loc[best.index] = best[dst_col].astype("string")
                how.loc[best.index] = np.where(best["inside"], "point-in-polygon", "nearest")
    todo = resolved.isna()
    if todo.any():
        cand = candidates.copy()
        if weights is not None:
            cand["w"] = cand[dst_col].map(weights).fillna(-np.inf)
        else:
            cand["w"] = 0.0
        choice = (
            cand.sort_values([src_col, "w", dst_col], ascending=[True, False, True])
            .drop_duplicates(src_col)
            .set_index(src_col)[dst_col]
        )
        idx = resolved.index[todo]
        resolved.loc[idx] = codes[idx].map(choice).astype("string")
        how.loc[idx] = "assigned"
    out.loc[resolved.index, "lsoa"] = resolved
    out.loc[resolved.index, "how"] = how
    return out


def _frame(lsoa: np.ndarray, how: np.ndarray, index: pd.Index) -> pd.DataFrame:
    """The result frame from object arrays (None for NA)."""
    return pd.DataFrame(
        {
            "lsoa": pd.Series(lsoa, index=index, dtype="string"),
            "how": pd.Series(how, index=index, dtype="string"),
        }
    )


def _positions(values: _ArrayLike, labels: _ArrayLike) -> np.ndarray:
    """Position of each value among the unique ``labels`` (-1 where absent); NA matches NA.

    By Arrow's hash lookup for text (pandas 3's string ``isin`` loops over the
    wanted values in Python: about 0.2 s per call against the 35k codes of the
    ONS lookup); by pandas' object hash table for labels that are not all text.
    """
    try:
        found = pc.index_in(_arrow(values), value_set=_arrow(labels), skip_nulls=False)
    except pa.ArrowException:
        return pd.Index(_objects(labels), dtype=object).get_indexer(_objects(values))
    return found.fill_null(-1).to_numpy(zero_copy_only=False)


def _isin(values: _ArrayLike, wanted: _ArrayLike) -> np.ndarray:
    """``values.isin(wanted)`` as a NumPy mask, fast (NA matches NA); see :func:`_positions`."""
    try:
        found = pc.is_in(_arrow(values), value_set=_arrow(wanted), skip_nulls=False)
    except pa.ArrowException:
        return _positions(values, pd.unique(_objects(wanted))) >= 0
    return found.fill_null(False).to_numpy(zero_copy_only=False)


def _arrow(values: _ArrayLike) -> pa.Array:
    """Text as an Arrow string array (null for NA); an ArrowException for anything else."""
    if isinstance(values, pd.Index | pd.Series):
        values = values.array
    return pa.array(values, type=pa.string(), from_pandas=True)


def _objects(values: _ArrayLike) -> np.ndarray:
    """An object array with NaN for every kind of NA (pandas' hash tables match NaN to NaN)."""
    out = np.asarray(values, dtype=object).copy()
    out[pd.isna(out)] = np.nan
    return out
