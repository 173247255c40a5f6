"""Batch runs: failures isolated, unchanged runs skipped, stale ones redone, pool = sequential."""

from __future__ import annotations

import json
import multiprocessing
import re
import shutil
from pathlib import Path

import nbformat
import pandas as pd
import pytest
from tiny_notebooks import write_notebook
from typer.testing import CliRunner

from cspanalysis.batch import _run_job as _real_run_job
from cspanalysis.batch import run_batch
from cspanalysis.cli import app
from cspanalysis.data.demo import ensure_demo

ROOT = Path(__file__).resolve().parents[1]
BAD_FILE = "police_uk/demo-constabulary/2020-03/2020-03-demo-constabulary-street.csv"
runner = CliRunner()


# 'load' parses the partnership's data (so a corrupt file fails it) and writes a summary;
# 'echo' only reads the parameter file (so it succeeds even where the data are corrupt)
LOAD = (
    "import pathlib, cspanalysis\n"
    "data = cspanalysis.load_partnership(params_file, data_root or None)\n"
    "out = pathlib.Path(output_dir)\n"
    "out.mkdir(parents=True, exist_ok=True)\n"
    "(out / 'summary.txt').write_text(data.summary())\n"
    "print(data.summary())"
)
ECHO = (
    "import pathlib, yaml\n"
    "out = pathlib.Path(output_dir)\n"
    "out.mkdir(parents=True, exist_ok=True)\n"
    "(out / 'name.txt').write_text(yaml.safe_load(open(params_file))['name'])"
)


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    """Demo data, a copy with one street file truncated, three parameter files, two notebooks."""
    base = tmp_path_factory.mktemp("batch")
    good = ensure_demo(base / "demo")
    bad = base / "bad"
    shutil.copytree(good, bad)
    corrupt = bad / BAD_FILE
    corrupt.write_bytes(corrupt.read_bytes()[:5000])  # cut mid-row: a ragged last row
    params = base / "params"
    params.mkdir()
    for name, root in [("northbrook", good), ("eastmere", good), ("broken", bad)]:
        src = "eastmere" if name == "broken" else name
        text = (ROOT / "params/demo" / f"{src}.yaml").read_text()
        text = re.sub(r"^data_root:.*$", f"data_root: {root}", text, flags=re.MULTILINE)
        (params / f"{name}.yaml").write_text(text)
    nbs = base / "nbs"
    nbs.mkdir()
    write_notebook(nbs / "load.ipynb", LOAD)
    write_notebook(nbs / "echo.ipynb", ECHO)
    files = [params / f"{n}.yaml" for n in ("northbrook", "eastmere", "broken")]
    out = base / "out"
    # module fixtures run before conftest's per-test cache isolation: isolate this run too
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("CSPANALYSIS_CACHE", str(base / "cache"))
        mp.delenv("CSPANALYSIS_DATA", raising=False)
        first = run_batch(files, notebooks_dir=nbs, out_dir=out, workers=1, progress=False)
    return {"base": base, "files": files, "nbs": nbs, "out": out, "first": first, "bad": bad}


def _status(result) -> dict[tuple[str, str], str]:
    return {(r.partnership, r.notebook): r.status for r in result.runs.itertuples()}


def _copy_out(world, tmp_path) -> Path:
    out = tmp_path / "out"
    shutil.copytree(world["out"], out)
    return out


