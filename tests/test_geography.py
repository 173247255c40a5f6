"""ONS geography: boundaries, lookups, population and deprivation into Areas.

Real-data tests use ../shared/data (skipped when absent) and compute every
expectation independently with plain pandas / geopandas on the raw files.
Synthetic tests write small files to ``tmp_path`` to exercise bad input.
"""

from __future__ import annotations

import time
import warnings
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from shapely.geometry import box

from cspanalysis.config import Geography, LookupSpec, TableSpec
from cspanalysis.data import geography
from cspanalysis.data.schema import AREA_COLUMNS, check_areas
from cspanalysis.errors import DataQualityWarning, InputError

VL = "lookups/lsoa11_to_lsoa21_to_ltla22_ew.csv.gz"
TV_POP = "population/tv_lsoa11_mid_year_population_2017_2019_2020.csv"
TV_IMD = "imd2019/tv_imd2019_lsoa11.csv"
TV_LOOKUP11 = "lookups/tv_lsoa11_to_district_csp.csv"
TV_LOOKUP21 = "lookups/tv_lsoa21_to_district_csp.csv"
MARTINJC = "geography/tv_lsoa11_boundaries_generalised_martinjc.geojson"
BSC11 = "geography/tv_lsoa11_boundaries_bsc_simplified.geojson"
BSC21 = "geography/tv_lsoa21_boundaries_bsc_simplified.geojson"
DISSOLVED = "geography/tv_districts_csp_boundaries_dissolved_from_lsoa11.geojson"


def _geo(
    root: Path,
    boundaries: str,
    lookup: str,
    *,
    population: str | None = TV_POP,
    deprivation: str | None = TV_IMD,
    vintage_lookup: bool = True,
) -> Geography:
    return Geography(
        boundaries={"path": root / boundaries},
        lookup={"path": root / lookup},
        vintage_lookup=root / VL if vintage_lookup else None,
        population={"path": root / population, "year": 2019} if population else None,
        deprivation={"path": root / deprivation} if deprivation else None,
    )


@pytest.fixture(scope="module")
def tv(shared_data: Path) -> dict[str, pd.DataFrame]:
    """The Thames Valley tables, read with plain pandas."""
    pop = pd.read_csv(shared_data / TV_POP, dtype={"lsoa11_code": str})
    return {
        "lookup11": pd.read_csv(shared_data / TV_LOOKUP11, dtype=str),
        "lookup21": pd.read_csv(shared_data / TV_LOOKUP21, dtype=str),
        "pop2019": pop[pop["mid_year"] == 2019].set_index("lsoa11_code")["total_population"],
        "imd": pd.read_csv(shared_data / TV_IMD, dtype={"lsoa11_code": str}).set_index(
            "lsoa11_code"
        )["IMD_decile"],
        "dissolved": gpd.read_file(shared_data / DISSOLVED).to_crs(27700).set_index("ltla19_code"),
    }


# ------------------------------------------------------------------------------ real data


def test_reading(shared_data, tv):
    with warnings.catch_warnings():
        warnings.simplefilter("error", DataQualityWarning)  # Reading's polygons are all valid
        areas, boundary = geography.build_areas(
            _geo(shared_data, MARTINJC, TV_LOOKUP11), districts=["E06000038"], partnership="Reading"
        )
    check_areas(areas)
    assert list(areas.columns) == list(AREA_COLUMNS)
    lookup = tv["lookup11"]
    expected = lookup.loc[lookup["ltla19_code"] == "E06000038", "lsoa11_code"]
    assert sorted(areas.index) == sorted(expected)
    assert len(areas) == len(expected)
    assert areas["population"].sum() == tv["pop2019"].reindex(expected).sum()
    pd.testing.assert_series_equal(
        areas["population"],
        tv["pop2019"].reindex(areas.index).astype(float),
        check_names=False,
        check_index_type=False,
    )
    assert (areas["imd_decile"].to_numpy() == tv["imd"].reindex(areas.index).to_numpy()).all()
    assert str(areas["imd_decile"].dtype) == "Int64"
    assert areas["households"].isna().all()  # not configured: unknown, never 0
    assert set(areas["partnership"]) == {"Reading"} and set(areas["district_name"]) == {"Reading"}
    assert len(boundary) == 1 and boundary.crs.to_epsg() == 27700
    reference = tv["dissolved"].loc["E06000038"].geometry.area
    assert abs(boundary.area.iloc[0] / reference - 1) < 0.01


