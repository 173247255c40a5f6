"""load_partnership and `cspanalysis validate` on the real police.uk / ONS files in ../shared/data.

Expected counts are computed independently here, with plain pandas on the raw
files and the ONS lookup, never with the loaders under test.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

import cspanalysis
from cspanalysis.cli import app

ROOT = Path(__file__).resolve().parents[1]
TV_PARAMS = sorted((ROOT / "params" / "thames-valley").glob("*.yaml"))
COL_PARAMS = ROOT / "params" / "city-of-london" / "city-of-london.yaml"
TV_MONTHS = ["2018-06", "2018-10", "2018-11", "2018-12", "2019-01", "2019-02"]

pytestmark = pytest.mark.shared_data


@pytest.fixture(scope="module")
def shared_cache(tmp_path_factory):
    """One cache for the module, so the force's files are parsed once for all partnerships."""
    return tmp_path_factory.mktemp("shared-cache")


@pytest.fixture(scope="module")
def raw_tv(shared_data: Path) -> pd.DataFrame:
    frames = [
        pd.read_csv(
            shared_data / f"police_uk/thames-valley/{m}-thames-valley-street.csv.gz", dtype=str
        )
        for m in TV_MONTHS
    ]
    return pd.concat(frames, ignore_index=True)


@pytest.fixture(scope="module")
def tv_lookup(shared_data: Path) -> pd.DataFrame:
    return pd.read_csv(shared_data / "lookups/tv_lsoa11_to_district_csp.csv", dtype=str)


def _load(path: Path, shared_data: Path, cache: Path, monkeypatch) -> cspanalysis.PartnershipData:
    monkeypatch.setenv("CSPANALYSIS_CACHE", str(cache))
    return cspanalysis.load_partnership(path, data_root=shared_data)


@pytest.mark.parametrize("path", TV_PARAMS, ids=[p.stem for p in TV_PARAMS])
def test_thames_valley_counts_match_plain_pandas(
    path, shared_data, shared_cache, raw_tv, tv_lookup, monkeypatch
):
    data = _load(path, shared_data, shared_cache, monkeypatch)
    districts = set(data.params.areas.districts)
    lsoas = set(tv_lookup.loc[tv_lookup["ltla19_code"].isin(districts), "lsoa11_code"])
    assert set(data.areas.index) == lsoas

    in_area = raw_tv["LSOA code"].isin(lsoas)
    no_loc = raw_tv["LSOA code"].isna()
    expected = pd.DataFrame(
        {
            "rows": raw_tv.groupby("Month").size(),
            "rows_in_area": in_area.groupby(raw_tv["Month"]).sum(),
            "rows_no_location": no_loc.groupby(raw_tv["Month"]).sum(),
            "rows_outside": (~in_area & ~no_loc).groupby(raw_tv["Month"]).sum(),
        }
    )
    cov = data.coverage.set_index(data.coverage["month"].astype(str))
    present = cov[cov["status"] == "present"]
    assert list(present.index) == TV_MONTHS
    for col in expected.columns:
        assert present[col].astype(int).to_dict() == expected[col].astype(int).to_dict(), col

    # the months police.uk did not publish here are missing, not zero
    missing = cov[cov["status"] == "missing"]
    assert list(missing.index) == ["2018-07", "2018-08", "2018-09"]
    assert missing["rows_in_area"].isna().all()
    assert [str(m) for m in data.missing_months()] == ["2018-07", "2018-08", "2018-09"]
    monthly = data.monthly_counts(by=None)
    assert (
        monthly.loc[pd.Period("2018-08", "M"), "total"]
        != monthly.loc[pd.Period("2018-08", "M"), "total"]
    )
    # incidents kept are exactly the partnership's rows
    by_month = data.incidents.groupby(data.incidents["month"].astype(str)).size()
    assert by_month.to_dict() == expected["rows_in_area"].astype(int).to_dict()
    assert data.incidents["lsoa"].isin(lsoas).all()
    assert data.boundary.shape[0] == 1
    assert data.incidents.crs.to_epsg() == 27700


def test_all_thames_valley_partnerships_partition_the_force(
    shared_data, shared_cache, raw_tv, monkeypatch
):
    singles = [p for p in TV_PARAMS if "-and-" not in p.stem or p.stem == "windsor-and-maidenhead"]
    assert len(singles) == 16
    total = sum(len(_load(p, shared_data, shared_cache, monkeypatch).incidents) for p in singles)
    located_in_tv = raw_tv["LSOA code"].notna() & raw_tv["LSOA name"].notna()
    tv_lsoas = set(
        pd.read_csv(shared_data / "lookups/tv_lsoa11_to_district_csp.csv")["lsoa11_code"]
    )
    assert total == int((located_in_tv & raw_tv["LSOA code"].isin(tv_lsoas)).sum())


