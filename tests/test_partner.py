"""Partner datasets: the schema, its errors, pseudonymisation, locations, coverage and vintages."""

from __future__ import annotations

import collections
import csv
import gzip
import hashlib
import hmac
import warnings
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from pyproj import Transformer
from shapely.geometry import Point

from cspanalysis.data.partner import PARTNER_COLUMNS, pseudonymise, read_partner
from cspanalysis.data.schema import check_coverage, check_incidents
from cspanalysis.data.vintages import read_vintage_lookup
from cspanalysis.errors import DataQualityWarning, InputError

TO_BNG = Transformer.from_crs("EPSG:4326", "EPSG:27700", always_xy=True)


def write(folder: Path, text: str | bytes, name: str = "partner.csv") -> Path:
    path = folder / name
    if isinstance(text, str):
        path.write_text(text, encoding="utf-8")
    else:
        path.write_bytes(text)
    return path


def all_text(frame: pd.DataFrame) -> str:
    """Every cell of a frame (geometry aside) as text, to search for what must not be there."""
    return " ".join(str(v) for v in frame.drop(columns="geometry").to_numpy().ravel())


def read_quietly(path: Path, **kwargs):
    """read_partner with DataQualityWarnings turned into a list we can inspect."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        inc, cov = read_partner(path, **kwargs)
    return inc, cov, [w for w in caught if issubclass(w.category, DataQualityWarning)]


# ------------------------------------------------------------------------------- bad input

GOOD_HEAD = "date,category,lsoa,count\n"

BAD_INPUTS = [
    # (id, file content, read_partner keyword arguments, words the message must contain)
    ("no category", "date,type\n2024-01-05,Noise\n", {}, ["no 'category' column", "type"]),
    ("no date or month", "category,lsoa\nNoise,E01000001\n", {}, ["no 'date' or 'month'"]),
    (
        "impossible date",
        GOOD_HEAD + "2024-01-05,Noise,E01000001,1\n31/02/2024,Noise,E01000001,1\n",
        {},
        ["row 3", "column 'date'", "'31/02/2024'", "YYYY-MM-DD or DD/MM/YYYY"],
    ),
    (
        "US-style date",
        GOOD_HEAD + "01/13/2024,Noise,E01000001,1\n",
        {},
        ["row 2", "'01/13/2024'", "not a date"],
    ),
    (
        "text date, two rows",
        GOOD_HEAD + "Jan 2024,Noise,E01000001,1\nFeb 2024,Noise,E01000001,1\n",
        {},
        ["row 2", "'Jan 2024'", "1 more rows like it"],
    ),
    ("blank date", GOOD_HEAD + ",Noise,E01000001,1\n", {}, ["row 2", "blank", "not a date"]),
    (
        "bad month",
        "month,category\n2024-01,Noise\n2024-13,Noise\n",
        {},
        ["row 3", "column 'month'", "'2024-13'", "YYYY-MM"],
    ),
    (
        "future date",
        GOOD_HEAD + "2204-01-05,Noise,E01000001,1\n",
        {},
        ["row 2", "'2204-01-05'", "future", "year"],
    ),
    (
        "negative count",
        GOOD_HEAD + "2024-01-05,Noise,E01000001,-1\n",
        {},
        ["row 2", "column 'count'", "'-1'", "whole number"],
    ),
    (
        "fractional count",
        GOOD_HEAD + "2024-01-05,Noise,E01000001,1\n2024-01-06,Noise,E01000001,1.5\n",
        {},
        ["row 3", "'1.5'", "whole number"],
    ),
    ("text count", GOOD_HEAD + "2024-01-05,Noise,E01000001,two\n", {}, ["row 2", "'two'"]),
    ("blank count", GOOD_HEAD + "2024-01-05,Noise,E01000001,\n", {}, ["row 2", "blank"]),
    (
        "short LSOA code",
        GOOD_HEAD + "2024-01-05,Noise,E0100001,1\n",
        {},
        ["row 2", "column 'lsoa'", "'E0100001'", "not an LSOA code"],
    ),
    (
        "ward code as LSOA",
        GOOD_HEAD + "2024-01-05,Noise,E05000001,1\n",
        {},
        ["row 2", "'E05000001'"],
    ),
    (
        "person ids without salt",
        "date,category,person_id\n2024-01-05,Noise,NHS123\n",
        {},
        ["column 'person_id'", "salt"],
    ),
    ("empty file", "", {}, ["empty"]),
    ("blank lines only", "\n\n  \n", {}, ["empty"]),
    ("header only", GOOD_HEAD, {}, ["no rows", "count 0"]),
    (
        "not UTF-8",
        (GOOD_HEAD + "2024-01-05,Noise,E01000001,1\n2024-01-06,Caf\xe9,E01000001,1\n").encode(
            "latin-1"
        ),
        {},
        ["row 3", "UTF-8", "0xe9"],
    ),
    (
        "not UTF-8 after a quoted line break",
        b'date,category,location\n2024-01-05,Noise,"Flat 1\nHigh St"\n2024-01-06,Caf\xe9,x\n',
        {},
        ["row 3", "UTF-8"],
    ),
    (
        "date and month disagree",
        "date,month,category\n2024-01-05,2024-01,Noise\n2024-02-05,2024-03,Noise\n",
        {},
        ["row 3", "'2024-02-05'", "'2024-03'"],
    ),
    (
        "ragged row",
        GOOD_HEAD + "2024-01-05,Noise,E01000001,1\n2024-01-06,Noise, bad,E01000001,1\n",
        {},
        ["row 3", "5 fields", "header has 4"],
    ),
    (
        "text longitude",
        "date,category,longitude,latitude\n2024-01-05,Noise,west,51.4\n",
        {},
        ["row 2", "column 'longitude'", "'west'", "not a number"],
    ),
    (
        "longitude without latitude",
        "date,category,longitude\n2024-01-05,Noise,-0.9\n",
        {},
        ["'longitude' column but no 'latitude'"],
    ),
    (
        "columns maps a missing header",
        GOOD_HEAD + "2024-01-05,Noise,E01000001,1\n",
        {"columns": {"category": "Type"}},
        ["'category' to 'Type'", "no such column"],
    ),
    (
        "columns names an unknown field",
        GOOD_HEAD + "2024-01-05,Noise,E01000001,1\n",
        {"columns": {"crime_type": "category"}},
        ["unknown schema field", "'crime_type'"],
    ),
    (
        "repeated header",
        "date,category,Category\n2024-01-05,Noise,Noise\n",
        {},
        ["repeats", "'category'"],
    ),
    ("Excel workbook", b"PK\x03\x04rest-of-a-zip", {}, ["Excel", "CSV UTF-8"]),
    ("semicolons", "date;category\n2024-01-05;Noise\n", {}, ["semicolons"]),
]


@pytest.mark.parametrize(
    ("content", "kwargs", "words"), [c[1:] for c in BAD_INPUTS], ids=[c[0] for c in BAD_INPUTS]
)
def test_bad_input_is_one_sentence_naming_file_row_and_column(tmp_path, content, kwargs, words):
    path = write(tmp_path, content)
    with pytest.raises(InputError) as info:
        read_partner(path, name="asb", **kwargs)
    message = str(info.value)
    assert info.value.path == str(path)
    assert "partner.csv" in message
    for word in words:
        assert word in message, f"{word!r} not in {message!r}"
    assert "\n" not in message and "Traceback" not in message


def test_missing_file_and_bad_gzip(tmp_path):
    with pytest.raises(InputError, match="not found"):
        read_partner(tmp_path / "nope.csv", name="asb")
    path = write(tmp_path, gzip.compress(b"date,category\n2024-01-05,Noise\n")[:-9], "p.csv.gz")
    with pytest.raises(InputError, match="not a complete gzip file"):
        read_partner(path, name="asb")


def test_salt_must_not_be_empty():
    with pytest.raises(InputError, match="salt"):
        pseudonymise(pd.Series(["a"]), "")


# ------------------------------------------------------------------------------- privacy


def test_person_ids_are_hmac_sha256_and_never_kept_in_clear(tmp_path):
    ids = ["NHS-0001", "NHS-0002", "NHS-0001", ""]
    rows = "".join(f"2024-01-0{i + 1},Assault,{pid}\n" for i, pid in enumerate(ids))
    path = write(tmp_path, "date,category,person_id\n" + rows)
    salt = "a-long-secret-salt"
    inc, _, _ = read_quietly(path, name="ed", salt=salt)

    def expected(pid: str) -> str:
        return hmac.new(salt.encode(), pid.encode(), hashlib.sha256).hexdigest()

    assert inc["person_id"].iloc[:3].tolist() == [expected(p) for p in ids[:3]]
    assert pd.isna(inc["person_id"].iloc[3])
    assert inc["person_id"].iloc[0] == inc["person_id"].iloc[2]  # repeats still link up
    every_cell = all_text(inc)
    assert "NHS-000" not in every_cell
    # deterministic for a salt, unrelated under another
    again, _, _ = read_quietly(path, name="ed", salt=salt)
    other, _, _ = read_quietly(path, name="ed", salt="another-salt")
    assert again["person_id"].equals(inc["person_id"])
    assert not set(other["person_id"].dropna()) & set(inc["person_id"].dropna())


def test_pseudonymise_keeps_index_and_na():
    ids = pd.Series(["x", None, "y"], index=[10, 11, 12], name="pid")
    out = pseudonymise(ids, "salt")
    assert out.index.tolist() == [10, 11, 12] and out.name == "pid"
    assert out.isna().tolist() == [False, True, False]
    assert out[12] == hmac.new(b"salt", b"y", hashlib.sha256).hexdigest()


# ------------------------------------------------------------------------------- counts, coverage


def test_counts_and_coverage_match_plain_tallies_of_the_file(tmp_path):
    rng = np.random.default_rng(7)
    months = ["2023-01", "2023-02", "2023-04", "2023-05", "2023-08"]  # 03, 06, 07 absent
    lines = ["Date,Category,LSOA,Count"]
    for _ in range(400):
        m = months[rng.integers(len(months))]
        day = int(rng.integers(1, 29))
        date = f"{day:02d}/{m[5:]}/{m[:4]}" if rng.random() < 0.5 else f"{m}-{day:02d}"
        lsoa = f"E0100{int(rng.integers(1000, 1010)):04d}" if rng.random() < 0.8 else ""
        lines.append(
            f"{date},{rng.choice(['Noise', 'Litter', 'Nuisance'])},{lsoa},{int(rng.integers(1, 4))}"
        )
    lines.append("2023-05-31,Noise,,0")  # a declared nothing-to-report row
    lines.append("15/10/2023,,,0")  # October: supplied, nothing to report
    path = write(tmp_path, "\n".join(lines) + "\n")
    inc, cov, caught = read_quietly(path, name="asb")
    check_incidents(inc)
    check_coverage(cov)
    assert not caught

    # independent tallies with the csv module
    with open(path, newline="", encoding="utf-8") as fh:
        records = list(csv.DictReader(fh))
    month_of = [
        r["Date"][:7] if "-" in r["Date"] else r["Date"][6:] + "-" + r["Date"][3:5] for r in records
    ]
    rows = collections.Counter(month_of)
    no_location = collections.Counter(
        m for m, r in zip(month_of, records, strict=True) if not r["LSOA"]
    )
    total = collections.Counter()
    for m, r in zip(month_of, records, strict=True):
        total[m] += int(r["Count"])

    assert len(inc) == len(records)
    assert inc["count"].sum() == sum(int(r["Count"]) for r in records)
    by_month = inc.groupby(inc["month"].astype(str))["count"].sum()
    assert by_month.to_dict() == dict(total)

    span = pd.period_range("2023-01", "2023-10", freq="M").astype(str).tolist()
    assert cov["month"].astype(str).tolist() == span
    assert (cov["source"] == "partner:asb").all()
    for _, row in cov.iterrows():
        m = str(row["month"])
        if m in rows:
            assert row["status"] == "present"
            assert row["rows"] == rows[m] and row["rows_no_location"] == no_location[m]
            assert row["files"] == "partner.csv"
        else:  # missing is NA, never zero
            assert row["status"] == "missing"
            assert pd.isna(row["rows"]) and pd.isna(row["rows_no_location"])
            assert row["files"] == ""
        assert pd.isna(row["rows_outside"]) and pd.isna(row["rows_in_area"])
    assert set(cov.loc[cov["status"] == "missing", "month"].astype(str)) == {
        "2023-03",
        "2023-06",
        "2023-07",
        "2023-09",
    }


def test_incidents_follow_the_schema(tmp_path):
    path = write(
        tmp_path,
        "\ufeffMonth , CATEGORY,lsoa,location,outcome\n"
        "2024-02,Deliberate fire, e01000001 ,On or near Park Road,Crew attended\n\n"
        "2024-02,Deliberate fire,,,\n",
    )
    inc, cov, caught = read_quietly(path, name="fire")
    check_incidents(inc)
    assert list(inc.columns[:12]) == [
        "month",
        "category",
        "source",
        "force",
        "crime_id",
        "lsoa",
        "lsoa_source",
        "location",
        "outcome",
        "count",
        "person_id",
        "geometry",
    ]
    assert inc["lsoa_mapping"].tolist() == ["unchanged", "none"]
    assert inc["month"].dtype == pd.PeriodDtype("M")
    assert inc["source"].unique().tolist() == ["fire"]
    assert inc["force"].isna().all() and inc["crime_id"].isna().all()
    assert inc["count"].tolist() == [1, 1] and inc["count"].dtype == "int64"
    assert inc["lsoa"].iloc[0] == "E01000001" and inc["lsoa_source"].iloc[0] == "E01000001"
    assert inc["location"].tolist()[0] == "On or near Park Road"
    assert inc["outcome"].isna().tolist() == [False, True]
    assert inc.geometry.isna().all()
    assert cov["rows"].tolist() == [2] and cov["rows_no_location"].tolist() == [1]
    assert not caught
    assert set(PARTNER_COLUMNS) >= {"date", "month", "category", "count", "person_id"}


def test_blank_lines_do_not_shift_row_numbers(tmp_path):
    path = write(tmp_path, GOOD_HEAD + "\n2024-01-05,Noise,E01000001,1\n,,,\n2024-01-06,x,E01,1\n")
    with pytest.raises(InputError, match="row 5, column 'lsoa'"):
        read_partner(path, name="asb")


# ------------------------------------------------------------------------------- locations


READING = (-0.97127, 51.45652)  # a point in Reading town centre (WGS 84)


def test_longitude_latitude_and_easting_northing_give_the_same_point(tmp_path):
    e, n = TO_BNG.transform(*READING)
    path = write(
        tmp_path,
        "date,category,longitude,latitude,easting,northing\n"
        f"2024-01-05,Noise,{READING[0]},{READING[1]},,\n"
        f"2024-01-05,Noise,,,{e:.3f},{n:.3f}\n"
        f"2024-01-05,Noise,{READING[0]},{READING[1]},{e:.3f},{n:.3f}\n",
    )
    inc, cov, caught = read_quietly(path, name="asb")
    assert not caught
    assert inc.crs.to_epsg() == 27700
    xy = np.column_stack([inc.geometry.x, inc.geometry.y])
    np.testing.assert_allclose(xy, [[e, n]] * 3, atol=0.001)
    assert inc["lsoa"].isna().all()  # left to the partnership's point in polygon
    assert cov["rows_no_location"].tolist() == [0]


def test_all_three_location_options_agree_on_a_real_lsoa(tmp_path, shared_data):
    lsoas = gpd.read_file(shared_data / "geography/tv_lsoa11_boundaries_bsc_simplified.geojson")
    lsoa = lsoas.iloc[100]
    lon, lat = lsoa.geometry.representative_point().coords[0]
    e, n = TO_BNG.transform(lon, lat)
    code = lsoa["lsoa11_code"]
    path = write(
        tmp_path,
        "date,category,lsoa,longitude,latitude,easting,northing\n"
        f"2024-01-05,Noise,{code},,,,\n"
        f"2024-01-05,Noise,,{lon},{lat},,\n"
        f"2024-01-05,Noise,,,,{e},{n}\n",
    )
    inc, _, _ = read_quietly(path, name="asb")
    polygon = lsoas.set_index("lsoa11_code").to_crs(27700).geometry[code]
    assert inc["lsoa"].iloc[0] == code
    assert polygon.contains(inc.geometry.iloc[1]) and polygon.contains(inc.geometry.iloc[2])
    assert inc.geometry.iloc[1].distance(inc.geometry.iloc[2]) < 0.001


def test_coordinates_outside_great_britain_are_kept_without_a_point(tmp_path):
    path = write(
        tmp_path,
        "date,category,longitude,latitude,easting,northing,lsoa\n"
        "2024-01-05,Noise,0,0,,,\n"  # null island
        f"2024-01-05,Noise,{READING[1]},{READING[0]},,,E01000001\n"  # swapped
        "2024-01-05,Noise,,,0,0,\n"  # placeholder easting/northing
        "2024-01-05,Noise,-0.97,,,,\n"  # half a pair
        f"2024-01-05,Noise,{READING[0]},{READING[1]},,,\n",
    )
    inc, cov, caught = read_quietly(path, name="asb")
    assert len(inc) == 5
    assert inc.geometry.isna().tolist() == [True, True, True, True, False]
    assert len(caught) == 1
    text = str(caught[0].message)
    assert "partner.csv" in text and "4 rows (rows 2, 3, 4, 5)" in text
    assert "outside Great Britain" in text and "swapped" in text
    assert cov["rows_bad_coordinates"].tolist() == [4]
    assert cov["rows_no_location"].tolist() == [3]  # the swapped row still has its LSOA


def test_disagreeing_coordinate_pairs_warn_and_use_easting_northing(tmp_path):
    e, n = TO_BNG.transform(*READING)
    path = write(
        tmp_path,
        "date,category,longitude,latitude,easting,northing\n"
        f"2024-01-05,Noise,{READING[0]},{READING[1]},{e + 500:.1f},{n:.1f}\n",
    )
    inc, _, caught = read_quietly(path, name="asb")
    assert inc.geometry.x.iloc[0] == pytest.approx(e + 500, abs=0.1)
    assert "more than 100 m" in str(caught[0].message)


# ------------------------------------------------------------------------------- headers, formats


def test_columns_maps_headers_and_unknown_columns_are_dropped_with_a_warning(tmp_path):
    path = write(
        tmp_path,
        "Incident Date,Type,Ward,Victim Name,Qty\n"
        "05/01/2024,Noise,Abbey,Jane Doe,2\n"
        "17/02/2024,Litter,Abbey,John Roe,1\n",
    )
    inc, _, caught = read_quietly(
        path, name="asb", columns={"date": "Incident Date", "category": "type", "count": "Qty"}
    )
    assert inc["month"].astype(str).tolist() == ["2024-01", "2024-02"]
    assert inc["category"].tolist() == ["Noise", "Litter"]
    assert inc["count"].tolist() == [2, 1]
    assert len(caught) == 1
    text = str(caught[0].message)
    assert "'Ward'" in text and "'Victim Name'" in text and "not loaded" in text
    every_cell = all_text(inc)
    assert "Jane" not in every_cell and "Abbey" not in every_cell


def test_gzipped_file_reads_like_the_plain_one(tmp_path):
    text = GOOD_HEAD + "2024-01-05,Noise,E01000001,3\n2024-03-05 14:30,Litter,,1\n"
    plain = write(tmp_path, text)
    packed = write(tmp_path, gzip.compress(text.encode()), "partner.csv.gz")
    a, ca, _ = read_quietly(plain, name="asb")
    b, cb, _ = read_quietly(packed, name="asb")
    pd.testing.assert_frame_equal(pd.DataFrame(a), pd.DataFrame(b))
    pd.testing.assert_frame_equal(ca.drop(columns="files"), cb.drop(columns="files"))
    assert cb["files"].tolist() == ["partner.csv.gz", "", "partner.csv.gz"]


def test_blank_category_is_kept_with_a_warning_unless_count_is_zero(tmp_path):
    path = write(tmp_path, GOOD_HEAD + "2024-01-05,,E01000001,2\n2024-02-05,,,0\n")
    inc, _, caught = read_quietly(path, name="asb")
    assert inc["category"].isna().all()
    assert len(caught) == 1 and "1 row (row 2)" in str(caught[0].message)


# ------------------------------------------------------------------------------- vintages

LOOKUP = pd.DataFrame(
    {
        "lsoa11_code": ["E01000001", "E01000002", "E01000002", "E01000003", "E01000004"],
        "lsoa21_code": ["E01000001", "E01033001", "E01033002", "E01033003", "E01033003"],
        "change_code": ["U", "S", "S", "M", "M"],
    }
)


def test_2011_codes_are_mapped_to_the_2021_analysis_vintage(tmp_path):
    path = write(
        tmp_path,
        "date,category,lsoa\n2024-01-05,Noise,E01000001\n2024-01-05,Noise,E01000003\n"
        "2024-01-05,Noise,E01000002\n2024-01-05,Noise,E01009999\n",
    )
    inc, cov, caught = read_quietly(path, name="asb", vintage="2021", lookup=LOOKUP)
    assert inc["lsoa_source"].tolist() == ["E01000001", "E01000003", "E01000002", "E01009999"]
    assert inc["lsoa"].tolist()[:3] == ["E01000001", "E01033003", "E01033001"]
    assert pd.isna(inc["lsoa"].iloc[3])
    assert inc["lsoa_mapping"].tolist() == ["unchanged", "one-to-one", "assigned", "unknown"]
    messages = " ".join(str(w.message) for w in caught)
    assert "'E01009999'" in messages and "several 2021 LSOAs" in messages
    assert cov["rows_unknown_lsoa"].tolist() == [1]
    # same vintage: nothing is mapped
    same, _, _ = read_quietly(path, name="asb", vintage="2011", lookup=LOOKUP)
    assert same["lsoa"].tolist() == same["lsoa_source"].tolist()


def test_vintage_without_a_lookup_names_the_file(tmp_path):
    path = write(tmp_path, "date,category,lsoa\n2024-01-05,Noise,E01000001\n")
    with pytest.raises(InputError, match=r"partner\.csv: .*vintage_lookup"):
        read_partner(path, name="asb", vintage="2021", source_vintage="2011")


def test_a_split_lsoa_is_resolved_by_the_rows_point_on_real_boundaries(tmp_path, shared_data):
    lookup = read_vintage_lookup(shared_data / "lookups/lsoa11_to_lsoa21_to_ltla22_ew.csv.gz")
    lsoa21 = gpd.read_file(shared_data / "geography/tv_lsoa21_boundaries_bsc_simplified.geojson")
    lsoa21 = lsoa21.set_index("lsoa21_code").to_crs(27700)
    split = lookup[(lookup["change_code"] == "S") & lookup["lsoa21_code"].isin(lsoa21.index)]
    old, new = split.iloc[0]["lsoa11_code"], split.iloc[0]["lsoa21_code"]
    point = lsoa21.geometry[new].representative_point()
    path = write(
        tmp_path,
        f"date,category,lsoa,easting,northing\n2019-01-05,Noise,{old},{point.x},{point.y}\n",
    )
    inc, _, _ = read_quietly(
        path, name="asb", vintage="2021", lookup=lookup, boundaries=lsoa21[["geometry"]]
    )
    assert inc["lsoa"].iloc[0] == new
    assert inc["lsoa_mapping"].iloc[0] == "point-in-polygon"
    assert lsoa21.geometry[new].contains(Point(point.x, point.y))


def test_demo_codes_are_accepted(tmp_path):
    path = write(tmp_path, "month,category,lsoa\n2024-01,Noise,X01000042\n")
    inc, _, _ = read_quietly(path, name="demo")
    assert inc["lsoa"].tolist() == ["X01000042"]