@pytest.mark.parametrize(
    ("districts", "codes", "name"),
    [
        (["E07000179", "E07000180"], ["E07000179", "E07000180"], "South Oxon and Vale"),
        (["E07000005", "south bucks"], ["E07000005", "E07000006"], "Chiltern and South Bucks"),
    ],
)
def test_joint_partnership(shared_data, tv, districts, codes, name):
    geo = _geo(shared_data, BSC11, TV_LOOKUP11, deprivation=None)
    areas, boundary = geography.build_areas(geo, districts=districts, partnership=name)
    lookup = tv["lookup11"]
    sizes = [(lookup["ltla19_code"] == c).sum() for c in codes]
    assert len(areas) == sum(sizes) and min(sizes) > 0
    assert sorted(areas["district"].unique()) == codes
    assert len(boundary) == 1 and boundary["name"].iloc[0] == name
    reference = tv["dissolved"].loc[codes].area.sum()
    assert abs(boundary.area.iloc[0] / reference - 1) < 0.01


def test_all_thames_valley_partnerships_sum_to_the_force(shared_data, tv):
    geo = _geo(shared_data, BSC11, TV_LOOKUP11, deprivation=None, vintage_lookup=False)
    districts = tv["lookup11"].drop_duplicates("ltla19_code")
    total, seen = 0.0, set()
    for code, name in districts[["ltla19_code", "csp24_name"]].itertuples(index=False):
        areas, _ = geography.build_areas(geo, districts=[code], partnership=name)
        assert not seen & set(areas.index)
        seen |= set(areas.index)
        total += areas["population"].sum()
    assert len(districts) == 16
    assert len(seen) == len(tv["lookup11"]) == 1415
    assert total == tv["pop2019"].sum() == 2_419_956


def test_city_of_london_from_national_files(shared_data):
    geo = _geo(
        shared_data,
        "geography/ew_lsoa11_boundaries_bsc_simplified.geojson.gz",
        "lookups/lsoa11_to_ltla19_ew.csv.gz",
        population="population/lsoa11_mid_year_population_2017_2019_2020_ew.csv.gz",
        deprivation="imd2019/imd2019_england_lsoa11_ranks_deciles.csv.gz",
    )
    start = time.perf_counter()
    areas, boundary = geography.build_areas(
        geo, districts=["E09000001"], partnership="Safer City Partnership"
    )
    elapsed = time.perf_counter() - start
    lookup = pd.read_csv(shared_data / "lookups/lsoa11_to_ltla19_ew.csv.gz", dtype=str)
    expected = sorted(lookup.loc[lookup["ltla19_code"] == "E09000001", "lsoa11_code"])
    assert list(areas.index) == expected and len(expected) == 6
    pop = pd.read_csv(
        shared_data / "population/lsoa11_mid_year_population_2017_2019_2020_ew.csv.gz"
    )
    pop = pop[(pop["mid_year"] == 2019) & pop["lsoa11_code"].isin(expected)]
    assert areas["population"].sum() == pop["total_population"].sum()
    assert (
        areas["partnership"].isna().sum() == 0
        and areas["district_name"].iloc[0] == "City of London"
    )
    assert areas["imd_decile"].notna().all()
    assert len(boundary) == 1
    assert elapsed < 10, f"City of London took {elapsed:.1f} s"


