"""The Excel workbook of a run's published tables (cspanalysis.report.workbook).

A run folder is built with RunOutputs (a police.uk table and a partner table about
people), the workbook is written, then reopened with openpyxl and checked cell by
cell against values worked out here.
"""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path

import numpy as np
import openpyxl
import pandas as pd
import pytest

from cspanalysis.config import Disclosure, Params
from cspanalysis.errors import InputError
from cspanalysis.report.outputs import RunOutputs
from cspanalysis.report.workbook import sheet_names, write_workbook

LONG = "partner_victims_by_month_and_category_of_service"  # 48 characters


def police_table() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "count": [1234, 56, 0],
            "rate": [12.5, 1 / 3, np.nan],
            "significant": [True, False, True],
            "code": ["E01000001", "007", "=1+1"],
        },
        index=pd.Index(["Violence", "Burglary", "Drugs"], name="category"),
    )


def partner_table() -> pd.DataFrame:
    inner = pd.DataFrame(
        {"2024-01": [3, 12, 20], "2024-02": [8, 15, 6]},
        index=["Domestic abuse", "ASB victims", "Hate crime"],
    )
    inner["Total"] = inner.sum(axis=1)
    inner.loc["Total"] = inner.sum()
    return inner


@pytest.fixture
def run(tmp_path: Path) -> tuple[Path, dict[str, pd.DataFrame]]:
    outputs = RunOutputs(tmp_path / "run")
    shown = {
        "police": outputs.table(police_table(), "police_by_category", title="Street crime"),
        LONG: outputs.table(partner_table(), LONG, title="Victims by month", about_people=True),
        LONG + "_again": outputs.table(
            partner_table(), LONG + "_again", title="Victims again", about_people=True
        ),
        "flat": outputs.table(
            pd.DataFrame({"month": ["2024-01", "2024-02"], "n": [7, 9]}), "flat", index=False
        ),
    }
    return tmp_path / "run", shown


def open_book(path: Path) -> openpyxl.Workbook:
    return openpyxl.load_workbook(path)


def test_sheets_in_register_order_with_excel_safe_unique_names(run, tmp_path):
    folder, _ = run
    book = open_book(write_workbook(folder, tmp_path / "out.xlsx", title="Demo"))
    names = book.sheetnames
    assert names[0] == "About"
    assert names[1] == "police_by_category"
    assert names[2] == LONG[:31]
    assert names[3] == LONG[:29] + "~2"  # same first 31 characters: made unique
    assert names[4] == "flat"
    assert all(len(n) <= 31 for n in names)


def test_sheet_names_rules():
    names = sheet_names(["a:b*c?d/e\\f[g]", "About", "ABOUT", "x" * 31, "X" * 35, "'quoted'"])
    assert names[0] == "a_b_c_d_e_f_g_"
    assert names[1:3] == ["About~2", "ABOUT~3"]  # "About" is the first sheet; Excel ignores case
    assert names[3] == "x" * 31
    assert names[4] == "X" * 29 + "~2"
    assert names[5] == "quoted"  # Excel forbids a leading or trailing apostrophe
    assert len({n.lower() for n in names}) == len(names)


def test_police_table_cells_formats_and_layout(run, tmp_path):
    folder, _ = run
    sheet = open_book(write_workbook(folder, tmp_path / "out.xlsx", title="Demo"))[
        "police_by_category"
    ]
    header = [c.value for c in sheet[1]]
    assert header == ["category", "count", "rate", "significant", "code"]
    assert all(c.font.bold for c in sheet[1])
    assert all(c.fill.fill_type == "solid" for c in sheet[1])
    assert sheet.freeze_panes == "B2"  # header row and index column
    assert sheet.auto_filter.ref == "A1:E4"
    rows = {r[0].value: r for r in sheet.iter_rows(min_row=2)}
    assert list(rows) == ["Violence", "Burglary", "Drugs"]
    count = rows["Violence"][1]
    assert count.value == 1234 and count.data_type == "n" and count.number_format == "#,##0"
    assert rows["Drugs"][1].value == 0 and rows["Drugs"][1].data_type == "n"
    rate = rows["Burglary"][2]
    assert rate.data_type == "n" and rate.value == pytest.approx(1 / 3, rel=1e-11)
    assert rate.number_format == "#,##0.0##"
    assert rows["Violence"][2].value == 12.5
    assert rows["Drugs"][2].value is None  # NaN: an empty cell
    assert [rows[k][3].value for k in rows] == [True, False, True]
    assert all(rows[k][3].data_type == "b" for k in rows)
    codes = [rows[k][4] for k in rows]
    assert [c.value for c in codes] == ["E01000001", "007", "=1+1"]  # text stays text
    assert all(c.data_type == "s" for c in codes)
    widths = {k: sheet.column_dimensions[k].width for k in "ABCDE"}
    assert widths["A"] >= len("Violence") and widths["E"] >= len("E01000001")
    assert all(w <= 60 for w in widths.values())


