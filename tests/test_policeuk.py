"""police.uk street files: real files checked against plain pandas, layouts, cache and vintages."""

from __future__ import annotations

import gzip
import shutil
import warnings
import zipfile
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pytest
from pandas.testing import assert_frame_equal
from pyproj import Transformer

from cspanalysis.data import policeuk
from cspanalysis.data.policeuk import StreetFile, find_street_files, read_street
from cspanalysis.data.schema import check_coverage, check_incidents
from cspanalysis.data.vintages import read_vintage_lookup
from cspanalysis.errors import DataQualityWarning
from cspanalysis.files import combined_key, sha256_file

README_ROWS = {  # ../shared/data/README.md
    "2018-06": 18_188,
    "2018-10": 16_338,
    "2018-11": 15_995,
    "2018-12": 14_345,
    "2019-01": 14_993,
    "2019-02": 13_498,
}
HEADER = (
    "Crime ID,Month,Reported by,Falls within,Longitude,Latitude,Location,LSOA code,LSOA name,"
    "Crime type,Last outcome category,Context"
)


def raw_rows(folder: Path) -> dict[str, pd.DataFrame]:
    """Each file read by plain pandas, every cell as text ('' when blank), keyed by month."""
    return {
        f.name[:7]: pd.read_csv(f, dtype=str, keep_default_na=False)
        for f in sorted(folder.glob("*-street.csv.gz"))
    }


def street_text(*rows: str) -> str:
    return "\n".join([HEADER, *rows]) + "\n"


def row(month: str, lon: str, lat: str, lsoa: str, crime_type: str = "Burglary") -> str:
    return f"x1,{month},TVP,TVP,{lon},{lat},On or near Here,{lsoa},Name,{crime_type},,"