def test_2021_analysis_maps_2011_population(shared_data, tv):
    geo = _geo(shared_data, BSC21, TV_LOOKUP21)
    areas, _ = geography.build_areas(geo, districts=["reading"], vintage="2021", partnership="R")
    check_areas(areas)
    lookup21 = tv["lookup21"]
    assert sorted(areas.index) == sorted(
        lookup21.loc[lookup21["ltla19_code"] == "E06000038", "lsoa21_code"]
    )
    lookup11 = tv["lookup11"]
    total11 = (
        tv["pop2019"]
        .reindex(lookup11.loc[lookup11["ltla19_code"] == "E06000038", "lsoa11_code"])
        .sum()
    )
    assert areas["population"].sum() == pytest.approx(total11, rel=1e-12)
    # Reading 017E (E01016442) split in three: shares by the children's polygon areas
    children = ["E01033857", "E01033858", "E01033859"]
    polys = gpd.read_file(shared_data / BSC21).to_crs(27700).set_index("lsoa21_code")
    share = polys.loc[children].area / polys.loc[children].area.sum()
    expected = share * tv["pop2019"]["E01016442"]
    np.testing.assert_allclose(areas.loc[children, "population"], expected.to_numpy())
    # split children inherit the parent's decile
    assert (areas.loc[children, "imd_decile"] == tv["imd"]["E01016442"]).all()


def test_2021_analysis_with_2011_lookup(shared_data, tv):
    """District membership through the ONS vintage lookup; merged LSOAs summed."""
    geo = _geo(shared_data, BSC21, TV_LOOKUP11)
    areas, _ = geography.build_areas(geo, districts=["E06000041"], vintage="2021", partnership="W")
    lookup21 = tv["lookup21"]
    assert sorted(areas.index) == sorted(
        lookup21.loc[lookup21["ltla19_code"] == "E06000041", "lsoa21_code"]
    )
    vl = pd.read_csv(shared_data / VL, dtype=str)
    merged = vl[vl["change_code"].eq("M") & vl["lsoa21_code"].isin(areas.index)]
    assert len(merged) == 4  # Wokingham 001A+001C and 018C+018D
    pop, imd = tv["pop2019"], tv["imd"]
    for code, parts in merged.groupby("lsoa21_code")["lsoa11_code"]:
        assert areas.loc[code, "population"] == pop[parts].sum()
        weighted = (imd[parts] * pop[parts]).sum() / pop[parts].sum()
        assert areas.loc[code, "imd_decile"] == int(np.floor(weighted + 0.5))
    assert sorted(areas.attrs["imd_decile_approximate"]) == sorted(merged["lsoa21_code"].unique())


def test_martinjc_invalid_polygons_repaired(shared_data):
    raw = gpd.read_file(shared_data / MARTINJC).to_crs(27700)
    invalid = sorted(raw.loc[~raw.is_valid, "LSOA11CD"])
    with pytest.warns(DataQualityWarning, match="4 invalid polygons"):
        frame = geography.read_boundaries(shared_data / MARTINJC)
    assert len(invalid) == 4 and frame.attrs["repaired"] == invalid
    assert frame.is_valid.all() and len(frame) == len(raw) == 1415
    assert frame.attrs["vintage"] == "2011" and frame.crs.to_epsg() == 27700
    assert frame.geom_type.isin(["Polygon", "MultiPolygon"]).all()
    # repair keeps the area (relative difference per LSOA under 1%)
    before = raw.set_index("LSOA11CD").loc[invalid].geometry.buffer(0).area
    assert np.allclose(frame.loc[invalid].area, before, rtol=0.01)


def test_boundaries_in_the_wrong_vintage(shared_data):
    geo = _geo(shared_data, BSC11, TV_LOOKUP21, population=None, deprivation=None)
    with pytest.raises(InputError, match=r"boundaries are 2011 LSOAs.*use an LSOA 2021 boundary"):
        geography.build_areas(geo, districts=["E06000038"], vintage="2021", partnership="R")


# ------------------------------------------------------------------------------ synthetic

CODES = ["E01000001", "E01000002", "E01000003", "E01000004"]


