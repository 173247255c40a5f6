"""Rates per 1,000 residents (per 1,000 households for burglary), per LSOA and partnership.

Rates are **annual**: the count over the months the source supplied in the
window, divided by person-years (population × months present / 12), × 1,000.
So a window with missing months gives a rate over the months there are,
labelled with ``months_present``, never a rate that treats missing months as
zero. Intervals are exact Poisson (Garwood) intervals
(:func:`cspanalysis.stats.rate`).

Burglary (police.uk's category includes business burglary, which cannot be
separated in street-level files) is per 1,000 households when the Areas
frame has household counts, otherwise per 1,000 residents, and the table's
``denominator_kind`` says which.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from cspanalysis.assessment.periods import (
    MonthLike,
    Window,
    present_months,
    select_source,
)
from cspanalysis.errors import InputError
from cspanalysis.stats import rate

__all__ = ["HOUSEHOLD_CATEGORIES", "RateResult", "crime_rates"]

#: categories whose natural denominator is households
HOUSEHOLD_CATEGORIES: tuple[str, ...] = ("Burglary",)


@dataclass
class RateResult:
    """Rates for the partnership and for each LSOA.

    Attributes
    ----------
    partnership
        Per category: ``count, months_present, denominator_kind, denominator (person- or
        household-years), rate, ci_low, ci_high``.
    lsoa
        The same per LSOA and category (long format), for LSOAs in ``areas``.
    options
        Options used.
    notes
        Caveats (missing months, missing denominators).
    """

    partnership: pd.DataFrame
    lsoa: pd.DataFrame
    options: dict[str, Any]
    notes: list[str] = field(default_factory=list)

    def findings(self) -> list[str]:
        """One sentence per category with its rate and interval."""
        out = []
        for cat, r in self.partnership.iterrows():
            if pd.isna(r["rate"]):
                out.append(f"{cat}: no rate (no denominator or no months of data).")
                continue
            unit = "households" if r["denominator_kind"] == "households" else "residents"
            out.append(
                f"{cat}: {r['rate']:.1f} per 1,000 {unit} a year "
                f"(95% interval {r['ci_low']:.1f} to {r['ci_high']:.1f})."
            )
        return out + self.notes


def crime_rates(
    incidents: pd.DataFrame,
    areas: pd.DataFrame,
    window: Window,
    *,
    coverage: pd.DataFrame | pd.PeriodIndex | Iterable[MonthLike] | None = None,
    by: str = "category",
    source: str | None = "police.uk",
    per: float = 1000.0,
    household_categories: Iterable[str] = HOUSEHOLD_CATEGORIES,
    alpha: float = 0.05,
) -> RateResult:
    """Annual rates per 1,000 residents (households for burglary) over ``window``.

    Parameters
    ----------
    incidents
        Incidents (``month``, ``by``, ``lsoa``, ``count``).
    areas
        Areas frame indexed by LSOA with ``population`` (and ``households``).
    window
        The period (e.g. :func:`~.periods.rolling_window`).
    coverage
        Coverage frame or present months (default: months in ``incidents``).
    by, source, per, alpha
        Breakdown column, source to count, rate base, 1 − interval coverage.
    household_categories
        Categories to put per 1,000 households when households are known.

    Examples
    --------
    >>> from cspanalysis.assessment.periods import rolling_window
    >>> areas = pd.DataFrame({"population": [1000.0, 3000.0], "households": [400.0, 1200.0]},
    ...                      index=pd.Index(["E1", "E2"], name="lsoa"))
    >>> inc = pd.DataFrame({"month": pd.PeriodIndex(["2019-01"] * 3, freq="M"),
    ...                     "category": ["Burglary", "Robbery", "Robbery"],
    ...                     "lsoa": ["E1", "E1", "E2"], "count": [8, 4, 8]})
    >>> r = crime_rates(inc, areas, rolling_window("2019-01", 1))
    >>> t = r.partnership[["denominator_kind", "rate"]].round(1)
    >>> t.to_dict("index")  # doctest: +NORMALIZE_WHITESPACE
    {'Burglary': {'denominator_kind': 'households', 'rate': 60.0},
     'Robbery': {'denominator_kind': 'residents', 'rate': 36.0}}
    """
    if "population" not in areas.columns:
        raise InputError("the areas table has no 'population' column; rates need populations")
    present = present_months(incidents, coverage, source)
    in_window = window.months[window.months.isin(present)]
    n_present = len(in_window)
    rows = select_source(incidents, source)
    rows = rows[pd.PeriodIndex(rows["month"], freq="M").isin(in_window)]
    weight = rows["count"] if "count" in rows.columns else pd.Series(1, index=rows.index)
    frame = pd.DataFrame(
        {
            by: rows[by].astype("string").to_numpy(),
            "lsoa": rows["lsoa"].astype("string").to_numpy() if "lsoa" in rows else pd.NA,
            "n": weight.to_numpy(dtype=float),
        }
    )
    house_cats = set(household_categories)
    pop = areas["population"].astype(float)
    hh = areas["households"].astype(float) if "households" in areas.columns else None
    has_hh = hh is not None and hh.notna().all() and hh.sum() > 0
    notes: list[str] = []
    if n_present < window.n_months:
        missing = window.missing(present)
        notes.append(
            f"{window.label}: rates are over the {n_present} of {window.n_months} months supplied "
            f"(missing, not zero: {', '.join(map(str, missing))}), annualised."
        )
    if pop.isna().any():
        notes.append(
            f"{int(pop.isna().sum())} LSOAs have no population; their rates are missing "
            "and the partnership rate uses the LSOAs with a population."
        )
    if house_cats and not has_hh:
        notes.append("Household counts are not available: burglary is per 1,000 residents.")
    cats = sorted(frame[by].dropna().unique())
    years = n_present / 12.0

    def kind_of(cat: str) -> str:
        return "households" if (cat in house_cats and has_hh) else "residents"

    totals = frame.groupby(by)["n"].sum().reindex(cats).fillna(0.0)
    if n_present == 0:
        totals[:] = np.nan
    den = pd.Series(
        [(hh.sum() if kind_of(c) == "households" else pop.sum()) * years for c in cats],
        index=cats,
        dtype=float,
    )
    part = rate(totals, den, per=per, alpha=alpha)
    part.insert(1, "months_present", n_present)
    part.insert(2, "denominator_kind", [kind_of(c) for c in cats])
    part.index.name = by
    # LSOA level: every LSOA × category, zero where no incidents (months present only)
    located = frame[frame["lsoa"].isin(areas.index)]
    grid = pd.MultiIndex.from_product([areas.index, cats], names=["lsoa", by])
    lsoa_counts = located.groupby(["lsoa", by])["n"].sum().reindex(grid).fillna(0.0)
    if n_present == 0:
        lsoa_counts[:] = np.nan
    kinds = np.array([kind_of(c) for c in grid.get_level_values(1)])
    base = np.where(
        kinds == "households",
        (hh.reindex(grid.get_level_values(0)).to_numpy() if hh is not None else np.nan),
        pop.reindex(grid.get_level_values(0)).to_numpy(),
    )
    lsoa = rate(lsoa_counts.reset_index(drop=True), pd.Series(base * years), per=per, alpha=alpha)
    lsoa.index = grid
    lsoa.insert(1, "denominator_kind", kinds)
    options = {
        "window": window.label,
        "months_present": n_present,
        "by": by,
        "source": source,
        "per": per,
        "household_categories": sorted(house_cats),
        "alpha": alpha,
        "annualised": True,
    }
    return RateResult(part, lsoa, options, notes)