def drop_mapping(frame: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    return frame.drop(columns="lsoa_mapping")


@pytest.fixture(scope="module")
def tv(shared_data: Path) -> tuple[gpd.GeoDataFrame, pd.DataFrame, dict[str, pd.DataFrame]]:
    folder = shared_data / "police_uk" / "thames-valley"
    incidents, coverage = read_street(folder, cache_dir=False)
    return incidents, coverage, raw_rows(folder)


@pytest.fixture(scope="module")
def lookup(shared_data: Path) -> pd.DataFrame:
    return read_vintage_lookup(shared_data / "lookups" / "lsoa11_to_lsoa21_to_ltla22_ew.csv.gz")


@pytest.fixture(scope="module")
def lsoa21(shared_data: Path) -> gpd.GeoDataFrame:
    path = shared_data / "geography" / "tv_lsoa21_boundaries_bsc_simplified.geojson"
    return gpd.read_file(path).to_crs("EPSG:27700").set_index("lsoa21_code")


# ---------------------------------------------------------------------------- real files


@pytest.mark.shared_data
def test_thames_valley_rows_per_month_match_readme_and_pandas(tv) -> None:
    incidents, coverage, raw = tv
    check_incidents(incidents)
    check_coverage(coverage)
    per_month = incidents["month"].astype(str).value_counts().to_dict()
    assert per_month == README_ROWS
    assert per_month == {month: len(frame) for month, frame in raw.items()}
    present = coverage[coverage["status"] == "present"]
    assert dict(zip(present["month"].astype(str), present["rows"], strict=True)) == README_ROWS


@pytest.mark.shared_data
def test_thames_valley_columns_equal_the_raw_files(tv) -> None:
    incidents, _, raw = tv
    whole = pd.concat(raw.values(), ignore_index=True)  # months sorted, rows in file order
    for ours, theirs in (
        ("crime_id", "Crime ID"),
        ("lsoa_source", "LSOA code"),
        ("location", "Location"),
        ("outcome", "Last outcome category"),
        ("category", "Crime type"),
    ):
        assert incidents[ours].fillna("").tolist() == whole[theirs].tolist(), ours
    assert incidents["crime_id"].isna().sum() == (whole["Crime ID"] == "").sum()
    asb = (whole["Crime type"] == "Anti-social behaviour").to_numpy()
    assert incidents["crime_id"][asb].isna().all()
    assert (incidents["lsoa"].fillna("") == whole["LSOA code"]).all()  # no lookup: as given
    assert set(incidents["source"]) == {"police.uk"}
    assert set(incidents["force"]) == {"thames-valley"}
    assert (incidents["count"] == 1).all() and incidents["person_id"].isna().all()
    assert isinstance(incidents.index, pd.RangeIndex)
    assert incidents["category"].nunique() == whole["Crime type"].nunique() == 14


@pytest.mark.shared_data
def test_thames_valley_rows_without_location(tv) -> None:
    incidents, coverage, raw = tv
    present = coverage.set_index(coverage["month"].astype(str))
    for month, frame in raw.items():
        blank = (frame["Longitude"] == "").sum()
        assert present.loc[month, "rows_no_location"] == blank
        assert incidents.loc[incidents["month"].astype(str) == month].geometry.isna().sum() == blank
        assert 0.08 < blank / len(frame) < 0.11  # README: about 9-10%
    assert (present.loc[list(raw), "rows_bad_coordinates"] == 0).all()


@pytest.mark.shared_data
def test_thames_valley_coverage_marks_the_gap_missing(tv) -> None:
    _, coverage, _ = tv
    assert coverage["month"].astype(str).tolist() == [
        str(p) for p in pd.period_range("2018-06", "2019-02", freq="M")
    ]
    missing = coverage[coverage["status"] == "missing"]
    assert missing["month"].astype(str).tolist() == ["2018-07", "2018-08", "2018-09"]
    for column in ("rows", "rows_no_location", "rows_bad_coordinates", "rows_outside"):
        assert missing[column].isna().all(), column
    assert (missing["files"] == "").all()
    assert coverage["rows_unknown_lsoa"].isna().all()  # no lookup given
    assert set(coverage["source"]) == {"police.uk:thames-valley"}


@pytest.mark.shared_data
def test_points_are_british_national_grid(tv, shared_data: Path) -> None:
    incidents, _, raw = tv
    assert incidents.crs.to_epsg() == 27700
    first = raw["2018-06"].iloc[0]
    expected = Transformer.from_crs(4326, 27700, always_xy=True).transform(
        float(first["Longitude"]), float(first["Latitude"])
    )
    assert incidents.geometry.iloc[0].coords[0] == pytest.approx(expected, abs=0.01)
    # every point whose LSOA is a Thames Valley LSOA lies in the Thames Valley force area
    force = gpd.read_file(shared_data / "geography" / "ew_pfa20_boundaries.geojson")
    area = force[force["pfa20_name"] == "Thames Valley"].to_crs(27700).union_all()
    tv_lsoas = pd.read_csv(shared_data / "lookups" / "tv_lsoa11_to_district_csp.csv", dtype=str)
    located = incidents[incidents.geometry.notna()]
    ours = located[located["lsoa_source"].isin(tv_lsoas["lsoa11_code"])]
    assert len(ours) > 0.99 * len(located)
    assert ours.within(area.buffer(200)).all()
    minx, miny, maxx, maxy = area.bounds
    assert minx < ours.total_bounds[0] and ours.total_bounds[2] < maxx
    assert miny < ours.total_bounds[1] and ours.total_bounds[3] < maxy


@pytest.mark.shared_data
def test_city_of_london_36_months(shared_data: Path) -> None:
    folder = shared_data / "police_uk" / "city-of-london"
    incidents, coverage = read_street(folder, cache_dir=False)
    assert len(incidents) == 24_750
    assert incidents["lsoa_source"].isna().sum() == 1_807
    assert (coverage["status"] == "present").sum() == len(coverage) == 36
    assert coverage["rows"].sum() == 24_750
    assert coverage["rows_no_location"].sum() == 1_807
    per_month = incidents["month"].astype(str).value_counts()
    assert (per_month["2020-02"], per_month["2020-03"], per_month["2020-04"]) == (763, 605, 236)
    assert incidents["category"].nunique() == 14


# ---------------------------------------------------------------------------- layouts


@pytest.fixture
def two_files(shared_data: Path) -> list[Path]:
    folder = shared_data / "police_uk" / "city-of-london"
    return [
        folder / "2020-03-city-of-london-street.csv.gz",
        folder / "2020-04-city-of-london-street.csv.gz",
    ]


@pytest.mark.shared_data
def test_archive_zip_equals_folder(two_files: list[Path], tmp_path: Path) -> None:
    folder = tmp_path / "flat"
    folder.mkdir()
    zip_path = tmp_path / "2020-04.zip"
    with zipfile.ZipFile(zip_path, "w", zipfile.ZIP_DEFLATED) as archive:
        for path in two_files:
            shutil.copy(path, folder)
            month = path.name[:7]
            member = f"{month}/{path.name.removesuffix('.gz')}"
            archive.writestr(member, gzip.decompress(path.read_bytes()))
        archive.writestr("2020-04/2020-04-city-of-london-outcomes.csv", "Crime ID,Outcome type\n")
        archive.writestr("2020-04/2020-04-city-of-london-stop-and-search.csv", "Type,Date\n")
    from_folder, cov_folder = read_street(folder, cache_dir=False)
    from_zip, cov_zip = read_street(zip_path, cache_dir=False)
    assert_frame_equal(from_zip, from_folder)
    assert cov_zip["files"].tolist() == [
        "2020-04.zip/2020-03/2020-03-city-of-london-street.csv",
        "2020-04.zip/2020-04/2020-04-city-of-london-street.csv",
    ]
    assert_frame_equal(cov_zip.drop(columns="files"), cov_folder.drop(columns="files"))
    found = find_street_files(zip_path)
    assert [(str(f.month), f.force, f.member) for f in found] == [
        ("2020-03", "city-of-london", "2020-03/2020-03-city-of-london-street.csv"),
        ("2020-04", "city-of-london", "2020-04/2020-04-city-of-london-street.csv"),
    ]
    assert all(isinstance(f, StreetFile) and f.path == zip_path for f in found)


@pytest.mark.shared_data
def test_folder_tree_and_explicit_list_equal_flat_folder(two_files, tmp_path: Path) -> None:
    tree = tmp_path / "tree"
    for path in two_files:  # as unzipped from police.uk: YYYY-MM/YYYY-MM-<force>-street.csv
        month = tree / path.name[:7]
        month.mkdir(parents=True)
        (month / path.name.removesuffix(".gz")).write_bytes(gzip.decompress(path.read_bytes()))
    (tree / "README.txt").write_text("not a street file")
    from_tree, _ = read_street(tree, cache_dir=False)
    from_list, _ = read_street(two_files, cache_dir=False)
    assert_frame_equal(from_tree, from_list)
    assert len(from_list) == 605 + 236


@pytest.mark.shared_data
def test_forces_filter_and_shared_span(shared_data: Path, tmp_path: Path) -> None:
    col = shared_data / "police_uk" / "city-of-london"
    tv = shared_data / "police_uk" / "thames-valley"
    for path in (
        col / "2018-04-city-of-london-street.csv.gz",
        tv / "2018-06-thames-valley-street.csv.gz",
    ):
        shutil.copy(path, tmp_path)
    only_col, cov_col = read_street(tmp_path, forces=["city-of-london"], cache_dir=False)
    assert set(only_col["force"]) == {"city-of-london"}
    assert cov_col["source"].unique().tolist() == ["police.uk:city-of-london"]
    both, cov = read_street(tmp_path, cache_dir=False)
    assert both["force"].unique().tolist() == ["city-of-london", "thames-valley"]  # sorted
    assert_frame_equal(both[both["force"] == "city-of-london"].reset_index(drop=True), only_col)
    # one span for every force: 2018-04..2018-06, each force missing the months it lacks
    table = cov.pivot(index="month", columns="source", values="status")
    assert table.astype(str).to_dict("list") == {
        "police.uk:city-of-london": ["present", "missing", "missing"],
        "police.uk:thames-valley": ["missing", "missing", "present"],
    }


# ---------------------------------------------------------------------------- cache


@pytest.mark.shared_data
def test_cache_hit_and_invalidation(two_files, tmp_path: Path, monkeypatch) -> None:
    folder = tmp_path / "files"
    folder.mkdir()
    for path in two_files:
        shutil.copy(path, folder)
    cache = tmp_path / "cache"
    first, cov_first = read_street(folder, cache_dir=cache)
    keys = [
        combined_key([sha256_file(p), policeuk.PARSER_VERSION]) for p in sorted(folder.iterdir())
    ]
    assert sorted(p.name for p in (cache / "policeuk").iterdir()) == sorted(
        f"{k}.parquet" for k in keys
    )

    parsed: list[str] = []
    real_parse = policeuk._parse

    def counting_parse(raw: bytes, street: StreetFile):
        parsed.append(street.path.name)
        return real_parse(raw, street)

    monkeypatch.setattr(policeuk, "_parse", counting_parse)
    again, cov_again = read_street(folder, cache_dir=cache)
    assert parsed == []  # every file came from the cache
    assert_frame_equal(again, first)
    assert_frame_equal(cov_again, cov_first)
    assert read_street(folder, cache_dir=cache, vintage="2021")[0].shape == first.shape
    assert parsed == []  # one cache serves both vintages

    # change one file's bytes (drop its last row): only that file is parsed again
    changed = folder / two_files[1].name
    lines = gzip.decompress(changed.read_bytes()).splitlines(keepends=True)
    changed.write_bytes(gzip.compress(b"".join(lines[:-1])))
    after, _ = read_street(folder, cache_dir=cache)
    assert parsed == [changed.name]
    assert len(after) == len(first) - 1
    assert len(list((cache / "policeuk").iterdir())) == 3

    # a damaged cache file is ignored and rewritten
    parsed.clear()
    damaged = cache / "policeuk" / f"{keys[0]}.parquet"  # the unchanged file's
    damaged.write_bytes(b"not parquet")
    assert_frame_equal(read_street(folder, cache_dir=cache)[0], after)
    assert len(parsed) == 1
    assert damaged.read_bytes()[:4] == b"PAR1"
    assert not list((cache / "policeuk").glob("*.part"))


def test_no_cache_writes_nothing(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("CSPANALYSIS_CACHE", str(tmp_path / "default-cache"))
    (tmp_path / "2019-01-x-street.csv").write_text(street_text(row("2019-01", "-1", "51.5", "")))
    read_street(tmp_path / "2019-01-x-street.csv", cache_dir=False)
    assert not (tmp_path / "default-cache").exists()
    read_street(tmp_path / "2019-01-x-street.csv")  # default: $CSPANALYSIS_CACHE
    assert len(list((tmp_path / "default-cache" / "policeuk").glob("*.parquet"))) == 1


def test_cached_file_renamed_to_another_month_is_still_checked(tmp_path: Path) -> None:
    (tmp_path / "2019-01-x-street.csv").write_text(street_text(row("2019-01", "-1", "51.5", "")))
    read_street(tmp_path, cache_dir=tmp_path / "cache")
    (tmp_path / "2019-01-x-street.csv").rename(tmp_path / "2019-02-x-street.csv")
    with pytest.raises(policeuk.InputError, match=r"row 2, column 'Month': '2019-01' disagrees"):
        read_street(tmp_path, cache_dir=tmp_path / "cache")


# ---------------------------------------------------------------------------- data quality


def test_unusable_coordinates_are_kept_without_a_point_and_counted(tmp_path: Path) -> None:
    path = tmp_path / "2019-01-x-street.csv"
    path.write_text(
        street_text(
            row("2019-01", "-0.9704", "51.993385", "E01017648"),
            row("2019-01", "0", "0", "E01017648"),
            row("2019-01", "-0.97", "", ""),
            row("2019-01", "", "", ""),
        )
    )
    with pytest.warns(DataQualityWarning, match=r"2 rows \(rows 3, 4\)"):
        incidents, coverage = read_street(path, cache_dir=False)
    assert len(incidents) == 4
    assert incidents.geometry.isna().tolist() == [False, True, True, True]
    assert coverage[["rows", "rows_bad_coordinates", "rows_no_location"]].iloc[0].tolist() == [
        4,
        2,
        2,  # rows 4 and 5: no usable point and no LSOA
    ]


def test_header_only_month_is_missing_not_zero(tmp_path: Path) -> None:
    (tmp_path / "2019-01-x-street.csv").write_text(street_text(row("2019-01", "-1", "51.5", "")))
    (tmp_path / "2019-02-x-street.csv").write_text(street_text())
    (tmp_path / "2019-03-x-street.csv").write_text(street_text(row("2019-03", "-1", "51.5", "")))
    with pytest.warns(DataQualityWarning, match="counted as missing"):
        incidents, coverage = read_street(tmp_path, cache_dir=False)
    assert coverage["status"].tolist() == ["present", "missing", "present"]
    assert coverage["rows"].isna().tolist() == [False, True, False]
    assert len(incidents) == 2


def test_identical_duplicate_is_read_once(tmp_path: Path) -> None:
    text = street_text(row("2019-01", "-1", "51.5", ""), row("2019-01", "-1", "51.6", ""))
    (tmp_path / "2019-01-x-street.csv").write_text(text)
    (tmp_path / "2019-01").mkdir()
    (tmp_path / "2019-01" / "2019-01-x-street.csv.gz").write_bytes(gzip.compress(text.encode()))
    with pytest.warns(DataQualityWarning, match="read once"):
        incidents, coverage = read_street(tmp_path, cache_dir=False)
    assert len(incidents) == 2
    assert coverage["files"].iloc[0] == "2019-01-x-street.csv; 2019-01-x-street.csv.gz"


def test_unknown_lsoa_is_na_and_counted(tmp_path: Path) -> None:
    lookup = pd.DataFrame(
        {"lsoa11_code": ["E01017648"], "lsoa21_code": ["E01017648"], "change_code": ["U"]}
    )
    (tmp_path / "2019-01-x-street.csv").write_text(
        street_text(
            row("2019-01", "-1", "51.5", "E01017648"), row("2019-01", "-1", "51.5", "E01999999")
        )
    )
    with pytest.warns(DataQualityWarning, match="E01999999"):
        incidents, coverage = read_street(tmp_path, lookup=lookup, cache_dir=False)
    assert incidents["lsoa"].tolist() == ["E01017648", pd.NA]
    assert incidents["lsoa_source"].tolist() == ["E01017648", "E01999999"]
    assert incidents["lsoa_mapping"].tolist() == ["unchanged", "unknown"]
    assert coverage["rows_unknown_lsoa"].tolist() == [1]


def test_blank_lines_keep_row_numbers(tmp_path: Path) -> None:
    text = street_text(row("2019-01", "-1", "51.5", ""), "", row("2019-01", "-1", "51.5", "E0101"))
    (tmp_path / "2019-01-x-street.csv").write_text(text)
    with pytest.raises(policeuk.InputError, match="row 4, column 'LSOA code'"):
        read_street(tmp_path, cache_dir=False)


# ---------------------------------------------------------------------------- vintages


@pytest.mark.shared_data
def test_2011_to_2021_splits_by_point_and_merges_to_one(
    shared_data: Path, lookup: pd.DataFrame, lsoa21: gpd.GeoDataFrame
) -> None:
    path = shared_data / "police_uk" / "thames-valley" / "2019-02-thames-valley-street.csv.gz"
    with warnings.catch_warnings():
        warnings.simplefilter("error", DataQualityWarning)  # nothing unusual in a real file
        incidents, coverage = read_street(
            path, vintage="2021", lookup=lookup, boundaries=lsoa21, cache_dir=False
        )
    assert coverage["rows_unknown_lsoa"].tolist() == [0]
    change = lookup.drop_duplicates("lsoa11_code").set_index("lsoa11_code")["change_code"]
    kind = incidents["lsoa_source"].map(change)
    unchanged = kind == "U"
    assert (incidents.loc[unchanged, "lsoa"] == incidents.loc[unchanged, "lsoa_source"]).all()
    merged = incidents[kind == "M"]
    targets = lookup.drop_duplicates("lsoa11_code").set_index("lsoa11_code")["lsoa21_code"]
    assert len(merged) > 0
    assert merged["lsoa"].tolist() == merged["lsoa_source"].map(targets).tolist()
    split = incidents[kind == "S"]
    assert len(split) > 100
    assert split["lsoa_mapping"].isin(["point-in-polygon", "nearest"]).all()
    children = lookup.groupby("lsoa11_code")["lsoa21_code"].agg(set)
    assert all(
        code in children[parent]
        for code, parent in zip(split["lsoa"], split["lsoa_source"], strict=True)
    )
    # independently: a spatial join of the split rows' points on the 2021 polygons
    inside = split[split["lsoa_mapping"] == "point-in-polygon"]
    sample = inside.sample(50, random_state=1) if len(inside) > 50 else inside
    joined = gpd.sjoin(
        sample[["geometry", "lsoa", "lsoa_source"]],
        lsoa21[["geometry"]].rename_axis("lsoa21"),
        predicate="within",
    ).reset_index()
    joined = joined[joined.apply(lambda r: r["lsoa21"] in children[r["lsoa_source"]], axis=1)]
    assert (joined["lsoa21"] == joined["lsoa"]).all()
    assert joined["index"].nunique() == len(sample)


@pytest.mark.shared_data
def test_2021_file_is_detected_and_mapped_back_to_2011(
    shared_data: Path, lookup: pd.DataFrame, tmp_path: Path
) -> None:
    boundaries = (
        gpd.read_file(shared_data / "geography" / "tv_lsoa11_boundaries_bsc_simplified.geojson")
        .to_crs("EPSG:27700")
        .set_index("lsoa11_code")
    )
    # a 2021 code that kept its 2011 code, one that is new (its 2011 LSOA was split),
    # and one made by merging 2011 LSOAs that are in Thames Valley
    tv11 = set(boundaries.index)
    split = lookup[(lookup["change_code"] == "S") & lookup["lsoa11_code"].isin(tv11)].iloc[0]
    merged_to = lookup[(lookup["change_code"] == "M") & lookup["lsoa11_code"].isin(tv11)]
    merged = merged_to[merged_to["lsoa21_code"].duplicated(keep=False)].iloc[0]["lsoa21_code"]
    parents = sorted(lookup.loc[lookup["lsoa21_code"] == merged, "lsoa11_code"])
    point = boundaries.loc[parents[-1], "geometry"].representative_point()
    lon, lat = Transformer.from_crs(27700, 4326, always_xy=True).transform(point.x, point.y)
    path = tmp_path / "2023-01-thames-valley-street.csv"
    path.write_text(
        street_text(
            row("2023-01", "-0.97", "51.99", "E01017648"),
            row("2023-01", "-0.97", "51.99", split["lsoa21_code"]),
            row("2023-01", f"{lon:.6f}", f"{lat:.6f}", merged),
            row("2023-01", "", "", ""),
        )
    )
    incidents, _ = read_street(
        path, vintage="2011", lookup=lookup, boundaries=boundaries, cache_dir=False
    )
    assert incidents["lsoa"].tolist()[:3] == ["E01017648", split["lsoa11_code"], parents[-1]]
    assert incidents["lsoa_mapping"].tolist() == [
        "unchanged",
        "one-to-one",
        "point-in-polygon",
        "none",
    ]
    assert incidents["lsoa_source"].tolist()[2] == merged
    # told the vintage, the same answer
    told, _ = read_street(
        path,
        vintage="2011",
        lookup=lookup,
        boundaries=boundaries,
        source_vintage="2021",
        cache_dir=False,
    )
    assert_frame_equal(told, incidents)


def test_without_lookup_codes_are_taken_as_the_analysis_vintage(tmp_path: Path) -> None:
    (tmp_path / "2019-01-x-street.csv").write_text(
        street_text(row("2019-01", "-1", "51.5", "E01099999"))
    )
    incidents, coverage = read_street(tmp_path, vintage="2021", cache_dir=False)
    assert incidents["lsoa"].tolist() == ["E01099999"]
    assert coverage["rows_unknown_lsoa"].isna().all()
    with pytest.raises(policeuk.InputError, match="give the ONS LSOA 2011 to 2021 lookup"):
        read_street(tmp_path, vintage="2021", source_vintage="2011", cache_dir=False)


def test_find_street_files_sorts_and_reads_names(tmp_path: Path) -> None:
    for name in (
        "2019-02-thames-valley-street.csv",
        "2019-01-thames-valley-street.csv.gz",
        "2019-01-city-of-london-street.csv",
        "2019-01-thames-valley-outcomes.csv",
        "notes.txt",
    ):
        (tmp_path / name).write_bytes(b"")
    found = find_street_files(tmp_path)
    assert [(str(f.month), f.force, f.name) for f in found] == [
        ("2019-01", "city-of-london", "2019-01-city-of-london-street.csv"),
        ("2019-01", "thames-valley", "2019-01-thames-valley-street.csv.gz"),
        ("2019-02", "thames-valley", "2019-02-thames-valley-street.csv"),
    ]
    assert [f.force for f in find_street_files(tmp_path, forces=["City-of-London"])] == [
        "city-of-london"
    ]


def test_quoted_commas_and_bom_are_read(tmp_path: Path) -> None:
    quoted = 'x1,2019-01,TVP,TVP,-1,51.5,"On or near Smith, Jones and Co",,,Burglary,,'
    (tmp_path / "2019-01-x-street.csv").write_bytes(b"\xef\xbb\xbf" + street_text(quoted).encode())
    incidents, _ = read_street(tmp_path, cache_dir=False)
    assert incidents["location"].tolist() == ["On or near Smith, Jones and Co"]
    assert incidents["lsoa_source"].isna().all() and incidents.geometry.notna().all()
