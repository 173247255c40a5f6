"""Hotspot methods on real police.uk data for Reading (../shared/data; skipped when absent).

The incidents are read here with plain pandas/geopandas from the original
monthly files, so these tests do not depend on the project's loaders.
"""

from __future__ import annotations

import warnings

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest

from cspanalysis import hotspots

pytestmark = pytest.mark.shared_data
MONTHS = ["2018-06", "2018-10", "2018-11", "2018-12", "2019-01", "2019-02"]


@pytest.fixture(scope="module")
def reading(shared_data):
    lookup = pd.read_csv(shared_data / "lookups" / "tv_lsoa11_to_district_csp.csv")
    lsoas = set(lookup.loc[lookup["csp24_name"] == "Reading", "lsoa11_code"])
    frames = [
        pd.read_csv(
            shared_data / "police_uk" / "thames-valley" / f"{m}-thames-valley-street.csv.gz"
        )
        for m in MONTHS
    ]
    raw = pd.concat(frames, ignore_index=True)
    raw = raw[raw["LSOA code"].isin(lsoas)].reset_index(drop=True)
    pts = gpd.points_from_xy(raw["Longitude"], raw["Latitude"], crs=4326).to_crs(27700)
    inc = gpd.GeoDataFrame(
        {
            "month": pd.PeriodIndex(raw["Month"], freq="M"),
            "category": raw["Crime type"].astype("string"),
            "lsoa": raw["LSOA code"].astype("string"),
            "location": raw["Location"].astype("string"),
            "count": np.ones(len(raw), dtype=np.int64),
        },
        geometry=pts,
        crs=27700,
    )
    districts = gpd.read_file(
        shared_data / "geography" / "tv_districts_csp_boundaries_dissolved_from_lsoa11.geojson"
    ).to_crs(27700)
    boundary = districts[districts["csp24_name"] == "Reading"]
    return inc, boundary, raw


def test_reading_grid_counts_and_kde(reading):
    inc, boundary, raw = reading
    cells = hotspots.grid(boundary)
    assert cells.attrs["hotspot_grid"]["cell_size"] == 100.0
    assert cells["area"].sum() == pytest.approx(boundary.area.sum(), rel=1e-9)
    counts = hotspots.count_incidents(cells, inc)
    assert counts.total == len(raw)
    # independently: a spatial join of the points on the cells
    joined = gpd.sjoin(inc, cells[["geometry"]].reset_index(), predicate="intersects")
    in_cells = joined.index.unique()
    assert counts.mapped + counts.outside == len(raw)
    assert counts.mapped == len(in_cells)
    # snapped points on LSOA edges that the generalised district boundary leaves out
    assert counts.outside < 0.02 * len(raw)
    dens = hotspots.kde(cells, inc)
    assert dens.options["method"] == "exact"  # few thousand distinct snapped points
    assert 100 < dens.bandwidth < 2000
    binned = hotspots.kde(cells, inc, bandwidth=dens.bandwidth, method="binned")
    assert np.abs(binned["kde"] - dens["kde"]).max() < 0.03 * dens["kde"].max()


def test_reading_gistar_centre_is_hot_and_change_is_tested(reading):
    inc, boundary, _ = reading
    cells = hotspots.grid(boundary, cell_size=200)
    counts = hotspots.count_incidents(cells, inc)
    gi = hotspots.gistar(counts.cells)
    busiest = counts.cells["n"].idxmax()
    assert gi.cells.at[busiest, "hotspot"] == "hot"
    assert 0 < len(gi.hot) < 0.2 * len(cells)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        ch = hotspots.hotspot_change(cells, inc, ("2018-10", "2018-11"), ("2019-01", "2019-02"))
    assert ch.options["n_tested"] == int(((ch["n_before"] + ch["n_after"]) > 0).sum())


def test_reading_classify_treats_absent_months_as_missing(reading):
    inc, boundary, _ = reading
    cells = hotspots.grid(boundary, cell_size=250)
    res = hotspots.classify(cells, inc)
    assert res.options["period"] == "month"
    assert res.options["missing_periods"] == ["2018-07", "2018-08", "2018-09"]
    assert res.options["n_periods"] == 6


def test_reading_burglary_near_repeats_in_months(reading):
    inc, _, _ = reading
    burg = inc[inc["category"] == "Burglary"]
    res = hotspots.near_repeat(
        burg.geometry.x,
        burg.geometry.y,
        burg["month"],
        [0, 100, 200, 400],
        [0, 1, 2],
        n_sim=49,
        seed=0,
    )
    assert res.options["time_unit"] == "months"
    assert res.observed.to_numpy().sum() == len(burg) * (len(burg) - 1) // 2


def test_reading_repeat_locations_and_concentration(reading):
    inc, boundary, raw = reading
    rep = hotspots.repeat_locations(inc, top=5)
    lon_lat_loc = raw.groupby(["Location", "Longitude", "Latitude"]).size()
    assert rep.table["n"].iloc[0] == lon_lat_loc.max()
    cells = hotspots.grid(boundary)
    counts = hotspots.count_incidents(cells, inc)
    conc = hotspots.concentration(counts["n"], counts["area"], n_sim=19)
    assert conc.gini > conc.gini_expected_high


def test_reading_lsoa_contiguity_and_lisa(reading, shared_data):
    from cspanalysis.hotspots.lisa import touching_weights

    inc, _, _ = reading
    lsoas = gpd.read_file(
        shared_data / "geography" / "tv_lsoa11_boundaries_generalised_martinjc.geojson"
    ).to_crs(27700)
    lsoas = lsoas[lsoas["LSOA11CD"].isin(set(inc["lsoa"].dropna()))].reset_index(drop=True)
    lsoas["geometry"] = lsoas.geometry.make_valid()
    w = touching_weights(lsoas, snap=0.0)
    assert not w.islands
    # independently: pairs of polygons that intersect, by a geopandas spatial join
    pairs = gpd.sjoin(lsoas, lsoas, predicate="intersects")
    pairs = pairs[pairs.index != pairs["index_right"]]
    assert sum(w.cardinalities.values()) == len(pairs)
    # the default 1 m snap adds neighbours across slivers of generalisation, never removes any
    assert sum(touching_weights(lsoas).cardinalities.values()) >= len(pairs)
    counts = inc.groupby("lsoa").size()
    lsoas["n"] = lsoas["LSOA11CD"].map(counts).fillna(0).to_numpy()
    lsoas["population"] = 1500.0
    res = hotspots.lisa(lsoas, "n", permutations=999)
    assert res.options["islands"] == 0
    assert (res.areas["cluster"] == "high-high").any()
