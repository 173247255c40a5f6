"""The batch on the real notebooks: drafts in every format, provenance, disclosure, scale-out.

One batch of the three notebooks for the demo partnership Northbrook runs in a
process pool, and the same batch again on a Dask ``LocalCluster``; the tests
read what they wrote as a user would: the Word file with python-docx, the
HTML in headless Chromium, the workbook with openpyxl, the GeoPackage with
pyogrio, and the published partner table as an attacker with a linear program.
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import docx
import nbformat
import openpyxl
import pandas as pd
import pyogrio
import pytest
from test_report_draft import _browser, _chromium
from test_report_outputs import attacker_bounds, read_published
from tiny_notebooks import write_notebook

import cspanalysis
from cspanalysis.batch import run_batch
from cspanalysis.data.demo import ensure_demo

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = ("hotspot_mapping", "intervention_evaluation", "strategic_assessment")
pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def batches(tmp_path_factory):
    """Northbrook's three notebooks, once in a process pool and once on a Dask LocalCluster.

    The parameter file is copied next to the outputs (its data_root pointing at a
    fresh demo) so that every relative path the runs write stays inside the
    temporary folder, which the no-absolute-path test then looks for.
    """
    pytest.importorskip("dask.distributed")
    base = tmp_path_factory.mktemp("drafts")
    ensure_demo(base / "demo")
    params = base / "params"
    params.mkdir()
    for name in ("northbrook", "eastmere"):
        text = (ROOT / "params/demo" / f"{name}.yaml").read_text()
        text = re.sub(r"^data_root:.*$", "data_root: ../demo", text, flags=re.MULTILINE)
        (params / f"{name}.yaml").write_text(text)
    files = [params / "northbrook.yaml"]
    out = {}
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("CSPANALYSIS_CACHE", str(base / "cache"))
        mp.delenv("CSPANALYSIS_DATA", raising=False)
        for label, scheduler in (("pool", None), ("dask", "local")):
            out[label] = base / label
            result = run_batch(
                files,
                notebooks_dir=ROOT / "notebooks",
                out_dir=out[label],
                workers=2,
                progress=False,
                scheduler=scheduler,
            )
            assert result.ok, result.runs.to_dict("records")
    data_obj = cspanalysis.load_partnership(files[0])
    return {"base": base, "out": out, "run": out["pool"] / "northbrook", "data": data_obj}


def test_every_run_has_every_draft_and_a_manifest(batches):
    run = batches["run"]
    for name in NOTEBOOKS:
        for suffix in (".ipynb", ".html", ".docx", ".xlsx", ".gpkg"):
            assert (run / f"{name}{suffix}").stat().st_size > 0, f"{name}{suffix}"
        manifest = json.loads((run / name / "manifest.json").read_text())
        recorded = {o["path"] for o in manifest["outputs"]}
        assert {f"{name}.html", f"{name}.docx", f"{name}.xlsx", f"{name}.gpkg"} <= recorded
        assert f"{name}/tables/" in " ".join(recorded)
        # coverage: the council file starts in 2020-04 and skips 2022-12 (missing, not zero)
        coverage = manifest["coverage"]
        before = [str(m) for m in pd.period_range("2019-04", "2020-03", freq="M")]
        assert coverage["partner:council-asb"]["missing_months"] == [*before, "2022-12"]
        assert coverage["partner:council-asb"]["first_month"] == "2020-04"
        assert coverage["partner:council-asb"]["months_present"] == 47
        assert coverage["police.uk:demo-constabulary"]["missing_months"] == []
        assert manifest["parameters"]["file"] == "northbrook.yaml"
        # every draft shows its figures as pictures, never as a "<Figure size ...>" repr
        html = (run / f"{name}.html").read_text()
        assert "data:image/png;base64" in html and "Figure size" not in html, name
        assert "PosixPath(" not in html, name
        assert any(
            i["key"] == "inputs" and i["path"].endswith(f"{name}.ipynb") for i in manifest["inputs"]
        )
    index = (batches["out"]["pool"] / "index.html").read_text()
    for name in NOTEBOOKS:
        assert f'href="northbrook/{name}.docx"' in index
        assert f'href="northbrook/{name}/manifest.json"' in index


def test_word_draft_has_headings_tables_and_figures(batches):
    run = batches["run"]
    document = docx.Document(run / "strategic_assessment.docx")
    styles = [(p.style.name, p.text) for p in document.paragraphs if p.text.strip()]
    assert styles[0] == ("Title", "Strategic assessment: Northbrook")
    headings = [text for style, text in styles if style.startswith("Heading")]
    for expected in (
        "Summary of key findings",
        "Crime and anti-social behaviour overview",
        "Partner data",
        "Data quality and coverage",
        "How this was produced",
    ):
        assert expected in headings
    assert headings.index("How this was produced") > headings.index("Data quality and coverage")
    executed = nbformat.read(run / "strategic_assessment.ipynb", as_version=4)
    pictures = sum(
        "image/png" in o.get("data", {}) for c in executed.cells for o in c.get("outputs", [])
    )
    assert pictures >= 4
    assert len(document.inline_shapes) == pictures
    # the published partner table is a real Word table, with its "<5" cells
    texts = [[cell.text for cell in row.cells] for t in document.tables for row in t.rows]
    assert any(row[0] == "Abandoned vehicle" and "<5" in row for row in texts)
    body = "\n".join(p.text for p in document.paragraphs)
    assert "load_partnership" not in body and "save_table" not in body  # no code
    assert "Change the parameters below" not in body  # notebook-only instructions


def test_html_draft_renders_in_chromium_with_its_headings(batches, tmp_path):
    browser = _chromium()
    html = batches["run"] / "hotspot_mapping.html"
    shot = tmp_path / "page.png"
    done = _browser(
        browser,
        tmp_path / "profile",
        "--screenshot=" + str(shot),
        "--window-size=1200,1600",
        html.as_uri(),
    )
    assert shot.exists(), done.stderr[-2000:]
    from PIL import Image

    image = Image.open(shot).convert("L")
    assert image.size == (1200, 1600)
    assert max(image.getdata()) - min(image.getdata()) > 100  # not a blank page
    dom = _browser(browser, tmp_path / "profile2", "--dump-dom", html.as_uri()).stdout
    h1 = re.findall(r"<h1[^>]*>(.*?)</h1>", dom, flags=re.S)
    h2 = [
        re.sub(r"<[^>]+>", "", h).replace("¶", "").strip()
        for h in re.findall(r"<h2[^>]*>(.*?)</h2>", dom, flags=re.S)
    ]
    assert any("Hotspot mapping: Northbrook" in h for h in h1)
    for expected in ("Gi* hot spots", "Map layers for QGIS", "How this was produced"):
        assert expected in h2
    assert dom.count("data:image/png;base64") >= 5
    assert "<script" not in html.read_text()


def test_workbook_has_every_published_table(batches):
    run = batches["run"]
    register = json.loads((run / "strategic_assessment" / "outputs.json").read_text())
    book = openpyxl.load_workbook(run / "strategic_assessment.xlsx")
    assert book.sheetnames[0] == "About"
    assert len(book.sheetnames) == 1 + len(register["tables"])
    sheet = book[next(s for s in book.sheetnames if s.startswith("partner_council_asb_month"))]
    rows = list(sheet.iter_rows(values_only=True))
    table = read_published(run / "strategic_assessment" / "tables/partner_council_asb_monthly.csv")
    assert list(rows[0][1:]) == list(table.columns)
    for row in rows[1:]:
        for column, value in zip(table.columns, row[1:], strict=True):
            shown = table.loc[row[0], column]
            assert str(value) == str(shown)
            assert isinstance(value, str) == (not str(shown).isdigit())


def test_partner_table_suppresses_exactly_the_small_counts(batches):
    """Against the true counts: shown counts are true, "<5" stands for 1-4, nothing recoverable."""
    data = batches["data"]
    run = batches["run"]
    table = read_published(run / "strategic_assessment" / "tables/partner_council_asb_monthly.csv")
    truth = data.monthly_counts(source="council-asb")
    truth = truth.loc[[pd.Period(m, "M") for m in table.columns if m != "Total"]].T
    truth.columns = [str(m) for m in truth.columns]
    truth["Total"] = truth.sum(axis=1)
    truth.loc["Total"] = truth.sum()
    small = 0
    for category in table.index:
        for month in table.columns:
            shown, true = str(table.loc[category, month]), int(truth.loc[category, month])
            if shown == "<5":
                small += 1
                assert 1 <= true <= 4
            elif shown == "[c]":
                assert true >= 5
            else:
                assert int(shown) == true
                assert not 1 <= true <= 4
    assert small >= 5  # the demo's abandoned vehicles: the rule really had work to do
    bounds = attacker_bounds(table)
    assert bounds, "no cell was withheld"
    for cell, (low, high) in bounds.items():
        assert high - low >= 1, f"{cell} can be worked out from the totals: {low}..{high}"


def test_no_absolute_path_or_user_name_in_any_output(batches):
    home = str(Path.home())
    needles = [str(batches["base"]), str(ROOT), f"{os.sep}{os.environ.get('USER', 'root')}{os.sep}"]
    if len(home) > 1:
        needles.append(home)
    for path in batches["out"]["pool"].rglob("*"):
        if not path.is_file() or path.suffix in (".png", ".gpkg"):
            continue
        if path.suffix in (".docx", ".xlsx"):
            with zipfile.ZipFile(path) as z:
                text = "".join(z.read(n).decode("utf-8", "replace") for n in z.namelist())
        else:
            text = path.read_text(encoding="utf-8", errors="replace")
        for needle in needles:
            assert needle not in text, f"{needle} in {path.name}"


def test_no_row_level_record_reaches_a_draft(batches):
    """No crime ID, no (pseudonymised) person id, in any draft or published table."""
    inc = batches["data"].incidents
    crime_ids = inc["crime_id"].dropna().astype(str)
    crime_ids = crime_ids[crime_ids.str.len() > 8].sample(200, random_state=1)
    people = inc["person_id"].dropna().astype(str).unique()
    assert len(crime_ids) == 200 and len(people) > 100
    needles = [*crime_ids, *people[:200]]
    run = batches["run"]
    texts = [p.read_text(encoding="utf-8") for p in run.rglob("*.csv")]
    texts += [p.read_text(encoding="utf-8") for p in run.glob("*.html")]
    for path in run.glob("*.docx"):
        with zipfile.ZipFile(path) as z:
            texts.append(z.read("word/document.xml").decode("utf-8"))
    text = "\n".join(texts)
    leaked = [n for n in needles if n in text]
    assert leaked == []


def test_map_layers_match_the_incidents(batches):
    run = batches["run"]
    layers = [name for name, _ in pyogrio.list_layers(run / "strategic_assessment.gpkg")]
    assert layers == ["boundary", "lsoas"]
    lsoas = pyogrio.read_dataframe(run / "strategic_assessment.gpkg", layer="lsoas")
    data = batches["data"]
    window = pd.period_range(data.period_end - 11, data.period_end, freq="M")
    inc = data.incidents
    police = inc[(inc["source"] == "police.uk") & inc["month"].isin(window)]
    expected = police.groupby("lsoa")["count"].sum()
    got = lsoas.set_index("lsoa")["incidents"] if "lsoa" in lsoas else lsoas.iloc[:, 0]
    assert int(lsoas["incidents"].sum()) == int(expected[expected.index.isin(got.index)].sum())
    hot = [name for name, _ in pyogrio.list_layers(run / "hotspot_mapping.gpkg")]
    assert {"boundary", "counts", "kde", "gistar", "classification"} <= set(hot)


def test_dask_cluster_gives_byte_identical_tables(batches):
    pool, dask = batches["out"]["pool"], batches["out"]["dask"]
    tables = sorted(p.relative_to(pool) for p in pool.rglob("tables/*.csv"))
    assert len(tables) > 25
    assert tables == sorted(p.relative_to(dask) for p in dask.rglob("tables/*.csv"))
    for rel in tables:
        assert (pool / rel).read_bytes() == (dask / rel).read_bytes(), rel


# --------------------------------------------------------------------------- interruption

SLOW = (
    "import os, pathlib, time\n"
    "out = pathlib.Path(output_dir)\n"
    "out.mkdir(parents=True, exist_ok=True)\n"
    "flag = pathlib.Path(os.environ.get('CSP_TEST_SLOW_FLAG', '/nonexistent'))\n"
    "if flag.exists():\n"
    "    (out / 'started.txt').write_text('started')\n"
    "    time.sleep(120)\n"
    "print('slow notebook finished')"
)


def test_interrupted_batch_leaves_no_half_output_and_rerun_finishes_the_rest(tmp_path):
    nbs = tmp_path / "nbs"
    nbs.mkdir()
    write_notebook(nbs / "a_fast.ipynb", "print('fast notebook finished')")
    write_notebook(nbs / "b_slow.ipynb", SLOW)
    (tmp_path / "street").mkdir()
    (tmp_path / "street" / "2024-01-x-street.csv").write_text("Month\n2024-01\n")
    params = tmp_path / "p.yaml"
    params.write_text("name: X\nareas: {districts: [E1]}\npolice_uk: [{path: street}]\n")
    flag = tmp_path / "slow.flag"
    flag.write_text("")
    out = tmp_path / "out"
    env = {**os.environ, "CSP_TEST_SLOW_FLAG": str(flag)}
    command = [
        sys.executable,
        "-m",
        "cspanalysis.cli",
        "batch",
        str(params),
        "--out",
        str(out),
        "--notebooks",
        str(nbs),
        "--workers",
        "1",
    ]
    log = (tmp_path / "batch.out").open("w")  # a file, not a pipe nobody reads while it runs
    # a shell that starts a job in the background (as CI may) leaves SIGINT ignored, and an
    # ignored signal stays ignored in children: give the batch the default, as a terminal does
    proc = subprocess.Popen(
        command,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )
    started = out / "p" / "b_slow" / "started.txt"
    deadline = time.monotonic() + 120
    while not started.exists() and time.monotonic() < deadline and proc.poll() is None:
        time.sleep(0.2)
    assert started.exists(), (tmp_path / "batch.out").read_text()[-3000:]
    os.killpg(proc.pid, signal.SIGINT)  # Ctrl-C: the whole process group
    try:
        proc.wait(timeout=60)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        raise
    finally:
        log.close()
    assert proc.returncode != 0
    folder = out / "p"
    assert (folder / "a_fast.done.json").exists() and (folder / "a_fast.docx").exists()
    for suffix in (".ipynb", ".done.json", ".html", ".docx", ".xlsx"):
        assert not (folder / f"b_slow{suffix}").exists(), suffix
    leftovers = [
        p.name for p in out.rglob("*") if p.name.endswith(".part") or p.name.startswith(".")
    ]
    assert leftovers == []

    flag.unlink()  # the same notebook, now quick: only the missing run is redone
    rerun = subprocess.run(
        command, env=env, capture_output=True, text=True, timeout=300, check=False
    )
    assert rerun.returncode == 0, rerun.stdout + rerun.stderr
    assert "1 done, 1 unchanged, 0 failed" in rerun.stdout
    assert (folder / "b_slow.docx").exists() and (folder / "b_slow.done.json").exists()


# ------------------------------------------------------------ real data, a Dask address


@pytest.mark.shared_data
def test_a_real_thames_valley_partnership_gets_every_draft(shared_data, tmp_path):
    """Slough on the real police.uk files: every draft, and the three missing months said so."""
    text = (ROOT / "params/thames-valley/slough.yaml").read_text()
    params = tmp_path / "slough.yaml"  # alone in its folder: no automatic peers to load
    params.write_text(text)
    out = tmp_path / "out"
    result = run_batch(
        [params],
        notebooks_dir=ROOT / "notebooks",
        out_dir=out,
        data_root=shared_data,
        workers=2,
        progress=False,
    )
    assert result.ok, result.runs.to_dict("records")
    for name in NOTEBOOKS:
        for suffix in (".html", ".docx", ".xlsx", ".gpkg"):
            assert (out / "slough" / f"{name}{suffix}").stat().st_size > 0
        manifest = json.loads((out / "slough" / name / "manifest.json").read_text())
        coverage = manifest["coverage"]["police.uk:thames-valley"]
        assert coverage["missing_months"] == ["2018-07", "2018-08", "2018-09"]
        assert coverage["months_present"] == 6
        assert all(
            i["path"].startswith("{data_root}/") for i in manifest["inputs"] if i["key"] != "inputs"
        )
    document = docx.Document(out / "slough" / "strategic_assessment.docx")
    assert document.paragraphs[0].text == "Strategic assessment: Slough"
    appendix = (out / "slough" / "strategic_assessment.html").read_text()
    assert "2018-07" in appendix and "missing" in appendix


def test_batch_on_a_dask_scheduler_address(tmp_path):
    distributed = pytest.importorskip("dask.distributed")
    nbs = tmp_path / "nbs"
    nbs.mkdir()
    write_notebook(nbs / "a.ipynb", "import os\nprint('ran in', os.getpid())")
    (tmp_path / "street").mkdir()
    (tmp_path / "street" / "2024-01-x-street.csv").write_text("Month\n2024-01\n")
    files = []
    for name in ("p", "q"):
        files.append(tmp_path / f"{name}.yaml")
        files[-1].write_text(
            f"name: {name}\nareas: {{districts: [E1]}}\npolice_uk: [{{path: street}}]\n"
        )
    with distributed.LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None
    ) as cluster:
        result = run_batch(
            files,
            notebooks_dir=nbs,
            out_dir=tmp_path / "out",
            progress=False,
            scheduler=cluster.scheduler_address,
            drafts=False,
        )
    assert result.ok and list(result.runs["status"]) == ["done", "done"]
    printed = [
        "".join(
            o.get("text", "")
            for o in nbformat.read(tmp_path / "out" / n / "a.ipynb", as_version=4).cells[-1].outputs
        )
        for n in ("p", "q")
    ]
    assert all(p.startswith("ran in ") for p in printed)
    with pytest.raises(cspanalysis.InputError, match="cannot reach the Dask scheduler"):
        run_batch(
            files,
            notebooks_dir=nbs,
            out_dir=tmp_path / "out2",
            progress=False,
            scheduler="tcp://127.0.0.1:9",
            force=True,
        )
