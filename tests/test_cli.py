"""The `cspanalysis` command: help everywhere, the main job, notebook runs, one-line errors."""

from __future__ import annotations

import json
import socket
from pathlib import Path

import nbformat
import pytest
from tiny_notebooks import write_notebook
from typer.testing import CliRunner

from cspanalysis.cli import NotebookFailedError, app, run_notebooks
from cspanalysis.errors import InputError

ROOT = Path(__file__).resolve().parents[1]
runner = CliRunner()


@pytest.mark.parametrize(
    "command", [[], ["validate"], ["fetch"], ["demo-data"], ["demo"], ["batch"]]
)
def test_help_everywhere(command):
    result = runner.invoke(app, [*command, "--help"])
    assert result.exit_code == 0
    assert "Usage" in result.output


def test_main_job_loads_every_demo_partnership(tmp_path):
    data = tmp_path / "demo"
    result = runner.invoke(
        app,
        ["demo", "--data", str(data), "--params", str(ROOT / "params/demo"), "--skip-notebooks"],
    )
    assert result.exit_code == 0, result.output
    assert (data / "truth.json").exists()
    names = [
        line.split(":")[0] for line in result.output.splitlines() if "LSOAs, population" in line
    ]
    assert len(names) == len(list((ROOT / "params/demo").glob("*.yaml"))) >= 2
    assert "police.uk:demo-constabulary: 60 of 60 months present" in result.output


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
    assert json.loads((out / "a" / "p.json").read_text()) == [
        str(params.resolve()),
        str((tmp_path / "data").resolve()),
    ]
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
