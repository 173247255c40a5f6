"""The demo generator: real formats, read by the real loaders, and its planted truth recovered.

The demo is generated once per session (default seed) plus once with a second
seed. The statistical tests estimate each planted quantity from the *files*,
through :func:`cspanalysis.load_partnership`, and compare the estimate with the
parameter in ``truth.json`` using its confidence interval; truth.json supplies
only the parameters and the places they act, never the answer. Checks are
made at family-wise or 99.9% levels so that a fresh seed fails rarely: in a
study of the generator with 80 seeds, the seasonality/trend family failed for
7% of seeds; over 60 seeds the step and intervention checks never failed.
"""

from __future__ import annotations

import hashlib
import re
import shutil
import time
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
import statsmodels.api as sm
from scipy import stats
from scipy.spatial import cKDTree

import cspanalysis
from cspanalysis.data import demo
from cspanalysis.data.schema import check_areas, check_coverage, check_incidents
from cspanalysis.errors import InputError
from cspanalysis.stats import poisson_rate_ratio

ROOT = Path(__file__).resolve().parents[1]
PARAMS = ROOT / "params" / "demo"
JOINT = PARAMS / "northbrook_and_eastmere.yaml"
OTHER_SEED = demo.DEFAULT_SEED + 1
#: police.uk's 14 crime types (street files since 2013)
POLICE_UK_TYPES = {
    "Anti-social behaviour",
    "Bicycle theft",
    "Burglary",
    "Criminal damage and arson",
    "Drugs",
    "Other crime",
    "Other theft",
    "Possession of weapons",
    "Public order",
    "Robbery",
    "Shoplifting",
    "Theft from the person",
    "Vehicle crime",
    "Violence and sexual offences",
}
HEADER = (
    "Crime ID,Month,Reported by,Falls within,Longitude,Latitude,Location,LSOA code,LSOA name,"
    "Crime type,Last outcome category,Context"
)


# ----------------------------------------------------------------------------- fixtures


@pytest.fixture(scope="session")
def demo_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("demo") / "demo"
    t0 = time.perf_counter()
    demo.generate_demo(out)
    print(f"\ndefault demo generated in {time.perf_counter() - t0:.1f} s")
    return out


@pytest.fixture(scope="session")
def other_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("demo-other") / "demo"
    demo.generate_demo(out, seed=OTHER_SEED)
    return out


def _load(params: Path, root: Path) -> cspanalysis.PartnershipData:
    return cspanalysis.load_partnership(params, data_root=root, use_cache=False)


@pytest.fixture(scope="session")
def joint(demo_dir: Path) -> cspanalysis.PartnershipData:
    return _load(JOINT, demo_dir)


@pytest.fixture(scope="session")
def joint_other(other_dir: Path) -> cspanalysis.PartnershipData:
    return _load(JOINT, other_dir)


def _police(data: cspanalysis.PartnershipData) -> gpd.GeoDataFrame:
    inc = data.incidents
    return inc[inc["source"] == "police.uk"]


def _raw_month(root: Path, month: str) -> tuple[bytes, pd.DataFrame]:
    path = root / f"police_uk/demo-constabulary/{month}/{month}-demo-constabulary-street.csv"
    raw = path.read_bytes()
    return raw, pd.read_csv(path, dtype=str, keep_default_na=False)


