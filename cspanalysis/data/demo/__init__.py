"""The demo partnerships: fictional data in the real formats, with the truth that was planted.

:func:`generate_demo` writes two neighbouring fictional districts, Northbrook
(a town) and Eastmere (a market town and countryside), policed by the "Demo
Constabulary": police.uk street files for every month, ONS-style boundaries,
lookup, population, households and deprivation, a council ASB dataset in the
partner schema, and ``truth.json`` recording every parameter planted in them
(seasonality and trend per crime type, hotspots that persist, emerge and fade,
near-repeat burglary, and an intervention in Northbrook Park with a known
effect, buffer and control area). The same loaders read them as read the real
files; ``params/demo/*.yaml`` point at them. docs/demo.md describes the demo.

The geography is fixed; the ``seed`` draws the incidents. The same seed gives
byte-identical files, a different seed a different draw from the same truth.

Example
-------
>>> import tempfile, pathlib
>>> demo = generate_demo(pathlib.Path(tempfile.mkdtemp()) / "demo")
>>> demo.truth["intervention"]["start"], demo.truth["intervention"]["effect"]
('2022-10', 0.6)
>>> sorted(p.name for p in demo.paths["police_uk"].iterdir())[:2]
['2019-04', '2019-05']
>>> import shutil; shutil.rmtree(demo.out_dir.parent)
"""

from __future__ import annotations

import json
import os
import re
import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd

from cspanalysis.data.demo import formats
from cspanalysis.data.demo import parameters as planted
from cspanalysis.data.demo.landscape import Landscape, build_landscape
from cspanalysis.data.demo.simulate import (
    draw_incidents,
    make_plan,
    monthly_expected,
    partner_rows,
    police_rows,
)
from cspanalysis.data.demo.truth import build_truth
from cspanalysis.errors import InputError
from cspanalysis.files import sha256_file

__all__ = [
    "DEFAULT_SEED",
    "GENERATOR_VERSION",
    "DemoData",
    "ensure_demo",
    "generate_demo",
    "load_truth",
]

DEFAULT_SEED: int = planted.DEFAULT_SEED
GENERATOR_VERSION: str = planted.GENERATOR_VERSION
DEFAULT_START = "2019-04"
DEFAULT_MONTHS = 60
#: Where :func:`ensure_demo` writes when no folder is given (relative to the working directory).
DEFAULT_DIR = Path("data") / "demo"

#: Every file (or folder) the demo writes, by role, relative to its folder.
FILES: dict[str, str] = {
    "police_uk": f"police_uk/{planted.FORCE_SLUG}",
    "boundaries": "geography/demo_lsoa11_boundaries.geojson",
    "districts": "geography/demo_districts.geojson",
    "places": "geography/demo_places.geojson",
    "intervention_target": planted.INTERVENTION.polygon_file,
    "lookup": "lookups/demo_lsoa11_to_district_csp.csv",
    "population": "population/demo_lsoa11_population.csv",
    "households": "population/demo_lsoa11_households.csv",
    "deprivation": "imd/demo_imd_lsoa11.csv",
    "partner": planted.PARTNER.file,
    "expected": "truth_expected.csv.gz",
    "readme": "README.txt",
    "truth": "truth.json",
}
_MONTH_RE = re.compile(r"^\d{4}-(0[1-9]|1[0-2])$")


@dataclass(frozen=True)
class DemoData:
    """What :func:`generate_demo` wrote.

    Attributes
    ----------
    out_dir
        The demo folder (the ``data_root`` of ``params/demo/*.yaml``).
    truth
        The contents of ``truth.json``.
    paths
        Absolute path of every file or folder written, by role (see :data:`FILES`).
    """

    out_dir: Path
    truth: dict[str, Any] = field(repr=False)
    paths: dict[str, Path] = field(repr=False)


