"""Disclosure control: primary and complementary suppression, rounding, exempt tables.

The property test is the real check of "no suppressed value can be recovered
from the totals": for many random tables it computes, with its own linear
programme (independent of the module's audit), the smallest and largest value
each withheld cell can take given every published cell and total,
non-negativity, "<5" meaning 1-4 and "[c]" meaning at least 5, and asserts
that the interval is not a single point.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy.optimize import linprog

from cspanalysis.errors import InputError
from cspanalysis.report.disclosure import SuppressedTable, suppress

# --------------------------------------------------------------------------- hand examples


def test_one_dimensional_table_gets_a_complement():
    counts = pd.Series({"Victims": 3, "Witnesses": 10, "Suspects": 12}, name="people")
    table = suppress(counts, margins="add")
    assert isinstance(table.display, pd.Series)
    assert table.display.name == "people"
    assert table.display.to_dict() == {
        "Victims": "<5",
        "Witnesses": "[c]",  # the smallest other count: 25 - 12 no longer gives 3
        "Suspects": "12",
        "Total": "25",
    }
    assert table.mask_primary.tolist() == [True, False, False, False]
    assert table.mask_secondary.tolist() == [False, True, False, False]
    assert table.values.tolist() == [3, 10, 12, 25]


def test_two_dimensional_table_hand_worked():
    table = pd.DataFrame({"2023": [2, 8, 10], "2024": [6, 9, 15]}, index=["A", "B", "Total"])
    table["Total"] = table.sum(axis=1)
    result = suppress(table)  # margins="auto" finds the Total row and column
    assert result.total_row and result.total_column
    # row A has one "<5": its smallest other cell (6) goes; column 2023 then has one: 8 goes;
    # column 2024 then has one (6): 9 goes, which also completes row B
    expected = pd.DataFrame(
        {"2023": ["<5", "[c]", "10"], "2024": ["[c]", "[c]", "15"], "Total": ["8", "17", "25"]},
        index=["A", "B", "Total"],
    )
    pd.testing.assert_frame_equal(result.display, expected)
    assert (result.n_primary, result.n_secondary) == (1, 3)


def test_small_totals_are_suppressed_too():
    table = pd.DataFrame({"x": [1, 10], "y": [2, 20]}, index=["r1", "r2"])
    result = suppress(table, margins="add")
    # the row total 3 is itself a small count; the total row (11, 22, 33) survives
    assert result.display.loc["r1"].tolist() == ["<5", "<5", "<5"]
    assert result.display.loc["r2"].tolist() == ["[c]", "[c]", "[c]"]
    assert result.display.loc["Total"].tolist() == ["11", "22", "33"]
    _assert_protected(result)


def test_auto_finds_crosstab_margins():
    records = pd.DataFrame(
        {
            "age": ["18-24"] * 3 + ["25-34"] * 12 + ["35+"] * 9,
            "sex": ["F", "M", "M"] + ["F"] * 5 + ["M"] * 7 + ["F"] * 6 + ["M"] * 3,
        }
    )
    table = pd.crosstab(records["age"], records["sex"], margins=True)  # labels "All"
    result = suppress(table)
    assert result.total_row and result.total_column
    small = (table > 0) & (table < 5)
    pd.testing.assert_frame_equal(result.mask_primary, small, check_names=False)
    assert result.n_secondary > 0
    _assert_protected(result)


def test_zeros_missing_and_no_margins():
    counts = pd.Series([0, pd.NA, 3, 12], index=list("abcd"), dtype="Int64")
    plain = suppress(counts, margins=False, zero="-")
    assert plain.display.tolist() == ["-", "[x]", "<5", "12"]  # no totals: no complement needed
    assert plain.n_secondary == 0
    with_total = suppress(counts, margins="add")
    assert with_total.display.tolist() == ["0", "[x]", "<5", "[c]", "15"]
    assert with_total.values.isna().tolist() == [False, True, False, False, False]


def test_exempt_and_rounding():
    counts = pd.Series([0, 1, 2, 3, 7, 8, 12, 13], index=list("abcdefgh"))
    exempt = suppress(counts, margins="add", exempt=True)
    assert exempt.display.tolist() == [str(v) for v in [*counts, counts.sum()]]
    assert exempt.n_primary == exempt.n_secondary == 0
    assert "already public" in exempt.findings()[0]
    rounded = suppress(counts, margins="add", method="round")
    expected = [5 * int(np.floor(v / 5 + 0.5)) for v in [*counts, counts.sum()]]
    assert rounded.display.tolist() == [str(v) for v in expected]
    assert rounded.display.tolist()[:7] == ["0", "0", "0", "5", "5", "10", "10"]
    assert "nearest 5" in rounded.findings()[0]


def test_threshold_is_configurable_and_published_keeps_numbers():
    counts = pd.Series({"a": 6, "b": 9, "c": 40})
    result = suppress(counts, threshold=10, margins="add")
    assert result.display.tolist() == ["<10", "<10", "40", "55"]  # two smalls protect each other
    assert result.published.tolist() == ["<10", "<10", 40, 55]
    assert result.findings()[0] == '2 counts from 1 to 9 are shown as "<10".'


def test_findings_describe_secondary_suppression():
    result = suppress(pd.Series({"a": 3, "b": 10, "c": 12}), margins="add")
    text = " ".join(result.findings())
    assert '1 count from 1 to 4 is shown as "<5".' in text
    assert '1 further cell is withheld as "[c]"' in text
    assert "Withheld: a (<5), b ([c])." in text
    table = pd.DataFrame({"2023": [2, 8, 10], "2024": [6, 9, 15]}, index=["A", "B", "Total"])
    table["Total"] = table.sum(axis=1)
    text = " ".join(suppress(table).findings())
    assert "Withheld: A × 2023 (<5), A × 2024 ([c]), B × 2023 ([c]), B × 2024 ([c])." in text
    none = suppress(pd.Series({"a": 0, "b": 10}))
    assert none.findings() == ["No count is from 1 to 4, so nothing is suppressed."]


@pytest.mark.parametrize(
    ("table", "kwargs", "needle"),
    [
        (pd.Series([1, -2]), {}, "non-negative"),
        (pd.Series([1.5, 2]), {}, "whole"),
        (pd.DataFrame({"a": ["x", "y"], "b": [1, 2]}), {}, "column 'a' holds text"),
        (pd.Series([3, 4, 9], index=["a", "b", "Total"]), {}, "not the sum of its cells"),
        (pd.Series([3, 4]), {"threshold": 2}, "at least 3"),
        (pd.Series([3, 4]), {"margins": "yes"}, "margins must be"),
    ],
)
def test_bad_input_is_one_clear_error(table, kwargs, needle):
    with pytest.raises(InputError, match=needle):
        suppress(table, **kwargs)


# --------------------------------------------------------------------------- the property


def _feasible_range(table: SuppressedTable) -> dict[tuple[int, int], tuple[float, float]]:
    """Min and max of every withheld cell given what is published (own LP, not the module's)."""
    values = np.asarray(table.values, dtype=float)
    primary = np.asarray(table.mask_primary)
    secondary = np.asarray(table.mask_secondary)
    if values.ndim == 1:
        values, primary, secondary = values[:, None], primary[:, None], secondary[:, None]
    hidden = primary | secondary
    cells = [tuple(c) for c in np.argwhere(hidden)]
    col = {c: i for i, c in enumerate(cells)}
    n_rows, n_cols = values.shape
    equations = []  # (cells with +1, the total cell with -1)
    if table.total_column:
        equations += [([(r, c) for c in range(n_cols - 1)], (r, n_cols - 1)) for r in range(n_rows)]
    if table.total_row:
        equations += [([(r, c) for r in range(n_rows - 1)], (n_rows - 1, c)) for c in range(n_cols)]
    a_eq, b_eq = [], []
    for parts, total in equations:
        row, rhs = np.zeros(len(cells)), 0.0
        for cell, sign in [*((p, 1.0) for p in parts), (total, -1.0)]:
            if cell in col:
                row[col[cell]] += sign
            else:
                rhs -= sign * values[cell]
        a_eq.append(row)
        b_eq.append(rhs)
    bounds = [(1, table.threshold - 1) if primary[c] else (table.threshold, None) for c in cells]
    out = {}
    for i, cell in enumerate(cells):
        c = np.zeros(len(cells))
        c[i] = 1
        lo = linprog(c, A_eq=np.array(a_eq), b_eq=np.array(b_eq), bounds=bounds, method="highs")
        hi = linprog(-c, A_eq=np.array(a_eq), b_eq=np.array(b_eq), bounds=bounds, method="highs")
        assert lo.status == 0  # the true table is feasible
        out[cell] = (lo.fun, np.inf if hi.status == 3 else -hi.fun)
    return out


def _assert_protected(table: SuppressedTable) -> None:
    for cell, (low, high) in _feasible_range(table).items():
        assert high - low >= 1 - 1e-6, f"cell {cell} is pinned to {low}..{high}"
    assert table.unprotected == []


def test_no_suppressed_value_can_be_recovered_from_totals():
    rng = np.random.default_rng(20240607)
    n_tables = n_withheld = 0
    for _ in range(150):
        if rng.random() < 0.25:
            shape: tuple[int, ...] = (int(rng.integers(2, 9)),)
        else:
            shape = (int(rng.integers(2, 7)), int(rng.integers(2, 7)))
        means = rng.uniform(0.3, 12, size=shape)
        counts = rng.poisson(means) * (rng.random(shape) > 0.15)  # some structural zeros
        table = pd.Series(counts) if len(shape) == 1 else pd.DataFrame(counts)
        result = suppress(table, margins="add")
        # primary suppression is exactly the counts 1-4, totals included
        full = np.asarray(result.values)
        assert (np.asarray(result.mask_primary) == ((full > 0) & (full < 5))).all()
        # every published cell shows its true value
        shown = ~(np.asarray(result.mask_primary) | np.asarray(result.mask_secondary))
        assert (np.asarray(result.display)[shown] == full[shown].astype(str)).all()
        # complements are never zeros or small counts, so "[c]" means "at least 5"
        assert (full[np.asarray(result.mask_secondary)] >= 5).all()
        _assert_protected(result)
        n_tables += 1
        n_withheld += result.n_primary + result.n_secondary
    assert n_tables == 150 and n_withheld > 300  # the test exercised plenty of suppression