def test_a_corrupt_partnership_fails_alone(world):
    result = world["first"]
    out = world["out"]
    assert not result.ok
    assert _status(result) == {
        ("northbrook", "echo"): "done",
        ("northbrook", "load"): "done",
        ("eastmere", "echo"): "done",
        ("eastmere", "load"): "done",
        ("broken", "echo"): "done",  # does not read the street files
        ("broken", "load"): "failed",
    }
    assert list(result.runs.columns) == [
        "partnership",
        "notebook",
        "status",
        "seconds",
        "error",
        "path",
    ]
    failed = result.runs.set_index(["partnership", "notebook"]).loc[("broken", "load")]
    assert "2020-03-demo-constabulary-street.csv" in failed["error"]
    assert "\n" not in failed["error"]
    assert Path(failed["path"]) == (out / "broken" / "load.failed.ipynb").resolve()
    assert Path(failed["path"]).exists()
    assert not (out / "broken" / "load.ipynb").exists()
    assert not (out / "broken" / "load.done.json").exists()
    # the good ones really ran: their summaries match the demo data's own loader
    import cspanalysis

    for name in ("northbrook", "eastmere"):
        expected = cspanalysis.load_partnership(world["base"] / "params" / f"{name}.yaml").summary()
        assert (out / name / "load" / "summary.txt").read_text() == expected
        assert (out / name / "load.done.json").exists()
        assert "run finished" in (out / name / "load.log").read_text()
    assert "row 25" in (out / "broken" / "load.log").read_text()
    # every partnership has a manifest naming its inputs relative to {data_root}
    for name in ("northbrook", "eastmere", "broken"):
        manifest = json.loads((out / name / "manifest.json").read_text())
        assert manifest["partnership"]["name"] in {"Northbrook", "Eastmere"}
        assert any(i["path"].startswith("{data_root}/police_uk") for i in manifest["inputs"])
    assert not list(out.rglob("*.part"))


def test_index_lists_every_run_without_absolute_paths(world):
    text = (world["out"] / "index.html").read_text()
    rows = re.findall(r'<tr class="(\w+)"><td>(\w+)</td><td>(\w+)</td>', text)
    assert {(p, n): s for s, p, n in rows} == _status(world["first"])
    assert 'href="broken/load.failed.ipynb"' in text
    assert 'href="northbrook/load.ipynb"' in text
    assert "row 25 has 1 fields" in text
    assert str(world["base"]) not in text
    assert str(Path.home()) not in text
    assert not re.search(r'href="(/|[A-Za-z]:)', text)
    hrefs = re.findall(r'href="([^"]+)"', text)
    assert hrefs and all((world["out"] / h).exists() for h in hrefs)


def test_rerun_skips_unchanged_and_redoes_the_failed(world, tmp_path):
    out = _copy_out(world, tmp_path)
    result = run_batch(
        world["files"], notebooks_dir=world["nbs"], out_dir=out, workers=1, progress=False
    )
    status = _status(result)
    assert status.pop(("broken", "load")) == "failed"
    assert set(status.values()) == {"unchanged"}
    seconds = result.runs.set_index(["partnership", "notebook"])["seconds"]
    assert seconds[("broken", "load")] > 0 and seconds[("northbrook", "load")] == 0

    # what a run killed outright (SIGKILL) leaves: temporary files it could not remove
    folder = out / "northbrook"
    planted = [
        folder / ".load.html.k3j2x.part",
        folder / ".load.ipynb.a81qz.part",
        folder / "load.log.part",
        folder / "load" / "tables" / ".rates.csv.zz91.part",
    ]
    for path in planted:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("half")
    forced = run_batch(
        world["files"][:1],
        notebooks_dir=world["nbs"],
        out_dir=out,
        workers=1,
        force=True,
        progress=False,
    )
    assert set(forced.runs["status"]) == {"done"}
    assert [p.name for p in planted if p.exists()] == []
    assert not list(out.rglob("*.part"))


def test_a_changed_input_makes_its_partnership_stale(world, tmp_path):
    bad = tmp_path / "bad"
    shutil.copytree(world["bad"], bad)
    shutil.copy(world["base"] / "demo" / BAD_FILE, bad / BAD_FILE)  # repair the file
    files = [*world["files"][:2], tmp_path / "broken.yaml"]
    text = world["files"][2].read_text().replace(str(world["bad"]), str(bad))
    files[2].write_text(text)
    shutil.copy(world["files"][0], tmp_path)  # its peer, beside it
    out = _copy_out(world, tmp_path)
    result = run_batch(files, notebooks_dir=world["nbs"], out_dir=out, workers=1, progress=False)
    status = _status(result)
    # both runs of the changed partnership are redone, the done 'echo' included
    assert status == {
        ("northbrook", "echo"): "unchanged",
        ("northbrook", "load"): "unchanged",
        ("eastmere", "echo"): "unchanged",
        ("eastmere", "load"): "unchanged",
        ("broken", "echo"): "done",
        ("broken", "load"): "done",
    }
    assert result.ok
    assert not (out / "broken" / "load.failed.ipynb").exists()
    assert "failed" not in (out / "index.html").read_text().split("</thead>")[1]


