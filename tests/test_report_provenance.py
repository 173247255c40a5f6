"""Provenance manifests on the demo partnership: content, no private paths, stability."""

from __future__ import annotations

import getpass
import hashlib
import json
import os
import re
import shutil
import subprocess
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pandas as pd
import pytest

import cspanalysis
from cspanalysis.config import Params
from cspanalysis.data.demo import ensure_demo
from cspanalysis.errors import InputError
from cspanalysis.report import provenance
from cspanalysis.report.provenance import build_manifest, write_manifest

ROOT = Path(__file__).resolve().parents[1]
PARAMS = ROOT / "params" / "demo" / "northbrook.yaml"
START = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> cspanalysis.PartnershipData:
    folder = ensure_demo(tmp_path_factory.mktemp("provenance") / "demo")
    return cspanalysis.load_partnership(PARAMS, data_root=folder)


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _manifest(data: cspanalysis.PartnershipData, **kwargs) -> dict:
    kwargs.setdefault("started", START)
    kwargs.setdefault("finished", START + timedelta(seconds=42.5))
    return build_manifest(data.params, data.coverage, **kwargs)


def test_parameter_file_is_recorded_with_its_hash_and_salt_redacted(demo):
    manifest = _manifest(demo)
    params = manifest["parameters"]
    assert params["file"] == "northbrook.yaml"
    assert params["sha256"] == _sha(PARAMS)  # the hash is of the file as it is
    original = PARAMS.read_text(encoding="utf-8")
    salt = demo.params.privacy.salt
    assert salt and salt in original
    assert params["text"] == original.replace(salt, "[redacted]")
    assert salt not in json.dumps(manifest)
    assert manifest["partnership"] == {"name": "Northbrook", "code": "X22000001"}


def test_every_input_file_is_listed_with_size_and_hash(demo):
    manifest = _manifest(demo)
    root = Path(demo.params.data_root)
    # independently: every file under the folders and files the parameter file names
    named = [
        root / "police_uk" / "demo-constabulary",
        root / "partner" / "council_asb.csv",
        root / "geography" / "demo_lsoa11_boundaries.geojson",
        root / "lookups" / "demo_lsoa11_to_district_csp.csv",
        root / "population" / "demo_lsoa11_population.csv",
        root / "population" / "demo_lsoa11_households.csv",
        root / "imd" / "demo_imd_lsoa11.csv",
        root / "geography" / "northbrook_park.geojson",
    ]
    expected = {}
    for item in named:
        if item.is_dir():
            for folder, _, names in os.walk(item):
                for name in names:
                    f = Path(folder) / name
                    expected["{data_root}/" + f.relative_to(root).as_posix()] = f
        else:
            expected["{data_root}/" + item.relative_to(root).as_posix()] = item
    expected["eastmere.yaml"] = PARAMS.parent / "eastmere.yaml"  # peers, beside the file
    recorded = {r["path"]: r for r in manifest["inputs"]}
    assert set(recorded) == set(expected)
    assert len(manifest["inputs"]) == len(expected)  # no file listed twice
    for path, f in expected.items():
        assert recorded[path]["bytes"] == f.stat().st_size
        assert recorded[path]["sha256"] == _sha(f)
    assert {r["key"] for r in manifest["inputs"]} >= {"police_uk[0].path", "partner[0].path"}


def test_coverage_lists_months_per_source_and_the_missing_ones(demo):
    coverage = _manifest(demo)["coverage"]
    root = Path(demo.params.data_root)
    police = sorted(p.name for p in (root / "police_uk" / "demo-constabulary").iterdir())
    asb = pd.read_csv(root / "partner" / "council_asb.csv", usecols=["date"])
    asb_months = sorted(set(asb["date"].str[:7]))
    span = [
        str(m)
        for m in pd.period_range(min(police + asb_months), max(police + asb_months), freq="M")
    ]
    assert set(coverage) == {"police.uk:demo-constabulary", "partner:council-asb"}
    pol = coverage["police.uk:demo-constabulary"]
    assert (pol["first_month"], pol["last_month"]) == (police[0], police[-1])
    assert pol["months_present"] == len(police)
    assert pol["missing_months"] == [m for m in span if m not in police]
    part = coverage["partner:council-asb"]
    assert part["months_present"] == len(asb_months)
    assert part["missing_months"] == [m for m in span if m not in asb_months]
    assert "2022-12" in part["missing_months"]  # the demo's planted gap


