"""Peers, harm weights and priority scores against hand-computed values."""

from __future__ import annotations

from pathlib import Path

import matplotlib
import numpy as np
import pandas as pd
import pytest

from cspanalysis.assessment import (
    ALL_CRIME,
    DEFAULT_HARM_WEIGHTS,
    PeerInput,
    choose_peers,
    compare_with_peers,
    harm_weighted,
    partnership_profile,
    rolling_change,
    score_priorities,
)
from cspanalysis.errors import DataQualityWarning, InputError
from cspanalysis.stats import poisson_rate_ratio

matplotlib.use("Agg")
ROOT = Path(__file__).resolve().parents[1]


def partnership(name, per_month, population, months=("2018-01", "2019-12"), rise=None):
    """A partnership with a constant monthly count per category (``rise``: second-year counts)."""
    idx = pd.period_range(*months, freq="M")
    rows = []
    for i, m in enumerate(idx):
        for cat, n in per_month.items():
            if rise and cat in rise and i >= 12:
                n = rise[cat]
            rows.append((m, cat, n))
    inc = pd.DataFrame(rows, columns=["month", "category", "count"])
    areas = pd.DataFrame(
        {"population": [population / 2, population / 2], "imd_decile": [2, 7]},
        index=pd.Index([f"{name}1", f"{name}2"], name="lsoa"),
    )
    return PeerInput(name, inc, areas, None)


def test_harm_weights_csv_and_module_agree():
    csv = pd.read_csv(ROOT / "data" / "harm_weights.csv").set_index("category")["weight"]
    pd.testing.assert_series_equal(
        csv.sort_index(), DEFAULT_HARM_WEIGHTS.sort_index(), check_names=False
    )
    assert (pd.read_csv(ROOT / "data" / "harm_weights.csv")["verified"] == False).all()  # noqa: E712
    assert (ROOT / "data" / "harm_weights.md").exists()


def test_harm_weighted_counts_and_ranks():
    counts = pd.Series(
        {
            "Shoplifting": 700.0,
            "Robbery": 100.0,
            "Burglary": 220.0,
            "Anti-social behaviour": 800.0,
            ALL_CRIME: 1020.0,
        }
    )
    res = harm_weighted(counts)
    t = res.table
    assert ALL_CRIME not in t.index
    assert t.loc["Robbery", "harm"] == 100 * DEFAULT_HARM_WEIGHTS["Robbery"]
    total = sum(counts[c] * DEFAULT_HARM_WEIGHTS[c] for c in ("Shoplifting", "Robbery", "Burglary"))
    assert t.loc["Burglary", "harm_share"] == pytest.approx(220 * 438 / total)
    assert pd.isna(t.loc["Anti-social behaviour", "harm"])
    assert (
        t.loc["Shoplifting", "volume_rank"] == 1 and t.loc["Burglary", "harm_rank"] == 1
    )  # 96,360
    assert any("indicative" in f for f in res.findings())
    assert res.plot().axes[0].get_title() == "Volume and harm by category"


def test_harm_unknown_category_is_an_error():
    with pytest.raises(InputError, match="no harm weight for category Hate crime"):
        harm_weighted(pd.Series({"Hate crime": 3.0}))
    custom = harm_weighted(pd.Series({"Hate crime": 3.0}), weights={"Hate crime": 100.0})
    assert custom.table.loc["Hate crime", "harm"] == 300.0 and not custom.notes