def test_partner_table_numbers_are_numbers_and_symbols_are_text(run, tmp_path):
    folder, shown = run
    sheet = open_book(write_workbook(folder, tmp_path / "out.xlsx", title="Demo"))[LONG[:31]]
    assert [c.value for c in sheet[1]] == [None, "2024-01", "2024-02", "Total"]
    # worked by hand: 3 is small ("<5"); its row and column each need a complement
    assert sheet["B2"].value == "<5"
    published = shown[LONG]
    assert published.loc["Domestic abuse", "2024-01"] == "<5"
    symbols, numbers = 0, 0
    for r, label in enumerate(published.index, start=2):
        assert sheet.cell(row=r, column=1).value == label
        for c, column in enumerate(published.columns, start=2):
            cell = sheet.cell(row=r, column=c)
            expected = published.loc[label, column]
            if isinstance(expected, str):
                assert expected in ("<5", "[c]")
                assert cell.value == expected and cell.data_type == "s"
                assert cell.alignment.horizontal == "right"
                symbols += 1
            else:
                assert cell.value == int(expected) and cell.data_type == "n"
                assert cell.number_format == "#,##0"
                numbers += 1
    assert symbols >= 2 and numbers >= 4  # the column really mixes both
    assert sheet.cell(row=5, column=4).value == 64  # the grand total 3+12+20+8+15+6
    assert sheet.freeze_panes == "B2"


def test_table_without_index_freezes_only_the_header(run, tmp_path):
    folder, _ = run
    sheet = open_book(write_workbook(folder, tmp_path / "out.xlsx", title="Demo"))["flat"]
    assert sheet.freeze_panes == "A2"
    assert [[c.value for c in row] for row in sheet.iter_rows()] == [
        ["month", "n"],
        ["2024-01", 7],
        ["2024-02", 9],
    ]


def test_about_sheet_lists_tables_links_and_legend(run, tmp_path):
    folder, _ = run
    notes = ["Partnership: Demo", "Period: 2024-01 to 2024-02", "cspanalysis 0.1"]
    book = open_book(write_workbook(folder, tmp_path / "out.xlsx", title="Tables", notes=notes))
    about = book["About"]
    values = [[c.value for c in row] for row in about.iter_rows()]
    assert values[0][0] == "Tables" and about["A1"].font.bold
    assert [v[0] for v in values[1:4]] == notes
    by_sheet = {v[0]: v for v in values if v[0] in book.sheetnames}
    assert list(by_sheet) == book.sheetnames[1:]
    assert by_sheet["police_by_category"][1] == "Street crime"
    assert by_sheet["police_by_category"][2].startswith("Not needed")
    assert by_sheet[LONG[:31]][1] == "Victims by month"
    assert by_sheet[LONG[:31]][2].startswith("Applied")
    register = json.loads((folder / "outputs.json").read_text())
    assert by_sheet[LONG[:31]][3] == " ".join(register["tables"][1]["disclosure"])
    assert '"<5"' in by_sheet[LONG[:31]][3]
    links = {c.value: c.hyperlink.location for row in about.iter_rows() for c in row if c.hyperlink}
    assert links == {name: f"'{name}'!A1" for name in book.sheetnames[1:]}
    legend = {v[0]: v[1] for v in values if v[0] in ("<5", "[c]", "[x] or empty")}
    assert "from 1 to 4" in legend["<5"]
    assert "cannot be worked out" in legend["[c]"]
    assert "missing, not zero" in legend["[x] or empty"]