def _tree_hashes(root: Path) -> dict[str, str]:
    return {
        p.relative_to(root).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


# ----------------------------------------------------------------------------- formats


def test_police_uk_files_look_like_police_uk(demo_dir: Path):
    truth = demo.load_truth(demo_dir)
    months = pd.period_range(truth["period"]["start"], periods=60, freq="M").astype(str)
    folders = sorted(p.name for p in (demo_dir / "police_uk/demo-constabulary").iterdir())
    assert folders == list(months)  # 60 consecutive months, nothing else
    frames = []
    for month in months:
        raw, frame = _raw_month(demo_dir, month)
        assert raw.startswith(HEADER.encode() + b"\r\n") and raw.endswith(b"\r\n")
        assert raw.count(b"\n") == raw.count(b"\r\n") == len(frame) + 1
        assert (frame["Month"] == month).all()
        unlocated = frame["Location"] == "No Location"
        # rows without a location come last, as police.uk writes them
        assert not unlocated.iloc[: (~unlocated).sum()].any()
        frames.append(frame)
    rows = pd.concat(frames, ignore_index=True)
    assert set(rows["Crime type"]) == POLICE_UK_TYPES
    assert (rows["Reported by"] == "Demo Constabulary").all()
    assert (rows["Falls within"] == "Demo Constabulary").all()
    assert (rows["Context"] == "").all()

    asb = rows["Crime type"] == "Anti-social behaviour"
    assert (rows.loc[asb, "Crime ID"] == "").all() and (
        rows.loc[asb, "Last outcome category"] == ""
    ).all()
    ids = rows.loc[~asb, "Crime ID"]
    assert ids.str.fullmatch(r"[0-9a-f]{64}").all() and ids.is_unique
    assert (rows.loc[~asb, "Last outcome category"] != "").all()

    unlocated = rows["Location"] == "No Location"
    blank = rows[["Longitude", "Latitude", "LSOA code", "LSOA name"]].eq("").all(axis=1)
    assert (unlocated == blank).all()
    share = unlocated.mean()
    monthly = unlocated.groupby(rows["Month"]).mean()
    print(
        f"rows {len(rows):,}; without location {share:.1%} (monthly {monthly.min():.1%}"
        f"-{monthly.max():.1%})"
    )
    assert 0.05 <= share <= 0.10
    assert monthly.between(0.03, 0.13).all()

    located = rows[~unlocated]
    assert located["Location"].str.startswith("On or near ").all()
    assert located["Longitude"].str.fullmatch(r"-?\d+\.\d{6}").all()
    assert located["Latitude"].str.fullmatch(r"\d+\.\d{6}").all()
    assert located["LSOA code"].str.fullmatch(r"X01\d{6}").all()
    # snapped: a finite set of map points, each with one name and one LSOA
    per_point = located.groupby(["Longitude", "Latitude"])[["Location", "LSOA code"]].nunique()
    assert (per_point == 1).all().all()
    assert len(per_point) < len(located) / 20
    # realistic mix: violence and ASB the largest categories
    top = rows["Crime type"].value_counts().index[:2]
    assert set(top) == {"Violence and sexual offences", "Anti-social behaviour"}


def test_geography_files_match_the_real_shapes(demo_dir: Path):
    lsoas = gpd.read_file(demo_dir / "geography/demo_lsoa11_boundaries.geojson")
    assert lsoas.crs.to_epsg() == 4326
    assert list(lsoas.columns) == ["lsoa11_name", "lsoa11_code", "geometry"]
    assert 80 <= len(lsoas) <= 150
    assert lsoas["lsoa11_code"].str.fullmatch(r"X01\d{6}").all()
    assert lsoas["lsoa11_name"].str.fullmatch(r"(Northbrook|Eastmere) \d{3}[A-Z]").all()
    districts = gpd.read_file(demo_dir / "geography/demo_districts.geojson").to_crs(27700)
    bng = lsoas.to_crs(27700)
    # the LSOAs tile the two districts: no gaps, no overlaps (beyond rounding)
    assert bng.area.sum() == pytest.approx(districts.area.sum(), rel=1e-4)
    assert shapely.union_all(bng.geometry).area == pytest.approx(districts.area.sum(), rel=1e-4)
    lookup = pd.read_csv(demo_dir / "lookups/demo_lsoa11_to_district_csp.csv", dtype=str)
    real_columns = [
        "lsoa11_name",
        "lsoa11_code",
        "ltla19_name",
        "ltla19_code",
        "csp24_code",
        "csp24_name",
        "ltla24_code",
        "pfa24_code",
        "pfa24_name",
    ]
    assert list(lookup.columns) == real_columns
    assert set(lookup["lsoa11_code"]) == set(lsoas["lsoa11_code"])
    pop = pd.read_csv(demo_dir / "population/demo_lsoa11_population.csv")
    assert sorted(pop["mid_year"].unique()) == [2019, 2020, 2021, 2022, 2023]
    bands = ["age_0_15", "age_16_24", "age_25_44", "age_45_64", "age_65_plus"]
    assert (pop[bands].sum(axis=1) == pop["total_population"]).all()
    assert pop["total_population"].between(1_000, 3_000).all()
    imd = pd.read_csv(demo_dir / "imd/demo_imd_lsoa11.csv")
    assert imd["IMD_decile"].between(1, 10).all() and imd["IMD_decile"].nunique() >= 8
    places = gpd.read_file(demo_dir / "geography/demo_places.geojson")
    assert {"town centre", "park", "retail road", "station"} <= set(places["kind"])


# ----------------------------------------------------------------------------- loaders


@pytest.mark.parametrize("name", ["northbrook", "eastmere", "northbrook_and_eastmere"])
def test_loaded_through_the_foundation_loaders(name: str, demo_dir: Path):
    data = _load(PARAMS / f"{name}.yaml", demo_dir)
    check_incidents(data.incidents)
    check_areas(data.areas)
    check_coverage(data.coverage)
    lookup = pd.read_csv(demo_dir / "lookups/demo_lsoa11_to_district_csp.csv", dtype=str)
    mine = set(lookup.loc[lookup["ltla19_code"].isin(data.params.areas.districts), "lsoa11_code"])
    assert set(data.areas.index) == mine
    pop = pd.read_csv(demo_dir / "population/demo_lsoa11_population.csv", dtype={"mid_year": int})
    pop19 = pop[(pop["mid_year"] == 2019) & pop["lsoa11_code"].isin(mine)]["total_population"]
    assert data.areas["population"].sum() == pop19.sum()
    # every police.uk row with one of the partnership's LSOAs, counted with plain pandas
    files = sorted((demo_dir / "police_uk/demo-constabulary").rglob("*.csv"))
    raw = pd.concat([pd.read_csv(f, dtype=str, usecols=["LSOA code"]) for f in files])
    assert len(_police(data)) == raw["LSOA code"].isin(mine).sum()
    assert len(data.missing_months()) == 0 and len(data.months()) == 60
    if data.params.partner:
        truth = demo.load_truth(demo_dir)["partner"]
        cov = data.coverage[data.coverage["source"] == "partner:council-asb"]
        present = cov.loc[cov["status"] == "present", "month"].astype(str)
        assert present.min() == truth["first_month"]
        assert set(truth["missing_months"]) <= set(
            data.missing_months("partner:council-asb").astype(str)
        )
        assert truth["missing_months"][0] not in set(present)
        council = data.incidents[data.incidents["source"] == "council-asb"]
        ids = council["person_id"].dropna()
        assert ids.str.fullmatch(r"[0-9a-f]{64}").all()  # pseudonymised on load
        assert ids.value_counts().max() > 1  # repeat complainants


def test_parameter_files_agree_with_the_truth(demo_dir: Path):
    truth = demo.load_truth(demo_dir)
    iv = truth["intervention"]
    params = cspanalysis.load_params(PARAMS / "northbrook.yaml", data_root=demo_dir)
    (entry,) = params.interventions
    assert entry.start == iv["start"] and entry.buffer == iv["buffer_m"]
    assert entry.categories == iv["categories"]
    assert entry.control_lsoas == iv["control_lsoas"]
    assert entry.target.polygon == demo_dir / iv["polygon_file"]
    target = gpd.read_file(entry.target.polygon).to_crs(27700).geometry.iloc[0]
    assert target.equals_exact(shapely.from_wkt(iv["polygon_wkt"]), tolerance=0.5)
    codes = {d["code"]: d["csp_code"] for d in truth["districts"]}
    assert params.code == codes[params.areas.districts[0]]


# ----------------------------------------------------------------------------- determinism


def test_same_seed_same_bytes_other_seed_other_incidents(
    demo_dir: Path, other_dir: Path, tmp_path: Path
):
    again = demo.generate_demo(tmp_path / "again")
    first, second = _tree_hashes(demo_dir), _tree_hashes(again.out_dir)
    assert first == second
    assert demo.load_truth(demo_dir)["files"] == {
        k: v for k, v in first.items() if k != "truth.json"
    }
    other = _tree_hashes(other_dir)
    assert other.keys() == first.keys()
    police = [k for k in first if k.startswith("police_uk/")]
    assert len(police) == 60 and all(first[k] != other[k] for k in police)
    assert first["partner/council_asb.csv"] != other["partner/council_asb.csv"]
    same = [k for k in first if k.startswith(("geography/", "lookups/", "population/", "imd/"))]
    assert all(first[k] == other[k] for k in same)  # one geography for every seed


def test_ensure_demo_generates_only_when_needed(demo_dir: Path, tmp_path: Path):
    out = tmp_path / "copy"
    shutil.copytree(demo_dir, out)
    probe = out / "population/demo_lsoa11_households.csv"
    stamp = probe.stat().st_mtime_ns
    assert demo.ensure_demo(out) == out
    assert probe.stat().st_mtime_ns == stamp  # current: left alone
    with open(probe, "a") as fh:
        fh.write("tampered\n")
    demo.ensure_demo(out)  # a file differs from the manifest: regenerated
    assert _tree_hashes(out) == _tree_hashes(demo_dir)
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]  # no leftovers


