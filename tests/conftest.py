"""Shared fixtures: the real open data beside the project, and an isolated cache."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SHARED_DATA = (ROOT / ".." / "shared" / "data").resolve()


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """The real police.uk / ONS files in ../shared/data; the test is skipped when absent."""
    if not (SHARED_DATA / "police_uk").is_dir():
        pytest.skip("../shared/data is not present beside the project")
    return SHARED_DATA


@pytest.fixture(autouse=True)
def _isolated_cache(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch):
    """Never let a test read or write the user's real cache."""
    if "CSPANALYSIS_CACHE_KEEP" not in os.environ:
        monkeypatch.setenv("CSPANALYSIS_CACHE", str(tmp_path_factory.mktemp("cache")))
    monkeypatch.delenv("CSPANALYSIS_DATA", raising=False)
    yield


@pytest.fixture
def nbval_run():
    """Inject parameters into a copy of a notebook with papermill, then test it with nbval.

    Returns a callable ``run(notebook, parameters, tmp_path, cwd=None)`` that fails the
    test (with the end of nbval's output) unless every cell runs.
    """
    import subprocess
    import sys

    import papermill

    def run(notebook: Path, parameters: dict, tmp_path: Path, cwd: Path | None = None) -> Path:
        prepared = tmp_path / notebook.name
        papermill.execute_notebook(
            str(notebook), str(prepared), prepare_only=True, parameters=parameters
        )
        env = {
            **os.environ,
            "CSPANALYSIS_CACHE": str(tmp_path / "cache"),
            "MPLBACKEND": "Agg",
        }
        proc = subprocess.run(
            [
                sys.executable,
                "-m",
                "pytest",
                "--nbval-lax",
                str(prepared),
                "-q",
                "-p",
                "no:cacheprovider",
                "-o",
                "addopts=",
                "--rootdir",
                str(tmp_path),
            ],
            cwd=cwd or tmp_path,
            env=env,
            capture_output=True,
            text=True,
            timeout=600,
        )
        assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-2000:]
        return prepared

    return run
