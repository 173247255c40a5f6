"""Hotspot change between two periods, tested cell by cell rather than read off a difference map.

For every cell with at least one incident in either period, the counts
before (``b``) and after (``a``) are compared as two Poisson counts with
exposures equal to the number of months each period covers: the exact
conditional test (default) or the E-test of Krishnamoorthy & Thomson (2004),
from :func:`cspanalysis.stats.poisson_rate_ratio`. The p-values of all
tested cells form one family, corrected once (Holm by default). Cells with no
incident in either period cannot show a change and are not tested (NA).

Months with no incidents at all are taken to be months the source did not
supply: they are left out of the exposure with a
:class:`~cspanalysis.hotspots.warning_types.MissingPeriodWarning`, never
counted as zero. Pass ``exposure_before`` / ``exposure_after`` to override.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from typing import Literal

import geopandas as gpd
import numpy as np
import pandas as pd

from cspanalysis.errors import InputError
from cspanalysis.hotspots.grid import assign_cells, grid_info
from cspanalysis.hotspots.points import Weight, incident_points
from cspanalysis.hotspots.warning_types import MissingPeriodWarning
from cspanalysis.stats import adjust_pvalues, poisson_rate_ratio

Period = tuple[str | pd.Period, str | pd.Period]


def _months(period: Period, name: str) -> pd.PeriodIndex:
    try:
        first, last = (pd.Period(p, freq="M") for p in period)
    except (TypeError, ValueError):
        raise InputError(
            f"{name} must be a (first month, last month) pair such as ('2018-06', '2018-11'), "
            f"not {period!r}"
        ) from None
    if last < first:
        raise InputError(f"{name} ends ({last}) before it starts ({first})")
    return pd.period_range(first, last, freq="M")


def month_column(incidents: pd.DataFrame) -> pd.PeriodIndex:
    """The incidents' ``month`` column as monthly periods (error naming the fix if absent).

    >>> import pandas as pd
    >>> month_column(pd.DataFrame({"month": ["2019-01"]})).astype(str).tolist()
    ['2019-01']
    """
    if "month" not in incidents.columns:
        raise InputError("the incidents have no 'month' column; load them with cspanalysis loaders")
    try:
        return pd.PeriodIndex(incidents["month"], freq="M")
    except (TypeError, ValueError):
        raise InputError("the incidents' 'month' column is not monthly (e.g. '2019-01')") from None


@dataclass
class ChangeResult:
    """Result of :func:`hotspot_change`.

    Attributes
    ----------
    cells
        The grid with ``n_before``, ``n_after``, ``difference``, ``rate_ratio``
        (after / before per month), ``ci_low``, ``ci_high``, ``p_value``,
        ``p_adjusted`` (NA where not tested) and ``change``
        (``"significant increase"``, ``"significant decrease"``,
        ``"no significant change"``, ``"no incidents"``).
    options
        Periods, exposures (months present), method, correction, alpha.
    """

    cells: gpd.GeoDataFrame
    options: dict = field(default_factory=dict)

    def __getitem__(self, key: str) -> pd.Series:
        """A column of :attr:`cells`."""
        return self.cells[key]

    def findings(self) -> list[str]:
        """Plain-English sentences on where crime changed more than chance."""
        o = self.options
        c = self.cells["change"].value_counts()
        out = [
            f"From {o['before'][0]}–{o['before'][1]} ({o['exposure_before']:g} months) to "
            f"{o['after'][0]}–{o['after'][1]} ({o['exposure_after']:g} months): "
            f"{self.cells['n_before'].sum():,.0f} → {self.cells['n_after'].sum():,.0f} "
            "mapped incidents.",
            f"{c.get('significant increase', 0):,} cells increased and "
            f"{c.get('significant decrease', 0):,} decreased by more than chance "
            f"({o['method']} test per cell, {o['p_adjust']} correction over "
            f"{o['n_tested']:,} cells, alpha {o['alpha']}); the rest changed no more than chance.",
        ]
        return out

    def plot(self, **kwargs):
        """Map of significant increases and decreases."""
        from cspanalysis.hotspots.maps import map_hotspots

        kwargs.setdefault("title", "Significant change in incidents per cell")
        return map_hotspots(self.cells, "change", **kwargs)


def hotspot_change(
    cells: gpd.GeoDataFrame,
    incidents: gpd.GeoDataFrame,
    before: Period,
    after: Period,
    weight: Weight = None,
    method: Literal["exact-conditional", "etest"] = "exact-conditional",
    p_adjust: Literal["holm", "fdr_bh", "bonferroni", "none"] = "holm",
    alpha: float = 0.05,
    exposure_before: float | None = None,
    exposure_after: float | None = None,
) -> ChangeResult:
    """Per-cell test of the change in incidents between two periods.

    Parameters
    ----------
    cells
        A grid from :func:`cspanalysis.hotspots.grid`.
    incidents
        Incidents with ``month`` (Period[M]) and point geometry.
    before, after
        ``(first month, last month)`` of each period, inclusive.
    weight
        Whole-number weights only (a Poisson test needs counts); harm
        weights cannot be tested this way, so leave it ``None``.
    method
        ``"exact-conditional"`` or ``"etest"``.
    p_adjust, alpha
        Correction over the tested cells (applied once) and significance level.
    exposure_before, exposure_after
        Months of data in each period, if not the months with any incident.

    Examples
    --------
    >>> import geopandas as gpd, pandas as pd
    >>> from shapely.geometry import Point, box
    >>> from cspanalysis.hotspots.grid import grid
    >>> cells = grid(gpd.GeoSeries([box(0, 0, 200, 100)], crs=27700), 100)
    >>> inc = gpd.GeoDataFrame({"month": pd.PeriodIndex(["2019-01"] * 2 + ["2019-02"] * 30,
    ...     freq="M"), "count": 1}, geometry=[Point(150, 50)] * 31 + [Point(50, 50)], crs=27700)
    >>> res = hotspot_change(cells, inc, ("2019-01", "2019-01"), ("2019-02", "2019-02"))
    >>> res.cells["change"].tolist()
    ['no significant change', 'significant increase']
    """
    grid_info(cells)
    mb, ma = _months(before, "before"), _months(after, "after")
    if mb.intersection(ma).size:
        raise InputError("the before and after periods overlap; choose separate month ranges")
    months = month_column(incidents)
    pts = incident_points(incidents, weight)
    w = pts.weight
    if not np.allclose(w, np.round(w)):
        raise InputError(
            "a Poisson test needs whole-number counts; harm-weighted change cannot be tested "
            "this way (leave weight=None)"
        )
    pos = assign_cells(cells, pts.x, pts.y)
    m = months[pts.rows]
    counts = {}
    exposures = {}
    for label, span, given in (
        ("before", mb, exposure_before),
        ("after", ma, exposure_after),
    ):
        present = set(months[months.isin(span)])
        absent = [str(p) for p in span if p not in present]
        if given is None:
            if absent:
                warnings.warn(
                    f"no incidents at all in {', '.join(absent)} (the {label} period): treated "
                    "as months without data and left out of the exposure, not counted as zero",
                    MissingPeriodWarning,
                    stacklevel=2,
                )
            exposures[label] = float(len(span) - len(absent))
        else:
            exposures[label] = float(given)
        if exposures[label] <= 0:
            raise InputError(f"the {label} period has no data; choose months with incidents")
        sel = np.asarray(m.isin(span)) & (pos >= 0)
        counts[label] = np.bincount(pos[sel], weights=w[sel], minlength=len(cells))
    nb, na = counts["before"], counts["after"]
    tested = (nb + na) > 0
    pairs = pd.DataFrame({"a": na[tested].astype(int), "b": nb[tested].astype(int)})
    uniq = pairs.drop_duplicates()
    res = {
        (a, b): poisson_rate_ratio(
            a, b, exposures["after"], exposures["before"], alpha=alpha, method=method
        )
        for a, b in uniq.itertuples(index=False)
    }
    keys = list(pairs.itertuples(index=False, name=None))
    ratio = np.full(len(cells), np.nan)
    lo, hi, p = ratio.copy(), ratio.copy(), ratio.copy()
    ratio[tested] = [res[k].ratio for k in keys]
    lo[tested] = [res[k].ci_low for k in keys]
    hi[tested] = [res[k].ci_high for k in keys]
    p[tested] = [res[k].p_value for k in keys]
    p_adj = adjust_pvalues(p, p_adjust)
    sig = np.nan_to_num(p_adj, nan=1.0) < alpha
    rate_a, rate_b = na / exposures["after"], nb / exposures["before"]
    change = np.where(
        ~tested,
        "no incidents",
        np.where(
            sig & (rate_a > rate_b),
            "significant increase",
            np.where(sig & (rate_a < rate_b), "significant decrease", "no significant change"),
        ),
    )
    out = cells.copy()
    out["n_before"] = nb
    out["n_after"] = na
    out["difference"] = na - nb
    out["rate_ratio"] = ratio
    out["ci_low"] = lo
    out["ci_high"] = hi
    out["p_value"] = p
    out["p_adjusted"] = p_adj
    out["change"] = change
    return ChangeResult(
        cells=out,
        options={
            "before": (str(mb[0]), str(mb[-1])),
            "after": (str(ma[0]), str(ma[-1])),
            "exposure_before": exposures["before"],
            "exposure_after": exposures["after"],
            "method": method,
            "p_adjust": p_adjust,
            "alpha": alpha,
            "n_tested": int(tested.sum()),
            "no_location": pts.n_no_location,
        },
    )