@pytest.fixture
def world(tmp_path: Path) -> Path:
    """Four 1 km squares in two districts, a 2011 lookup and a population table."""
    squares = gpd.GeoDataFrame(
        {"lsoa11_code": CODES, "lsoa11_name": [f"Town 00{i}A" for i in range(1, 5)]},
        geometry=[box(i * 1000, 0, (i + 1) * 1000, 1000) for i in range(4)],
        crs=27700,
    )
    squares.to_file(tmp_path / "lsoa.gpkg")
    pd.DataFrame(
        {
            "lsoa11_code": CODES,
            "ltla22_code": ["E06000099"] * 4,
            "ltla19_code": ["E07000001", "E07000001", "E07000002", "E07000002"],
            "ltla19_name": ["North", "North", "South", "South"],
            "csp24_name": ["North", "North", "South", "South"],
        }
    ).to_csv(tmp_path / "lookup.csv", index=False)
    pd.DataFrame(
        {
            "lsoa11_code": CODES * 2,
            "mid_year": [2019] * 4 + [2020] * 4,
            "total_population": [1500, 1600, 1700, 1800, 1, 2, 3, 4],
        }
    ).to_csv(tmp_path / "pop.csv", index=False)
    return tmp_path


def _synthetic(world: Path, **kw) -> Geography:
    spec = {
        "boundaries": {"path": world / "lsoa.gpkg"},
        "lookup": {"path": world / "lookup.csv"},
        "population": {"path": world / "pop.csv", "year": 2019},
    }
    spec.update(kw)
    return Geography(**spec)


def test_lookup_prefers_the_oldest_district_code(world):
    lookup = geography.read_lookup(LookupSpec(path=world / "lookup.csv"))
    assert lookup["district"].tolist() == ["E07000001", "E07000001", "E07000002", "E07000002"]
    assert lookup["district_name"].tolist() == ["North", "North", "South", "South"]
    assert lookup["partnership"].tolist() == ["North", "North", "South", "South"]
    assert lookup.attrs["vintage"] == "2011" and lookup.index.name == "lsoa"


def test_districts_by_name_and_explicit_lsoas(world):
    areas, boundary = geography.build_areas(
        _synthetic(world), districts=["north"], lsoas=["E01000004"], partnership="Mixed"
    )
    assert list(areas.index) == ["E01000001", "E01000002", "E01000004"]
    assert areas["population"].tolist() == [1500.0, 1600.0, 1800.0]
    assert areas["district"].tolist() == ["E07000001", "E07000001", "E07000002"]
    # two touching squares and one apart: one row, a MultiPolygon of 3 km²
    assert len(boundary) == 1 and boundary.geom_type.iloc[0] == "MultiPolygon"
    assert boundary.area.iloc[0] == pytest.approx(3e6)


@pytest.mark.parametrize("suffix", ["gpkg", "shp", "geojson"])
def test_boundary_formats_round_trip(tmp_path, suffix):
    frame = gpd.GeoDataFrame(
        {"LSOA21CD": CODES[:2], "LSOA21NM": ["A", "B"]},
        geometry=[box(0, 0, 100, 100), box(100, 0, 300, 100)],
        crs=27700,
    )
    frame.to_file(tmp_path / f"b.{suffix}")
    read = geography.read_boundaries(tmp_path / f"b.{suffix}")
    assert list(read.index) == CODES[:2] and read["name"].tolist() == ["A", "B"]
    assert read.crs.to_epsg() == 27700 and read.attrs["vintage"] == "2021"
    assert read.area.round(3).tolist() == [10_000.0, 20_000.0]
    only = geography.read_boundaries(tmp_path / f"b.{suffix}", lsoas=[CODES[1]])
    assert list(only.index) == [CODES[1]]


@pytest.mark.filterwarnings("ignore::UserWarning:pyogrio", "ignore::RuntimeWarning:pyogrio")
@pytest.mark.filterwarnings("ignore:Column names longer than 10:UserWarning")
def test_boundaries_without_crs(tmp_path):
    """A shapefile with no .prj (and its code column cut to 'lsoa11_cod')."""
    lonlat = gpd.GeoDataFrame({"lsoa11_code": CODES[:1]}, geometry=[box(-1.0, 51.4, -0.99, 51.41)])
    lonlat.to_file(tmp_path / "lonlat.shp")
    with pytest.warns(DataQualityWarning, match="EPSG:4326 was assumed"):
        read = geography.read_boundaries(tmp_path / "lonlat.shp")
    assert read.crs.to_epsg() == 27700 and 400_000 < read.geometry.iloc[0].centroid.x < 500_000
    metres = gpd.GeoDataFrame(
        {"lsoa11_code": CODES[:1]}, geometry=[box(400000, 170000, 401000, 171000)]
    )
    metres.to_file(tmp_path / "metres.shp")
    with pytest.raises(InputError, match="no coordinate reference system"):
        geography.read_boundaries(tmp_path / "metres.shp")


