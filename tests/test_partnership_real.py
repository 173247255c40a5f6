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