def test_process_pool_gives_the_same_outputs(world, tmp_path):
    out = tmp_path / "pool"
    result = run_batch(
        world["files"], notebooks_dir=world["nbs"], out_dir=out, workers=2, progress=False
    )
    first = world["first"].runs
    pd.testing.assert_frame_equal(
        result.runs[["partnership", "notebook", "status"]],
        first[["partnership", "notebook", "status"]],
    )
    produced = sorted(p.relative_to(out).as_posix() for p in out.rglob("*.txt") if p.is_file())
    assert produced == sorted(
        p.relative_to(world["out"]).as_posix() for p in world["out"].rglob("*.txt")
    )
    for rel in produced:
        assert (out / rel).read_text() == (world["out"] / rel).read_text()
    # the content keys do not depend on where or how the runs were made
    for name in ("northbrook/load.done.json", "eastmere/echo.done.json"):
        key = json.loads((out / name).read_text())["key"]
        assert key == json.loads((world["out"] / name).read_text())["key"]


def test_cli_batch_exit_code_and_index(world, tmp_path):
    out = _copy_out(world, tmp_path)
    args = ["batch", *map(str, world["files"]), "--out", str(out), "--workers", "1"]
    args += ["--notebooks", str(world["nbs"])]
    result = runner.invoke(app, args)
    assert result.exit_code == 1, result.output
    assert "Traceback" not in result.output
    assert str(out / "index.html") in result.output
    assert "5 unchanged" in result.output and "1 failed" in result.output
    lines = [line for line in result.output.splitlines() if "×" in line]
    # one progress line per run, then the failures again in the summary
    assert len([line for line in lines if not line.startswith("failed: ")]) == 6
    assert [line for line in lines if line.startswith("failed: ")] == [
        next(line for line in lines if line.startswith("failed: broken × load: "))
    ]

    good = runner.invoke(app, [*args[:3], *args[4:]])  # only the two good partnerships
    assert good.exit_code == 0, good.output


def test_cli_batch_bad_arguments_are_one_line(tmp_path):
    result = runner.invoke(app, ["batch", "--out", str(tmp_path)])
    assert result.exit_code == 2
    assert "give parameter files" in result.output
    assert runner.invoke(app, ["batch", "--help"]).exit_code == 0


def _killer(job):
    """Stands in for batch._run_job in a forked worker: one job kills its worker process."""
    import os

    if job.partnership == "broken":
        os._exit(9)
    return _real_run_job(job)


@pytest.mark.skipif(
    multiprocessing.get_start_method() != "fork", reason="the stand-in needs forked workers"
)
def test_a_killed_worker_fails_only_its_own_run(world, tmp_path, monkeypatch):
    import cspanalysis.batch

    nbs = tmp_path / "nbs"
    nbs.mkdir()
    shutil.copy(world["nbs"] / "echo.ipynb", nbs)
    monkeypatch.setattr(cspanalysis.batch, "_run_job", _killer)
    result = run_batch(
        world["files"], notebooks_dir=nbs, out_dir=tmp_path / "out", workers=2, progress=False
    )
    assert _status(result) == {
        ("northbrook", "echo"): "done",
        ("eastmere", "echo"): "done",
        ("broken", "echo"): "failed",
    }
    error = result.runs.set_index("partnership").loc["broken", "error"]
    assert "worker process running it died" in error


def test_a_dead_kernel_is_a_failed_run(world, tmp_path):
    nbs = tmp_path / "nbs"
    nbs.mkdir()
    write_notebook(nbs / "die.ipynb", "import os\nos.kill(os.getpid(), 9)")
    result = run_batch(
        world["files"][:1], notebooks_dir=nbs, out_dir=tmp_path / "out", workers=1, progress=False
    )
    row = result.runs.iloc[0]
    assert row["status"] == "failed"
    assert row["error"].startswith("die.ipynb: the kernel died while running it")
    assert Path(row["path"]) == (tmp_path / "out" / "northbrook" / "die.failed.ipynb").resolve()
    ran = nbformat.read(row["path"], as_version=4)
    assert ran.cells[-1].source.startswith("import os")  # the cell that killed it
    assert not result.ok
    assert "failed" in (tmp_path / "out" / "index.html").read_text()
