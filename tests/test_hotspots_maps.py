"""Static maps, GeoPackage export and LISA."""

from __future__ import annotations

import geopandas as gpd
import matplotlib
import numpy as np
import pyogrio
import pytest
from shapely.geometry import Point, box

from cspanalysis.errors import InputError
from cspanalysis.hotspots import (
    count_incidents,
    gistar,
    grid,
    kde,
    lisa,
    map_cells,
    to_geopackage,
)

matplotlib.use("Agg")


@pytest.fixture
def layers():
    b = gpd.GeoSeries([box(0, 0, 3000, 2000)], crs=27700)
    cells = grid(b, 100)
    rng = np.random.default_rng(0)
    pts = [Point(x, y) for x, y in rng.normal([1500, 1000], 300, (400, 2))] + [None] * 10
    inc = gpd.GeoDataFrame({"count": [1] * 410}, geometry=pts, crs=27700)
    counts = count_incidents(cells, inc)
    return b, counts, gistar(counts.cells), kde(cells, inc, bandwidth=300)


def texts(fig):
    return [t.get_text() for ax in fig.axes for t in ax.texts] + [t.get_text() for t in fig.texts]


def test_static_maps_have_legend_scale_bar_north_arrow_and_source(layers):
    b, counts, gi, dens = layers
    fig = dens.plot(boundary=b, note="10 incidents had no location and are not mapped.")
    assert fig.axes[1].get_ylabel() == "incidents per km²"  # the colour bar says the units
    t = texts(fig)
    assert "500 m" in t  # scale bar
    assert "N" in [a.get_text() for a in fig.axes[0].texts] or any(
        getattr(c, "get_text", lambda: "")() == "N" for c in fig.axes[0].get_children()
    )
    assert any("Open Government Licence" in s for s in t)
    assert any("no location" in s for s in t)
    fig2 = gi.plot(boundary=b, title="Gi*")
    legend = [x.get_text() for x in fig2.axes[0].get_legend().get_texts()]
    assert any(s.startswith("hot (") for s in legend)
    fig3 = counts.plot()
    assert fig3.axes[0].get_title() == "Incidents per cell"
    for f in (fig, fig2, fig3):
        matplotlib.pyplot.close(f)


def test_map_cells_names_the_column_when_no_label(layers):
    _, counts, _, _ = layers
    fig = map_cells(counts.cells, "density")
    assert fig.axes[1].get_ylabel() == "density"
    matplotlib.pyplot.close(fig)


def test_geopackage_round_trip_and_no_partial_file(tmp_path, layers):
    b, counts, gi, dens = layers
    out = to_geopackage(
        {"counts": counts, "gistar": gi, "kde": dens, "boundary": b.to_frame("geometry")},
        tmp_path / "hotspots.gpkg",
    )
    names = [n for n, _ in pyogrio.list_layers(out)]
    assert names == ["counts", "gistar", "kde", "boundary"]
    back = gpd.read_file(out, layer="gistar")
    assert len(back) == len(gi.cells)
    assert back.crs.to_epsg() == 27700
    assert np.allclose(back["gistar"], gi.cells["gistar"].to_numpy(), equal_nan=True)
    assert set(back["hotspot"]) == set(gi.cells["hotspot"])
    bad = tmp_path / "bad.gpkg"
    with pytest.raises(InputError, match="not a GeoDataFrame"):
        to_geopackage({"counts": counts, "oops": 42}, bad)
    assert not bad.exists()
    assert list(tmp_path.glob("*.part")) == []


def test_lisa_finds_a_high_rate_cluster_and_skips_areas_without_population():
    sq = [box(i, j, i + 1, j + 1) for i in range(8) for j in range(8)]
    rng = np.random.default_rng(0)
    n = rng.poisson(5, 64).astype(float)
    hh = [k for k in range(64) if k // 8 < 3 and k % 8 < 3]
    n[hh] += 40
    pop = np.full(64, 1000.0)
    pop[63] = np.nan
    areas = gpd.GeoDataFrame({"n": n, "population": pop}, geometry=sq, crs=27700)
    res = lisa(areas, "n", permutations=999, seed=1)
    assert (res.areas.loc[hh, "cluster"] == "high-high").sum() >= 6
    assert res.areas.loc[63, "cluster"] is pd_na()
    assert res.options["areas_without_rate"] == 1
    assert res.areas.loc[0, "rate"] == pytest.approx(n[0])  # per 1,000 with 1,000 residents
    again = lisa(areas, "n", permutations=999, seed=1)
    assert np.array_equal(res.areas["p_value"], again.areas["p_value"], equal_nan=True)
    with pytest.raises(InputError, match="population"):
        lisa(areas.drop(columns="population"), "n")


def pd_na():
    import pandas as pd

    return pd.NA


def test_interactive_map(layers):
    pytest.importorskip("folium")
    from cspanalysis.hotspots import interactive_map

    b, _, gi, _ = layers
    m = interactive_map(
        {"boundary": b.to_frame("geometry"), "gistar": gi.cells}, column={"gistar": "hotspot"}
    )
    assert "gistar" in m.get_root().render()
