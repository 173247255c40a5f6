"""The fictional geography of the demo: two districts, their LSOAs, places and snap points.

Everything is built in British National Grid (EPSG:27700) from one random
generator, so the same seed always gives the same landscape:

* an irregular outline split by a wandering line into **Northbrook** (west: a
  town) and **Eastmere** (east: a market town and countryside);
* LSOA-like polygons: a Voronoi tessellation of seed points, denser towards
  each town centre, clipped to the district, named in the ONS style
  ("Northbrook 001A") with clearly fictional codes (``X01000001``);
* population (mid-2019 to mid-2023, with age bands), households and an IMD
  decile per LSOA, deprivation concentrated in Northbrook's centre and the
  Millfield estate;
* named places (town centres, Market Street, Northbrook Park, the station,
  Millfield) and, per LSOA, a finite set of "On or near ..." snap points, as
  police.uk publishes. Points keep :data:`~.parameters.MARGIN_M` metres away
  from every boundary that decides their fate, so a reader converting the
  published longitude/latitude back to BNG classifies them identically.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from pyproj import Transformer
from scipy.cluster.vq import kmeans2
from shapely.geometry import LineString, MultiPolygon, Point, Polygon
from shapely.ops import split

from cspanalysis.data.demo import parameters as planted
from cspanalysis.data.schema import BNG

AGE_BANDS = ("age_0_15", "age_16_24", "age_25_44", "age_45_64", "age_65_plus")
POPULATION_YEARS = (2019, 2020, 2021, 2022, 2023)
_TO_WGS84 = Transformer.from_crs(BNG, "EPSG:4326", always_xy=True)
_TO_BNG = Transformer.from_crs("EPSG:4326", BNG, always_xy=True)


@dataclass
class Landscape:
    """The demo's geography, in EPSG:27700.

    Attributes
    ----------
    districts
        Indexed by district code: ``name``, ``csp_code``, ``csp_name``, ``geometry``.
    lsoas
        Indexed by LSOA code (in code order): ``name``, ``district``, ``population``
        (mid-2019), ``households``, ``imd_decile``, ``geometry``.
    population
        Long table: one row per LSOA and mid-year, with age bands.
    places
        Named places: ``name``, ``kind``, ``geometry``.
    park
        Northbrook Park, the intervention's target polygon.
    points
        Snap points: ``x``, ``y`` (BNG of the *published* coordinates), ``lon``,
        ``lat`` (rounded to 6 dp, as published), ``lsoa`` (row position in
        ``lsoas``), ``location`` ("On or near ..."), ``weight`` (share of its LSOA's
        incidents before hotspots; sums to 1 per LSOA), ``place`` (the planted
        place it belongs to, or "").
    """

    districts: gpd.GeoDataFrame
    lsoas: gpd.GeoDataFrame
    population: pd.DataFrame
    places: gpd.GeoDataFrame
    park: Polygon
    points: pd.DataFrame


def build_landscape(seed: int = planted.GEOGRAPHY_SEED) -> Landscape:
    """Build the demo geography from ``seed`` (the same seed gives the same landscape).

    Examples
    --------
    >>> land = build_landscape()
    >>> len(land.lsoas), land.lsoas.index[0], land.lsoas["name"].iloc[0]
    (118, 'X01000001', 'Northbrook 001A')
    """
    rng = np.random.default_rng(seed)
    north, east = _districts(rng)
    lsoa_frames = []
    for district, shape, centre, sd, town_share, spacing in (
        (planted.DISTRICTS[0], north, planted.TOWN_CENTRE, 1400.0, 0.78, (230.0, 0.22)),
        (planted.DISTRICTS[1], east, planted.EASTMERE_CENTRE, 700.0, 0.35, (420.0, 0.20)),
    ):
        seeds = _seed_points(rng, shape, district.n_lsoas, centre, sd, town_share, spacing)
        lsoa_frames.append(_lsoas_for(rng, district, shape, seeds))
    lsoas = pd.concat(lsoa_frames)
    lsoas.index = pd.Index([f"X01{i:06d}" for i in range(1, len(lsoas) + 1)], name="code")
    lsoas = gpd.GeoDataFrame(lsoas, geometry="geometry", crs=BNG)
    _people(rng, lsoas)
    population = _population_by_year(rng, lsoas)
    districts = gpd.GeoDataFrame(
        {
            "name": [d.name for d in planted.DISTRICTS],
            "csp_code": [d.csp_code for d in planted.DISTRICTS],
            "csp_name": [d.csp_name for d in planted.DISTRICTS],
        },
        index=pd.Index([d.code for d in planted.DISTRICTS], name="code"),
        geometry=[north, east],
        crs=BNG,
    )
    park = _park(rng)
    places = _places(park)
    points = _snap_points(rng, lsoas, park)
    return Landscape(districts, lsoas, population, places, park, points)


# ----------------------------------------------------------------------------- districts


def _blob(
    rng: np.random.Generator,
    centre: tuple[float, float],
    rx: float,
    ry: float,
    wobble: float,
    n: int = 180,
) -> Polygon:
    """A smooth irregular closed outline: an ellipse with a few random harmonics."""
    theta = np.linspace(0, 2 * np.pi, n, endpoint=False)
    r = np.ones_like(theta)
    for k in range(2, 7):
        r += rng.uniform(0.3, 1.0) * wobble / k * np.cos(k * theta + rng.uniform(0, 2 * np.pi))
    return Polygon(np.c_[centre[0] + rx * r * np.cos(theta), centre[1] + ry * r * np.sin(theta)])


def _districts(rng: np.random.Generator) -> tuple[Polygon, Polygon]:
    outline = _blob(rng, (452_300.0, 200_300.0), 9_200.0, 5_400.0, 0.12)
    ys = np.arange(193_000.0, 208_001.0, 250.0)
    phase = rng.uniform(0, 2 * np.pi, 2)
    wiggle = (
        230 * np.sin(2 * np.pi * ys / 6_000 + phase[0])
        + 90 * np.sin(2 * np.pi * ys / 1_700 + phase[1])
        + rng.normal(0, 15, ys.size)
    )
    cut = LineString(np.c_[450_650.0 + wiggle, ys])
    parts = sorted(split(outline, cut).geoms, key=lambda g: g.centroid.x)
    west = shapely.union_all(parts[:-1]) if len(parts) > 2 else parts[0]
    return _largest(west), _largest(parts[-1])


def _largest(geom: shapely.Geometry) -> Polygon:
    if isinstance(geom, Polygon):
        return geom
    return max(geom.geoms, key=lambda g: g.area)


def _seed_points(
    rng: np.random.Generator,
    shape: Polygon,
    n: int,
    centre: tuple[float, float],
    sd: float,
    town_share: float,
    spacing: tuple[float, float],
) -> np.ndarray:
    """Seeds for LSOAs: a town-centred normal mixed with uniform countryside, spread out.

    Best-candidate sampling: each seed is the one of 30 candidates from that
    density that lies furthest from the seeds so far, relative to the spacing
    wanted there (``base + slope * distance to the centre``), so the town gets
    small LSOAs and the countryside large ones, with no clumps.
    """
    base, slope = spacing
    minx, miny, maxx, maxy = shape.bounds
    inner = shape.buffer(-120.0)
    chosen = np.empty((0, 2))
    while len(chosen) < n:
        k = 120
        town = rng.random(k) < town_share
        x = np.where(town, rng.normal(centre[0], sd, k), rng.uniform(minx, maxx, k))
        y = np.where(town, rng.normal(centre[1], sd, k), rng.uniform(miny, maxy, k))
        ok = shapely.contains_xy(inner, x, y)
        cand = np.c_[x[ok], y[ok]][:30]
        if len(cand) == 0:
            continue
        if len(chosen) == 0:
            chosen = cand[:1]
            continue
        gap = np.min(
            np.hypot(cand[:, None, 0] - chosen[None, :, 0], cand[:, None, 1] - chosen[None, :, 1]),
            axis=1,
        )
        want = base + slope * np.hypot(cand[:, 0] - centre[0], cand[:, 1] - centre[1])
        chosen = np.vstack([chosen, cand[int(np.argmax(gap / want))]])
    return chosen


def _lsoas_for(
    rng: np.random.Generator, district: planted.District, shape: Polygon, seeds: np.ndarray
) -> pd.DataFrame:
    cells = shapely.voronoi_polygons(
        shapely.MultiPoint(seeds), extend_to=shape.buffer(5_000), ordered=True
    )
    polys = [shapely.intersection(cell, shape) for cell in cells.geoms]
    polys = [_tidy(p) for p in polys]
    # MSOA-like groups of about five neighbouring LSOAs, numbered north to south
    k = max(1, round(len(seeds) / 5))
    centroids, labels = kmeans2(seeds, k, seed=rng, minit="++")
    order = np.argsort(-centroids[:, 1], kind="stable")
    msoa_number = np.empty(k, dtype=int)
    msoa_number[order] = np.arange(1, k + 1)
    rows = []
    for msoa in range(1, k + 1):
        members = [i for i in range(len(seeds)) if msoa_number[labels[i]] == msoa]
        members.sort(key=lambda i: (-seeds[i, 1], seeds[i, 0]))
        for letter, i in zip("ABCDEFGHIJKLMNOPQRSTUVWXYZ", members, strict=False):
            rows.append(
                {
                    "name": f"{district.name} {msoa:03d}{letter}",
                    "district": district.code,
                    "seed_x": seeds[i, 0],
                    "seed_y": seeds[i, 1],
                    "geometry": polys[i],
                }
            )
    return pd.DataFrame(rows)


def _tidy(geom: shapely.Geometry) -> Polygon | MultiPolygon:
    """Drop slivers a clip can leave; keep real multi-part cells."""
    if isinstance(geom, Polygon):
        return geom
    parts = [g for g in getattr(geom, "geoms", []) if isinstance(g, Polygon) and g.area > 2_500]
    return parts[0] if len(parts) == 1 else MultiPolygon(parts)


# ----------------------------------------------------------------------------- people


def _people(rng: np.random.Generator, lsoas: gpd.GeoDataFrame) -> None:
    """Population (mid-2019), households and IMD decile, in place."""
    n = len(lsoas)
    sx, sy = lsoas["seed_x"].to_numpy(), lsoas["seed_y"].to_numpy()
    pop = np.clip(np.round(rng.normal(1_650, 260, n)), 1_050, 2_700).astype(int)
    lsoas["population"] = pop
    lsoas["households"] = np.round(pop / rng.uniform(2.05, 2.65, n)).astype(int)
    d_town = np.hypot(sx - planted.TOWN_CENTRE[0], sy - planted.TOWN_CENTRE[1])
    d_mill = np.hypot(sx - planted.MILLFIELD[0], sy - planted.MILLFIELD[1])
    d_east = np.hypot(sx - planted.EASTMERE_CENTRE[0], sy - planted.EASTMERE_CENTRE[1])
    north = (lsoas["district"] == planted.DISTRICTS[0].code).to_numpy()
    z = np.where(
        north,
        1.5 * np.exp(-((d_town / 1_700) ** 2)) + 1.6 * np.exp(-((d_mill / 900) ** 2)) - 0.35,
        0.9 * np.exp(-((d_east / 900) ** 2)) - 0.9,
    )
    z = z + rng.normal(0, 0.45, n)
    lsoas["imd_decile"] = np.clip(np.round(6.0 - 2.6 * z), 1, 10).astype(int)
    lsoas["urban"] = np.where(north, d_town < 2_200, d_east < 1_200)


def _population_by_year(rng: np.random.Generator, lsoas: gpd.GeoDataFrame) -> pd.DataFrame:
    shares_town = np.array([0.17, 0.16, 0.34, 0.21, 0.12])
    shares_mid = np.array([0.19, 0.11, 0.27, 0.25, 0.18])
    shares_rural = np.array([0.17, 0.09, 0.21, 0.29, 0.24])
    growth = rng.normal(0.004, 0.006, len(lsoas))
    rows = []
    for i, (code, row) in enumerate(lsoas.iterrows()):
        base = (
            shares_town
            if row["urban"] and row["imd_decile"] <= 4
            else (shares_mid if row["urban"] else shares_rural)
        )
        shares = rng.dirichlet(base * 300)
        for year in POPULATION_YEARS:
            total = round(float(row["population"]) * (1 + growth[i]) ** (year - 2019))
            rows.append(
                {
                    "lsoa11_code": code,
                    "lsoa11_name": row["name"],
                    "mid_year": year,
                    "total_population": total,
                    **dict(zip(AGE_BANDS, _split_total(total, shares), strict=True)),
                }
            )
    return pd.DataFrame(rows)


def _split_total(total: int, shares: np.ndarray) -> list[int]:
    """Integers in proportion to ``shares`` that add up to ``total`` (largest remainder)."""
    raw = total * shares
    out = np.floor(raw).astype(int)
    for j in np.argsort(-(raw - out), kind="stable")[: total - out.sum()]:
        out[j] += 1
    return out.tolist()


# ----------------------------------------------------------------------------- places


def _park(rng: np.random.Generator) -> Polygon:
    theta = np.linspace(0, 2 * np.pi, 48, endpoint=False)
    r = 1 + 0.12 * np.cos(2 * theta + rng.uniform(0, 6.3)) + 0.06 * np.cos(3 * theta + 1.0)
    x = planted.PARK_CENTRE[0] + 330 * r * np.cos(theta)
    y = planted.PARK_CENTRE[1] + 210 * r * np.sin(theta)
    return Polygon(np.c_[np.round(x), np.round(y)])


def _places(park: Polygon) -> gpd.GeoDataFrame:
    rows = [
        ("Northbrook Town Centre", "town centre", Point(planted.TOWN_CENTRE)),
        ("Market Street", "retail road", LineString(planted.MARKET_STREET)),
        ("Northbrook Park", "park", park),
        ("Northbrook Station", "station", Point(planted.STATION)),
        ("Millfield", "housing estate", Point(planted.MILLFIELD)),
        ("Eastmere Market Place", "town centre", Point(planted.EASTMERE_CENTRE)),
    ]
    return gpd.GeoDataFrame(
        {"name": [r[0] for r in rows], "kind": [r[1] for r in rows]},
        geometry=[r[2] for r in rows],
        crs=BNG,
    )


def hotspot_region(hotspot: planted.Hotspot, park: Polygon) -> Polygon:
    """The area a hotspot's multiplier applies in (a circle, or the park)."""
    if hotspot.area == "park":
        return park
    assert hotspot.centre is not None and hotspot.radius is not None
    return Point(hotspot.centre).buffer(hotspot.radius, quad_segs=128)


