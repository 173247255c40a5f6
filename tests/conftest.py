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