def test_missing_code_column(tmp_path):
    frame = gpd.GeoDataFrame({"zone": ["a"]}, geometry=[box(0, 0, 1, 1)], crs=27700)
    frame.to_file(tmp_path / "zones.gpkg")
    with pytest.raises(InputError, match=r"no LSOA code column.*columns: zone.*code_column") as err:
        geography.read_boundaries(tmp_path / "zones.gpkg")
    assert err.value.path.endswith("zones.gpkg")
    read = geography.read_boundaries(tmp_path / "zones.gpkg", code_column="zone")
    assert list(read.index) == ["a"] and read.attrs["vintage"] is None


def test_unknown_district_lists_valid_ones(world):
    with pytest.raises(InputError, match=r"'E06000038' is not in the lookup.*E07000001 \(North\)"):
        geography.build_areas(_synthetic(world), districts=["E06000038"], partnership="X")
    with pytest.raises(InputError, match="LSOA E01999999 is not in the lookup"):
        geography.build_areas(_synthetic(world), lsoas=["E01999999"], partnership="X")


def test_missing_files(world):
    with pytest.raises(InputError, match="boundary file not found"):
        geography.read_boundaries(world / "nope.geojson")
    geo = _synthetic(world, lookup={"path": world / "nope.csv"})
    with pytest.raises(InputError, match="lookup file not found"):
        geography.build_areas(geo, districts=["North"], partnership="X")
    with pytest.raises(InputError, match="population file not found"):
        geography.read_population(TableSpec(path=world / "nope.csv"))
    (world / "bad.geojson").write_text("not json at all")
    with pytest.raises(InputError, match="cannot be read as GeoJSON, GeoPackage or shapefile"):
        geography.read_boundaries(world / "bad.geojson")


def test_table_in_other_vintage_needs_the_vintage_lookup(world):
    pd.DataFrame({"lsoa21_code": CODES, "IMD_decile": [1, 2, 3, 4]}).to_csv(
        world / "imd21.csv", index=False
    )
    geo = _synthetic(world, deprivation={"path": world / "imd21.csv"})
    with pytest.raises(InputError, match=r"uses 2021 LSOA codes.*add 'geography.vintage_lookup'"):
        geography.build_areas(geo, districts=["North"], partnership="X")


def test_missing_population_is_nan_not_zero(world):
    pop = pd.read_csv(world / "pop.csv")
    pop[pop["lsoa11_code"] != "E01000002"].to_csv(world / "pop.csv", index=False)
    with pytest.warns(
        DataQualityWarning, match=r"1 of the partnership's LSOAs have no population \(E01000002\)"
    ):
        areas, _ = geography.build_areas(_synthetic(world), districts=["North"], partnership="N")
    assert areas.loc["E01000001", "population"] == 1500.0
    assert np.isnan(areas.loc["E01000002", "population"])


def test_population_table_errors(world):
    with pytest.raises(InputError, match=r"several years in 'mid_year' \(2019, 2020\); set 'year'"):
        geography.read_population(TableSpec(path=world / "pop.csv"))
    with pytest.raises(InputError, match=r"no rows for year 2018"):
        geography.read_population(TableSpec(path=world / "pop.csv", year=2018))
    (world / "text.csv").write_text("lsoa11_code,total_population\nE01000001,12\nE01000002,lots\n")
    with pytest.raises(
        InputError, match=r"not a number, zero or more on row\(s\) 3 \(e.g. 'lots'\)"
    ):
        geography.read_population(TableSpec(path=world / "text.csv"))
    (world / "imd.csv").write_text("lsoa11_code,IMD_decile\nE01000001,11\n")
    with pytest.raises(InputError, match=r"not a whole number 1-10 on row\(s\) 2"):
        geography.read_deprivation(TableSpec(path=world / "imd.csv"))


