"""The planted hotspots and near repeats of the demo are recovered (checked against truth.json).

The demo's police.uk-format files are read here with plain pandas, so these
tests check the hotspot methods, not the loaders. police.uk months have no
day, so near-repeat time bands are in months.
"""

from __future__ import annotations

import glob

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from shapely.geometry import Point

from cspanalysis import hotspots

demo = pytest.importorskip("cspanalysis.data.demo")


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    folder = demo.ensure_demo(tmp_path_factory.mktemp("demo") / "demo")
    truth = demo.load_truth(folder)
    files = sorted(glob.glob(str(folder / "police_uk" / "*" / "*" / "*-street.csv")))
    raw = pd.concat([pd.read_csv(f) for f in files], ignore_index=True)
    lookup = pd.read_csv(next((folder / "lookups").glob("*.csv")))
    districts = gpd.read_file(folder / "geography" / "demo_districts.geojson").to_crs(27700)
    return truth, raw, lookup, districts


def partnership(world, name: str):
    _, raw, lookup, districts = world
    lsoas = set(lookup.loc[lookup["csp24_name"] == name, "lsoa11_code"])
    rows = raw[raw["LSOA code"].isin(lsoas)]
    inc = gpd.GeoDataFrame(
        {
            "month": pd.PeriodIndex(rows["Month"], freq="M"),
            "category": rows["Crime type"].astype("string").to_numpy(),
            "count": np.ones(len(rows), dtype=np.int64),
        },
        geometry=gpd.points_from_xy(rows["Longitude"], rows["Latitude"], crs=4326).to_crs(27700),
        crs=27700,
    )
    return inc, districts[districts["csp24_name"] == name]


def planted(truth, kind=None):
    out = {}
    for h in truth["hotspots"]:
        if kind is not None and h["kind"] != kind:
            continue
        a = h["area"]
        geom = (
            Point(*a["centre"]).buffer(a["radius_m"])
            if a["type"] == "circle"
            else shapely.from_wkt(a["wkt"])
        )
        out[h["name"]] = (h, geom)
    return out


def busiest_cells(cells, inc, geom, k=2):
    """Positions of the cells holding the ``k`` busiest snap points inside ``geom``."""
    inside = inc[inc.within(geom)]
    xy = inside.geometry.get_coordinates().value_counts().head(k).index
    return hotspots.assign_cells(cells, np.array([p[0] for p in xy]), np.array([p[1] for p in xy]))


@pytest.fixture(scope="module")
def northbrook(world):
    inc, boundary = partnership(world, "Northbrook")
    return inc, boundary, hotspots.grid(boundary)


def test_gistar_finds_the_persistent_hotspots_and_little_else(world, northbrook):
    truth = world[0]
    inc, _, cells = northbrook
    for name, (h, geom) in planted(truth, "persistent").items():
        if not geom.intersects(cells.union_all()):
            continue  # Eastmere's market place is in the other partnership
        sub = inc[inc["category"].isin(h["categories"])]
        gi = hotspots.gistar(hotspots.count_incidents(cells, sub).cells)
        for pos in busiest_cells(cells, sub, geom):
            assert gi.cells["hotspot"].iloc[pos] == "hot", name
    gi = hotspots.gistar(hotspots.count_incidents(cells, inc).cells)
    everything = shapely.union_all([g for _, g in planted(truth).values()])
    near = gi.hot.geometry.distance(everything) <= 150
    assert near.mean() >= 0.9  # hot cells are where hotspots were planted


def test_classify_emerging_emerges_and_fading_is_former(world, northbrook):
    truth = world[0]
    inc, _, cells = northbrook
    expected = {
        "emerging": "emerging hotspot",
        "fading": "former hotspot",
        "persistent": "persistent hotspot",
    }
    for name, (h, geom) in planted(truth).items():
        if h["area"]["type"] != "circle" or not geom.intersects(cells.union_all()):
            continue
        sub = inc[inc["category"].isin(h["categories"])]
        res = hotspots.classify(cells, sub)
        assert res.options["period"] == "quarter"  # 60 months
        got = res.cells["classification"].iloc[busiest_cells(cells, sub, geom)]
        assert (got == expected[h["kind"]]).all(), (name, got.tolist())


def test_change_flags_the_emerging_and_fading_hotspots(world, northbrook):
    truth = world[0]
    inc, _, cells = northbrook
    first, last = truth["period"]["start"], truth["period"]["end"]
    before = (first, str(pd.Period(first, freq="M") + 23))
    after = (str(pd.Period(last, freq="M") - 23), last)
    for _, (h, geom) in planted(truth).items():
        if h["kind"] not in ("emerging", "fading"):
            continue
        sub = inc[inc["category"].isin(h["categories"])]
        res = hotspots.hotspot_change(cells, sub, before, after)
        cell = res.cells.iloc[busiest_cells(cells, sub, geom, k=1)[0]]
        if h["kind"] == "fading":
            assert cell["change"] == "significant decrease"
        else:
            # the emerging hotspot (x3 on some categories) roughly doubles its busiest cell: a
            # clear rise on its own (interval above 1, among the strongest rises anywhere),
            # though after a Holm correction over ~1,000 cells it may fall short of significance
            assert cell["ci_low"] > 1.2
            rises = res.cells[res.cells["rate_ratio"] > 1].sort_values("p_value")
            assert cell.name in rises.index[:3]


def test_last_years_hotspots_predict_this_years_crime(northbrook):
    inc, _, cells = northbrook
    year = inc["month"].dt.year
    last = hotspots.count_incidents(cells, inc[year == 2022]).cells
    this = hotspots.count_incidents(cells, inc[year == 2023]).cells
    acc = hotspots.predictive_accuracy(this["n"], last["n"], area=cells["area"])
    t = acc.table.set_index("share")
    assert t.loc[0.01, "pai"] > 5  # planted hotspots persist year to year
    assert (t["pei"] > 0.7).all() and (t["pei"] <= 1).all()


def test_planted_near_repeat_burglary_pattern(world):
    truth, raw, _, _ = world
    nr_truth = truth["near_repeats"]
    rows = raw[(raw["Crime type"] == nr_truth["category"]) & raw["Longitude"].notna()]
    pts = gpd.points_from_xy(rows["Longitude"], rows["Latitude"], crs=4326).to_crs(27700)
    months = pd.PeriodIndex(rows["Month"], freq="M")
    reach = nr_truth["max_distance_m"]
    res = hotspots.near_repeat(
        pts.x, pts.y, months, [0, reach, 2 * reach, 4 * reach], [0, 1, 2, 3], n_sim=99, seed=0
    )
    assert res.options["time_unit"] == "months"
    close = res.knox_ratio.iloc[0, :2]  # within the planted distance, same or next month
    assert (close > 1.2).all()
    assert (res.p_value.iloc[0, :2] <= 0.01).all()
    # beyond the planted distance or lag, pairs are as chance would have them
    assert np.allclose(res.knox_ratio.iloc[1:, :].to_numpy(), 1.0, atol=0.1)
    assert np.allclose(res.knox_ratio.iloc[:, 2:].to_numpy(), 1.0, atol=0.1)
