"""The `cspanalysis` command: help everywhere, the main job, notebook runs, one-line errors."""

from __future__ import annotations

import json
import socket
from pathlib import Path

import nbformat
import pytest
from tiny_notebooks import write_notebook
from typer.testing import CliRunner

from cspanalysis.batch import NotebookFailedError, run_notebooks
from cspanalysis.cli import app
from cspanalysis.errors import InputError

ROOT = Path(__file__).resolve().parents[1]
runner = CliRunner()


@pytest.mark.parametrize(
    "command", [[], ["validate"], ["fetch"], ["demo-data"], ["demo"], ["run"], ["batch"]]
)
def test_help_everywhere(command):
    result = runner.invoke(app, [*command, "--help"])
    assert result.exit_code == 0
    assert "Usage" in result.output


def test_main_job_generates_the_demo_and_batches_every_demo_partnership(tmp_path):
    data = tmp_path / "demo"
    nbs = tmp_path / "nbs"
    nbs.mkdir()
    write_notebook(
        nbs / "summary.ipynb",
        "import cspanalysis\n"
        "print(cspanalysis.load_partnership(params_file, data_root or None).summary())",
    )
    out = tmp_path / "out"
    args = ["demo", "--data", str(data), "--params", str(ROOT / "params/demo")]
    result = runner.invoke(app, [*args, "--notebooks", str(nbs), "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert (data / "truth.json").exists()
    stems = sorted(p.stem for p in (ROOT / "params/demo").glob("*.yaml"))
    assert len(stems) >= 2
    assert f"{len(stems)} done, 0 unchanged, 0 failed" in result.output
    assert result.output.strip().splitlines()[-1] == f"index: {out / 'index.html'}"
    for stem in stems:
        executed = nbformat.read(out / stem / "summary.ipynb", as_version=4)
        printed = "".join(o.get("text", "") for o in executed.cells[-1].outputs)
        assert "LSOAs, population" in printed
        for suffix in (".html", ".docx", ".xlsx"):
            assert (out / stem / f"summary{suffix}").stat().st_size > 0
        assert (out / stem / "summary" / "manifest.json").exists()
    northbrook = nbformat.read(out / "northbrook" / "summary.ipynb", as_version=4)
    assert "police.uk:demo-constabulary: 60 of 60 months present" in "".join(
        o.get("text", "") for o in northbrook.cells[-1].outputs
    )


def test_run_one_notebook_and_unknown_notebook_names(tmp_path):
    nbs = tmp_path / "nbs"
    nbs.mkdir()
    write_notebook(nbs / "a.ipynb", "print('a ran')")
    write_notebook(nbs / "b.ipynb", "print('b ran')")
    (tmp_path / "street").mkdir()
    (tmp_path / "street" / "2024-01-x-street.csv").write_text("Month\n2024-01\n")
    params = tmp_path / "p.yaml"
    params.write_text("name: X\nareas: {districts: [E1]}\npolice_uk: [{path: street}]\n")
    out = tmp_path / "out"
    result = runner.invoke(
        app, ["run", str(params), "--notebook", "b", "--notebooks", str(nbs), "--out", str(out)]
    )
    assert result.exit_code == 0, result.output
    assert (out / "p" / "b.html").exists() and not (out / "p" / "a.ipynb").exists()
    result = runner.invoke(
        app, ["run", str(params), "--notebook", "c", "--notebooks", str(nbs), "--out", str(out)]
    )
    assert result.exit_code == 2
    assert "no notebook(s) ['c']" in result.output and "['a', 'b']" in result.output


def test_run_notebooks_injects_parameters_and_writes_atomically(tmp_path):
    nbs = tmp_path / "nbs"
    nbs.mkdir()
    write_notebook(
        nbs / "a.ipynb",
        "import json, pathlib\n"
        "pathlib.Path(output_dir).mkdir(parents=True, exist_ok=True)\n"
        "(pathlib.Path(output_dir) / 'p.json').write_text(json.dumps([params_file, data_root]))",
    )
    params = tmp_path / "p.yaml"
    params.write_text("name: x\n")
    out = tmp_path / "out"
    produced = run_notebooks(params, tmp_path / "data", nbs, out)
    assert produced == [out / "a.ipynb"]
    # relative to the run's folder (the kernel's working folder): no absolute path is written
    injected = json.loads((out / "a" / "p.json").read_text())
    assert injected == ["../p.yaml", "../data"]
    assert [(out / p).resolve() for p in injected] == [params.resolve(), (tmp_path / "data")]
    assert str(tmp_path) not in (out / "a.ipynb").read_text()
    assert not list(out.glob("*.part")) and not list(out.glob(".*"))


def test_failing_notebook_keeps_its_executed_copy_and_no_output(tmp_path):
    nbs = tmp_path / "nbs"
    nbs.mkdir()
    write_notebook(nbs / "bad.ipynb", "raise ValueError('planted failure')")
    out = tmp_path / "out"
    with pytest.raises(NotebookFailedError, match=r"bad.ipynb failed in cell .*planted failure"):
        run_notebooks(tmp_path / "p.yaml", tmp_path, nbs, out)
    assert not (out / "bad.ipynb").exists()
    assert (out / "bad.failed.ipynb").exists()
    assert not [p for p in out.iterdir() if p.name.startswith(".")]


def test_unknown_notebook_parameter_is_an_error(tmp_path):
    nbs = tmp_path / "nbs"
    nbs.mkdir()
    nb = nbformat.v4.new_notebook()
    cell = nbformat.v4.new_code_cell('params_file = ""')
    cell.metadata["tags"] = ["parameters"]
    nb.cells = [cell]
    nb.metadata["kernelspec"] = {
        "name": "python3",
        "display_name": "Python 3",
        "language": "python",
    }
    nbformat.write(nb, nbs / "x.ipynb")
    with pytest.raises(
        InputError, match=r"x.ipynb has no parameter\(s\) \['data_root', 'output_dir'\]"
    ):
        run_notebooks(tmp_path / "p.yaml", tmp_path, nbs, tmp_path / "out")


def test_fetch_offline_is_one_line_and_exit_3(tmp_path):
    with socket.socket() as s:  # a port on loopback with nothing listening
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    result = runner.invoke(
        app, ["fetch", f"http://127.0.0.1:{port}/2019-01.zip", "--out", str(tmp_path), "--quiet"]
    )
    assert result.exit_code == 3
    assert result.output.count("\n") == 1 and "Traceback" not in result.output
    assert not list(tmp_path.iterdir())
