"""Rolling change tables against counts and tests derived independently (plain pandas, math)."""

from __future__ import annotations

import math
import warnings
from pathlib import Path

import matplotlib
import numpy as np
import pandas as pd
import pytest
from scipy import stats as sps

from cspanalysis.assessment import (
    ALL_CRIME,
    ASB,
    assess_change,
    calendar_year,
    describe_months,
    financial_year,
    monthly_counts,
    present_months,
    rolling_change,
    rolling_window,
)
from cspanalysis.errors import DataQualityWarning, InputError

matplotlib.use("Agg")

CATS = ["Burglary", "Robbery", "Shoplifting", ASB]


def make_incidents(seed: int = 3, start: str = "2017-01", end: str = "2019-12") -> pd.DataFrame:
    """Aggregated incidents: one row per month x category, with a count."""
    rng = np.random.default_rng(seed)
    months = pd.period_range(start, end, freq="M")
    means = {"Burglary": 30, "Robbery": 4, "Shoplifting": 60, ASB: 80}
    rows = []
    for i, m in enumerate(months):
        for cat, mu in means.items():
            trend = 0.97 ** (i / 12) if cat == "Burglary" else 1.0
            rows.append((m, cat, int(rng.poisson(mu * trend))))
    out = pd.DataFrame(rows, columns=["month", "category", "count"])
    out["source"] = "police.uk"
    return out


def pandas_window_sum(inc: pd.DataFrame, cat: str, first: str, last: str) -> int:
    m = inc["month"]
    sel = (inc["category"] == cat) & (m >= pd.Period(first, "M")) & (m <= pd.Period(last, "M"))
    return int(inc.loc[sel, "count"].sum())


def hand_two_sided_binomial(a: int, n: int, p: float = 0.5) -> float:
    pmf = [math.comb(n, k) * p**k * (1 - p) ** (n - k) for k in range(n + 1)]
    return min(1.0, sum(q for q in pmf if q <= pmf[a] * (1 + 1e-7)))


def test_counts_match_plain_pandas_and_asb_is_separate():
    inc = make_incidents()
    t = rolling_change(inc, "2019-12")
    for cat in CATS:
        cur = pandas_window_sum(inc, cat, "2019-01", "2019-12")
        prev = pandas_window_sum(inc, cat, "2018-01", "2018-12")
        assert t.loc[cat, "current"] == cur
        assert t.loc[cat, "previous"] == prev
        assert t.loc[cat, "change"] == cur - prev
        assert t.loc[cat, "pct_change"] == pytest.approx(100 * (cur - prev) / prev)
    non_asb = inc[inc["category"] != ASB]
    cur_all = int(non_asb.loc[non_asb["month"] >= pd.Period("2019-01", "M"), "count"].sum())
    assert t.loc[ALL_CRIME, "current"] == cur_all
    assert list(t.index[-2:]) == [ASB, ALL_CRIME]
    for col in ("current", "previous", "change", "pct_change", "p_value", "significant"):
        assert col in t.columns
    assert (t["status"] == "complete").all()
    assert (t["months_compared"] == 12).all()


def test_p_value_and_interval_match_hand_derived_binomial():
    inc = make_incidents()
    t = rolling_change(inc, "2019-12")
    a, b = int(t.loc["Robbery", "current"]), int(t.loc["Robbery", "previous"])
    n = a + b
    assert t.loc["Robbery", "p_value"] == pytest.approx(hand_two_sided_binomial(a, n), rel=1e-9)
    lo_p = sps.beta.ppf(0.025, a, n - a + 1)
    hi_p = sps.beta.ppf(0.975, a + 1, n - a)
    assert t.loc["Robbery", "ci_low"] == pytest.approx(lo_p / (1 - lo_p), rel=1e-7)
    assert t.loc["Robbery", "ci_high"] == pytest.approx(hi_p / (1 - hi_p), rel=1e-7)