def test_city_of_london_has_36_consecutive_months(shared_data, shared_cache, monkeypatch):
    data = _load(COL_PARAMS, shared_data, shared_cache, monkeypatch)
    months = [str(m) for m in data.months()]
    assert months == [str(m) for m in pd.period_range("2017-12", "2020-11", freq="M")]
    assert len(data.missing_months()) == 0
    raw = pd.concat(
        pd.read_csv(f, dtype=str)
        for f in sorted((shared_data / "police_uk/city-of-london").glob("*.csv.gz"))
    )
    assert len(raw) == 24_750
    col_lsoas = set(data.areas.index)
    assert len(col_lsoas) == 6
    in_city = int(raw["LSOA code"].isin(col_lsoas).sum())
    unlocated = int(raw["LSOA code"].isna().sum())
    assert in_city == 21_597 and unlocated == 1_807
    # coterminous with its force: unlocated rows count in the City's totals
    assert len(data.incidents) == in_city + unlocated
    assert str(data.period_end) == "2020-11"


def test_validate_command_reports_missing_months_not_zero(shared_data, shared_cache, monkeypatch):
    monkeypatch.setenv("CSPANALYSIS_CACHE", str(shared_cache))
    result = CliRunner().invoke(
        app,
        [
            "validate",
            str(ROOT / "params/thames-valley/reading.yaml"),
            "--data-root",
            str(shared_data),
        ],
    )
    assert result.exit_code == 0, result.output
    out = result.output
    assert "missing months (not zero): 2018-07 to 2018-09" in out
    line = next(row for row in out.splitlines() if "2018-08" in row and "police.uk" in row)
    assert line.split()[-4:] == ["missing"] * 4
    assert "no location" in out and "outside partnership" in out and "in partnership" in out


def test_validate_command_bad_file_is_one_line(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: X\nareas: {districtz: [E06000038]}\n")
    result = CliRunner().invoke(app, ["validate", str(bad)])
    assert result.exit_code == 2
    assert "unknown key 'areas.districtz'" in result.output
    assert "Traceback" not in result.output


def test_reading_in_the_2021_vintage_keeps_every_row_and_splits_by_point(
    shared_data, shared_cache, monkeypatch, tmp_path
):
    """2011-coded police.uk files loaded into a 2021 analysis: same rows, split LSOAs by point."""
    text = (ROOT / "params/thames-valley/reading.yaml").read_text()
    text = (
        text.replace('vintage: "2011"', 'vintage: "2021"')
        .replace(
            "tv_lsoa11_boundaries_generalised_martinjc.geojson",
            "tv_lsoa21_boundaries_bsc_simplified.geojson",
        )
        .replace("tv_lsoa11_to_district_csp.csv", "tv_lsoa21_to_district_csp.csv")
        .replace("data_root: ../../../shared/data", f"data_root: {shared_data}")
    )
    params21 = tmp_path / "reading-2021.yaml"
    params21.write_text(text)
    d11 = _load(ROOT / "params/thames-valley/reading.yaml", shared_data, shared_cache, monkeypatch)
    d21 = _load(params21, shared_data, shared_cache, monkeypatch)
    assert d21.params.vintage == "2021"
    assert len(d21.incidents) == len(d11.incidents)
    # every 2021 code is a Reading 2021 LSOA; compare with the ONS lookup independently
    lk = pd.read_csv(shared_data / "lookups/lsoa11_to_lsoa21_to_ltla22_ew.csv.gz", dtype=str)
    assert set(d21.incidents["lsoa"]) <= set(d21.areas.index)
    split_parents = set(lk.loc[lk["change_code"] == "S", "lsoa11_code"]) & set(d11.areas.index)
    assert split_parents, "Reading has split LSOAs"
    merged = d21.incidents.merge(
        d11.incidents[["crime_id", "lsoa"]].dropna(subset=["crime_id"]),
        on="crime_id",
        suffixes=("_21", "_11"),
    )
    pairs = set(zip(lk["lsoa11_code"], lk["lsoa21_code"], strict=True))
    assert all((a, b) in pairs for a, b in zip(merged["lsoa_11"], merged["lsoa_21"], strict=True))
    # rows of a split parent are spread over more than one child, by where they happened
    children = merged[merged["lsoa_11"].isin(split_parents)].groupby("lsoa_11")["lsoa_21"].nunique()
    assert (children > 1).any()
    # the population is carried from 2011 to 2021 without loss
    assert d21.areas["population"].sum() == pytest.approx(d11.areas["population"].sum())
