"""Performance against targets: RAG rules, worked examples, bad input."""

from __future__ import annotations

import pandas as pd
import pytest

from cspanalysis.assessment import assess_targets, performance_against_target, targets_table
from cspanalysis.config import Target
from cspanalysis.errors import InputError


def one(baseline, target, actual, direction, **kw):
    t = pd.DataFrame(
        [
            {
                "indicator": "x",
                "baseline": baseline,
                "target": target,
                "actual": actual,
                "direction": direction,
            }
        ]
    )
    return performance_against_target(t, **kw).iloc[0]


def test_product_brief_example_theft_from_vehicle_is_red():
    row = one(404, 392, 465, "decrease")
    assert round(row["pct_vs_target"]) == 19
    assert row["pct_vs_target"] == pytest.approx(100 * (465 - 392) / 392)
    assert row["rag"] == "Red" and not row["met"]


@pytest.mark.parametrize(
    ("baseline", "target", "actual", "direction", "rag"),
    [
        # decrease: at or below target is Green
        (404, 392, 392, "decrease", "Green"),
        (404, 392, 300, "decrease", "Green"),
        # within 5% above target: Amber (392 * 1.05 = 411.6)
        (380, 392, 411, "decrease", "Amber"),
        # more than 5% above target, but below baseline (improving): Amber
        (500, 392, 450, "decrease", "Amber"),
        # more than 5% above target and not below baseline: Red
        (404, 392, 412, "decrease", "Red"),
        # increase (e.g. racist incidents reported: more reports is good)
        (50, 60, 60, "increase", "Green"),
        (50, 60, 57, "increase", "Amber"),  # 60 * 0.95 = 57
        (50, 60, 52, "increase", "Amber"),  # improving on baseline
        (50, 60, 50, "increase", "Red"),  # no better than baseline, > 5% short
        (50, 60, 40, "increase", "Red"),
    ],
)
def test_direction_aware_rag(baseline, target, actual, direction, rag):
    row = one(baseline, target, actual, direction)
    assert row["rag"] == rag
    assert row["pct_vs_target"] == pytest.approx(100 * (actual - target) / target)


def test_amber_tolerance_default_override_and_per_row():
    assert one(404, 392, 420, "decrease")["rag"] == "Red"  # 7.1% over, worse than baseline
    assert one(404, 392, 420, "decrease", amber_tolerance=0.10)["rag"] == "Amber"
    t = pd.DataFrame(
        [
            {
                "indicator": "x",
                "baseline": 404,
                "target": 392,
                "actual": 420,
                "direction": "decrease",
                "amber_tolerance": 0.0,
            }
        ]
    )
    assert performance_against_target(t, amber_tolerance=0.5).iloc[0]["rag"] == "Red"


def test_missing_actual_has_no_status():
    row = one(404, 392, float("nan"), "decrease")
    assert pd.isna(row["rag"]) and row["rag_reason"] == "no actual value"


def test_bad_tables_give_clear_errors():
    with pytest.raises(InputError, match="direction 'down'"):
        one(404, 392, 465, "down")
    with pytest.raises(InputError, match="lacks column"):
        performance_against_target(pd.DataFrame({"indicator": ["x"]}))
    with pytest.raises(InputError, match="non-zero target"):
        one(10, 0, 5, "decrease")
    with pytest.raises(InputError, match="numbers"):
        one(10, 12, "many", "decrease")


def test_targets_from_parameter_file_objects():
    targets = [
        Target(
            indicator="Reduce burglary",
            baseline=400,
            target=380,
            direction="decrease",
            category="Burglary",
        ),
        Target(
            indicator="Increase racist incidents reported",
            baseline=50,
            target=60,
            direction="increase",
            category="Public order",
            amber_tolerance=0.1,
        ),
    ]
    res = assess_targets(targets, pd.Series({"Burglary": 350, "Public order": 55}))
    assert res.table["rag"].tolist() == ["Green", "Amber"]
    assert res.table["amber_tolerance"].tolist() == [0.05, 0.1]
    assert res.findings()[0].startswith("Reduce burglary: 350 against a target of 380")


def test_target_with_unknown_indicator_names_it():
    bad = [
        {
            "indicator": "Reduce knife crime",
            "baseline": 10,
            "target": 8,
            "direction": "decrease",
            "category": "Knife crime",
        }
    ]
    with pytest.raises(InputError, match=r"targets\[0\] \('Reduce knife crime'\).*Burglary"):
        targets_table(bad, {"Burglary": 3})