def test_holm_correction_over_categories_only():
    inc = make_incidents()
    t = rolling_change(inc, "2019-12")
    cats = [c for c in t.index if c not in (ALL_CRIME, ASB)]
    p = t.loc[cats, "p_value"].to_numpy()
    # Holm by hand: sort, multiply by (m - rank), running maximum, cap at 1
    order = np.argsort(p)
    m = len(p)
    adj_sorted = np.maximum.accumulate([min(1.0, (m - i) * p[j]) for i, j in enumerate(order)])
    expected = np.empty(m)
    expected[order] = adj_sorted
    np.testing.assert_allclose(t.loc[cats, "p_adjusted"].to_numpy(), expected, rtol=1e-12)
    # headline rows are single pre-specified tests
    assert t.loc[ALL_CRIME, "p_adjusted"] == t.loc[ALL_CRIME, "p_value"]
    assert (t["significant"] == (t["p_adjusted"] < 0.05)).all()


def test_etest_matches_statsmodels():
    from statsmodels.stats.rates import test_poisson_2indep

    inc = make_incidents()
    t = rolling_change(inc, "2019-12", method="etest", correction="none")
    a, b = int(t.loc["Burglary", "current"]), int(t.loc["Burglary", "previous"])
    expected = test_poisson_2indep(a, 1.0, b, 1.0, method="etest").pvalue
    assert t.loc["Burglary", "p_value"] == pytest.approx(expected)


def test_missing_month_is_never_a_zero_shared_months_compared():
    inc = make_incidents()
    gone = pd.Period("2019-03", "M")
    inc = inc[inc["month"] != gone]
    with pytest.warns(DataQualityWarning, match="2019-03"):
        t = rolling_change(inc, "2019-12")
    assert (t["status"] == "shared months").all()
    assert (t["months_compared"] == 11).all()
    # both windows lose March: 2019 without March vs 2018 without March
    cur = pandas_window_sum(inc, "Shoplifting", "2019-01", "2019-12")
    prev = pandas_window_sum(inc, "Shoplifting", "2018-01", "2018-12") - pandas_window_sum(
        inc, "Shoplifting", "2018-03", "2018-03"
    )
    assert t.loc["Shoplifting", "current"] == cur
    assert t.loc["Shoplifting", "previous"] == prev
    assert "missing, not zero" in t.loc["Shoplifting", "note"]


def test_missing_month_unavailable_option():
    inc = make_incidents()
    inc = inc[inc["month"] != pd.Period("2018-07", "M")]
    with pytest.warns(DataQualityWarning):
        t = rolling_change(inc, "2019-12", incomplete="unavailable")
    assert (t["status"] == "unavailable").all()
    assert t["current"].isna().all() and t["p_value"].isna().all()
    assert t["significant"].isna().all()


def test_coverage_frame_marks_a_month_with_no_rows_as_present_or_missing():
    inc = make_incidents()
    inc = inc[~((inc["month"] == pd.Period("2019-05", "M")) & (inc["category"] == "Robbery"))]
    months = pd.period_range("2017-01", "2019-12", freq="M")
    cov = pd.DataFrame({"source": "police.uk:city-of-london", "month": months, "status": "present"})
    t = rolling_change(inc, "2019-12", coverage=cov)
    assert t.loc["Robbery", "current"] == pandas_window_sum(inc, "Robbery", "2019-01", "2019-12")
    cov.loc[cov["month"] == pd.Period("2019-05", "M"), "status"] = "missing"
    with pytest.warns(DataQualityWarning):
        t2 = rolling_change(inc, "2019-12", coverage=cov)
    assert t2.loc["Burglary", "months_compared"] == 11
    assert present_months(inc, cov).size == 35


