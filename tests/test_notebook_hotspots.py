"""The hotspot mapping notebook runs top to bottom and saves non-trivial outputs.

* Demo: parameters injected by papermill into a temporary copy, then executed by nbval
  (``pytest --nbval-lax``); its saved tables are checked against the demo's planted truth.
* Real data (``../shared/data``): Reading and Slough over the latest three police.uk months
  (the previous three include two months police.uk did not publish here: missing, not zero).
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pyogrio
import pytest

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOK = ROOT / "notebooks" / "hotspot_mapping.ipynb"

papermill = pytest.importorskip("papermill")

TABLES = ("concentration", "gistar_hot_cells", "top_locations", "top_lsoas", "lisa")
MAPS = ("counts", "kde", "gistar", "lisa", "lorenz")


def _assert_outputs(out: Path, tables=TABLES, maps=MAPS, layers=6) -> None:
    for name in tables:
        path = out / "tables" / f"{name}.csv"
        assert path.exists(), name
        assert len(pd.read_csv(path)) > 0, name
    for name in maps:
        png = out / "figures" / f"{name}.png"
        assert png.exists() and png.stat().st_size > 30_000, name
    assert len(pyogrio.list_layers(out / "map_layers.gpkg")) >= layers
    assert not list(out.rglob("*.part")), "half-written files left"


def test_notebook_on_demo_with_nbval_recovers_planted_hotspots(tmp_path: Path, nbval_run):
    demo = pytest.importorskip("cspanalysis.data.demo")
    if not (ROOT / "params" / "demo" / "northbrook.yaml").exists():
        pytest.skip("the demo parameter files are not available")
    demo_dir = tmp_path / "demo"
    demo.ensure_demo(demo_dir)
    out = tmp_path / "out"
    nbval_run(
        NOTEBOOK,
        {
            "params_file": str(ROOT / "params" / "demo" / "northbrook.yaml"),
            "output_dir": str(out),
            "data_root": str(demo_dir),
        },
        tmp_path,
    )
    _assert_outputs(
        out,
        (*TABLES, "classification_summary", "near_repeat_knox_ratio", "predictive_accuracy"),
        (*MAPS, "change", "classification", "near_repeat", "predictive_accuracy"),
        layers=8,
    )
    truth = demo.load_truth(demo_dir)
    summary = pd.read_csv(out / "tables" / "classification_summary.csv", index_col=0)
    assert {"persistent hotspot", "emerging hotspot", "former hotspot"} <= set(summary.index)
    knox = pd.read_csv(out / "tables" / "near_repeat_knox_ratio.csv", index_col=0)
    assert truth["near_repeats"]["max_distance_m"] == 200  # the notebook's band edge
    p_value = pd.read_csv(out / "tables" / "near_repeat_p_value.csv", index_col=0)
    # planted: a repeat within 200 m in the same or the next month
    assert (knox.loc["[1, 200) m"].iloc[:2] > 1.1).all()
    assert (p_value.loc["[1, 200) m"].iloc[:2] <= 0.05).all()
    accuracy = pd.read_csv(out / "tables" / "predictive_accuracy.csv")
    assert (accuracy["pai"] > 1).all()


@pytest.mark.shared_data
@pytest.mark.slow
@pytest.mark.parametrize("partnership", ["reading", "slough"])
def test_notebook_on_thames_valley(shared_data: Path, tmp_path: Path, partnership: str):
    out = tmp_path / "out"
    papermill.execute_notebook(
        str(NOTEBOOK),
        str(tmp_path / "run.ipynb"),
        parameters={
            "params_file": str(ROOT / "params" / "thames-valley" / f"{partnership}.yaml"),
            "data_root": str(shared_data),
            "output_dir": str(out),
            "months": 3,
            "n_sim": 19,
        },
        cwd=str(NOTEBOOK.parent),
        progress_bar=False,
        kernel_name="python3",
    )
    _assert_outputs(out, (*TABLES, "predictive_accuracy"), (*MAPS, "change"), layers=7)
    text = (tmp_path / "run.ipynb").read_text()
    assert "2018-09" in text  # the previous period's missing month is named, not zero-filled