def generate_demo(
    out_dir: str | Path,
    *,
    seed: int = DEFAULT_SEED,
    start: str = DEFAULT_START,
    months: int = DEFAULT_MONTHS,
) -> DemoData:
    """Write the demo partnerships into ``out_dir``, replacing an earlier demo there.

    The files are built in a temporary folder beside ``out_dir`` and renamed
    into place, so an error or interrupt never leaves a half-written demo.

    Parameters
    ----------
    out_dir
        Folder to write (created; an existing demo folder is replaced; any
        other non-empty folder is refused).
    seed
        Random seed of the incidents (the geography is the same for every seed).
    start
        First month, ``YYYY-MM``.
    months
        Number of consecutive months, 48 to 240. The planted events keep their
        place in the period: the emerging hotspot starts half-way, the fading
        one ends 40% of the way, the intervention starts after 42 months
        (leaving at least 12 after it).

    Returns
    -------
    DemoData

    Raises
    ------
    InputError
        For a bad argument or an ``out_dir`` that is not a demo folder.

    Examples
    --------
    >>> demo = generate_demo("data/demo", seed=7)        # doctest: +SKIP
    >>> demo.truth["generator"]["seed"]                  # doctest: +SKIP
    7
    """
    seed, period = _check_arguments(seed, start, months)
    out = Path(out_dir).expanduser().absolute()
    if out.exists():
        _check_replaceable(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.building-", dir=out.parent))
    try:
        truth = _write_demo(tmp, seed, period)
        _swap_into_place(tmp, out)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return DemoData(out, truth, {role: out / rel for role, rel in FILES.items()})


def ensure_demo(out_dir: str | Path | None = None, *, seed: int = DEFAULT_SEED) -> Path:
    """Return the demo folder, generating it only if it is absent, stale or damaged.

    The demo is regenerated when ``truth.json`` is missing, was written by
    another generator version, seed or period, or when any file's SHA-256
    differs from the manifest in ``truth.json``.

    Parameters
    ----------
    out_dir
        The demo folder; default ``data/demo`` under the working directory.
    seed
        Random seed of the incidents.

    Examples
    --------
    >>> ensure_demo("data/demo")                          # doctest: +SKIP
    PosixPath('data/demo')
    """
    out = Path(out_dir) if out_dir is not None else DEFAULT_DIR
    if not _is_current(out, seed):
        generate_demo(out, seed=seed)
    return out


def load_truth(out_dir: str | Path) -> dict[str, Any]:
    """Read ``truth.json`` from a demo folder.

    Raises
    ------
    InputError
        When the folder has no readable ``truth.json``.

    Examples
    --------
    >>> truth = load_truth("data/demo")                   # doctest: +SKIP
    >>> truth["hotspots"][0]["name"]                      # doctest: +SKIP
    'northbrook-town-centre'
    """
    path = Path(out_dir) / FILES["truth"]
    try:
        truth = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise InputError(
            "no truth.json here; generate the demo with `cspanalysis demo-data`", path=path.parent
        ) from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise InputError(
            f"truth.json cannot be read ({type(exc).__name__}); regenerate the demo with "
            "`cspanalysis demo-data --force`",
            path=path,
        ) from None
    if not isinstance(truth, dict) or "generator" not in truth:
        raise InputError("is not a demo truth file; regenerate the demo", path=path)
    return truth


# ----------------------------------------------------------------------------- internals


def _check_arguments(seed: Any, start: Any, months: Any) -> tuple[int, pd.PeriodIndex]:
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise InputError(f"the demo seed must be a whole number >= 0, not {seed!r}")
    if not isinstance(start, str) or not _MONTH_RE.match(start):
        raise InputError(
            f"the demo start month must be written YYYY-MM, e.g. 2019-04, not {start!r}"
        )
    if (
        isinstance(months, bool)
        or not isinstance(months, (int, np.integer))
        or not (48 <= months <= 240)
    ):
        raise InputError(f"the demo needs 48 to 240 months (at least four years), not {months!r}")
    return int(seed), pd.period_range(start, periods=int(months), freq="M")


def _is_current(out: Path, seed: int) -> bool:
    try:
        truth = load_truth(out)
    except InputError:
        return False
    gen = truth.get("generator", {})
    period = truth.get("period", {})
    if (
        gen.get("module") != "cspanalysis.data.demo"
        or gen.get("version") != GENERATOR_VERSION
        or gen.get("seed") != seed
        or period.get("start") != DEFAULT_START
        or period.get("months") != DEFAULT_MONTHS
    ):
        return False
    manifest = truth.get("files")
    if not isinstance(manifest, dict) or not manifest:
        return False
    for rel, digest in manifest.items():
        path = out / rel
        if not path.is_file() or sha256_file(path) != digest:
            return False
    return True


def _check_replaceable(out: Path) -> None:
    if not out.is_dir():
        raise InputError("exists and is not a folder; choose another folder for the demo", path=out)
    if not any(out.iterdir()):
        return
    try:
        truth = load_truth(out)
    except InputError:
        truth = {}
    if truth.get("generator", {}).get("module") != "cspanalysis.data.demo":
        raise InputError(
            "is not empty and holds no demo written by cspanalysis (no truth.json); "
            "choose another folder for the demo or remove this one",
            path=out,
        )


def _swap_into_place(tmp: Path, out: Path) -> None:
    umask = os.umask(0)
    os.umask(umask)
    tmp.chmod(0o777 & ~umask)  # mkdtemp made it private; the demo is ordinary data
    if not out.exists():
        os.replace(tmp, out)
        return
    old = Path(tempfile.mkdtemp(prefix=f".{out.name}.old-", dir=out.parent))
    old.rmdir()
    os.replace(out, old)
    try:
        os.replace(tmp, out)
    except BaseException:
        os.replace(old, out)
        raise
    shutil.rmtree(old, ignore_errors=True)


def _write_demo(folder: Path, seed: int, months: pd.PeriodIndex) -> dict[str, Any]:
    land = build_landscape()
    plan = make_plan(land, months)
    # spawn(4)[:3] == spawn(3): the busy ring's stream (added in version 2) left the others as
    # they were
    streams = np.random.SeedSequence(seed).spawn(4)
    rng = [np.random.default_rng(s) for s in streams]
    sim = draw_incidents(rng[0], land, plan, busy_rng=rng[3])
    rows = police_rows(rng[1], land, sim)
    partner = partner_rows(rng[2], land, sim)

    formats.write_police_uk(folder / FILES["police_uk"], land, rows, months)
    _write_geography(folder, land)
    formats.write_csv(folder / FILES["partner"], partner)
    expected = monthly_expected(sim, land)
    for col in ("expected", "expected_located"):
        expected[col] = expected[col].map("{:.5f}".format)
    formats.write_csv_gz(folder / FILES["expected"], expected)
    truth = build_truth(land, sim, rows, partner, seed)
    (folder / FILES["readme"]).write_text(_readme(truth), encoding="utf-8")
    truth["files"] = {
        p.relative_to(folder).as_posix(): sha256_file(p)
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }
    formats.write_json(folder / FILES["truth"], truth)
    return truth


def _write_geography(folder: Path, land: Landscape) -> None:
    lsoas = land.lsoas
    district = {d.code: d for d in planted.DISTRICTS}
    d_of = [district[c] for c in lsoas["district"]]
    boundaries = gpd.GeoDataFrame(
        {"lsoa11_name": lsoas["name"].to_numpy(), "lsoa11_code": lsoas.index.to_numpy()},
        geometry=lsoas.geometry.to_numpy(),
        crs=lsoas.crs,
    )
    formats.write_geojson(folder / FILES["boundaries"], boundaries, "demo_lsoa11_boundaries")
    districts = gpd.GeoDataFrame(
        {
            "ltla19_code": land.districts.index.to_numpy(),
            "ltla19_name": land.districts["name"].to_numpy(),
            "csp24_code": land.districts["csp_code"].to_numpy(),
            "csp24_name": land.districts["csp_name"].to_numpy(),
        },
        geometry=land.districts.geometry.to_numpy(),
        crs=land.districts.crs,
    )
    formats.write_geojson(folder / FILES["districts"], districts, "demo_districts")
    formats.write_geojson(folder / FILES["places"], land.places, "demo_places")
    target = gpd.GeoDataFrame(
        {"name": [planted.INTERVENTION.place], "intervention": [planted.INTERVENTION.name]},
        geometry=[land.park],
        crs=lsoas.crs,
    )
    formats.write_geojson(folder / FILES["intervention_target"], target, "northbrook_park")
    lookup = pd.DataFrame(
        {
            "lsoa11_name": lsoas["name"].to_numpy(),
            "lsoa11_code": lsoas.index.to_numpy(),
            "ltla19_name": [d.name for d in d_of],
            "ltla19_code": [d.code for d in d_of],
            "csp24_code": [d.csp_code for d in d_of],
            "csp24_name": [d.csp_name for d in d_of],
            "ltla24_code": [d.code for d in d_of],
            "pfa24_code": planted.PFA_CODE,
            "pfa24_name": planted.FORCE_NAME,
        }
    )
    formats.write_csv(folder / FILES["lookup"], lookup)
    formats.write_csv(folder / FILES["population"], land.population)
    formats.write_csv(
        folder / FILES["households"],
        pd.DataFrame(
            {
                "lsoa11_code": lsoas.index.to_numpy(),
                "lsoa11_name": lsoas["name"].to_numpy(),
                "households": lsoas["households"].to_numpy(),
            }
        ),
    )
    formats.write_csv(
        folder / FILES["deprivation"],
        pd.DataFrame(
            {
                "lsoa11_code": lsoas.index.to_numpy(),
                "IMD_decile": lsoas["imd_decile"].to_numpy(),
                "lsoa11_name": lsoas["name"].to_numpy(),
                "ltla19_code": lsoas["district"].to_numpy(),
                "ltla19_name": [d.name for d in d_of],
            }
        ),
    )


def _readme(truth: dict[str, Any]) -> str:
    period = truth["period"]
    lines = [
        "FICTIONAL DEMONSTRATION DATA - not real places, people or crimes.",
        "",
        "Written by cspanalysis (cspanalysis.data.demo, generator version "
        f"{truth['generator']['version']}, seed {truth['generator']['seed']}).",
        "Two neighbouring fictional districts, Northbrook (X07000001) and Eastmere (X07000002),",
        f"policed by the Demo Constabulary, {period['start']} to {period['end']} "
        f"({period['months']} months).",
        "The files copy the formats of police.uk street files and ONS geography so that the",
        "same loaders read them; params/demo/*.yaml point at this folder.",
        "",
        "police_uk/demo-constabulary/YYYY-MM/YYYY-MM-demo-constabulary-street.csv  street files",
        "geography/demo_lsoa11_boundaries.geojson  LSOA polygons (EPSG:4326)",
        "geography/demo_districts.geojson          district / partnership outlines",
        "geography/demo_places.geojson             town centres, Market Street, park, station",
        "geography/northbrook_park.geojson         the planted intervention's target area",
        "lookups/demo_lsoa11_to_district_csp.csv   LSOA -> district -> partnership",
        "population/demo_lsoa11_population.csv     mid-year population 2019-2023, age bands",
        "population/demo_lsoa11_households.csv     households per LSOA",
        "imd/demo_imd_lsoa11.csv                   deprivation decile (1 = most deprived)",
        "partner/council_asb.csv                   Northbrook council ASB reports (partner schema)",
        "truth.json                                every planted parameter (the ground truth)",
        "truth_expected.csv.gz                     expected counts per month, LSOA and crime type",
        "",
        "Regenerate with: cspanalysis demo-data --force   (docs/demo.md explains the model)",
    ]
    return "\n".join(lines) + "\n"