def test_peer_comparison_pooled_rate_rank_and_flag():
    own = partnership("Own", {"Burglary": 30, "Robbery": 5}, 100_000, rise={"Burglary": 45})
    peers = [
        partnership("P1", {"Burglary": 20, "Robbery": 6}, 100_000),
        partnership("P2", {"Burglary": 25, "Robbery": 5}, 150_000),
    ]
    res = compare_with_peers(own, peers, "2019-12")
    t = res.table
    own_b = 45 * 12
    peer_b = 20 * 12 + 25 * 12
    assert t.loc["Burglary", "rate"] == pytest.approx(1000 * own_b / 100_000)
    assert t.loc["Burglary", "peer_rate"] == pytest.approx(1000 * peer_b / 250_000)
    rr = poisson_rate_ratio(own_b, peer_b, 100_000, 250_000)
    assert t.loc["Burglary", "ci_low"] == pytest.approx(rr.ci_low)
    assert t.loc["Burglary", "rank"] == 1 and t.loc["Burglary", "of"] == 3
    assert bool(t.loc["Burglary", "above_average"]) and bool(t.loc["Burglary", "increasing"])
    assert bool(t.loc["Burglary", "above_and_increasing"])
    assert not bool(t.loc["Robbery", "above_and_increasing"])
    findings = res.findings()
    assert findings[0] == "Above the peer average AND increasing: Burglary."
    assert "peers given in the parameter file" in findings[1]
    assert res.plot().axes[0].get_xscale() == "log"


def test_peer_with_no_data_is_left_out_visibly():
    own = partnership("Own", {"Burglary": 30}, 100_000)
    empty = partnership("Empty", {"Burglary": 3}, 80_000, months=("2016-01", "2016-06"))
    good = partnership("P1", {"Burglary": 20}, 100_000)
    with pytest.warns(DataQualityWarning, match="peer 'Empty' has no months of data"):
        res = compare_with_peers(own, [empty, good], "2019-12")
    assert res.options["peers"] == ["P1"]
    with (
        pytest.raises(InputError, match="no peer partnership has data"),
        pytest.warns(DataQualityWarning),
    ):
        compare_with_peers(own, [empty], "2019-12")


def test_choose_peers_by_population_and_deprivation():
    own = partnership_profile(partnership("Own", {"B": 1}, 100_000).areas)
    assert own["imd_mean_decile"] == pytest.approx(4.5)
    assert own["share_most_deprived"] == pytest.approx(0.5)
    cands = pd.DataFrame(
        {
            "population": [95_000, 1_000_000, 110_000, 100_000],
            "imd_mean_decile": [4.4, 4.5, 8.0, 4.6],
            "share_most_deprived": [0.5, 0.5, 0.0, 0.45],
        },
        index=["near", "big", "rich", "close"],
    )
    chosen = choose_peers(own, cands, n=2)
    assert set(chosen.index) == {"near", "close"}
    assert chosen["distance"].is_monotonic_increasing


def test_priority_scores_are_traceable():
    own = partnership(
        "Own", {"Burglary": 30, "Robbery": 5, "Shoplifting": 60}, 100_000, rise={"Burglary": 45}
    )
    change = rolling_change(own.incidents, "2019-12")
    harm = harm_weighted(change).table
    res = score_priorities(
        change, harm=harm, weights={"volume": 1, "trend": 1, "harm": 2, "peers": 1}
    )
    t = res.table
    assert res.options["components_used"] == ["volume", "trend", "harm"]
    assert any("peers" in n for n in res.notes)
    # volume: count / largest count; trend: % rise / 50 capped at 1, only when significant
    assert t.loc["Burglary", "volume"] == pytest.approx(540 / 720)
    assert t.loc["Burglary", "trend"] == pytest.approx(min(50 / 50, 1))
    assert t.loc["Robbery", "trend"] == 0.0
    # score = sum of weight share x component, and contributions add up
    w = {"volume": 0.25, "trend": 0.25, "harm": 0.5}
    for cat, r in t.iterrows():
        expected = sum(w[c] * r[c] for c in w)
        assert r["score"] == pytest.approx(expected), cat
        assert sum(r[f"contrib_{c}"] for c in w) == pytest.approx(r["score"])
    assert t.index[0] == "Burglary" and t.loc["Burglary", "rank"] == 1
    assert res.explain("Burglary").startswith("Burglary: score")
    with pytest.raises(InputError, match="unknown priority weight"):
        score_priorities(change, weights={"volumes": 1})
    assert np.isfinite(t["score"]).all()