def test_legend_follows_the_runs_threshold(tmp_path):
    params = Params.model_construct(disclosure=Disclosure(threshold=10))
    outputs = RunOutputs(tmp_path, params)
    table = pd.DataFrame({"n": [4, 30, 12]}, index=["a", "b", "c"])
    shown = outputs.table(table, "people", about_people=True)
    assert shown["n"].tolist()[0] == "<10"
    about = open_book(write_workbook(tmp_path, tmp_path / "t.xlsx", title="T"))["About"]
    legend = {row[0].value: row[1].value for row in about.iter_rows() if row[0].value}
    assert "from 1 to 9" in legend["<10"] and "<5" not in legend
    assert "at least 10" in legend["[c]"]
    assert open_book(tmp_path / "t.xlsx")["people"]["B2"].value == "<10"


def test_empty_register_still_writes_about(tmp_path):
    RunOutputs(tmp_path)
    book = open_book(write_workbook(tmp_path, tmp_path / "empty.xlsx", title="Nothing"))
    assert book.sheetnames == ["About"]
    texts = [c.value for row in book["About"].iter_rows() for c in row if c.value]
    assert "No tables were published by this run." in texts


def test_missing_csv_is_an_input_error_and_nothing_is_written(run, tmp_path):
    folder, _ = run
    (folder / "tables" / "flat.csv").unlink()
    target = tmp_path / "out.xlsx"
    with pytest.raises(InputError, match=r"tables/flat\.csv.*did not finish writing"):
        write_workbook(folder, target, title="Demo")
    assert not target.exists()
    assert list(tmp_path.glob("*.part")) == []


def test_not_xlsx_is_rejected(run, tmp_path):
    folder, _ = run
    with pytest.raises(InputError, match=r"\.xlsx"):
        write_workbook(folder, tmp_path / "out.csv", title="Demo")


def test_same_tables_give_the_same_workbook(run, tmp_path):
    folder, _ = run
    first = write_workbook(folder, tmp_path / "a.xlsx", title="Demo").read_bytes()
    second = write_workbook(folder, tmp_path / "b.xlsx", title="Demo").read_bytes()
    assert first == second
    props = open_book(tmp_path / "a.xlsx").properties
    assert props.created == props.modified == datetime(2000, 1, 1)
    stamp = datetime(2025, 3, 4, 5, 6, 7)
    write_workbook(folder, tmp_path / "c.xlsx", title="Demo", timestamp=stamp)
    assert open_book(tmp_path / "c.xlsx").properties.modified == stamp


def test_round_rule_legend_and_text_in_numeric_columns(tmp_path):
    params = Params.model_construct(disclosure=Disclosure(method="round", base=5))
    outputs = RunOutputs(tmp_path, params)
    outputs.table(
        pd.DataFrame({"n": [3, 12, 26]}, index=["a", "b", "c"]), "people", about_people=True
    )
    rates = pd.DataFrame({"rate": [1.5, np.inf, 0.00001, np.nan]}, index=["a", "b", "c", "d"])
    outputs.table(rates, "rates")
    book = open_book(write_workbook(tmp_path, tmp_path / "r.xlsx", title="R"))
    legend = {row[0].value: row[1].value for row in book["About"].iter_rows() if row[0].value}
    assert "rounded to the nearest 5" in legend["rounded counts"]
    assert "<5" not in legend
    assert [book["people"].cell(row=r, column=2).value for r in (2, 3, 4)] == [5, 10, 25]
    cells = [book["rates"].cell(row=r, column=2) for r in (2, 3, 4, 5)]
    assert cells[0].value == 1.5 and cells[0].data_type == "n"
    assert cells[1].value == "inf" and cells[1].alignment.horizontal == "right"
    assert cells[2].value == pytest.approx(1e-5) and cells[2].number_format == "0.00E+00"
    assert cells[3].value is None
