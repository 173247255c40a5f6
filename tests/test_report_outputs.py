"""What a run publishes (cspanalysis.report.outputs): RunOutputs and publish_table.

The key test reads back only the PUBLISHED CSV, as an attacker would, and for
every withheld cell solves its own linear programme (independent of the audit in
cspanalysis.report.disclosure): the smallest and largest value the cell can take
given every shown cell, the row and column totals, "<5" meaning 1-4 and "[c]"
meaning at least 5 (the published findings say so). It asserts that at least two
whole values remain possible. With "[c]" allowed to be any count >= 0 (a weaker
attacker) the feasible set only grows, so the check covers that attacker too.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy.optimize import linprog

from cspanalysis.config import Disclosure, Params
from cspanalysis.errors import InputError
from cspanalysis.report.outputs import RunOutputs, publish_table, read_register

THRESHOLD = 5
SMALL = f"<{THRESHOLD}"


def read_published(path: Path) -> pd.DataFrame:
    """The CSV as an attacker sees it: text cells, the first column as the index."""
    return pd.read_csv(path, index_col=0, dtype=str, keep_default_na=False)


def with_totals(counts: np.ndarray, rows: list[str], columns: list[str]) -> pd.DataFrame:
    table = pd.DataFrame(counts, index=rows, columns=columns)
    table["Total"] = table.sum(axis=1)
    table.loc["Total"] = table.sum()
    return table


def attacker_bounds(published: pd.DataFrame) -> dict[tuple[str, str], tuple[float, float]]:
    """Min and max of every withheld cell given the published table with totals.

    The last row and last column are the totals. "[c]" cells are at least THRESHOLD,
    "<5" cells 1..THRESHOLD-1; shown cells are known. Returns ``(min, max)`` with
    ``max = inf`` when the cell is unbounded above.
    """
    text = published.to_numpy()
    n_rows, n_cols = text.shape
    hidden = [(r, c) for r in range(n_rows) for c in range(n_cols) if not text[r, c].isdigit()]
    assert all(text[cell] in (SMALL, "[c]") for cell in hidden), "unexpected symbol"
    var = {cell: i for i, cell in enumerate(hidden)}
    equations: list[tuple[list[tuple[int, int]], tuple[int, int]]] = []
    for r in range(n_rows):  # each row: inner cells add up to its total (last column)
        equations.append(([(r, c) for c in range(n_cols - 1)], (r, n_cols - 1)))
    for c in range(n_cols):  # each column: inner cells add up to the total row
        equations.append(([(r, c) for r in range(n_rows - 1)], (n_rows - 1, c)))
    a_eq, b_eq = [], []
    for parts, total in equations:
        coef = np.zeros(len(hidden))
        rhs = 0.0
        for cell, sign in [*((p, 1.0) for p in parts), (total, -1.0)]:
            if cell in var:
                coef[var[cell]] += sign
            else:
                rhs -= sign * int(text[cell])
        if coef.any():
            a_eq.append(coef)
            b_eq.append(rhs)
        else:
            assert rhs == 0, "the published totals do not add up"
    bounds = [(1, THRESHOLD - 1) if text[cell] == SMALL else (THRESHOLD, None) for cell in hidden]
    out = {}
    for cell, i in var.items():
        objective = np.zeros(len(hidden))
        objective[i] = 1.0
        low = linprog(objective, A_eq=a_eq or None, b_eq=b_eq or None, bounds=bounds)
        high = linprog(-objective, A_eq=a_eq or None, b_eq=b_eq or None, bounds=bounds)
        assert low.status == 0, low.message
        top = np.inf if high.status == 3 else -high.fun
        assert high.status in (0, 3), high.message
        out[(published.index[cell[0]], published.columns[cell[1]])] = (low.fun, top)
    return out


def random_tables(n: int, seed: int) -> list[pd.DataFrame]:
    rng = np.random.default_rng(seed)
    tables = []
    for _ in range(n):
        n_rows, n_cols = int(rng.integers(3, 7)), int(rng.integers(3, 9))
        mean = rng.uniform(0.5, 8.0)
        counts = rng.poisson(mean, size=(n_rows, n_cols))
        rows = [f"Category {k}" for k in range(n_rows)]
        months = [str(p) for p in pd.period_range("2024-01", periods=n_cols, freq="M")]
        tables.append(with_totals(counts, rows, months))
    return tables


HAND_TABLES = [
    # one small cell: its row and column both need a complement
    with_totals(
        np.array([[3, 12, 20], [8, 15, 6], [10, 11, 9]]), ["A", "B", "C"], ["m1", "m2", "m3"]
    ),
    # two suppressed blocks joined by a single cell, the case the line rule alone misses
    with_totals(
        np.array([[2, 9, 0, 0], [9, 2, 0, 0], [0, 9, 3, 9], [0, 0, 9, 3]]),
        ["A", "B", "C", "D"],
        ["m1", "m2", "m3", "m4"],
    ),
    # a small total: the whole row is small
    with_totals(
        np.array([[1, 2, 0], [10, 20, 30], [7, 8, 9]]), ["A", "B", "C"], ["m1", "m2", "m3"]
    ),
]


# --------------------------------------------------------------------------- the key test


@pytest.mark.filterwarnings("error::cspanalysis.report.disclosure.DisclosureWarning")
def test_no_suppressed_value_can_be_recovered_from_totals(tmp_path):
    outputs = RunOutputs(tmp_path)
    tables = HAND_TABLES + random_tables(30, seed=20241204)
    withheld = 0
    for k, table in enumerate(tables):
        outputs.table(table, f"people_{k:02d}", about_people=True)
        published = read_published(tmp_path / "tables" / f"people_{k:02d}.csv")
        assert published.shape == table.shape
        bounds = attacker_bounds(published)
        for (row, column), (low, high) in bounds.items():
            true = table.loc[row, column]
            assert low - 1e-6 <= true <= high + 1e-6  # the attacker's model is right
            assert high - low >= 1 - 1e-6, (
                f"table {k}: {row} x {column} (true {true}) is pinned to {low:g}..{high:g}"
            )
        shown = [(r, c) for r in table.index for c in table.columns if (r, c) not in bounds]
        assert all(published.loc[r, c] == str(table.loc[r, c]) for r, c in shown)
        small = (table > 0) & (table < THRESHOLD)
        assert ((published == SMALL) == small).all().all()  # exactly the small counts are "<5"
        withheld += len(bounds)
    assert withheld >= 200  # the tables really exercise suppression


def test_the_attacker_finds_counts_when_only_primary_suppression_is_applied(tmp_path):
    # negative control: with margins=False nothing is complemented, and the LP must notice
    outputs = RunOutputs(tmp_path)
    table = HAND_TABLES[0]
    outputs.table(table, "primary_only", about_people=True, margins=False)
    published = read_published(tmp_path / "tables" / "primary_only.csv")
    assert published.loc["A", "m1"] == SMALL
    assert attacker_bounds(published)[("A", "m1")] == pytest.approx((3, 3))


# --------------------------------------------------------------------------- derived columns


def test_derived_columns_are_withheld_where_a_count_was():
    table = pd.DataFrame(
        {"current": [3, 40, 12, 25], "previous": [9, 38, 2, 20]},
        index=["Noise", "Graffiti", "Fly-tipping", "Nuisance"],
    )
    table["change"] = table["current"] - table["previous"]
    table["pct_change"] = 100 * table["change"] / table["previous"]
    shown, info = publish_table(table, about_people=True, counts=["current", "previous"])
    assert info is not None and info.n_primary == 2
    assert shown.loc["Noise"].tolist() == ["<5", 9, "[c]", "[c]"]
    assert shown.loc["Fly-tipping"].tolist() == [12, "<5", "[c]", "[c]"]
    for row in ["Graffiti", "Nuisance"]:  # nothing withheld: everything shown as it was
        assert shown.loc[row, "change"] == table.loc[row, "change"]
        assert shown.loc[row, "pct_change"] == pytest.approx(table.loc[row, "pct_change"])


def test_derived_columns_follow_complementary_suppression(tmp_path):
    inner = pd.DataFrame({"current": [3, 40, 12], "previous": [9, 38, 30]}, index=["a", "b", "c"])
    inner.loc["Total"] = inner.sum()
    inner["change"] = inner["current"] - inner["previous"]
    outputs = RunOutputs(tmp_path)
    outputs.table(inner, "change", about_people=True, counts=["current", "previous"])
    published = read_published(tmp_path / "tables" / "change.csv")
    counts_withheld = ~published[["current", "previous"]].map(str.isdigit).all(axis=1)
    assert counts_withheld.sum() >= 2  # "<5" in row a, and its complement in another row
    assert (published.loc[counts_withheld, "change"] == "[c]").all()
    kept = published.loc[~counts_withheld, "change"].astype(int)
    assert kept.tolist() == inner.loc[~counts_withheld.to_numpy(), "change"].tolist()


def test_percentages_need_counts_named_explicitly():
    table = pd.DataFrame({"n": [2, 6, 8], "pct": [25.0, 75.0, 100.0]}, index=["a", "b", "Total"])
    shown, _ = publish_table(table, about_people=True, counts=["n"])
    assert shown["n"].tolist() == ["<5", "[c]", 8]
    assert shown["pct"].tolist() == ["[c]", "[c]", 100.0]  # 25% of 8 would give the 2 away


def test_default_counts_do_not_take_whole_percentages_for_counts():
    table = pd.DataFrame({"n": [2, 6, 8], "pct": [25.0, 75.0, 100.0]}, index=["a", "b", "Total"])
    shown, _ = publish_table(table, about_people=True)
    assert shown.loc["a", "pct"] == "[c]"


# --------------------------------------------------------------------------- police.uk tables


def test_police_table_is_published_unchanged_with_stable_bytes(tmp_path):
    table = pd.DataFrame(
        {
            "count": [1200, 3, 0],
            "rate": [1 / 3, 2 / 3, 1234.56789012345],
            "up": [True, False, True],
        },
        index=pd.Index(["Violence", "Burglary", "Drugs"], name="category"),
    )
    shown, info = publish_table(table, about_people=False)
    assert info is None
    pd.testing.assert_frame_equal(shown, table)
    first = RunOutputs(tmp_path / "one")
    pd.testing.assert_frame_equal(first.table(table, "street"), table)
    csv = tmp_path / "one" / "tables" / "street.csv"
    text = csv.read_bytes()
    assert text == (
        b"category,count,rate,up\n"
        b"Violence,1200,0.333333333333,True\n"
        b"Burglary,3,0.666666666667,False\n"  # a small police.uk count is shown: public data
        b"Drugs,0,1234.56789012,True\n"
    )
    first.table(table, "street")
    assert csv.read_bytes() == text
    RunOutputs(tmp_path / "two").table(table.copy(), "street")
    assert (tmp_path / "two" / "tables" / "street.csv").read_bytes() == text


def test_published_csv_of_a_table_about_people_is_stable(tmp_path):
    table = HAND_TABLES[0].copy()
    table["share"] = table["Total"] / 3
    for folder in ("one", "two"):
        RunOutputs(tmp_path / folder).table(
            table, "people", about_people=True, counts=["m1", "m2", "m3", "Total"]
        )
    one = (tmp_path / "one" / "tables" / "people.csv").read_text()
    assert one == (tmp_path / "two" / "tables" / "people.csv").read_text()
    assert "[c]" in one and SMALL in one
    assert ",31.3333333333\n" in one  # a shown derived float: 12 significant digits (94 / 3)


# --------------------------------------------------------------------------- register and files


def test_register_order_titles_and_replacement(tmp_path):
    outputs = RunOutputs(tmp_path)
    outputs.table(pd.DataFrame({"n": [1, 2]}), "crime_by_month")
    outputs.table(pd.DataFrame({"n": [20, 30]}), "victims", title="Victims", about_people=True)
    outputs.table(pd.DataFrame({"n": [5]}), "flat", index=False)
    register = read_register(tmp_path)
    assert [t["name"] for t in register["tables"]] == ["crime_by_month", "victims", "flat"]
    first, victims, flat = register["tables"]
    assert first == {
        "name": "crime_by_month",
        "title": "Crime by month",
        "file": "tables/crime_by_month.csv",
        "about_people": False,
        "index": True,
        "disclosure": None,
    }
    assert victims["about_people"] is True
    assert victims["disclosure"] == ["No count is from 1 to 4, so nothing is suppressed."]
    assert flat["index"] is False
    assert (tmp_path / "tables" / "flat.csv").read_text() == "n\n5\n"
    assert register["disclosure"] == {"method": "suppress", "threshold": 5, "base": 5}

    outputs.table(pd.DataFrame({"n": [7, 8]}), "crime_by_month", title="Crime, revised")
    names = [t["name"] for t in read_register(tmp_path)["tables"]]
    assert sorted(names) == ["crime_by_month", "flat", "victims"]  # replaced, not repeated
    entry = next(t for t in read_register(tmp_path)["tables"] if t["name"] == "crime_by_month")
    assert entry["title"] == "Crime, revised"
    assert (tmp_path / "tables" / "crime_by_month.csv").read_text() == ",n\n0,7\n1,8\n"

    RunOutputs(tmp_path)  # a new run starts the register afresh
    assert read_register(tmp_path)["tables"] == []


def test_figure_is_written_as_png_and_registered(tmp_path):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    outputs = RunOutputs(tmp_path)
    fig, ax = plt.subplots(figsize=(2, 2))
    ax.plot([1, 2, 3])
    assert outputs.figure(fig, "trend", title="Trend") is fig
    plt.close(fig)
    assert (tmp_path / "figures" / "trend.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert read_register(tmp_path)["figures"] == [
        {"name": "trend", "title": "Trend", "file": "figures/trend.png"}
    ]


@pytest.mark.parametrize("name", ["", "a/b", "a\\b", "x:y", "what?", ".hidden", "a*b"])
def test_bad_names_are_rejected(tmp_path, name):
    outputs = RunOutputs(tmp_path)
    with pytest.raises(InputError, match="output name"):
        outputs.table(pd.DataFrame({"n": [1]}), name)
    with pytest.raises(InputError, match="output name"):
        outputs.figure(object(), name)
    assert read_register(tmp_path)["tables"] == []


def test_table_about_people_needs_a_count_column():
    with pytest.raises(InputError, match="count column"):
        publish_table(pd.DataFrame({"name": ["a", "b"]}), about_people=True)
    with pytest.raises(InputError, match="no column"):
        publish_table(pd.DataFrame({"n": [1]}), about_people=True, counts=["m"])


def test_coverage_json(tmp_path):
    coverage = pd.DataFrame(
        {
            "source": ["police.uk:x"] * 3 + ["partner:asb"] * 2,
            "month": pd.PeriodIndex(
                ["2024-03", "2024-01", "2024-02", "2024-01", "2024-02"], freq="M"
            ),
            "status": ["present", "present", "missing", "missing", "present"],
            "rows_in_area": pd.array([7, 5, None, None, 11], dtype="Int64"),
        }
    )
    outputs = RunOutputs(tmp_path)
    path = outputs.coverage(coverage)
    assert path == tmp_path / "coverage.json"
    assert json.loads(path.read_text()) == {
        "partner:asb": {
            "first_month": "2024-02",
            "last_month": "2024-02",
            "months_present": 1,
            "missing_months": ["2024-01"],
            "rows_in_area": 11,
        },
        "police.uk:x": {
            "first_month": "2024-01",
            "last_month": "2024-03",
            "months_present": 2,
            "missing_months": ["2024-02"],
            "rows_in_area": 12,
        },
    }
    assert read_register(tmp_path)["coverage"] == "coverage.json"


# --------------------------------------------------------------------------- rounding


def test_round_method_rounds_counts_to_multiples_of_five(tmp_path):
    params = Params.model_construct(disclosure=Disclosure(method="round", base=5))
    outputs = RunOutputs(tmp_path, params)
    counts = np.array([[1, 2, 3], [7, 12, 13], [22, 0, 48]])
    table = with_totals(counts, ["a", "b", "c"], ["m1", "m2", "m3"])
    table["rate"] = table["Total"] / 10
    shown = outputs.table(table, "rounded", about_people=True, counts=["m1", "m2", "m3", "Total"])
    expected = {  # nearest multiple of 5, halves up, each cell and total on its own
        "a": [0, 0, 5, 5],
        "b": [5, 10, 15, 30],
        "c": [20, 0, 50, 70],
        "Total": [30, 15, 65, 110],
    }
    for row, values in expected.items():
        assert shown.loc[row, ["m1", "m2", "m3", "Total"]].tolist() == values
    published = read_published(tmp_path / "tables" / "rounded.csv")
    assert published.loc["b", "m2"] == "10"
    assert published.loc["a", "rate"] == "[c]"  # row a has counts 1-4: its rate would tell
    assert published.loc["c", "rate"] == "7"  # 22, 0, 48: no small count, so it is shown
    assert published.loc["b", "rate"] == "3.2"
    register = read_register(tmp_path)
    assert register["disclosure"] == {"method": "round", "threshold": 5, "base": 5}
    assert "rounded to the nearest 5" in register["tables"][0]["disclosure"][0]
