"""The strategic assessment notebook runs top to bottom and saves non-trivial outputs.

* Demo: parameters injected by papermill into a temporary copy, then executed by nbval
  (``pytest --nbval-lax``); its trend table is compared with the demo's planted truth.
* Real data (``../shared/data``): the City of London (36 months, a full rolling year) and a
  Thames Valley partnership (6 non-consecutive months: the notebook must say a 12-vs-12
  comparison is impossible and still show month-on-month change).
"""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOK = ROOT / "notebooks" / "strategic_assessment.ipynb"

papermill = pytest.importorskip("papermill")


def _assert_outputs(out: Path, expect_figures: tuple[str, ...]) -> None:
    tables = out / "tables"
    for name in (
        "change_by_category",
        "rolling_change",
        "rates",
        "trends",
        "harm",
        "priorities",
        "top_lsoas",
        "data_quality",
    ):
        path = tables / f"{name}.csv"
        assert path.exists(), name
        assert len(pd.read_csv(path)) > 0, name
    for name in expect_figures:
        png = out / "figures" / f"{name}.png"
        assert png.exists() and png.stat().st_size > 10_000, name
    assert not list(out.rglob("*.tmp")) and not list(out.rglob(".*")), "half-written files left"


def _run(params: dict, tmp_path: Path) -> Path:
    out = tmp_path / "out"
    papermill.execute_notebook(
        str(NOTEBOOK),
        str(tmp_path / "run.ipynb"),
        parameters={**params, "output_dir": str(out)},
        cwd=str(NOTEBOOK.parent),
        progress_bar=False,
        kernel_name="python3",
    )
    return out


def _demo():
    demo = pytest.importorskip("cspanalysis.data.demo")
    if not hasattr(demo, "ensure_demo") or not list((ROOT / "params" / "demo").glob("*.yaml")):
        pytest.skip("the demo data generator is not available yet")
    return demo


def test_notebook_on_demo_with_nbval_recovers_planted_truth(tmp_path: Path, nbval_run):
    demo = _demo()
    demo_dir = tmp_path / "demo"
    demo.ensure_demo(demo_dir)
    params_file = ROOT / "params" / "demo" / "northbrook.yaml"
    out = tmp_path / "out"
    nbval_run(
        NOTEBOOK,
        {
            "params_file": str(params_file),
            "output_dir": str(out),
            "data_root": str(demo_dir),
        },
        tmp_path,
    )
    _assert_outputs(out, ("change_by_category", "trend_all_crime", "harm"))
    # planted trends and seasonality (truth.json) within the model's own uncertainty
    truth = demo.load_truth(demo_dir)["categories"]
    trends = pd.read_csv(out / "tables" / "trends.csv").set_index("category")
    checked = 0
    for name, t in truth.items():
        est = trends.loc[name]
        assert est["status"] == "fitted", name
        trend_err = abs(est["trend_log"] - t["trend_log_per_year"])
        # + 0.02: the planted hotspots (emerging, fading) and the park intervention move a few
        # partnership-level trends by up to ~0.013 a year from the planted category trend
        assert trend_err < 3 * est["trend_log_se"] + 0.02, name
        if t["seasonal_amplitude"] >= 0.1:  # a season big enough to locate its peak
            amp_err = abs(est["seasonal_amplitude"] - t["seasonal_amplitude"])
            assert amp_err < 3 * est["seasonal_amplitude_se"] + 0.02, name
            peak_err = abs((est["peak_month"] - t["seasonal_peak_month"] + 6) % 12 - 6)
            assert peak_err < 3 * est["peak_month_se"] + 0.25, name
        checked += 1
    assert checked == 14


@pytest.mark.shared_data
def test_notebook_on_city_of_london(shared_data: Path, tmp_path: Path):
    params = {
        "params_file": str(ROOT / "params" / "city-of-london" / "city-of-london.yaml"),
        "data_root": str(shared_data),
    }
    out = _run(params, tmp_path)
    _assert_outputs(out, ("change_by_category", "trend_all_crime", "trend_asb", "harm"))
    change = pd.read_csv(out / "tables" / "change_by_category.csv").set_index("category")
    assert (change["status"] == "complete").all()
    assert change.loc["All crime", "period"] == "Dec 2019 – Nov 2020"
    trends = pd.read_csv(out / "tables" / "trends.csv").set_index("category")
    assert (trends["status"] == "fitted").all()


@pytest.mark.shared_data
def test_notebook_on_thames_valley_says_what_is_not_possible(shared_data: Path, tmp_path: Path):
    params = {
        "params_file": str(ROOT / "params" / "thames-valley" / "slough.yaml"),
        "data_root": str(shared_data),
        "compare_peers": False,
    }
    out = _run(params, tmp_path)
    _assert_outputs(out, ("change_by_category", "harm"))
    change = pd.read_csv(out / "tables" / "change_by_category.csv").set_index("category")
    assert (change["status"] == "unavailable").all()
    assert change["current"].isna().all()
    nb = json.loads((tmp_path / "run.ipynb").read_text())
    text = "".join(
        "".join(o.get("text", ""))
        for c in nb["cells"]
        if c["cell_type"] == "code"
        for o in c.get("outputs", [])
    )
    assert "A full 12-month vs previous 12-month comparison is not possible" in text
    assert "Month-on-month change is possible for 2018-11 to 2019-02" in text
    rates = pd.read_csv(out / "tables" / "rates.csv")
    assert (rates["months_present"] == 6).all()
