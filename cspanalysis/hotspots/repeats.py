"""Repeat locations and the concentration of crime, against what chance alone would give.

:func:`repeat_locations` ranks police.uk "On or near …" map points (a
location is its text *and* its point: the same street name can be several
snapped points) or LSOAs by the incidents they hold.

:func:`concentration` draws the Lorenz curve of incidents over units of area
(grid cells or LSOAs), its Gini coefficient, and "x% of crime in y% of the
area". With few incidents over many cells, crime looks concentrated even
when it is spread at random (most cells are empty by chance), so both are
set against a **Poisson baseline**: the same number of incidents scattered at
random in proportion to area (multinomial, seeded), whose mean and 95% range
are reported beside the observed values (cf. Bernasco & Steenbeek 2017).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Literal

import geopandas as gpd
import numpy as np
import pandas as pd

from cspanalysis.errors import InputError
from cspanalysis.hotspots.points import Weight, check_bng, row_weights


@dataclass
class RepeatResult:
    """Result of :func:`repeat_locations`.

    Attributes
    ----------
    table
        The ``top`` places: ``rank``, the place columns, ``n``, ``share`` (of
        all incidents, unplaced ones included) and ``cumulative_share``.
    options
        ``by``, totals, places with two or more incidents and their share.
    """

    table: pd.DataFrame
    options: dict = field(default_factory=dict)

    def findings(self) -> list[str]:
        """Plain-English sentences on repeat places."""
        o = self.options
        out = [
            f"{o['places_with_repeats']:,} of {o['places']:,} places ({o['by']}) had two or more "
            f"incidents, together {o['share_in_repeat_places']:.1%} of all {o['total']:,.0f}.",
        ]
        if len(self.table):
            r = self.table.iloc[0]
            out.append(f"The top place, {r['place']}, had {r['n']:,.0f} ({r['share']:.1%}).")
        if o["unplaced"]:
            out.append(f"{o['unplaced']:,.0f} incidents had no {o['by']} and are in no place.")
        return out


def repeat_locations(
    incidents: gpd.GeoDataFrame,
    by: Literal["location", "lsoa"] = "location",
    top: int = 20,
    weight: Weight = None,
) -> RepeatResult:
    """The places with the most incidents, with counts and shares.

    Parameters
    ----------
    incidents
        Incidents frame (``location`` and point geometry, or ``lsoa``).
    by
        ``"location"`` (map point and its "On or near" text) or ``"lsoa"``.
    top
        Number of places in the table.
    weight
        Optional harm weights.

    Examples
    --------
    >>> import geopandas as gpd
    >>> from shapely.geometry import Point
    >>> inc = gpd.GeoDataFrame({"location": ["On or near A"] * 3 + ["On or near B"],
    ...     "count": 1}, geometry=[Point(0, 0)] * 3 + [Point(9, 9)], crs=27700)
    >>> repeat_locations(inc).table[["place", "n", "share"]].to_dict("list")
    {'place': ['On or near A', 'On or near B'], 'n': [3.0, 1.0], 'share': [0.75, 0.25]}
    """
    check_bng(incidents, "incidents")
    if by not in ("location", "lsoa"):
        raise InputError(f"by must be 'location' or 'lsoa', not {by!r}")
    if by not in incidents.columns:
        raise InputError(f"the incidents have no {by!r} column")
    w = row_weights(incidents, weight)
    total = float(w.sum())
    frame = pd.DataFrame({"place": incidents[by].astype("string").to_numpy(), "n": w})
    if by == "location":
        geoms = incidents.geometry
        ok = geoms.notna().to_numpy() & ~geoms.is_empty.to_numpy()
        frame["x"] = np.nan
        frame["y"] = np.nan
        frame.loc[ok, "x"] = geoms[ok].x.round(0).to_numpy()
        frame.loc[ok, "y"] = geoms[ok].y.round(0).to_numpy()
        placed = ok & frame["place"].notna().to_numpy()
        keys = ["place", "x", "y"]
    else:
        placed = frame["place"].notna().to_numpy()
        keys = ["place"]
    if "lsoa" in incidents.columns and by == "location":
        frame["lsoa"] = incidents["lsoa"].astype("string").to_numpy()
    grouped = frame[placed].groupby(keys, sort=False, dropna=False)
    table = grouped["n"].sum().reset_index()
    if "lsoa" in frame.columns and by == "location":
        table["lsoa"] = (
            grouped["lsoa"].agg(lambda s: s.mode().iloc[0] if s.notna().any() else pd.NA).to_numpy()
        )
    table = table.sort_values(["n", "place"], ascending=[False, True], kind="stable")
    table = table.reset_index(drop=True)
    table["share"] = table["n"] / total if total else np.nan
    table["cumulative_share"] = table["share"].cumsum()
    table.insert(0, "rank", np.arange(1, len(table) + 1))
    repeats = table["n"] >= 2
    return RepeatResult(
        table=table.head(top).reset_index(drop=True),
        options={
            "by": by,
            "top": top,
            "total": total,
            "unplaced": float(w[~placed].sum()),
            "places": len(table),
            "places_with_repeats": int(repeats.sum()),
            "share_in_repeat_places": float(table.loc[repeats, "n"].sum() / total)
            if total
            else np.nan,
        },
    )


def lorenz(counts: np.ndarray, area: np.ndarray) -> pd.DataFrame:
    """Lorenz curve, densest units first: cumulative ``area_share`` and ``crime_share`` from (0, 0).

    >>> lorenz(np.array([0.0, 3, 1]), np.ones(3)).round(3).to_dict("list")
    {'area_share': [0.0, 0.333, 0.667, 1.0], 'crime_share': [0.0, 0.75, 1.0, 1.0]}
    """
    order = np.argsort(-(counts / area), kind="stable")
    a = np.concatenate([[0.0], np.cumsum(area[order]) / area.sum()])
    total = counts.sum()
    c = np.concatenate([[0.0], np.cumsum(counts[order]) / total]) if total else np.zeros(len(a))
    return pd.DataFrame({"area_share": a, "crime_share": c})


def gini(counts: np.ndarray, area: np.ndarray) -> float:
    """Area-weighted Gini coefficient of incidents over units (0 = even, → 1 = all in one).

    >>> round(gini(np.array([0.0, 0, 0, 4]), np.ones(4)), 3)
    0.75
    """
    curve = lorenz(counts, area)
    a, c = curve["area_share"].to_numpy(), curve["crime_share"].to_numpy()
    auc = np.sum(np.diff(a) * (c[1:] + c[:-1]) / 2.0)
    return float(2.0 * auc - 1.0)


def _share_at(curve: pd.DataFrame, shares: np.ndarray) -> np.ndarray:
    return np.interp(shares, curve["area_share"], curve["crime_share"])


@dataclass
class ConcentrationResult:
    """Result of :func:`concentration`.

    Attributes
    ----------
    lorenz
        The observed Lorenz curve (``area_share``, ``crime_share``).
    table
        Per area share: ``crime_share`` observed, ``expected`` (mean under the
        Poisson baseline), ``expected_low`` / ``expected_high`` (95% range).
    gini, gini_expected, gini_expected_low, gini_expected_high
        Observed Gini and its Poisson baseline (mean, 95% range).
    options
        Units, totals, simulations and seed.
    """

    lorenz: pd.DataFrame
    table: pd.DataFrame
    gini: float
    gini_expected: float
    gini_expected_low: float
    gini_expected_high: float
    options: dict = field(default_factory=dict)

    def findings(self) -> list[str]:
        """Plain-English "x% of crime in y% of the area" sentences, against chance."""
        out = []
        for r in self.table.itertuples():
            out.append(
                f"{r.crime_share:.0%} of incidents were in the busiest {r.area_share:.0%} of the "
                f"area (by chance alone about {r.expected:.0%}, up to {r.expected_high:.0%})."
            )
        out.append(
            f"Gini coefficient {self.gini:.2f} against {self.gini_expected:.2f} "
            f"({self.gini_expected_low:.2f}–{self.gini_expected_high:.2f}) if the "
            f"{self.options['total']:,.0f} incidents had fallen at random."
        )
        return out

    def plot(self):
        """Lorenz curve with the Poisson baseline and the line of equality."""
        import matplotlib.pyplot as plt

        fig, ax = plt.subplots(figsize=(5, 5), layout="constrained")
        ax.plot(
            self.lorenz["area_share"] * 100,
            self.lorenz["crime_share"] * 100,
            label=f"observed (Gini {self.gini:.2f})",
        )
        t = self.table
        ax.fill_between(
            t["area_share"] * 100,
            t["expected_low"] * 100,
            t["expected_high"] * 100,
            alpha=0.3,
            color="grey",
            label="random (Poisson), 95% range",
        )
        ax.plot([0, 100], [0, 100], ":", color="black", label="equality")
        ax.set_xlabel("share of area, densest first (%)")
        ax.set_ylabel("share of incidents (%)")
        ax.legend(loc="lower right")
        return fig


def concentration(
    counts: Sequence[float] | np.ndarray | pd.Series,
    area: Sequence[float] | np.ndarray | pd.Series | None = None,
    shares: Sequence[float] = (0.01, 0.05, 0.1, 0.2, 0.5),
    n_sim: int = 199,
    seed: int = 0,
) -> ConcentrationResult:
    """Lorenz curve, Gini and crime share in the busiest areas, with a Poisson baseline.

    Parameters
    ----------
    counts
        Incidents per unit (cell or LSOA); whole numbers for the baseline.
    area
        Area of each unit (default equal).
    shares
        Area shares for the "x% of crime in y% of area" table.
    n_sim, seed
        Simulations of the random baseline and their seed.

    Examples
    --------
    >>> res = concentration([50, 0, 0, 0, 0, 0, 0, 0, 0, 10], shares=[0.1])
    >>> round(res.gini, 2), round(float(res.table["crime_share"][0]), 2)
    (0.87, 0.83)
    """
    c = pd.to_numeric(pd.Series(np.asarray(counts).ravel()), errors="coerce").to_numpy(float)
    if len(c) == 0 or np.isnan(c).any() or (c < 0).any():
        raise InputError("counts must be a non-empty set of numbers >= 0, one per unit")
    a = np.ones(len(c)) if area is None else np.asarray(area, dtype=float).ravel()
    if len(a) != len(c) or np.isnan(a).any() or (a <= 0).any():
        raise InputError("area must give a positive area for every unit")
    s = np.asarray(list(shares), dtype=float)
    curve = lorenz(c, a)
    obs = _share_at(curve, s)
    total = round(float(c.sum()))
    rng = np.random.default_rng(seed)
    p = a / a.sum()
    sim_g = np.empty(n_sim)
    sim_s = np.empty((n_sim, len(s)))
    for k in range(n_sim):
        sc = rng.multinomial(total, p).astype(float)
        sim_g[k] = gini(sc, a)
        sim_s[k] = _share_at(lorenz(sc, a), s)
    table = pd.DataFrame(
        {
            "area_share": s,
            "crime_share": obs,
            "expected": sim_s.mean(axis=0),
            "expected_low": np.percentile(sim_s, 2.5, axis=0),
            "expected_high": np.percentile(sim_s, 97.5, axis=0),
        }
    )
    return ConcentrationResult(
        lorenz=curve,
        table=table,
        gini=gini(c, a),
        gini_expected=float(sim_g.mean()),
        gini_expected_low=float(np.percentile(sim_g, 2.5)),
        gini_expected_high=float(np.percentile(sim_g, 97.5)),
        options={"units": len(c), "total": float(c.sum()), "n_sim": n_sim, "seed": seed},
    )
