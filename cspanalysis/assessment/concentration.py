"""Where crime concentrates: top LSOAs and concentration measures per category.

Only incidents with an LSOA in the partnership count here (a row with no
location cannot be placed); ``n_located`` says how many that is.

* ``share_top``: share of located incidents in the busiest ``top_share``
  (default 10%) of LSOAs – 0.10 if crime were spread evenly.
* ``lsoas_for_half``: fewest LSOAs that together hold half the incidents.
* ``gini``: Gini coefficient of LSOA counts (0 even, → 1 all in one LSOA).
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
import pandas as pd

from cspanalysis.assessment.periods import MonthLike, Window, present_months, select_source

__all__ = ["lsoa_concentration", "top_lsoas"]


def _lsoa_counts(
    incidents: pd.DataFrame,
    areas: pd.DataFrame,
    window: Window,
    coverage: pd.DataFrame | pd.PeriodIndex | Iterable[MonthLike] | None,
    source: str | None,
    by: str,
) -> pd.DataFrame:
    present = present_months(incidents, coverage, source)
    rows = select_source(incidents, source)
    keep = pd.PeriodIndex(rows["month"], freq="M").isin(window.months[window.months.isin(present)])
    rows = rows[keep & rows["lsoa"].isin(areas.index).to_numpy()]
    weight = rows["count"] if "count" in rows.columns else pd.Series(1, index=rows.index)
    frame = pd.DataFrame(
        {
            "lsoa": rows["lsoa"].astype(str).to_numpy(),
            by: rows[by].astype(str).to_numpy(),
            "n": weight.to_numpy(float),
        }
    )
    table = frame.groupby(["lsoa", by])["n"].sum().unstack(by, fill_value=0.0)
    return table.reindex(areas.index, fill_value=0.0)


def _gini(x: np.ndarray) -> float:
    x = np.sort(np.asarray(x, dtype=float))
    n, total = len(x), x.sum()
    if n == 0 or total == 0:
        return np.nan
    return float((2 * np.arange(1, n + 1) - n - 1) @ x / (n * total))


def lsoa_concentration(
    incidents: pd.DataFrame,
    areas: pd.DataFrame,
    window: Window,
    *,
    coverage: pd.DataFrame | pd.PeriodIndex | Iterable[MonthLike] | None = None,
    source: str | None = "police.uk",
    by: str = "category",
    top_share: float = 0.1,
) -> pd.DataFrame:
    """Concentration of each category across the partnership's LSOAs.

    Examples
    --------
    >>> from cspanalysis.assessment.periods import rolling_window
    >>> areas = pd.DataFrame(index=pd.Index([f"E{i}" for i in range(10)], name="lsoa"))
    >>> inc = pd.DataFrame({"month": pd.PeriodIndex(["2019-01"] * 2, freq="M"),
    ...     "category": ["Robbery"] * 2, "lsoa": ["E0", "E1"], "count": [9, 1]})
    >>> c = lsoa_concentration(inc, areas, rolling_window("2019-01", 1))
    >>> c.loc["Robbery", ["n_located", "share_top", "lsoas_for_half"]].tolist()
    [10.0, 0.9, 1.0]
    """
    table = _lsoa_counts(incidents, areas, window, coverage, source, by)
    k = max(1, round(top_share * len(table)))
    out = []
    for cat in table.columns:
        x = np.sort(table[cat].to_numpy())[::-1]
        total = x.sum()
        cum = np.cumsum(x)
        out.append(
            {
                by: cat,
                "n_located": total,
                "n_lsoas": len(x),
                "share_top": cum[k - 1] / total if total else np.nan,
                "lsoas_for_half": int(np.searchsorted(cum, total / 2) + 1) if total else 0,
                "gini": _gini(x),
            }
        )
    return pd.DataFrame(out).set_index(by)


def top_lsoas(
    incidents: pd.DataFrame,
    areas: pd.DataFrame,
    window: Window,
    *,
    category: str | None = None,
    n: int = 10,
    coverage: pd.DataFrame | pd.PeriodIndex | Iterable[MonthLike] | None = None,
    source: str | None = "police.uk",
) -> pd.DataFrame:
    """The ``n`` LSOAs with most incidents (of ``category``, or all but ASB).

    Returns ``name`` (when ``areas`` has it), ``count``, ``share`` of the partnership's located
    incidents, ``cumulative_share`` and ``per_1000`` residents (over the window, not annualised).
    """
    table = _lsoa_counts(incidents, areas, window, coverage, source, "category")
    if category is None:
        col = table.drop(columns=["Anti-social behaviour"], errors="ignore").sum(axis=1)
    else:
        col = table[category] if category in table else pd.Series(0.0, index=table.index)
    total = col.sum()
    top = col.sort_values(ascending=False).head(int(n))
    out = pd.DataFrame({"count": top})
    if "name" in areas.columns:
        out.insert(0, "name", areas["name"].reindex(top.index))
    out["share"] = top / total if total else np.nan
    out["cumulative_share"] = out["share"].cumsum()
    if "population" in areas.columns:
        out["per_1000"] = 1000 * top / areas["population"].reindex(top.index).astype(float)
    out.index.name = "lsoa"
    return out
