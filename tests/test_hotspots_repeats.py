"""Repeat locations and concentration (Lorenz, Gini, Poisson baseline)."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from shapely.geometry import Point

from cspanalysis.errors import InputError
from cspanalysis.hotspots import concentration, repeat_locations
from cspanalysis.hotspots.repeats import gini


@pytest.fixture
def incidents():
    rng = np.random.default_rng(0)
    names = [f"On or near Street {k}" for k in range(30)]
    pts = {n: Point(rng.uniform(0, 5000), rng.uniform(0, 5000)) for n in names}
    pick = rng.choice(30, size=500, p=np.arange(30, 0, -1) / np.arange(30, 0, -1).sum())
    loc = [names[k] for k in pick]
    geom = [pts[n] for n in loc]
    # the same street name at a second snapped point must be a separate place
    loc += ["On or near Street 0"] * 3
    geom += [Point(9000, 9000)] * 3
    inc = gpd.GeoDataFrame(
        {"location": loc, "lsoa": [f"E0100{k % 7}" for k in range(len(loc))], "count": 1},
        geometry=geom,
        crs=27700,
    )
    inc.loc[:19, "geometry"] = None  # no location: counted in the total, in no place
    inc.loc[:19, "location"] = pd.NA
    return inc


def test_repeat_locations_match_plain_pandas(incidents):
    res = repeat_locations(incidents, top=10)
    ok = incidents.geometry.notna()
    key = incidents.loc[ok, "location"] + "@" + incidents.loc[ok].geometry.x.round().astype(str)
    expected = key.value_counts()
    assert res.table["n"].tolist() == expected.head(10).tolist()
    assert res.table["share"].iloc[0] == pytest.approx(expected.iloc[0] / len(incidents))
    assert res.options["places"] == len(expected)
    assert res.options["unplaced"] == 20
    every = repeat_locations(incidents, top=100).table
    street0 = every[every["place"] == "On or near Street 0"]
    assert len(street0) == 2 and 3 in street0["n"].tolist()  # two snapped points, two places
    assert res.options["places_with_repeats"] == int((expected >= 2).sum())
    assert "no location" in " ".join(res.findings())


def test_repeat_lsoas(incidents):
    res = repeat_locations(incidents, by="lsoa")
    expected = incidents["lsoa"].value_counts()
    assert dict(zip(res.table["place"], res.table["n"], strict=True)) == expected.to_dict()
    with pytest.raises(InputError, match="by must be"):
        repeat_locations(incidents, by="street")


def test_gini_by_hand():
    # four equal cells, counts 0, 0, 1, 3: Lorenz (densest first) through
    # (0.25, 0.75), (0.5, 1), (0.75, 1), (1, 1); area under = 0.09375 + 0.21875 + 0.25 + 0.25
    assert gini(np.array([0.0, 0, 1, 3]), np.ones(4)) == pytest.approx(2 * 0.8125 - 1)
    assert gini(np.array([2.0, 2, 2, 2]), np.ones(4)) == pytest.approx(0.0)


def test_concentration_against_the_poisson_baseline():
    rng = np.random.default_rng(1)
    random_counts = rng.poisson(0.5, 400)
    res = concentration(random_counts, n_sim=99, seed=0)
    # crime scattered at random: observed Gini inside the baseline range, despite being high
    assert res.gini > 0.5
    assert res.gini_expected_low <= res.gini <= res.gini_expected_high
    clustered = random_counts.copy()
    clustered[:8] += 40
    res2 = concentration(clustered, n_sim=99, seed=0)
    assert res2.gini > res2.gini_expected_high
    top = res2.table.set_index("area_share").loc[0.01]
    assert top["crime_share"] > top["expected_high"]
    # 1% of 400 equal cells = the 4 busiest
    assert top["crime_share"] == pytest.approx(np.sort(clustered)[-4:].sum() / clustered.sum())
    assert "by chance alone" in res2.findings()[0]


def test_concentration_bad_input():
    with pytest.raises(InputError):
        concentration([1, -1])
    with pytest.raises(InputError, match="area"):
        concentration([1, 2], area=[1, 0])
