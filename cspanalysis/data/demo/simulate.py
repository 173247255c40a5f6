"""The demo's incidents: expected counts, random draws, near repeats, outcomes, partner reports.

The model (every number is in :mod:`~cspanalysis.data.demo.parameters`)::

    mu[p, c, m] = base_c / 12 * pop_i / 1000 * rr_c ** ((5.5 - decile_i) / 9)
                  * w_p                                  # point's share of LSOA i
                  * exp(A_c cos(2 pi (month_m - peak_c) / 12))
                  * exp(beta_c * m / 12)                 # m = months since the start
                  * product of hotspot multipliers active at p, c, m
                  * intervention effect (target) or buffer effect (ring), from the start

In the ring around the park the intervention categories have two layers: the
ordinary streets (as above, x ``buffer_effect_streets`` from the start) and the
busy streets (``busy_ring_extra`` x the ordinary count before the effect,
x ``busy_ring_effect`` from the start), so the ring is busier and its overall
effect is ``buffer_effect``.

For each LSOA i, category c and month m a gamma frailty ``G ~ Gamma(1/alpha_c,
alpha_c)`` (mean 1, variance alpha_c) is drawn and every point p of i gets
``Poisson(mu[p, c, m] * G)`` incidents, so the LSOA's count is negative
binomial with mean ``sum_p mu`` and variance ``mean + alpha_c mean**2``.
Each burglary then brings, with probability ``q``, one more burglary at a
snap point within 200 m (its own included, chosen uniformly) in the same or
the next month (no cascades). Finally every incident is published without a
location with probability ``no_location_c``. The busy ring's incidents share
their LSOA's frailty but are drawn (and hidden) from a stream of their own, so
that they leave every other draw of the seed as it would be without them.
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass

import numpy as np
import pandas as pd
import shapely
from scipy.spatial import cKDTree

from cspanalysis.data.demo import parameters as planted
from cspanalysis.data.demo.landscape import Landscape, hotspot_region


@dataclass
class Plan:
    """Where and when the planted effects act (derived from the landscape and the period)."""

    months: pd.PeriodIndex
    hotspot_points: dict[str, np.ndarray]  # name -> bool (P,)
    hotspot_active: dict[str, np.ndarray]  # name -> bool (M,)
    target_points: np.ndarray  # bool (P,): inside the park
    buffer_points: np.ndarray  # bool (P,): within the buffer ring, outside the park
    intervention_start: int  # month index
    control_lsoas: list[int]  # row positions in land.lsoas


@dataclass
class Simulation:
    """The drawn incidents, as arrays over points (P), categories (C) and months (M)."""

    plan: Plan
    expected: np.ndarray  # (P, C, M) mu, near repeats excluded
    near_repeat_expected: np.ndarray  # (P, M) expected near-repeat burglaries
    located: np.ndarray  # (P, C, M) incidents published at the point
    unlocated: np.ndarray  # (C, M) incidents published with no location
    near_repeats: int  # near-repeat burglaries drawn (inside the period)
    near_repeats_beyond: int  # drawn for the month after the period, so not published


def make_plan(land: Landscape, months: pd.PeriodIndex) -> Plan:
    """Work out which points and months each planted effect touches."""
    n_months = len(months)
    xy = land.points[["x", "y"]].to_numpy()
    inside: dict[str, np.ndarray] = {}
    active: dict[str, np.ndarray] = {}
    idx = np.arange(n_months)
    for h in planted.HOTSPOTS:
        region = hotspot_region(h, land.park)
        inside[h.name] = shapely.contains_xy(region, xy[:, 0], xy[:, 1])
        lo = 0 if h.start_at is None else round(h.start_at * n_months)
        hi = n_months if h.end_at is None else round(h.end_at * n_months)
        active[h.name] = (idx >= lo) & (idx < hi)
    iv = planted.INTERVENTION
    target = shapely.contains_xy(land.park, xy[:, 0], xy[:, 1])
    ring = land.park.buffer(iv.buffer_m, quad_segs=64)
    buffer = shapely.contains_xy(ring, xy[:, 0], xy[:, 1]) & ~target
    start = min(iv.pre_months, n_months - iv.min_post_months)
    control = _control_lsoas(land, inside, target | buffer)
    return Plan(months, inside, active, target, buffer, start, control)


def _control_lsoas(
    land: Landscape, inside: dict[str, np.ndarray], treated: np.ndarray
) -> list[int]:
    """Northbrook LSOAs untouched by any planted effect, >= 800 m from the park, nearest first."""
    touched = np.zeros(len(land.lsoas), dtype=bool)
    for mask in [*inside.values(), treated]:
        touched[np.unique(land.points.loc[mask, "lsoa"].to_numpy())] = True
    north = (land.lsoas["district"] == planted.DISTRICTS[0].code).to_numpy()
    gap = land.lsoas.geometry.distance(land.park).to_numpy()
    ok = north & ~touched & (gap >= 2 * planted.INTERVENTION.buffer_m)
    centre = land.park.centroid
    dist = land.lsoas.geometry.centroid.distance(centre).to_numpy()
    order = [i for i in np.argsort(dist, kind="stable") if ok[i]]
    return sorted(int(i) for i in order[: planted.INTERVENTION.n_control])


def expected_counts(land: Landscape, plan: Plan) -> np.ndarray:
    """mu[p, c, m]: expected incidents per snap point, category and month (see module doc)."""
    ordinary, busy = expected_layers(land, plan)
    return ordinary + busy


def expected_layers(land: Landscape, plan: Plan) -> tuple[np.ndarray, np.ndarray]:
    """The two layers of mu[p, c, m]: everything but the busy ring, and the busy ring
    (zero outside the ring's points and the intervention categories)."""
    cats = planted.CATEGORIES
    months = plan.months
    pts = land.points
    lsoa = pts["lsoa"].to_numpy()
    pop = land.lsoas["population"].to_numpy(dtype=float)[lsoa]
    decile = land.lsoas["imd_decile"].to_numpy(dtype=float)[lsoa]
    base = np.array([c.base_rate for c in cats]) / 12.0
    rr = np.array([c.deprivation_rr for c in cats])
    lam = base[None, :] * (pop / 1000.0)[:, None] * rr[None, :] ** ((5.5 - decile)[:, None] / 9.0)
    lam *= pts["weight"].to_numpy()[:, None]
    cal = months.month.to_numpy()
    t = np.arange(len(months)) / 12.0
    amp = np.array([c.amplitude for c in cats])[:, None]
    peak = np.array([c.peak_month for c in cats])[:, None]
    beta = np.array([c.trend for c in cats])[:, None]
    time = np.exp(amp * np.cos(2 * np.pi * (cal[None, :] - peak) / 12.0) + beta * t[None, :])
    mu = lam[:, :, None] * time[None, :, :]
    for h in planted.HOTSPOTS:
        c_mask = np.isin(planted.CATEGORY_NAMES, h.categories)
        mu[np.ix_(plan.hotspot_points[h.name], c_mask, plan.hotspot_active[h.name])] *= h.multiplier
    iv = planted.INTERVENTION
    c_mask = np.isin(planted.CATEGORY_NAMES, iv.categories)
    after = np.arange(len(months)) >= plan.intervention_start
    ring = np.ix_(plan.buffer_points, c_mask)
    busy = np.zeros_like(mu)
    busy[ring] = iv.busy_ring_extra * mu[ring]
    busy[np.ix_(plan.buffer_points, c_mask, after)] *= iv.busy_ring_effect
    mu[np.ix_(plan.target_points, c_mask, after)] *= iv.effect
    mu[np.ix_(plan.buffer_points, c_mask, after)] *= iv.buffer_effect_streets
    return mu, busy


def draw_incidents(
    rng: np.random.Generator, land: Landscape, plan: Plan, busy_rng: np.random.Generator
) -> Simulation:
    """Draw the incidents: negative binomial counts, near repeats, then unlocated rows.

    ``busy_rng`` draws the busy ring's incidents (see the module doc)."""
    mu, busy_mu = expected_layers(land, plan)
    _, n_cats, n_months = mu.shape
    lsoa = land.points["lsoa"].to_numpy()
    alpha = np.array([c.dispersion for c in planted.CATEGORIES])
    frailty = rng.gamma(
        (1 / alpha)[None, :, None], alpha[None, :, None], (len(land.lsoas), n_cats, n_months)
    )
    counts = rng.poisson(mu * frailty[lsoa])

    nr = planted.NEAR_REPEATS
    b = planted.CATEGORY_NAMES.index(nr.category)
    neighbours = _neighbours(land, nr.max_distance_m)
    extras = rng.binomial(counts[:, b, :], nr.probability)
    drawn = beyond = 0
    for p, m in zip(*np.nonzero(extras), strict=True):
        for _ in range(int(extras[p, m])):
            lag = int(rng.random() >= nr.lag_months[0])
            near = neighbours[p]
            q = near[int(rng.integers(len(near)))]
            if m + lag < n_months:
                counts[q, b, m + lag] += 1
                drawn += 1
            else:
                beyond += 1
    share = np.array([c.no_location for c in planted.CATEGORIES])
    hidden = rng.binomial(counts, share[None, :, None])
    # the busy ring: same frailty, own stream
    cats = np.nonzero(np.isin(planted.CATEGORY_NAMES, planted.INTERVENTION.categories))[0]
    ring = np.ix_(np.nonzero(plan.buffer_points)[0], cats)
    busy = busy_rng.poisson(busy_mu[ring] * frailty[lsoa][ring])
    busy_hidden = busy_rng.binomial(busy, share[cats][None, :, None])
    counts[ring] += busy
    hidden[ring] += busy_hidden
    return Simulation(
        plan=plan,
        expected=mu + busy_mu,
        near_repeat_expected=_near_repeat_expected(mu[:, b, :], neighbours),
        located=counts - hidden,
        unlocated=hidden.sum(axis=0),
        near_repeats=drawn,
        near_repeats_beyond=beyond,
    )


def _neighbours(land: Landscape, radius: float) -> list[np.ndarray]:
    xy = land.points[["x", "y"]].to_numpy()
    tree = cKDTree(xy)
    return [np.array(sorted(ix)) for ix in tree.query_ball_point(xy, r=radius)]


def _near_repeat_expected(mu_b: np.ndarray, neighbours: list[np.ndarray]) -> np.ndarray:
    nr = planted.NEAR_REPEATS
    same, nxt = nr.lag_months
    source = same * mu_b
    source[:, 1:] += nxt * mu_b[:, :-1]
    out = np.zeros_like(mu_b)
    for p, near in enumerate(neighbours):
        out[near] += nr.probability * source[p] / len(near)
    return out


# ----------------------------------------------------------------------------- rows


def police_rows(rng: np.random.Generator, land: Landscape, sim: Simulation) -> pd.DataFrame:
    """One row per published incident: month index, category, point (-1 = no location),
    outcome and Crime ID; sorted as police.uk sorts (LSOA, crime type; unlocated last)."""
    n_months = len(sim.plan.months)
    p_idx, c_idx, m_idx = np.nonzero(sim.located)
    reps = sim.located[p_idx, c_idx, m_idx]
    located = pd.DataFrame(
        {
            "month": np.repeat(m_idx, reps),
            "category": np.repeat(c_idx, reps),
            "point": np.repeat(p_idx, reps),
        }
    )
    c_u, m_u = np.nonzero(sim.unlocated)
    reps_u = sim.unlocated[c_u, m_u]
    unlocated = pd.DataFrame(
        {"month": np.repeat(m_u, reps_u), "category": np.repeat(c_u, reps_u), "point": -1}
    )
    rows = pd.concat([located, unlocated], ignore_index=True)
    lsoa_name = land.lsoas["name"].to_numpy()[land.points["lsoa"].to_numpy()]
    # police.uk order: by LSOA name then crime type; rows without a location at the end
    name_rank = pd.Series(lsoa_name).rank(method="dense").to_numpy().astype(int)
    rank = np.where(rows["point"] >= 0, name_rank[rows["point"].clip(lower=0)], 10**6)
    order = np.lexsort((rows["point"], rows["category"], rank, rows["month"]))
    rows = rows.iloc[order].reset_index(drop=True)

    names = np.array(planted.CATEGORY_NAMES, dtype=object)
    cat_names = names[rows["category"].to_numpy()]
    outcome = np.full(len(rows), "", dtype=object)
    before_end = (n_months - 1 - rows["month"].to_numpy()).astype(float)
    recent = rng.random(len(rows)) < planted.RECENT_UI * 0.5 ** (
        before_end / planted.RECENT_HALF_LIFE
    )
    for c, cat in enumerate(planted.CATEGORY_NAMES):
        if cat == planted.ASB:
            continue
        mask = (rows["category"] == c).to_numpy()
        labels, probs = zip(*planted.OUTCOMES[cat], strict=True)
        probs_arr = np.array(probs) / np.sum(probs)
        outcome[mask] = np.array(labels, dtype=object)[
            rng.choice(len(labels), size=int(mask.sum()), p=probs_arr)
        ]
        outcome[mask & recent] = "Under investigation"
    hexes = rng.bytes(32 * len(rows)).hex()
    crime_id = np.array([hexes[64 * i : 64 * (i + 1)] for i in range(len(rows))], dtype=object)
    is_asb = cat_names == planted.ASB
    crime_id[is_asb] = ""
    rows["crime_type"] = cat_names
    rows["outcome"] = outcome
    rows["crime_id"] = crime_id
    return rows


def partner_rows(rng: np.random.Generator, land: Landscape, sim: Simulation) -> pd.DataFrame:
    """Council ASB reports in the partner schema (date, category, lsoa | easting/northing,
    person_id), drawn from the police ASB surface of the council's district."""
    plan = planted.PARTNER
    months = sim.plan.months
    n_months = len(months)
    a = planted.CATEGORY_NAMES.index(planted.ASB)
    pts = land.points
    district = land.lsoas["district"].to_numpy()[pts["lsoa"].to_numpy()]
    mine = np.nonzero(district == plan.district)[0]
    supplied = [
        m for m in range(plan.first_month_offset, n_months) if m != plan.missing_month_offset
    ]
    lam = plan.ratio_to_police_asb * sim.expected[np.ix_(mine, [a], supplied)][:, 0, :]
    counts = rng.poisson(lam)
    p_i, m_i = np.nonzero(counts)
    reps = counts[p_i, m_i]
    point = np.repeat(mine[p_i], reps)
    month = np.repeat(np.array(supplied)[m_i], reps)
    cats, shares, how = zip(*plan.categories, strict=True)
    cat = rng.choice(len(cats), size=len(point), p=np.array(shares) / np.sum(shares))
    order = np.lexsort((cat, point, month))
    point, month, cat = point[order], month[order], cat[order]
    n = len(point)
    days = np.array([calendar.monthrange(months[m].year, months[m].month)[1] for m in month])
    day = 1 + np.floor(rng.random(n) * days).astype(int)
    date = [
        f"{months[m].year:04d}-{months[m].month:02d}-{d:02d}"
        for m, d in zip(month, day, strict=True)
    ]
    by_point = np.array([how[c] == "point" for c in cat])
    nowhere = rng.random(n) < plan.no_location
    r = plan.jitter_m * np.sqrt(rng.random(n))
    theta = 2 * np.pi * rng.random(n)
    east = np.round(pts["x"].to_numpy()[point] + r * np.cos(theta)).astype(int)
    north = np.round(pts["y"].to_numpy()[point] + r * np.sin(theta)).astype(int)
    code = land.lsoas.index.to_numpy()[pts["lsoa"].to_numpy()[point]]
    cat_name = np.array(cats, dtype=object)[cat]
    frame = pd.DataFrame(
        {
            "date": date,
            "category": cat_name,
            "lsoa": np.where(~by_point & ~nowhere, code, ""),
            "easting": np.where(by_point & ~nowhere, east.astype(str), ""),
            "northing": np.where(by_point & ~nowhere, north.astype(str), ""),
            "person_id": _person_ids(rng, cat_name, code, plan),
        }
    )
    return frame.sort_values(
        ["date", "category", "lsoa", "easting"], kind="stable", ignore_index=True
    )


def _person_ids(
    rng: np.random.Generator, cats: np.ndarray, lsoa: np.ndarray, plan: planted.PartnerPlan
) -> np.ndarray:
    """Complainant ids: a report repeats an earlier complainant of its LSOA with probability
    ``repeat_probability`` (in proportion to their reports so far), else a new person."""
    out = np.full(len(cats), "", dtype=object)
    seen: dict[str, list[str]] = {}
    serials = rng.permutation(900_000)[: len(cats)] + 100_000
    new = 0
    for i in range(len(cats)):
        if cats[i] not in plan.with_person:
            continue
        history = seen.setdefault(lsoa[i], [])
        if history and rng.random() < plan.repeat_probability:
            person = history[int(rng.integers(len(history)))]
        else:
            person = f"NBC-{serials[new]:06d}"
            new += 1
        history.append(person)
        out[i] = person
    return out


def monthly_expected(sim: Simulation, land: Landscape) -> pd.DataFrame:
    """Expected incidents per LSOA, category and month: all, and published with a location."""
    b = planted.CATEGORY_NAMES.index(planted.NEAR_REPEATS.category)
    mu = sim.expected.copy()
    mu[:, b, :] += sim.near_repeat_expected
    lsoa = land.points["lsoa"].to_numpy()
    n_lsoa = len(land.lsoas)
    per = np.zeros((n_lsoa, mu.shape[1], mu.shape[2]))
    np.add.at(per, lsoa, mu)
    share = 1 - np.array([c.no_location for c in planted.CATEGORIES])
    idx = pd.MultiIndex.from_product(
        [sim.plan.months.astype(str), land.lsoas.index, planted.CATEGORY_NAMES],
        names=["month", "lsoa11_code", "category"],
    )
    values = per.transpose(2, 0, 1)  # month, lsoa, category
    located = values * share[None, None, :]
    return pd.DataFrame(
        {"expected": values.ravel(), "expected_located": located.ravel()}, index=idx
    ).reset_index()