def test_split_apportioned_by_area_and_merge_summed():
    # A split into A1 (1 km²) and A2 (3 km²); B and C merged into BC
    lookup = pd.DataFrame(
        {
            "lsoa11_code": ["A", "A", "B", "C"],
            "lsoa21_code": ["A1", "A2", "BC", "BC"],
            "change_code": ["S", "S", "M", "M"],
        }
    )
    polygons = gpd.GeoSeries(
        [box(0, 0, 1000, 1000), box(1000, 0, 4000, 1000)], index=["A1", "A2"], crs=27700
    )
    values = pd.Series({"A": 400.0, "B": 10.0, "C": np.nan})
    by_area = geography.counts_to_vintage(values, "2011", "2021", lookup, target_polygons=polygons)
    assert by_area["A1"] == 100.0 and by_area["A2"] == 300.0
    assert np.isnan(by_area["BC"])  # C unknown: the merged LSOA is unknown, not 10
    equal = geography.counts_to_vintage(values, "2011", "2021", lookup)
    assert equal["A1"] == equal["A2"] == 200.0
    assert np.isnan(geography.counts_to_vintage(values.drop("C"), "2011", "2021", lookup)["BC"])
    # with both vintages' polygons: shares of the parent's area (A2 spills outside A)
    spill = gpd.GeoSeries(
        [box(0, 0, 1000, 1000), box(1000, 0, 9000, 1000)], index=["A1", "A2"], crs=27700
    )
    parent = gpd.GeoSeries([box(0, 0, 4000, 1000)], index=["A"], crs=27700)
    both = geography.counts_to_vintage(
        values, "2011", "2021", lookup, target_polygons=spill, source_polygons=parent
    )
    assert both["A1"] == 100.0 and both["A2"] == 300.0


def test_lsoas_without_polygons(world):
    lookup = pd.read_csv(world / "lookup.csv", dtype=str)
    extra = lookup.iloc[[0]].assign(lsoa11_code="E01000009")
    pd.concat([lookup, extra]).to_csv(world / "lookup.csv", index=False)
    with pytest.raises(
        InputError, match=r"1 of the partnership's 3 LSOAs have no polygon \(E01000009\)"
    ):
        geography.build_areas(_synthetic(world), districts=["North"], partnership="N")


def test_lookup_with_two_districts_for_one_lsoa(world):
    lookup = pd.read_csv(world / "lookup.csv", dtype=str)
    clash = lookup.iloc[[0]].assign(ltla19_code="E07000002")
    pd.concat([lookup, lookup.iloc[[1]], clash]).to_csv(world / "lookup.csv", index=False)
    with (
        pytest.warns(DataQualityWarning, match=r"lookup.csv: 1 repeated rows are not used"),
        pytest.raises(InputError, match=r"1 LSOAs appear on several rows .*\(E01000001\)"),
    ):
        geography.read_lookup(LookupSpec(path=world / "lookup.csv"))


def test_boundary_has_no_sliver_gaps_between_generalised_lsoas(shared_data):
    """Generalised LSOA polygons leave slivers; the boundary closes them, outline unmoved."""
    from cspanalysis.config import Geography, LookupSpec, TableSpec
    from cspanalysis.data.geography import build_areas

    geo = Geography(
        boundaries=TableSpec(
            path=shared_data / "geography/tv_lsoa11_boundaries_generalised_martinjc.geojson"
        ),
        lookup=LookupSpec(
            path=shared_data / "lookups/tv_lsoa11_to_district_csp.csv",
            district_column="ltla19_code",
        ),
    )
    areas, boundary = build_areas(geo, districts=["E06000038"], partnership="Reading")
    outline = boundary.geometry.iloc[0]
    parts = getattr(outline, "geoms", [outline])
    assert sum(len(p.interiors) for p in parts) == 0
    assert outline.area == pytest.approx(areas.geometry.area.sum(), rel=1e-4)
    assert outline.covers(areas.geometry.union_all().buffer(-1))
