"""Benchmark: grid + counts + KDE + Gi* against straightforward baselines, in one process.

    python bench/hotspots.py [--points 100000,1000000] [--cells 100000]
                             [--permutations 99] [--baseline-points 2000] [--full-baseline]

Synthetic incidents (80% in 40 Gaussian clusters, 20% uniform) fall in a
circular "partnership" sized to hold about ``--cells`` cells of 100 m. For
each number of points it times, best of ``--repeat`` runs:

* ours: :func:`cspanalysis.hotspots.grid`, :func:`count_incidents`,
  :func:`kde` (automatic bandwidth and method) and :func:`gistar`
  (analytical z, Holm correction);
* baseline KDE: ``scipy.stats.gaussian_kde`` evaluated at every cell centre.
  Its cost is exactly linear in the number of points, so by default it runs
  on a random ``--baseline-points`` subsample and is scaled up linearly (the
  output says so); ``--full-baseline`` runs it on every point (hours at 10^6);
* baseline Gi*: esda ``G_Local`` (binary queen weights, ``star=True``) with
  ``--permutations`` conditional permutations, on the same counts; its cost
  does not depend on the number of points, so it runs once per grid. Its
  analytical z-scores are checked against ours.

Prints the times and the ratios baseline / ours.
"""

from __future__ import annotations

import argparse
import math
import time
import warnings

import geopandas as gpd
import numpy as np
from shapely.geometry import Point

from cspanalysis import hotspots


def synthetic_incidents(n: int, radius: float, seed: int) -> gpd.GeoDataFrame:
    """``n`` points: 80% in 40 Gaussian clusters (sd 50-400 m), 20% uniform in the disc."""
    rng = np.random.default_rng(seed)
    n_clustered = int(0.8 * n)
    k = 40
    r = radius * np.sqrt(rng.uniform(0, 0.8, k))
    a = rng.uniform(0, 2 * np.pi, k)
    centres = np.column_stack([r * np.cos(a), r * np.sin(a)])
    sd = rng.uniform(50, 400, k)
    which = rng.integers(0, k, n_clustered)
    clustered = centres[which] + rng.normal(0, 1, (n_clustered, 2)) * sd[which, None]
    ru = radius * np.sqrt(rng.uniform(0, 1, n - n_clustered))
    au = rng.uniform(0, 2 * np.pi, n - n_clustered)
    uniform = np.column_stack([ru * np.cos(au), ru * np.sin(au)])
    xy = np.vstack([clustered, uniform]) + 400_000  # somewhere in British National Grid
    return gpd.GeoDataFrame(
        {"count": np.ones(n, dtype=np.int64)},
        geometry=gpd.points_from_xy(xy[:, 0], xy[:, 1]),
        crs=27700,
    )


def timed(fn, *args, **kwargs):
    """Return (seconds, result) of one call."""
    t0 = time.perf_counter()
    out = fn(*args, **kwargs)
    return time.perf_counter() - t0, out


def ours(boundary, incidents, repeat: int) -> tuple[dict[str, float], tuple]:
    """Best-of-``repeat`` time of each step of our pipeline, and the last results."""
    best: dict[str, float] = {}
    for _ in range(repeat):
        t = {}
        t["grid"], cells = timed(hotspots.grid, boundary, cell_size=100)
        t["counts"], counts = timed(hotspots.count_incidents, cells, incidents)
        t["kde"], dens = timed(hotspots.kde, cells, incidents)
        t["gistar"], gi = timed(hotspots.gistar, counts.cells)
        best = {k: min(v, best.get(k, math.inf)) for k, v in t.items()}
    return best, (cells, counts, dens, gi)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--points", default="100000,1000000")
    parser.add_argument("--cells", type=float, default=100_000)
    parser.add_argument("--permutations", type=int, default=99)
    parser.add_argument("--baseline-points", type=int, default=2000)
    parser.add_argument("--full-baseline", action="store_true")
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()

    import esda
    from libpysal.weights import DistanceBand
    from scipy.stats import gaussian_kde

    radius = math.sqrt(args.cells * 100 * 100 / math.pi)
    boundary = gpd.GeoSeries([Point(400_000, 400_000).buffer(radius, 256)], crs=27700)
    print(f"boundary: disc of radius {radius / 1000:.1f} km; cells of 100 m")
    print(
        f"{'points':>10} {'cells':>8} {'grid':>6} {'counts':>6} {'kde':>6} {'gi*':>6} "
        f"{'ours':>6} | {'scipy kde':>10} {'x':>5} | {'esda Gi*':>8} {'x':>5} | {'total x':>7}"
    )
    esda_time = None
    extrapolated = False
    for n in (int(float(p)) for p in args.points.split(",")):
        incidents = synthetic_incidents(n, radius, args.seed)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            t, (cells, counts, dens, gi) = ours(boundary, incidents, args.repeat)
        total = sum(t.values())
        xy = np.column_stack([incidents.geometry.x, incidents.geometry.y])
        centres = cells[["x", "y"]].to_numpy().T
        m = n if args.full_baseline else min(n, args.baseline_points)
        extrapolated |= m < n
        sub = xy[np.random.default_rng(1).choice(n, m, replace=False)].T
        t_sub, _ = timed(lambda pts=sub, at=centres: gaussian_kde(pts)(at))
        t_kde_base = t_sub * n / m
        if esda_time is None:
            w = DistanceBand(
                cells[["x", "y"]].to_numpy(),
                threshold=100 * math.sqrt(2) + 1e-6,
                binary=True,
                silence_warnings=True,
            )
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                esda_time, g = timed(
                    esda.G_Local,
                    counts.cells["n"].to_numpy(),
                    w,
                    transform="B",
                    star=True,
                    permutations=args.permutations,
                    seed=0,
                )
            zdiff = float(np.nanmax(np.abs(g.Zs - gi.cells["gistar"].to_numpy())))
        star = "*" if m < n else " "
        base = t_kde_base + esda_time
        print(
            f"{n:>10,} {len(cells):>8,} {t['grid']:>6.2f} {t['counts']:>6.2f} {t['kde']:>6.2f} "
            f"{t['gistar']:>6.2f} {total:>6.2f} | {t_kde_base:>9.1f}{star} "
            f"{t_kde_base / t['kde']:>4.0f}x | {esda_time:>8.1f} {esda_time / t['gistar']:>4.0f}x "
            f"| {base / total:>6.0f}x   (kde method: {dens.options['method']})"
        )
    print(f"times in seconds; Gi* check: max |z(ours) - z(esda)| = {zdiff:.1e}")
    if extrapolated:
        print(
            f"* scipy gaussian_kde timed on {args.baseline_points:,} points and scaled linearly "
            "(its cost is points x cells); --full-baseline runs it on every point"
        )
    print(f"esda G_Local: binary queen weights with self, {args.permutations} permutations")


if __name__ == "__main__":
    main()