def test_bad_arguments_and_foreign_folders_are_refused(tmp_path: Path, monkeypatch):
    for kwargs, words in (
        ({"seed": -1}, "seed"),
        ({"start": "2019-4"}, "YYYY-MM"),
        ({"months": 12}, "48 to 240"),
    ):
        with pytest.raises(InputError, match=words):
            demo.generate_demo(tmp_path / "x", **kwargs)
    foreign = tmp_path / "mine"
    foreign.mkdir()
    (foreign / "notes.txt").write_text("keep me")
    with pytest.raises(InputError, match="no demo written by cspanalysis"):
        demo.generate_demo(foreign)
    assert (foreign / "notes.txt").read_text() == "keep me"
    with pytest.raises(InputError, match=r"no truth\.json"):
        demo.load_truth(tmp_path / "nowhere")

    def broken(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(demo.formats, "write_json", broken)
    with pytest.raises(OSError):
        demo.generate_demo(tmp_path / "half")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["mine"]  # nothing half-written


# ----------------------------------------------------------------------------- statistics


def _clean_lsoas(truth: dict, category: str, all_lsoas: pd.Index) -> pd.Index:
    """LSOAs untouched by any planted effect that changes over time for this category."""
    touched: set[str] = set()
    for h in truth["hotspots"]:
        if h["kind"] != "persistent" and category in h["categories"]:
            touched |= set(h["lsoas"])
    iv = truth["intervention"]
    if category in iv["categories"]:
        touched |= set(iv["lsoas"]) | set(iv["buffer_lsoas"])
    return all_lsoas.difference(sorted(touched))


SEASON_CATEGORIES = (
    "Violence and sexual offences",
    "Anti-social behaviour",
    "Burglary",
    "Shoplifting",
)


@pytest.mark.parametrize("which", ["default", "other"])
def test_seasonality_and_trend_are_recovered(which: str, request):
    data = request.getfixturevalue("joint" if which == "default" else "joint_other")
    root = request.getfixturevalue("demo_dir" if which == "default" else "other_dir")
    truth = demo.load_truth(root)
    inc = _police(data)
    months = pd.period_range(truth["period"]["start"], truth["period"]["end"], freq="M")
    cal = months.month.to_numpy()
    X = sm.add_constant(
        np.c_[
            np.cos(2 * np.pi * cal / 12), np.sin(2 * np.pi * cal / 12), np.arange(len(months)) / 12
        ]
    )
    # 95% family-wise over 2 seeds x 4 categories x 2 quantities (Bonferroni), t for the
    # estimated dispersion
    z = stats.t.ppf(1 - 0.05 / 2 / 16, len(months) - 4)
    for name in SEASON_CATEGORIES:
        planted = truth["categories"][name]
        clean = _clean_lsoas(truth, name, data.areas.index)
        rows = inc[(inc["category"] == name) & inc["lsoa"].isin(clean)]
        y = rows.groupby("month").size().reindex(months, fill_value=0).to_numpy()
        fit = sm.GLM(y, X, family=sm.families.Poisson()).fit(scale="X2")  # quasi-Poisson
        b, cov = fit.params, fit.cov_params()
        amp = float(np.hypot(b[1], b[2]))
        grad = np.array([0.0, b[1] / amp, b[2] / amp, 0.0])
        se_amp = float(np.sqrt(grad @ cov @ grad))
        peak = (np.degrees(np.arctan2(b[2], b[1])) / 30.0) % 12 or 12
        trend, se_trend = float(b[3]), float(np.sqrt(cov[3, 3]))
        print(
            f"{name}: A {amp:.3f} ± {se_amp:.3f} (planted {planted['seasonal_amplitude']}), "
            f"peak {peak:.1f} ({planted['seasonal_peak_month']}), trend {trend:+.4f} ± "
            f"{se_trend:.4f} ({planted['trend_log_per_year']:+})"
        )
        assert abs(amp - planted["seasonal_amplitude"]) < z * se_amp, name
        assert abs(trend - planted["trend_log_per_year"]) < z * se_trend, name
        assert se_trend < 0.015 and se_amp < 0.03, name  # narrow intervals, not vacuous ones
        if planted["seasonal_amplitude"] >= 0.1:  # strong enough to be found, at its peak
            assert amp > z * se_amp, name
            assert abs((peak - planted["seasonal_peak_month"] + 6) % 12 - 6) < 1.0, name


def test_persistent_hotspots_have_significantly_higher_rates(joint, demo_dir: Path):
    truth = demo.load_truth(demo_dir)
    inc = _police(joint)
    areas = joint.areas
    any_hotspot = areas.index.isin(sorted({c for h in truth["hotspots"] for c in h["lsoas"]}))
    for h in truth["hotspots"]:
        if h["kind"] != "persistent":
            continue
        # the hotspot's LSOAs against the LSOAs of its district that no hotspot touches
        hot = areas.index.isin(h["lsoas"])
        district = (areas["district"] == areas.loc[h["lsoas"][0], "district"]).to_numpy()
        sample = district & (hot | ~any_hotspot)
        rows = inc[inc["category"].isin(h["categories"])]
        count = rows.groupby("lsoa").size().reindex(areas.index, fill_value=0).to_numpy()[sample]
        pop = areas["population"].to_numpy(dtype=float)[sample]
        is_hot = hot[sample]
        # exact conditional rate test, population x 60 months as exposure
        rr = poisson_rate_ratio(
            int(count[is_hot].sum()),
            int(count[~is_hot].sum()),
            float(pop[is_hot].sum() * 60),
            float(pop[~is_hot].sum() * 60),
        )
        # and allowing for deprivation (rates rise as the decile falls)
        decile = areas["imd_decile"].to_numpy(dtype=float)[sample]
        X = sm.add_constant(np.c_[decile, is_hot.astype(float)])
        fit = sm.GLM(count, X, family=sm.families.Poisson(), offset=np.log(pop)).fit(scale="X2")
        low = fit.params[2] - stats.norm.ppf(0.9995) * fit.bse[2]
        print(
            f"{h['name']}: rate ratio {rr.ratio:.2f} ({rr.ci_low:.2f}-{rr.ci_high:.2f}), "
            f"p={rr.p_value:.1e}; deprivation-adjusted {np.exp(fit.params[2]):.2f} "
            f"(99.9% lower bound {np.exp(low):.2f})"
        )
        assert rr.p_value < 1e-6 and rr.ci_low > 1.2, h["name"]
        assert low > 0, h["name"]


def _step_ratio(
    inc: gpd.GeoDataFrame,
    inside: np.ndarray,
    elsewhere: np.ndarray,
    step: pd.Period,
    months: pd.PeriodIndex,
) -> tuple[float, float, float]:
    """Difference in differences: (after/before inside) / (after/before elsewhere), 99.9% CI.

    Conditional on each month's total of the two groups, the inside count is
    binomial; a quasi-binomial GLM with an after-step term gives the ratio of
    rate ratios, with the overdispersion of the (small, clustered) inside
    group in its interval. Month effects (season, trend) cancel."""
    y_in = inc[inside].groupby("month").size().reindex(months, fill_value=0).to_numpy()
    y_out = inc[elsewhere].groupby("month").size().reindex(months, fill_value=0).to_numpy()
    after = (months >= step).astype(float)
    total = y_in + y_out
    fit = sm.GLM(
        y_in / total, sm.add_constant(after), family=sm.families.Binomial(), var_weights=total
    ).fit(scale="X2")
    b, se = fit.params[1], fit.bse[1]
    z = stats.t.ppf(0.9995, fit.df_resid)
    return float(np.exp(b)), float(np.exp(b - z * se)), float(np.exp(b + z * se))


def _bng_xy(inc: gpd.GeoDataFrame) -> np.ndarray:
    return np.c_[inc.geometry.x.to_numpy(), inc.geometry.y.to_numpy()]


def test_emerging_and_fading_hotspots_change_where_planted_only(joint, demo_dir: Path):
    truth = demo.load_truth(demo_dir)
    months = pd.period_range(truth["period"]["start"], truth["period"]["end"], freq="M")
    inc = _police(joint)
    inc = inc[inc.geometry.notna()]
    xy = _bng_xy(inc)
    spots = {h["name"]: h for h in truth["hotspots"]}
    park = shapely.from_wkt(truth["intervention"]["polygon_wkt"])
    near_park = shapely.contains_xy(
        park.buffer(truth["intervention"]["buffer_m"]), xy[:, 0], xy[:, 1]
    )

    def circle(h: dict) -> np.ndarray:
        (x, y), r = h["area"]["centre"], h["area"]["radius_m"]
        return np.hypot(xy[:, 0] - x, xy[:, 1] - y) <= r

    untouched = inc["lsoa"].isin(truth["intervention"]["control_lsoas"]).to_numpy()

    for name, step in (("millfield-emerging", "start"), ("station-fading", "end")):
        h = spots[name]
        when = pd.Period(h[step], freq="M") + (1 if step == "end" else 0)
        cats = inc["category"].isin(h["categories"]).to_numpy()
        inside = circle(h) & cats
        elsewhere = ~circle(h) & ~near_park & cats
        expected = h["multiplier"] if step == "start" else 1 / h["multiplier"]
        ratio, low, high = _step_ratio(inc, inside, elsewhere, when, months)
        print(
            f"{name}: step ratio {ratio:.2f} (99.9% CI {low:.2f}-{high:.2f}), "
            f"planted {expected:.2f}"
        )
        assert low <= expected <= high, name
        assert high < 1 or low > 1, name  # significant
        # not elsewhere: no step in the LSOAs untouched by any planted effect
        placebo = untouched & cats & ~circle(h)
        ratio, low, high = _step_ratio(inc, placebo, elsewhere & ~placebo, when, months)
        print(f"  placebo in untouched LSOAs: {ratio:.2f} ({low:.2f}-{high:.2f})")
        assert low <= 1 <= high, name
    # the emerging hotspot's LSOAs are where its incidents are
    h = spots["millfield-emerging"]
    assert set(inc.loc[circle(h), "lsoa"]) == set(h["lsoas"])


@pytest.mark.parametrize("which", ["default", "other"])
def test_intervention_effect_is_detectable_and_recovered(which: str, request):
    data = request.getfixturevalue("joint" if which == "default" else "joint_other")
    root = request.getfixturevalue("demo_dir" if which == "default" else "other_dir")
    iv = demo.load_truth(root)["intervention"]
    months = pd.period_range("2019-04", periods=60, freq="M")
    inc = _police(data)
    inc = inc[inc["category"].isin(iv["categories"]) & inc.geometry.notna()]
    xy = _bng_xy(inc)
    park = gpd.read_file(root / iv["polygon_file"]).to_crs(27700).geometry.iloc[0]
    target = shapely.contains_xy(park, xy[:, 0], xy[:, 1])
    ring = shapely.contains_xy(park.buffer(iv["buffer_m"]), xy[:, 0], xy[:, 1]) & ~target
    control = inc["lsoa"].isin(iv["control_lsoas"]).to_numpy()
    start = pd.Period(iv["start"], freq="M")
    per_month = target.sum() / len(months)
    print(f"treated area: {per_month:.1f} incidents a month")
    assert per_month >= 10  # busy enough for a 40% drop to show
    ratio, low, high = _step_ratio(inc, target, control, start, months)
    print(f"target: {ratio:.2f} (99.9% CI {low:.2f}-{high:.2f}), planted {iv['effect']}")
    assert low <= iv["effect"] <= high and high < 1
    ring_per_month = ring[(inc["month"] < start).to_numpy()].sum() / (start - months[0]).n
    print(f"buffer before the start: {ring_per_month:.1f} incidents a month")
    assert ring_per_month >= 20  # a busy ring, so that its diffusion of benefit shows
    ratio, low, high = _step_ratio(inc, ring, control, start, months)
    print(f"buffer: {ratio:.2f} (99.9% CI {low:.2f}-{high:.2f}), planted {iv['buffer_effect']}")
    # beyond chance on the diffusion side at the 99.9% level in 18 of 20 seeds studied
    assert low <= iv["buffer_effect"] <= high and high < 1


def test_near_repeat_burglary_is_there_at_the_planted_scale(joint, demo_dir: Path):
    """Knox test: burglary pairs close in space and time, against shuffled months.

    Beyond the planted distance the excess must fade: the LSOA x month
    frailty adds a little space-time clustering at every distance within an
    LSOA, the near repeats a lot within their 200 m."""
    truth = demo.load_truth(demo_dir)
    nr = truth["near_repeats"]
    inc = _police(joint)
    inc = inc[(inc["category"] == nr["category"]) & inc.geometry.notna()]
    xy = _bng_xy(inc)
    month = inc["month"].dt.year.to_numpy() * 12 + inc["month"].dt.month.to_numpy()
    near = nr["max_distance_m"]
    pairs = cKDTree(xy).query_pairs(r=2 * near, output_type="ndarray")
    dist = np.hypot(*(xy[pairs[:, 0]] - xy[pairs[:, 1]]).T)
    rng = np.random.default_rng(0)
    perms = [rng.permutation(month) for _ in range(199)]
    excess = {}
    for band, in_band in (("near", dist <= near), ("far", dist > near)):
        ij = pairs[in_band]

        def close_in_time(m: np.ndarray, ij: np.ndarray = ij) -> int:
            return int((np.abs(m[ij[:, 0]] - m[ij[:, 1]]) <= 1).sum())

        observed = close_in_time(month)
        null = np.array([close_in_time(m) for m in perms])
        p = (1 + (null >= observed).sum()) / (1 + len(null))
        excess[band] = (observed - null.mean(), observed / null.mean() - 1, p)
        print(
            f"{band} pairs within a month: {observed} vs {null.mean():.0f} shuffled "
            f"(+{excess[band][1]:.1%}, p={p:.3f})"
        )
    assert excess["near"][2] <= 0.005
    assert excess["near"][1] > 3 * excess["far"][1]
    # each near repeat makes one close pair with its trigger when both are published located
    located = 1 - truth["categories"][nr["category"]]["share_without_location"]
    triggers = len(inc) / located / (1 + nr["probability"])
    implied = (excess["near"][0] - excess["far"][1] * (excess["near"][0] / excess["near"][1])) / (
        located * located * triggers
    )
    print(f"implied near-repeat probability {implied:.3f} (planted {nr['probability']})")
    assert 0.5 * nr["probability"] < implied < 1.5 * nr["probability"]


def test_truth_describes_every_planted_parameter(demo_dir: Path):
    truth = demo.load_truth(demo_dir)
    assert truth["generator"] == {
        "module": "cspanalysis.data.demo",
        "version": demo.GENERATOR_VERSION,
        "seed": demo.DEFAULT_SEED,
        "geography_seed": truth["generator"]["geography_seed"],
    }
    assert set(truth["categories"]) == POLICE_UK_TYPES
    for planted in truth["categories"].values():
        assert {
            "base_rate_per_1000_per_year",
            "seasonal_amplitude",
            "seasonal_peak_month",
            "trend_log_per_year",
            "trend_percent_per_year",
            "dispersion",
        } <= set(planted)
    kinds = {h["kind"] for h in truth["hotspots"]}
    assert kinds == {"persistent", "emerging", "fading"}
    for h in truth["hotspots"]:
        assert h["lsoas"] and all(re.fullmatch(r"X01\d{6}", c) for c in h["lsoas"])
    iv = truth["intervention"]
    assert iv["start"] == "2022-10" and iv["effect"] == 0.6 and iv["buffer_kind"]
    series = iv["expected_monthly_located"]
    assert len(series["target"]) == 60
    pre = np.mean(series["target"][:42])
    assert pre >= 10  # tens of incidents a month before the intervention
    assert iv["buffer_effect"] == 0.7 and iv["buffer_kind"] == "diffusion of benefit"
    assert np.mean(series["buffer"][:42]) >= 25  # a busy ring
    layers = iv["buffer_layers"]
    mixed = layers["buffer_effect_streets"] + layers["busy_ring_extra"] * layers["busy_ring_effect"]
    assert mixed / iv["buffer_multiplier"] == pytest.approx(iv["buffer_effect"])
    assert not set(iv["control_lsoas"]) & (set(iv["lsoas"]) | set(iv["buffer_lsoas"]))
    expected = pd.read_csv(demo_dir / "truth_expected.csv.gz")
    assert len(expected) == 60 * 118 * 14
