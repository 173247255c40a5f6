"""Intervention evaluation on the real police.uk files in ../shared/data (skipped when absent).

City of London, 36 months, with the COVID-19 lockdown (from 2020-04) as the interruption; and
Reading (Thames Valley), whose six non-consecutive months are too few for most methods, which
must say so rather than fail. Expected counts are computed here with plain pandas on the raw
monthly files.
"""

from __future__ import annotations

import warnings
from pathlib import Path

import pandas as pd
import pytest
from scipy import stats as sps

import cspanalysis
from cspanalysis.config import Intervention
from cspanalysis.evaluation import design_intervention, evaluate_intervention

ROOT = Path(__file__).resolve().parents[1]
pytestmark = pytest.mark.shared_data


@pytest.fixture(scope="module")
def city(shared_data):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return cspanalysis.load_partnership(
            ROOT / "params/city-of-london/city-of-london.yaml",
            data_root=shared_data,
            use_cache=False,
        )


@pytest.fixture(scope="module")
def city_raw(shared_data):
    files = sorted((shared_data / "police_uk/city-of-london").glob("*.csv.gz"))
    raw = pd.concat([pd.read_csv(f, dtype=str) for f in files], ignore_index=True)
    lookup = pd.read_csv(shared_data / "lookups/lsoa11_to_ltla19_ew.csv.gz", dtype=str)
    lsoas = set(lookup.loc[lookup["ltla19_code"] == "E09000001", "lsoa11_code"])
    return raw[raw["LSOA code"].isin(lsoas)], sorted(lsoas)


def test_city_lockdown_without_control(city, city_raw):
    raw, lsoas = city_raw
    iv = Intervention(name="COVID-19 lockdown", start="2020-04", target={"lsoas": lsoas}, buffer=0)
    d = design_intervention(iv, city.incidents, city.areas, city.coverage)
    expected = raw.groupby("Month").size().astype(float)
    got = d.panel["target"]
    assert [str(m) for m in got.index] == list(expected.index)
    assert got.to_numpy() == pytest.approx(expected.to_numpy())
    assert d.control_method == "none"
    ev = evaluate_intervention(d, n_simulations=400)
    # whole-year windows are not available after 2020-04 (8 months), so 8 either side
    before = expected.loc["2019-08":"2020-03"].sum()
    after = expected.loc["2020-04":"2020-11"].sum()
    assert (ev.prepost.rate_ratio.count_b, ev.prepost.rate_ratio.count_a) == (before, after)
    exact = sps.binomtest(int(after), int(after + before), 0.5)
    assert ev.prepost.poisson_p_value == pytest.approx(exact.pvalue)
    # the lockdown: crime in the City fell by about half
    assert ev.its.level_ci[1] < 0.7 and ev.counterfactual.ratio_ci[1] < 0.8
    assert ev.its.seasonality == "harmonic"  # 36 months allow it
    for method in ("RES", "WDD", "difference-in-differences"):
        assert "no control area" in ev.not_computed[method]
    verdict = " ".join(ev.verdict())
    assert "no control area" in verdict and "Not computed — RES" in verdict
    est = ev.estimates()
    assert set(est["design"]) == {
        "before/after, target only",
        "interrupted time series",
        "counterfactual forecast from the target's own history",
    }


def test_city_part_against_the_rest_by_hand(city, city_raw):
    raw, lsoas = city_raw
    iv = Intervention(
        name="Lockdown, three LSOAs against the rest",
        start="2020-04",
        target={"lsoas": lsoas[:3]},
        buffer=0,
        control_lsoas=lsoas[3:],
    )
    d = design_intervention(iv, city.incidents, city.areas, city.coverage)
    ev = evaluate_intervention(d, n_simulations=400)
    month = raw["Month"]
    in_t = raw["LSOA code"].isin(lsoas[:3])
    t_pre, t_post = (in_t & (month < "2020-04")).sum(), (in_t & (month >= "2020-04")).sum()
    c_pre, c_post = (~in_t & (month < "2020-04")).sum(), (~in_t & (month >= "2020-04")).sum()
    # with month effects and two areas, the DiD rate ratio is the ratio of the two shares
    assert ev.did.ratio == pytest.approx((t_post / c_post) / (t_pre / c_pre), rel=1e-6)
    # WDD on the 8-month windows either side (Wheeler & Ratcliffe 2018)
    w_t = [(in_t & month.between(a, b)).sum() for a, b in WINDOWS]
    w_c = [(~in_t & month.between(a, b)).sum() for a, b in WINDOWS]
    assert ev.wdd.estimate == (w_t[1] - w_t[0]) - (w_c[1] - w_c[0])
    assert ev.wdd.se == pytest.approx((sum(w_t) + sum(w_c)) ** 0.5)
    assert ev.res.res == pytest.approx(w_t[0] * w_c[1] / (w_t[1] * w_c[0]))
    # both parts of the City fell with the lockdown, so the control carries the shock
    assert ev.its.level_ratio < 0.7 and ev.its_control is not None


WINDOWS = (("2019-08", "2020-03"), ("2020-04", "2020-11"))


def test_reading_with_six_scattered_months_says_what_it_cannot_do(shared_data):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        data = cspanalysis.load_partnership(
            ROOT / "params/thames-valley/reading.yaml", data_root=shared_data, use_cache=False
        )
    iv = Intervention(
        name="Town centre PSPO",
        start="2018-12",
        categories=["Anti-social behaviour"],
        target={"point": (471500, 173400), "radius": 500},
        buffer=400,
    )
    d = design_intervention(iv, data.incidents, data.areas, data.coverage)
    assert d.panel.loc[pd.Period("2018-08", "M")].isna().all()  # missing, never 0
    ev = evaluate_intervention(d, n_simulations=200)
    for method in (
        "interrupted time series",
        "counterfactual forecast",
        "regression to the mean",
    ):
        assert "needs" in ev.not_computed[method]
    assert ev.prepost is not None and ev.did is not None
    verdict = " ".join(ev.verdict())
    assert "less than a year" in verdict and "were not supplied" in verdict