def decision_lines(park: Polygon) -> shapely.Geometry:
    """Every boundary (other than LSOAs') that decides what happens at a point."""
    lines = [hotspot_region(h, park).boundary for h in planted.HOTSPOTS]
    lines.append(park.buffer(planted.INTERVENTION.buffer_m, quad_segs=64).boundary)
    return shapely.union_all(lines)


# ----------------------------------------------------------------------------- snap points


def _snap_points(rng: np.random.Generator, lsoas: gpd.GeoDataFrame, park: Polygon) -> pd.DataFrame:
    special = decision_lines(park)
    lsoa_lines = shapely.union_all(list(lsoas.geometry.boundary))
    avoid = shapely.union_all([special, lsoa_lines])
    shapely.prepare(avoid)
    taken = np.empty((0, 2))
    rows: list[dict] = []

    def sample(region, n: int, spacing: float) -> np.ndarray:
        nonlocal taken
        out: list[tuple[float, float]] = []
        minx, miny, maxx, maxy = region.bounds
        for _ in range(50):
            x = rng.uniform(minx, maxx, 200)
            y = rng.uniform(miny, maxy, 200)
            ok = shapely.contains_xy(region, x, y)
            pts = shapely.points(x[ok], y[ok])
            ok2 = shapely.distance(pts, avoid) >= planted.MARGIN_M + 1.0
            for xi, yi in zip(x[ok][ok2], y[ok][ok2], strict=True):
                near = np.vstack([taken, np.array(out).reshape(-1, 2)])
                if near.size == 0 or np.min(np.hypot(near[:, 0] - xi, near[:, 1] - yi)) >= spacing:
                    out.append((float(xi), float(yi)))
                    if len(out) == n:
                        break
            if len(out) == n:
                break
        arr = np.array(out).reshape(-1, 2)
        taken = np.vstack([taken, arr])
        return arr

    # planted places first, then ordinary points in every LSOA
    for hotspot in planted.HOTSPOTS:
        names = planted.PLACE_POINTS.get(hotspot.name, ())
        region = hotspot_region(hotspot, park)
        if hotspot.name == "market-street":
            region = region.intersection(LineString(planted.MARKET_STREET).buffer(40))
        xy = sample(region, len(names), 30.0)
        rows += [
            {"x": x, "y": y, "location": nm, "place": hotspot.name}
            for (x, y), nm in zip(xy, names, strict=False)
        ]
    place_xy = np.array([[r["x"], r["y"]] for r in rows])
    place_lsoa = _which_lsoa(lsoas, place_xy)
    for r, i in zip(rows, place_lsoa, strict=True):
        r["lsoa"] = i
    streets = [
        f"{a} {b}"
        for a, b in itertools.product(planted.STREET_NAMES.stems, planted.STREET_NAMES.suffixes)
    ]
    rng.shuffle(streets)
    street_iter = itertools.cycle(streets)
    landmarks = planted.STREET_NAMES.landmarks
    for i, geom in enumerate(lsoas.geometry):
        already = int(np.sum(place_lsoa == i))
        n = max(int(rng.integers(9, 18)) - already, 4)
        xy = sample(geom, n, 35.0)
        for x, y in xy:
            name = (
                landmarks[int(rng.integers(len(landmarks)))]
                if rng.random() < 0.13
                else next(street_iter)
            )
            rows.append({"x": x, "y": y, "location": name, "place": "", "lsoa": i})
    points = pd.DataFrame(rows)
    points["location"] = "On or near " + points["location"]
    points["weight"] = rng.gamma(2.0, 1.0, len(points))
    points["weight"] /= points.groupby("lsoa")["weight"].transform("sum")
    # publish as police.uk does (6 dp), then work from what a reader will see
    lon, lat = _TO_WGS84.transform(points["x"].to_numpy(), points["y"].to_numpy())
    points["lon"], points["lat"] = np.round(lon, 6), np.round(lat, 6)
    x, y = _TO_BNG.transform(points["lon"].to_numpy(), points["lat"].to_numpy())
    points["x"], points["y"] = x, y
    order = np.lexsort((points["location"].to_numpy(), points["lsoa"].to_numpy()))
    points = points.iloc[order].reset_index(drop=True)
    return points[["x", "y", "lon", "lat", "lsoa", "location", "weight", "place"]]


def _which_lsoa(lsoas: gpd.GeoDataFrame, xy: np.ndarray) -> np.ndarray:
    out = np.full(len(xy), -1)
    for i, geom in enumerate(lsoas.geometry):
        inside = shapely.contains_xy(geom, xy[:, 0], xy[:, 1])
        out[inside] = i
    return out
