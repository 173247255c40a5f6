"""Hot and cold spots over time: persistent, emerging, former, intermittent (and mixed).

The months are split into consecutive periods, Gi* is computed in every
period (:func:`cspanalysis.hotspots.gistar`, each period's cells one family,
corrected once), and each cell is classified from the sequence of periods in
which it was a significant hot or cold spot.

Periods (``period=None``), as sfhotspot chooses them but in whole months
because police.uk dates have no day: months when the data span up to two
years (sfhotspot: 28-day periods), quarters up to ten years, else years.
Periods are counted back from the last month, so the latest period is
complete; leading months that do not fill a period are left out (reported
in ``options["months_left_out"]``). A period with no incidents at all is
treated as missing data (not as a period with no hotspots) and left out of
every share below.

Classification of a cell. With ``P`` periods with data, the *recent*
periods are the last ``max(1, floor(recent_prop × P))`` of them and the
*earlier* periods the rest; ``hot`` / ``cold`` are the shares of all periods
in which the cell was a significant hot / cold spot; the cell's Gi* z-scores
*rise* (or *fall*) when a Mann–Kendall test of their trend over the periods
gives a one-sided p-value below ``trend_alpha`` (normal approximation, as
ArcGIS's emerging hot spot analysis). In order:

1. ``"no pattern"``: ``hot < hotspot_prop`` and ``cold < hotspot_prop``;
2. ``"mixed"``: ``hot ≥ hotspot_prop`` and ``cold ≥ hotspot_prop``;
3. ``"persistent hotspot"``: ``hot ≥ persistent_prop``;
4. ``"emerging hotspot"``: hot in at least half the recent periods, and
   either never hot before them or its z-scores rise;
5. ``"former hotspot"``: hot in fewer than half the recent periods, hot in
   at least ``hotspot_prop`` of the earlier ones, and its z-scores fall;
6. ``"intermittent hotspot"``: otherwise;

and the same for cold spots (with "rise" and "fall" swapped).

Differences from sfhotspot, on purpose: each period's p-values are corrected
once, over that period's cells (sfhotspot corrects them again across
periods); its emerging rule requires a cell to be hot in fewer than
``hotspot_prop`` of the earlier periods, so a hotspot that emerged half-way
through the span is never "emerging" (and its former rule calls two stray
early hot periods "former"); the trend test fixes both. The thresholds are
parameters; ``hotspot_prop``, ``persistent_prop`` and ``recent_prop`` have
sfhotspot's defaults.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

import geopandas as gpd
import numpy as np
import pandas as pd
from scipy import stats as sps

from cspanalysis.errors import InputError
from cspanalysis.hotspots.change import month_column
from cspanalysis.hotspots.gistar import (
    adjust_columns,
    binary_weights,
    cell_centres,
    default_distance,
    gistar_z,
    label_hotspots,
)
from cspanalysis.hotspots.grid import assign_cells
from cspanalysis.hotspots.points import Weight, incident_points

PERIOD_MONTHS = {"month": 1, "quarter": 3, "year": 12}
CATEGORIES = (
    "persistent hotspot",
    "emerging hotspot",
    "former hotspot",
    "intermittent hotspot",
    "persistent coldspot",
    "emerging coldspot",
    "former coldspot",
    "intermittent coldspot",
    "mixed",
    "no pattern",
)


def auto_period(n_months: int) -> str:
    """Period length for a span of ``n_months``: month (≤ 24), quarter (≤ 120), else year.

    >>> auto_period(24), auto_period(25), auto_period(121)
    ('month', 'quarter', 'year')
    """
    if n_months <= 24:
        return "month"
    if n_months <= 120:
        return "quarter"
    return "year"


def mann_kendall_z(z: np.ndarray) -> np.ndarray:
    """Mann–Kendall trend statistic (normal score) of each row of ``z`` (cells × periods).

    NaN entries are skipped; rows with fewer than three values give 0.
    Continuity-corrected, without a correction for ties.

    >>> mann_kendall_z(np.array([[1.0, 2, 3, 4, 5], [5, 4, 3, 2, 1]])).round(3).tolist()
    [2.205, -2.205]
    """
    z = np.asarray(z, dtype=float)
    s = np.zeros(z.shape[0])
    for i in range(z.shape[1] - 1):
        d = z[:, i + 1 :] - z[:, i : i + 1]
        s += np.nansum(np.sign(d), axis=1)
    n = (~np.isnan(z)).sum(axis=1)
    var = n * (n - 1) * (2 * n + 5) / 18.0
    with np.errstate(divide="ignore", invalid="ignore"):
        out = np.where(var > 0, (s - np.sign(s)) / np.sqrt(var), 0.0)
    return np.where(n >= 3, out, 0.0)


def classify_cells(
    hot: np.ndarray,
    cold: np.ndarray,
    z: np.ndarray,
    recent_prop: float = 0.2,
    hotspot_prop: float = 0.1,
    persistent_prop: float = 0.8,
    trend_alpha: float = 0.05,
) -> np.ndarray:
    """Classify cells from hot/cold flags and Gi* z-scores (cells × periods with data).

    >>> hot = np.array([[0, 0, 0, 0, 0, 0, 0, 1, 1, 1],
    ...                 [1, 1, 1, 1, 0, 0, 0, 0, 0, 0],
    ...                 [1, 1, 1, 1, 1, 1, 1, 1, 1, 0]], dtype=bool)
    >>> z = np.where(hot, 4.0, 0.0)
    >>> classify_cells(hot, np.zeros_like(hot), z).tolist()
    ['emerging hotspot', 'former hotspot', 'persistent hotspot']
    """
    p = hot.shape[1]
    out = np.full(hot.shape[0], "no pattern", dtype=object)
    if p == 0:
        return out
    n_recent = max(1, int(np.floor(recent_prop * p)))
    split = max(p - n_recent, 0)
    crit = sps.norm.isf(trend_alpha)
    mk = mann_kendall_z(z)

    def kind(flags: np.ndarray, word: str, rising: np.ndarray, falling: np.ndarray):
        recent = flags[:, split:].mean(axis=1)
        earlier = flags[:, :split].mean(axis=1) if split else np.zeros(len(flags))
        lab = np.full(len(flags), f"intermittent {word}", dtype=object)
        former = (recent < 0.5) & (earlier >= hotspot_prop) & falling
        emerging = (recent >= 0.5) & ((earlier == 0) | rising)
        lab[former] = f"former {word}"
        lab[emerging] = f"emerging {word}"
        lab[flags.mean(axis=1) >= persistent_prop] = f"persistent {word}"
        return lab

    hs, cs = hot.mean(axis=1), cold.mean(axis=1)
    is_hot = (hs >= hotspot_prop) & (cs < hotspot_prop)
    is_cold = (cs >= hotspot_prop) & (hs < hotspot_prop)
    out[is_hot] = kind(hot, "hotspot", mk > crit, mk < -crit)[is_hot]
    out[is_cold] = kind(cold, "coldspot", mk < -crit, mk > crit)[is_cold]
    out[(hs >= hotspot_prop) & (cs >= hotspot_prop)] = "mixed"
    return out


@dataclass
class ClassifyResult:
    """Result of :func:`classify`.

    Attributes
    ----------
    cells
        The grid with ``classification``, ``hot_periods``, ``cold_periods``,
        ``periods`` (with data) and ``n`` (incidents over all periods).
    per_period
        Long table: ``cell_id``, ``period`` (label), ``n``, ``gistar``,
        ``p_adjusted``, ``hotspot`` for every cell and period with data.
    options
        Periods, thresholds, distance, correction and alpha actually used.
    """

    cells: gpd.GeoDataFrame
    per_period: pd.DataFrame
    options: dict = field(default_factory=dict)

    def __getitem__(self, key: str) -> pd.Series:
        """A column of :attr:`cells`."""
        return self.cells[key]

    def summary(self) -> pd.DataFrame:
        """Cells and incidents per classification."""
        g = self.cells.groupby("classification")
        t = pd.DataFrame({"cells": g.size(), "incidents": g["n"].sum()})
        return t.reindex([c for c in CATEGORIES if c in t.index])

    def findings(self) -> list[str]:
        """Plain-English sentences on persistent, emerging and former hotspots."""
        o = self.options
        s = self.summary()
        out = [
            f"Gi* in {o['n_periods']} {o['period']} periods from {o['first_period']} to "
            f"{o['last_period']} ({o['n_recent']} recent)."
        ]
        for cat in ("persistent hotspot", "emerging hotspot", "former hotspot"):
            if cat in s.index:
                out.append(f"{s.at[cat, 'cells']:,} cells are {cat}s.")
        if len(out) == 1:
            out.append("No cell was a persistent, emerging or former hotspot.")
        if o["n_periods"] < 8:
            out.append(
                f"With only {o['n_periods']} periods of data this classification is tentative; "
                "a trend needs more periods to be tested."
            )
        return out

    def plot(self, **kwargs):
        """Map of the classification."""
        from cspanalysis.hotspots.maps import map_hotspots

        kwargs.setdefault("title", "Hot and cold spots over time")
        return map_hotspots(self.cells, "classification", **kwargs)


def _period_labels(months: pd.PeriodIndex, last: pd.Period, length: int) -> np.ndarray:
    back = (last.ordinal - months.asi8) // length
    return np.asarray(back)


def classify(
    cells: gpd.GeoDataFrame,
    incidents: gpd.GeoDataFrame,
    period: Literal["month", "quarter", "year"] | int | None = None,
    distance: float | None = None,
    p_adjust: Literal["holm", "fdr_bh", "bonferroni", "none"] = "holm",
    alpha: float = 0.05,
    hotspot_prop: float = 0.1,
    persistent_prop: float = 0.8,
    recent_prop: float = 0.2,
    trend_alpha: float = 0.05,
    weight: Weight = None,
) -> ClassifyResult:
    """Classify cells as persistent, emerging, former or intermittent hot/cold spots.

    Parameters
    ----------
    cells
        A grid from :func:`cspanalysis.hotspots.grid`.
    incidents
        Incidents with ``month`` (Period[M]) and point geometry.
    period
        ``"month"``, ``"quarter"``, ``"year"``, a number of months, or
        ``None`` for the automatic choice (module docs).
    distance, p_adjust, alpha
        As for :func:`cspanalysis.hotspots.gistar`.
    hotspot_prop, persistent_prop, recent_prop, trend_alpha
        Classification thresholds (module docs); sfhotspot's defaults for
        the first three.
    weight
        Optional harm weights (column name or ``category -> weight``).

    Examples
    --------
    A 1 km square with one incident per cell a month, and a busy block of four cells
    from July:

    >>> import geopandas as gpd, pandas as pd
    >>> from shapely.geometry import box
    >>> from cspanalysis.hotspots.grid import grid
    >>> cells = grid(gpd.GeoSeries([box(0, 0, 1000, 1000)], crs=27700), 100)
    >>> months = pd.period_range("2023-01", "2023-12", freq="M")
    >>> xy = [(x, y, m) for m in months for x, y in zip(cells["x"], cells["y"])]
    >>> xy += [(x, y, m) for m in months[6:] for x in (150, 250) for y in (150, 250)] * 6
    >>> inc = gpd.GeoDataFrame({"month": pd.PeriodIndex([m for *_, m in xy], freq="M"),
    ...     "count": 1}, geometry=gpd.points_from_xy([p[0] for p in xy], [p[1] for p in xy]),
    ...     crs=27700)
    >>> res = classify(cells, inc)
    >>> res.options["period"], str(res.cells.loc[11, "classification"])
    ('month', 'emerging hotspot')
    """
    centres = cell_centres(cells)
    months = month_column(incidents)
    if len(months) == 0:
        raise InputError("there are no incidents to classify")
    first, last = months.min(), months.max()
    span = last.ordinal - first.ordinal + 1
    chosen = auto_period(span) if period is None else period
    length = PERIOD_MONTHS.get(chosen) if isinstance(chosen, str) else int(chosen)
    if length is None or length < 1:
        raise InputError(
            f"period must be 'month', 'quarter', 'year' or a number of months, not {period!r}"
        )
    n_periods = span // length
    if n_periods < 2:
        raise InputError(
            f"the incidents span {span} months, fewer than two {chosen} periods; "
            "choose a shorter period or more months"
        )
    pts = incident_points(incidents, weight)
    pos = assign_cells(cells, pts.x, pts.y)
    back_all = _period_labels(months, last, length)
    back = back_all[pts.rows]
    ok = (pos >= 0) & (back < n_periods)
    col = (n_periods - 1 - back[ok]).astype(np.int64)
    x = np.zeros((len(cells), n_periods))
    np.add.at(x, (pos[ok], col), pts.weight[ok])
    # a period with no incidents at all (located or not) is missing, not empty
    present = np.zeros(n_periods, dtype=bool)
    inwin = back_all < n_periods
    present[(n_periods - 1 - back_all[inwin]).astype(np.int64)] = True
    d = default_distance(cells) if distance is None else float(distance)
    w = binary_weights(centres, d)
    z = gistar_z(x, w)
    p = 2.0 * sps.norm.sf(np.abs(z))
    p[:, ~present] = np.nan
    p_adj = adjust_columns(p, p_adjust)
    labels = np.column_stack(
        [label_hotspots(z[:, k], p_adj[:, k], alpha) for k in range(n_periods)]
    )
    hot, cold = labels == "hot", labels == "cold"
    cls = classify_cells(
        hot[:, present],
        cold[:, present],
        # a period whose counts do not vary has no clustering: z = 0 for the trend test
        np.nan_to_num(z[:, present], nan=0.0),
        recent_prop,
        hotspot_prop,
        persistent_prop,
        trend_alpha,
    )
    starts = [last - (n_periods - 1 - k) * length - (length - 1) for k in range(n_periods)]
    names = [str(s) if length == 1 else f"{s}–{s + length - 1}" for s in starts]
    out = cells.copy()
    out["classification"] = pd.Categorical(cls, categories=CATEGORIES)
    out["hot_periods"] = hot[:, present].sum(axis=1)
    out["cold_periods"] = cold[:, present].sum(axis=1)
    out["periods"] = int(present.sum())
    out["n"] = x.sum(axis=1)
    keep = np.flatnonzero(present)
    per_period = pd.DataFrame(
        {
            "cell_id": np.repeat(cells.index.to_numpy(), len(keep)),
            "period": np.tile(np.asarray(names, dtype=object)[keep], len(cells)),
            "n": x[:, keep].ravel(),
            "gistar": z[:, keep].ravel(),
            "p_adjusted": p_adj[:, keep].ravel(),
            "hotspot": labels[:, keep].ravel(),
        }
    )
    n_valid = int(present.sum())
    return ClassifyResult(
        cells=out,
        per_period=per_period,
        options={
            "period": chosen if isinstance(chosen, str) else f"{length}-month",
            "period_months": length,
            "period_rule": "automatic (sfhotspot, in months)" if period is None else "given",
            "n_periods": n_valid,
            "missing_periods": [names[k] for k in range(n_periods) if not present[k]],
            "first_period": names[0],
            "last_period": names[-1],
            "months_left_out": span - n_periods * length,
            "n_recent": max(1, int(np.floor(recent_prop * n_valid))) if n_valid else 0,
            "distance": d,
            "p_adjust": p_adjust,
            "alpha": alpha,
            "hotspot_prop": hotspot_prop,
            "persistent_prop": persistent_prop,
            "recent_prop": recent_prop,
            "trend_alpha": trend_alpha,
            "no_location": pts.n_no_location,
        },
    )


__all__ = [
    "CATEGORIES",
    "ClassifyResult",
    "auto_period",
    "classify",
    "classify_cells",
    "mann_kendall_z",
]