def test_no_shared_months_is_reported_not_computed():
    # Thames Valley pattern: 2018-06, 2018-10..2019-02
    months = pd.PeriodIndex(
        ["2018-06", "2018-10", "2018-11", "2018-12", "2019-01", "2019-02"], freq="M"
    )
    inc = pd.DataFrame({"month": months, "category": "Burglary", "count": [10, 12, 9, 11, 8, 7]})
    with pytest.warns(DataQualityWarning, match="no month of the current period"):
        res = assess_change(inc, "2019-02")
    assert (res.table["status"] == "unavailable").all()
    (sentence,) = res.findings()
    assert sentence.startswith("No like-for-like comparison")
    assert "2018-07 to 2018-09" in sentence
    # the chart says why there is nothing to show, instead of an empty frame
    (text,) = [t.get_text() for t in res.plot().axes[0].texts]
    assert text.startswith("No change can be shown: no month of the current period")
    assert "2018-07 to 2018-09" in text
    # month on month is possible where consecutive
    mom = rolling_change(inc, ["2018-11", "2018-12", "2019-01", "2019-02"], months=1)
    assert mom.loc[(pd.Period("2019-02", "M"), "Burglary"), "current"] == 7
    assert mom.loc[(pd.Period("2019-02", "M"), "Burglary"), "previous"] == 8
    # October's previous month (September) is missing: unavailable, never compared with zero
    with pytest.warns(DataQualityWarning):
        oct_ = rolling_change(inc, "2018-10", months=1)
    assert oct_.loc["Burglary", "status"] == "unavailable"


def test_same_month_last_year_with_lag():
    inc = make_incidents()
    t = rolling_change(inc, "2019-06", months=1, lag=12)
    assert t.loc["Robbery", "current"] == pandas_window_sum(inc, "Robbery", "2019-06", "2019-06")
    assert t.loc["Robbery", "previous"] == pandas_window_sum(inc, "Robbery", "2018-06", "2018-06")
    assert t.loc["Robbery", "previous_period"] == "Jun 2018"


def test_several_end_months_and_partnership_layout():
    inc = make_incidents()
    res = assess_change(inc, ["2019-06", "2019-09", "2019-12"])
    assert isinstance(res.table.index, pd.MultiIndex)
    layout = res.layout(by_period=True, category=ASB)
    assert list(layout.columns[:4]) == ["Current", "Previous", "Change (No)", "Change (%)"]
    assert layout.index[0] == "Jul 2018 – Jun 2019"
    assert layout.iloc[0]["Current"] == pandas_window_sum(inc, ASB, "2018-07", "2019-06")
    by_cat = res.layout()
    assert by_cat.loc["Burglary", "Current"] == pandas_window_sum(
        inc, "Burglary", "2019-01", "2019-12"
    )


def test_findings_never_claim_an_unsupported_change():
    res = assess_change(make_incidents(), "2019-12")
    for (name, row), sentence in zip(res.table.iterrows(), res.findings(), strict=True):
        claims = ("fell" in sentence or "rose" in sentence) and "unlikely to be chance" in sentence
        assert claims == bool(row["significant"]), (name, sentence)


def test_the_issue_example_sentence():
    inc = pd.DataFrame(
        {
            "month": pd.PeriodIndex(["2018-06", "2019-06"], freq="M"),
            "category": "Burglary",
            "count": [368, 302],
        }
    )
    res = assess_change(inc, "2019-06", months=1, lag=12, totals=False)
    assert res.findings()[0] == (
        "Burglary fell 18% (368 to 302), a fall unlikely to be chance (p = 0.01)."
    )


def test_bad_input_is_one_clear_error():
    inc = make_incidents()
    with pytest.raises(InputError, match="after the last month with data"):
        rolling_change(inc, "2020-03")
    with pytest.raises(InputError, match="before the first month with data"):
        rolling_change(inc, "2015-03")
    with pytest.raises(InputError, match="YYYY-MM"):
        rolling_change(inc, "March 2020x")
    with pytest.raises(InputError, match="no incidents from source"):
        rolling_change(inc, "2019-12", source="council")
    with pytest.raises(InputError, match="lag"):
        rolling_change(inc, "2019-12", lag=3)


def test_plot_returns_a_figure():
    fig = assess_change(make_incidents(), "2019-12").plot()
    assert fig.axes[0].get_title().startswith("Change in recorded incidents")


def test_periods_and_monthly_counts():
    assert financial_year(2019).months.astype(str).tolist()[0] == "2019-04"
    assert calendar_year(2020).n_months == 12
    assert rolling_window("2020-02", 12).start == pd.Period("2019-03", "M")
    inc = make_incidents()
    inc = inc[inc["month"] != pd.Period("2018-02", "M")]
    counts = monthly_counts(inc)
    assert counts.loc[pd.Period("2018-02", "M")].isna().all()
    assert counts.loc[pd.Period("2018-03", "M"), "Robbery"] == pandas_window_sum(
        inc, "Robbery", "2018-03", "2018-03"
    )
    assert describe_months(["2019-01"]) == "2019-01"


