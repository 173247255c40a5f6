"""Rates and concentration against hand-computed values."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats as sps

from cspanalysis.assessment import crime_rates, lsoa_concentration, rolling_window, top_lsoas
from cspanalysis.errors import InputError

AREAS = pd.DataFrame(
    {
        "name": ["A 001", "A 002", "A 003"],
        "population": [1500.0, 2000.0, 1000.0],
        "households": [600.0, 900.0, 500.0],
    },
    index=pd.Index(["E01", "E02", "E03"], name="lsoa"),
)


def incidents() -> pd.DataFrame:
    rows = []
    months = pd.period_range("2019-01", "2019-12", freq="M")
    for i, m in enumerate(months):
        rows += [
            (m, "Burglary", "E01", 2),
            (m, "Burglary", "E02", 1),
            (m, "Robbery", "E03", i % 2),
            (m, "Robbery", None, 1),
        ]
    return pd.DataFrame(rows, columns=["month", "category", "lsoa", "count"])


def garwood(k: int) -> tuple[float, float]:
    lo = 0.0 if k == 0 else sps.chi2.ppf(0.025, 2 * k) / 2
    return lo, sps.chi2.ppf(0.975, 2 * k + 2) / 2


def test_partnership_rates_per_1000_residents_and_households():
    r = crime_rates(incidents(), AREAS, rolling_window("2019-12"))
    p = r.partnership
    # burglary: 36 incidents over 2,000 households for a year
    assert p.loc["Burglary", "denominator_kind"] == "households"
    assert p.loc["Burglary", "rate"] == pytest.approx(1000 * 36 / 2000)
    lo, hi = garwood(36)
    assert p.loc["Burglary", "ci_low"] == pytest.approx(1000 * lo / 2000)
    assert p.loc["Burglary", "ci_high"] == pytest.approx(1000 * hi / 2000)
    # robbery: 6 located + 12 unlocated, all count for the partnership; 4,500 residents
    assert p.loc["Robbery", "count"] == 18
    assert p.loc["Robbery", "rate"] == pytest.approx(1000 * 18 / 4500)


def test_lsoa_rates_use_located_rows_only():
    r = crime_rates(incidents(), AREAS, rolling_window("2019-12"))
    lsoa = r.lsoa
    assert lsoa.loc[("E01", "Burglary"), "rate"] == pytest.approx(1000 * 24 / 600)
    assert lsoa.loc[("E03", "Robbery"), "count"] == 6
    assert lsoa.loc[("E01", "Robbery"), "count"] == 0
    assert lsoa.loc[("E03", "Robbery"), "rate"] == pytest.approx(1000 * 6 / 1000)


def test_missing_months_annualise_over_months_present_with_a_note():
    inc = incidents()
    inc = inc[inc["month"] > pd.Period("2019-06", "M")]
    window = rolling_window("2019-12")
    r = crime_rates(inc, AREAS, window, coverage=pd.period_range("2019-07", "2019-12", freq="M"))
    # 18 burglaries in 6 months: 1,000 households-years = 2000 * 0.5
    assert r.partnership.loc["Burglary", "months_present"] == 6
    assert r.partnership.loc["Burglary", "rate"] == pytest.approx(1000 * 18 / 1000)
    assert any("6 of 12 months" in n for n in r.notes)


def test_no_households_falls_back_to_residents_and_says_so():
    r = crime_rates(incidents(), AREAS.drop(columns="households"), rolling_window("2019-12"))
    assert r.partnership.loc["Burglary", "denominator_kind"] == "residents"
    assert r.partnership.loc["Burglary", "rate"] == pytest.approx(1000 * 36 / 4500)
    assert any("Household counts are not available" in n for n in r.notes)


def test_rates_need_population():
    with pytest.raises(InputError, match="population"):
        crime_rates(incidents(), AREAS.drop(columns="population"), rolling_window("2019-12"))


def test_concentration_and_top_lsoas():
    inc = incidents()
    c = lsoa_concentration(inc, AREAS, rolling_window("2019-12"), top_share=0.34)
    # burglary: 24 in E01, 12 in E02 -> top LSOA (1 of 3) holds 2/3
    assert c.loc["Burglary", "n_located"] == 36
    assert c.loc["Burglary", "share_top"] == pytest.approx(24 / 36)
    assert c.loc["Burglary", "lsoas_for_half"] == 1
    x = np.sort(np.array([24.0, 12.0, 0.0]))
    n = len(x)
    gini = sum((2 * (i + 1) - n - 1) * v for i, v in enumerate(x)) / (n * x.sum())
    assert c.loc["Burglary", "gini"] == pytest.approx(gini)
    top = top_lsoas(inc, AREAS, rolling_window("2019-12"), n=2)
    assert top.index.tolist() == ["E01", "E02"]
    assert top.loc["E01", "share"] == pytest.approx(24 / 42)
    assert top.loc["E01", "name"] == "A 001"