def test_versions_commit_and_timing(demo):
    manifest = _manifest(demo)
    packages = manifest["software"]["packages"]
    assert packages["pandas"] == pd.__version__
    assert packages["cspanalysis"] == cspanalysis.__version__
    assert set(packages) == {
        "cspanalysis",
        "pandas",
        "numpy",
        "geopandas",
        "statsmodels",
        "scipy",
        "pyarrow",
        "papermill",
    }
    head = subprocess.run(
        ["git", "-C", str(ROOT), "rev-parse", "HEAD"], capture_output=True, text=True
    )
    commit = manifest["software"]["cspanalysis_git"]
    if head.returncode == 0:
        assert commit.split("+")[0] == head.stdout.strip()
    else:
        assert commit is None
    assert manifest["run"] == {
        "started": "2026-01-05T09:00:00+00:00",
        "finished": "2026-01-05T09:00:42.500000+00:00",
        "seconds": 42.5,
    }


def test_git_commit_is_none_without_git(monkeypatch):
    def no_git(*args, **kwargs):
        raise FileNotFoundError("git")

    monkeypatch.setattr(provenance.subprocess, "run", no_git)
    assert provenance.git_commit() is None


def test_outputs_are_recorded_relative_to_the_output_folder(demo, tmp_path):
    out = tmp_path / "out" / "northbrook"
    (out / "tables").mkdir(parents=True)
    (out / "tables" / "counts.csv").write_text("a,b\n1,2\n")
    (out / "draft.html").write_text("<html></html>")
    manifest = _manifest(demo, outputs=[out / "draft.html", out / "tables" / "counts.csv"])
    assert manifest["outputs"] == [
        {"path": "draft.html", "bytes": 13, "sha256": _sha(out / "draft.html")},
        {"path": "tables/counts.csv", "bytes": 8, "sha256": _sha(out / "tables" / "counts.csv")},
    ]


def test_no_absolute_paths_or_user_names(demo, tmp_path):
    extra = tmp_path / "notebook.ipynb"
    extra.write_text("{}")
    out = tmp_path / "out"
    out.mkdir()
    (out / "draft.html").write_text("x")
    manifest = _manifest(demo, inputs=[extra], outputs=[out / "draft.html"])
    text = json.dumps(manifest)
    user = getpass.getuser()
    for needle in [
        str(Path.home()),
        str(demo.params.data_root),
        str(tmp_path),
        str(ROOT),
        "/tmp/",
        "pytest-of-",
        f"/{user}",
        f"{user}/",
    ]:
        assert needle not in text, needle
    assert not re.search(r'"/[^"]', text)  # no string starts with an absolute path
    assert {"key": "inputs", "path": "{elsewhere}/notebook.ipynb"}.items() <= next(
        r for r in manifest["inputs"] if r["key"] == "inputs"
    ).items()


def test_same_inputs_give_the_same_manifest_apart_from_timing(demo, tmp_path):
    # the same data in another folder (another data root) must not change the manifest
    copy = tmp_path / "elsewhere" / "demo"
    shutil.copytree(demo.params.data_root, copy)
    again = cspanalysis.load_partnership(PARAMS, data_root=copy)
    first = _manifest(demo)
    later = START + timedelta(days=3)
    second = _manifest(again, started=later, finished=later + timedelta(seconds=1))
    assert first["run"] != second["run"]
    first.pop("run")
    second.pop("run")
    assert first == second
    a = write_manifest(first, tmp_path / "a" / "manifest.json").read_bytes()
    b = write_manifest(second, tmp_path / "b" / "manifest.json").read_bytes()
    assert a == b
    assert json.loads(a) == first
    assert a.decode().index('"coverage"') < a.decode().index('"inputs"')  # sorted keys


def test_write_manifest_leaves_nothing_behind_on_failure(tmp_path):
    target = tmp_path / "manifest.json"
    write_manifest({"ok": True}, target)
    with pytest.raises(ValueError):
        write_manifest({"bad": float("nan")}, target)
    assert json.loads(target.read_text()) == {"ok": True}
    assert sorted(p.name for p in tmp_path.iterdir()) == ["manifest.json"]


def test_parameters_not_read_from_a_file_are_refused():
    params = Params.model_validate({"name": "X", "areas": {"districts": ["E1"]}})
    with pytest.raises(InputError, match="load_params"):
        build_manifest(params)