# ------------------------------------------------------------------ real data


def read_street(folder: Path) -> pd.DataFrame:
    files = sorted(folder.glob("*-street.csv.gz"))
    raw = pd.concat([pd.read_csv(f, usecols=["Month", "Crime type"]) for f in files])
    return pd.DataFrame(
        {
            "month": pd.PeriodIndex(raw["Month"], freq="M"),
            "category": raw["Crime type"].to_numpy(),
            "source": "police.uk",
        }
    )


@pytest.mark.shared_data
def test_city_of_london_full_rolling_year(shared_data: Path):
    inc = read_street(shared_data / "police_uk" / "city-of-london")
    res = assess_change(inc, ["2019-11", "2020-11"])
    t = res.table.xs(pd.Period("2020-11", "M"))
    assert (t["status"] == "complete").all()
    months = inc["month"]
    cur = (months >= pd.Period("2019-12", "M")) & (inc["category"] != ASB)
    prev = (months >= pd.Period("2018-12", "M")) & (months <= pd.Period("2019-11", "M"))
    assert t.loc[ALL_CRIME, "current"] == int(cur.sum())
    assert t.loc[ALL_CRIME, "previous"] == int((prev & (inc["category"] != ASB)).sum())
    # the COVID-19 year fell, and the test says so
    assert t.loc[ALL_CRIME, "change"] < 0 and bool(t.loc[ALL_CRIME, "significant"])
    assert len(res.findings()) == len(t)


@pytest.mark.shared_data
def test_thames_valley_says_a_rolling_year_is_impossible(shared_data: Path):
    inc = read_street(shared_data / "police_uk" / "thames-valley")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        res = assess_change(inc, "2019-02")
    assert any(issubclass(w.category, DataQualityWarning) for w in caught)
    assert (res.table["status"] == "unavailable").all()
    assert res.table["current"].isna().all()
    mom = rolling_change(inc, "2019-02", months=1)
    expected = int(((inc["month"] == pd.Period("2019-02", "M")) & (inc["category"] != ASB)).sum())
    assert mom.loc[ALL_CRIME, "current"] == expected


def test_coverage_findings_say_what_is_possible():
    from cspanalysis.assessment import coverage_findings

    full = coverage_findings(pd.period_range("2017-12", "2020-11", freq="M"), "2020-11")
    assert full[0] == "The data cover 36 months: 2017-12 to 2020-11."
    assert full[1].startswith("A full 12-month vs previous 12-month comparison is possible")
    assert "Same month last year (Nov 2019) is available." in full
    tv = pd.PeriodIndex(
        ["2018-06", "2018-10", "2018-11", "2018-12", "2019-01", "2019-02"], freq="M"
    )
    lines = coverage_findings(tv, "2019-02")
    assert "missing, not zero: 2018-07 to 2018-09" in lines[0]
    assert "is not possible" in lines[1] and "have 6 of 12 months" in lines[1]
    assert lines[-1] == "Month-on-month change is possible for 2018-11 to 2019-02."


def test_category_brief_uses_only_what_the_tables_say():
    from cspanalysis.assessment import category_brief, crime_rates, seasonal_trends

    inc = make_incidents()
    inc["lsoa"] = "E01"
    areas = pd.DataFrame({"population": [5000.0]}, index=pd.Index(["E01"], name="lsoa"))
    change = assess_change(inc, "2019-12")
    rates = crime_rates(inc, areas, rolling_window("2019-12"))
    trends = seasonal_trends(inc)
    text = category_brief("Robbery", change=change, rates=rates, trends=trends)
    row = change.table.loc["Robbery"]
    assert text.startswith("Robbery")
    assert ("unlikely to be chance" in text) == bool(row["significant"])
    assert f"{rates.partnership.loc['Robbery', 'rate']:.1f} per 1,000 residents a year" in text
