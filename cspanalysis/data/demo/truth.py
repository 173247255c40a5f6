"""``truth.json``: every parameter the demo generator planted, for tests and later analyses.

The truth file is written for code that must *recover* it: strategic
assessment (seasonality, trends, rates by deprivation), hotspot mapping
(where and when each hotspot is, which LSOAs it touches), and intervention
evaluation (target polygon, start month, effect sizes, buffer, control area).
Everything spatial is in British National Grid metres (EPSG:27700); months are
``YYYY-MM``; ``start``/``end`` of an effect are the first and last months it
is active (inclusive; null = open). Expected counts per LSOA, category and
month are in ``truth_expected.csv.gz`` beside it.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd

from cspanalysis.data.demo import parameters as planted
from cspanalysis.data.demo.landscape import Landscape
from cspanalysis.data.demo.simulate import Simulation

MODEL = {
    "expected": (
        "mu[p,c,m] = base_rate_per_1000_per_year[c] / 12 * population_2019[lsoa(p)] / 1000"
        " * deprivation_rate_ratio[c] ** ((5.5 - imd_decile[lsoa(p)]) / 9) * weight[p]"
        " * exp(seasonal_amplitude[c]"
        " * cos(2 pi (calendar_month[m] - seasonal_peak_month[c]) / 12))"
        " * exp(trend_log_per_year[c] * m / 12) * hotspot multipliers"
        " * intervention effects; in the ring around the park also"
        " * intervention.buffer_multiplier (a busy ring, every month)"
    ),
    "notation": (
        "p: a snap point ('On or near ...'), weights sum to 1 in each LSOA; c: a police.uk crime"
        " type; m: months since period.start (0-based); calendar_month: 1..12"
    ),
    "counts": (
        "per LSOA, category and month a gamma frailty G (mean 1, variance dispersion[c]) is drawn"
        " and each point of the LSOA gets Poisson(mu * G) incidents: LSOA counts are negative"
        " binomial with variance mu + dispersion * mu^2"
    ),
    "no_location": (
        "each incident is then published without a location (no coordinates, no LSOA, Location"
        " 'No Location') with probability share_without_location[c]"
    ),
    "population": "expected counts use the mid-2019 population (the year the parameter files use)",
    "trend_time_origin": "period.start (t = 0 years)",
    "seasonality_mean": (
        "base rates are at the seasonal log-mean: the arithmetic mean of the seasonal factor is"
        " I0(amplitude) (modified Bessel function), e.g. 1.010 for amplitude 0.2"
    ),
    "not_modelled": [
        "COVID-19 or other shocks shared by all areas",
        "rows with an LSOA outside the force area",
        "category-specific preferences of snap points (e.g. shops for shoplifting)",
    ],
}


def build_truth(
    land: Landscape, sim: Simulation, rows: pd.DataFrame, partner: pd.DataFrame, seed: int
) -> dict[str, Any]:
    """The truth dictionary (without the file manifest, added when the files exist)."""
    plan = sim.plan
    months = plan.months
    codes = land.lsoas.index.to_numpy()
    point_lsoa = land.points["lsoa"].to_numpy()

    def lsoas_of(mask: np.ndarray) -> list[str]:
        return sorted({str(codes[i]) for i in point_lsoa[mask]})

    def month(i: int | None) -> str | None:
        return None if i is None else str(months[i])

    hotspots = []
    for h in planted.HOTSPOTS:
        active = np.nonzero(plan.hotspot_active[h.name])[0]
        area: dict[str, Any]
        if h.area == "park":
            area = {
                "type": "polygon",
                "file": planted.INTERVENTION.polygon_file,
                "wkt": land.park.wkt,
            }
        else:
            area = {"type": "circle", "centre": list(h.centre), "radius_m": h.radius}
        hotspots.append(
            {
                "name": h.name,
                "kind": h.kind,
                "description": h.label,
                "categories": list(h.categories),
                "multiplier": h.multiplier,
                "area": area,
                "start": month(int(active[0])) if h.start_at is not None else None,
                "end": month(int(active[-1])) if h.end_at is not None else None,
                "lsoas": lsoas_of(plan.hotspot_points[h.name]),
                "n_points": int(plan.hotspot_points[h.name].sum()),
            }
        )
    return {
        "about": (
            "Ground truth of the FICTIONAL demo partnerships Northbrook and Eastmere, written by"
            " cspanalysis.data.demo; see docs/demo.md. Spatial values in EPSG:27700 metres."
        ),
        "generator": {
            "module": "cspanalysis.data.demo",
            "version": planted.GENERATOR_VERSION,
            "seed": seed,
            "geography_seed": planted.GEOGRAPHY_SEED,
        },
        "period": {"start": str(months[0]), "end": str(months[-1]), "months": len(months)},
        "crs": "EPSG:27700",
        "force": {
            "name": planted.FORCE_NAME,
            "slug": planted.FORCE_SLUG,
            "pfa_code": planted.PFA_CODE,
        },
        "districts": _districts(land),
        "model": MODEL,
        "categories": _categories(),
        "hotspots": hotspots,
        "near_repeats": {
            "category": planted.NEAR_REPEATS.category,
            "probability": planted.NEAR_REPEATS.probability,
            "max_distance_m": planted.NEAR_REPEATS.max_distance_m,
            "lag_months": {
                "0": planted.NEAR_REPEATS.lag_months[0],
                "1": planted.NEAR_REPEATS.lag_months[1],
            },
            "time_resolution": (
                "months: police.uk publishes the month only, so a near repeat is 'same or next"
                " month'; the extra burglary goes to a snap point within max_distance_m of the"
                " first (itself included), chosen uniformly; extras do not trigger more"
            ),
            "drawn": sim.near_repeats,
            "drawn_after_period_end": sim.near_repeats_beyond,
        },
        "intervention": _intervention(land, sim, lsoas_of),
        "partner": _partner(land, sim, partner),
        "written": _written(rows, partner),
    }


def _districts(land: Landscape) -> list[dict[str, Any]]:
    out = []
    for d in planted.DISTRICTS:
        members = land.lsoas[land.lsoas["district"] == d.code]
        out.append(
            {
                "code": d.code,
                "name": d.name,
                "csp_code": d.csp_code,
                "csp_name": d.csp_name,
                "lsoas": len(members),
                "population_2019": int(members["population"].sum()),
                "households": int(members["households"].sum()),
                "mean_imd_decile": round(float(members["imd_decile"].mean()), 2),
            }
        )
    return out


def _categories() -> dict[str, dict[str, Any]]:
    return {
        c.name: {
            "base_rate_per_1000_per_year": c.base_rate,
            "seasonal_amplitude": c.amplitude,
            "seasonal_peak_month": c.peak_month,
            "trend_log_per_year": c.trend,
            "trend_percent_per_year": round(100 * math.expm1(c.trend), 3),
            "dispersion": c.dispersion,
            "share_without_location": c.no_location,
            "deprivation_rate_ratio": c.deprivation_rr,
            "outcomes": (
                "blank (police.uk gives ASB no outcome)"
                if c.name == planted.ASB
                else dict(planted.OUTCOMES[c.name])
            ),
        }
        for c in planted.CATEGORIES
    }


def _intervention(
    land: Landscape, sim: Simulation, lsoas_of: Callable[[np.ndarray], list[str]]
) -> dict[str, Any]:
    plan = sim.plan
    iv = planted.INTERVENTION
    months = plan.months
    c_mask = np.isin(planted.CATEGORY_NAMES, iv.categories)
    share = 1 - np.array([c.no_location for c in planted.CATEGORIES])[c_mask]
    located = sim.expected[:, c_mask, :] * share[None, :, None]
    after = np.arange(len(months)) >= plan.intervention_start
    undo = {"target": 1 / iv.effect, "buffer": 1 / iv.buffer_effect}
    in_control = np.isin(land.points["lsoa"].to_numpy(), plan.control_lsoas)
    series: dict[str, list[float]] = {}
    for key, mask in (
        ("target", plan.target_points),
        ("buffer", plan.buffer_points),
        ("control", in_control),
    ):
        observed = located[mask].sum(axis=(0, 1))
        series[key] = [round(float(v), 4) for v in observed]
        if key in undo:
            counterfactual = np.where(after, observed * undo[key], observed)
            series[f"{key}_without_intervention"] = [round(float(v), 4) for v in counterfactual]
    codes = land.lsoas.index
    return {
        "name": iv.name,
        "description": iv.description,
        "place": iv.place,
        "polygon_file": iv.polygon_file,
        "polygon_wkt": land.park.wkt,
        "treated": "incidents at snap points inside the polygon",
        "lsoas": lsoas_of(plan.target_points),
        "start": str(months[plan.intervention_start]),
        "end": None,
        "categories": list(iv.categories),
        "effect": iv.effect,
        "buffer_m": iv.buffer_m,
        "buffer_multiplier": iv.buffer_multiplier,
        "buffer_layers": {
            "about": (
                "the ring is busy: its ordinary streets (effect buffer_effect_streets) plus busy"
                " streets round the park (terraces, flats, the Park Road parade) adding"
                " busy_ring_extra x the ordinary expected count of the intervention categories in"
                " every month (effect busy_ring_effect); buffer_multiplier = 1 + busy_ring_extra"
                " and buffer_effect (after / before at every ring point) is their weighted mean"
            ),
            "buffer_effect_streets": iv.buffer_effect_streets,
            "busy_ring_extra": iv.busy_ring_extra,
            "busy_ring_effect": iv.busy_ring_effect,
        },
        "buffer_effect": iv.buffer_effect,
        "buffer_kind": iv.buffer_kind,
        "buffer": "snap points within buffer_m of the polygon and outside it",
        "buffer_lsoas": lsoas_of(plan.buffer_points),
        "control_lsoas": [str(codes[i]) for i in plan.control_lsoas],
        "control_rule": (
            f"the {iv.n_control} Northbrook LSOAs nearest the park (by centroid) that are at least"
            f" {2 * iv.buffer_m:.0f} m from it and untouched by any hotspot, target or buffer"
        ),
        "treated_points": int(plan.target_points.sum()),
        "buffer_points": int(plan.buffer_points.sum()),
        "untreated_category_in_target": "Criminal damage and arson (park hotspot, no effect)",
        "expected_monthly_located": {
            "about": "expected incidents published with a location, intervention categories"
            " summed, one value per month of the period",
            **series,
        },
    }


def _partner(land: Landscape, sim: Simulation, partner: pd.DataFrame) -> dict[str, Any]:
    plan = planted.PARTNER
    months = sim.plan.months
    last = len(months) - 1
    missing = [str(months[plan.missing_month_offset])] if plan.missing_month_offset <= last else []
    return {
        "name": plan.name,
        "file": plan.file,
        "district": plan.district,
        "first_month": str(months[plan.first_month_offset]),
        "last_month": str(months[-1]),
        "missing_months": missing,
        "model": (
            "Poisson(ratio_to_police_asb * mu[p, ASB, m]) reports per snap point of the district"
            " and month supplied: the police ASB surface, hotspots and intervention included,"
            " independent of the police draws"
        ),
        "ratio_to_police_asb": plan.ratio_to_police_asb,
        "categories": {c: s for c, s, _ in plan.categories},
        "located_by": {c: how for c, _, how in plan.categories},
        "point_jitter_m": plan.jitter_m,
        "share_without_location": plan.no_location,
        "person_id": {
            "categories": list(plan.with_person),
            "repeat_probability": plan.repeat_probability,
            "rule": "a report repeats an earlier complainant of its LSOA with repeat_probability,"
            " chosen in proportion to their reports so far; otherwise a new person",
            "distinct_people": int(partner.loc[partner["person_id"] != "", "person_id"].nunique()),
        },
        "rows": len(partner),
    }


def _written(rows: pd.DataFrame, partner: pd.DataFrame) -> dict[str, Any]:
    by_cat = rows.groupby("crime_type").size()
    return {
        "police_uk_rows": len(rows),
        "police_uk_rows_without_location": int((rows["point"] < 0).sum()),
        "police_uk_rows_by_category": {str(k): int(v) for k, v in by_cat.items()},
        "partner_rows": len(partner),
    }
