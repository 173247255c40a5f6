"""Near-repeat analysis: the Knox test table of Ratcliffe's Near Repeat Calculator.

Every pair of incidents is classified by its distance apart and its time
apart into bands; ``observed`` counts pairs per (distance band × time band).
Under the null hypothesis that *when* an incident happened is unrelated to
*where*, the dates are shuffled among the locations (seeded Monte Carlo,
``n_sim`` times) to give the expected count per band. The **Knox ratio** is
observed / mean expected (above 1: more pairs close in space and time than
chance), and the one-sided Monte Carlo **p-value** is
``(1 + #{simulated >= observed}) / (n_sim + 1)`` (as the Near Repeat
Calculator and the R package NearRepeat).

Bands are half-open, ``[lo, hi)``, in metres and in days; given breakpoints
``[b0, b1, …, bk]`` the bands are ``[b0, b1), …, [b(k-1), bk)`` and an
open-ended last band ``[bk, ∞)``. Pairs nearer than ``b0`` (or sooner than the
first time breakpoint) are in no band.

**police.uk dates have no day**: a ``Period[M]`` (or month) column gives time
differences in whole months, and the time bands are then in months (0 = same
month). The result's ``time_unit`` says which.

Computation: only pairs within the largest finite distance breakpoint are
enumerated (KD-tree); the open-ended distance band is the total number of pairs
in each time band (which shuffling dates cannot change) minus the rest. So a
simulation costs one pass over the close pairs.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Literal

import numpy as np
import pandas as pd
from scipy.spatial import cKDTree

from cspanalysis.errors import InputError


def _breaks(values: Sequence[float], name: str) -> np.ndarray:
    b = np.asarray(list(values), dtype=float)
    if len(b) < 1 or not np.all(np.isfinite(b)) or (np.diff(b) <= 0).any() or (b < 0).any():
        raise InputError(
            f"{name} must be increasing, non-negative, finite breakpoints such as [0, 100, 200] "
            f"(the last band is open-ended), not {list(values)!r}"
        )
    return b


def band_labels(breaks: np.ndarray, unit: str) -> list[str]:
    """Labels ``[lo, hi)`` for each band, the last open-ended.

    >>> band_labels(np.array([0.0, 100.0]), "m")
    ['[0, 100) m', '[100, inf) m']
    """
    lab = [f"[{lo:g}, {hi:g}) {unit}" for lo, hi in itertools.pairwise(breaks)]
    return [*lab, f"[{breaks[-1]:g}, inf) {unit}"]


def _time_values(dates) -> tuple[np.ndarray, str]:
    s = pd.Series(dates).reset_index(drop=True)
    if s.isna().any():
        raise InputError(
            f"dates has a missing value at position {int(np.flatnonzero(s.isna())[0])}; "
            "drop incidents with no date first"
        )
    if isinstance(s.dtype, pd.PeriodDtype):
        if s.dtype != pd.PeriodDtype("M"):
            raise InputError("period dates must be monthly (Period[M]) or daily datetimes")
        p = s.dt
        return (p.year * 12 + p.month - 1).to_numpy(dtype=float), "months"
    if pd.api.types.is_numeric_dtype(s.dtype):
        return s.to_numpy(dtype=float), "units"
    try:
        t = pd.to_datetime(s)
    except (ValueError, TypeError) as exc:
        raise InputError(f"dates could not be read as dates ({exc}); pass datetimes") from None
    days = (t - pd.Timestamp("1970-01-01")).dt.total_seconds().to_numpy() / 86400.0
    return np.floor(days), "days"


def _band_index(values: np.ndarray, breaks: np.ndarray) -> np.ndarray:
    """Band of each value (0…k, k = open-ended), or -1 below the first breakpoint."""
    return np.searchsorted(breaks, values, side="right") - 1


def _time_band_totals(t: np.ndarray, tb: np.ndarray) -> np.ndarray:
    """Number of all pairs whose |time difference| falls in each time band (exact)."""
    ts = np.sort(t)
    n = len(ts)
    totals = np.zeros(len(tb))
    # pairs with difference >= b, for each breakpoint b: sum over i of #j>i with ts[j]-ts[i] >= b
    ge = []
    for b in tb:
        if b == 0:
            ge.append(n * (n - 1) / 2)
            continue
        j = np.searchsorted(ts, ts + b, side="left")
        ge.append(float(np.sum(n - j)))
    ge.append(0.0)
    for k in range(len(tb)):
        totals[k] = ge[k] - ge[k + 1]
    return totals


@dataclass
class NearRepeatResult:
    """Result of :func:`near_repeat`.

    Attributes
    ----------
    observed
        Pairs per distance band (rows) × time band (columns).
    expected
        Mean over the simulations.
    knox_ratio
        ``observed / expected`` (NaN where expected is 0).
    p_value
        One-sided Monte Carlo p-value for "more pairs than chance".
    options
        Bands, metric, time unit, ``n_sim``, seed, number of incidents.
    """

    observed: pd.DataFrame
    expected: pd.DataFrame
    knox_ratio: pd.DataFrame
    p_value: pd.DataFrame
    options: dict = field(default_factory=dict)

    def findings(self, alpha: float = 0.05, min_ratio: float = 1.2) -> list[str]:
        """Sentences naming the bands with significantly more pairs than chance."""
        o = self.options
        out = [
            f"Knox test on {o['n_incidents']:,} incidents ({o['n_sim']} seeded simulations, "
            f"{o['metric']} distance, time in {o['time_unit']})."
        ]
        hits = [
            (d, t)
            for d in self.observed.index
            for t in self.observed.columns
            if self.p_value.at[d, t] < alpha and self.knox_ratio.at[d, t] >= min_ratio
        ]
        if not hits:
            out.append("No distance and time band had significantly more pairs than chance.")
        for d, t in hits:
            out.append(
                f"Incidents {d} apart and {t} apart: {self.observed.at[d, t]:,.0f} pairs, "
                f"{self.knox_ratio.at[d, t]:.2f} times the {self.expected.at[d, t]:,.1f} expected "
                f"(p = {self.p_value.at[d, t]:.3f})."
            )
        return out

    def plot(self):
        """Heat table of Knox ratios, significant cells outlined."""
        import matplotlib.pyplot as plt

        fig, ax = plt.subplots(figsize=(7, 4), layout="constrained")
        r = self.knox_ratio.to_numpy(dtype=float)
        im = ax.imshow(r, cmap="RdBu_r", vmin=0, vmax=max(2.0, np.nanmax(r)), aspect="auto")
        ax.set_xticks(range(r.shape[1]), self.knox_ratio.columns, rotation=30, ha="right")
        ax.set_yticks(range(r.shape[0]), self.knox_ratio.index)
        for i in range(r.shape[0]):
            for j in range(r.shape[1]):
                star = "*" if self.p_value.iat[i, j] < 0.05 else ""
                ax.text(j, i, f"{r[i, j]:.2f}{star}", ha="center", va="center", fontsize=8)
        fig.colorbar(im, ax=ax, label="Knox ratio (observed / expected)")
        ax.set_title("Near-repeat Knox ratios (* p < 0.05)")
        return fig


def near_repeat(
    x: Sequence[float] | np.ndarray,
    y: Sequence[float] | np.ndarray,
    dates,
    distance_bands: Sequence[float],
    time_bands: Sequence[float],
    metric: Literal["euclidean", "manhattan"] = "euclidean",
    n_sim: int = 999,
    seed: int = 0,
) -> NearRepeatResult:
    """Knox near-repeat table with Monte Carlo p-values and Knox ratios.

    Parameters
    ----------
    x, y
        Coordinates in metres (EPSG:27700).
    dates
        Dates (datetimes: time bands in days), monthly periods (bands in
        months), or numbers (bands in the same units).
    distance_bands, time_bands
        Increasing breakpoints; bands are ``[lo, hi)``, the last open-ended.
    metric
        ``"euclidean"`` or ``"manhattan"`` (street-grid) distance.
    n_sim
        Number of Monte Carlo shuffles of the dates.
    seed
        Seed of the random generator (results are reproducible).

    Examples
    --------
    Two burglaries next door a day apart, one far away months later:

    >>> res = near_repeat([0, 50, 5000], [0, 0, 0],
    ...                   pd.to_datetime(["2024-01-01", "2024-01-02", "2024-06-01"]),
    ...                   distance_bands=[0, 100], time_bands=[0, 7], n_sim=99)
    >>> res.observed.to_numpy().tolist()
    [[1, 0], [0, 2]]
    """
    xs = np.asarray(x, dtype=float).ravel()
    ys = np.asarray(y, dtype=float).ravel()
    t, unit = _time_values(dates)
    if not (len(xs) == len(ys) == len(t)):
        raise InputError(
            f"x, y and dates must have one value per incident; got {len(xs)}, {len(ys)}, {len(t)}"
        )
    if not (np.isfinite(xs).all() and np.isfinite(ys).all()):
        raise InputError("x and y must be finite coordinates; drop incidents with no location")
    if len(xs) < 2:
        raise InputError("a near-repeat analysis needs at least two incidents")
    if metric not in ("euclidean", "manhattan"):
        raise InputError(f"metric must be 'euclidean' or 'manhattan', not {metric!r}")
    if int(n_sim) < 1:
        raise InputError("n_sim must be at least 1")
    db = _breaks(distance_bands, "distance_bands")
    tb = _breaks(time_bands, "time_bands")
    nd, nt = len(db), len(tb)
    p = 2 if metric == "euclidean" else 1
    tree = cKDTree(np.column_stack([xs, ys]))
    pairs = tree.query_pairs(db[-1], p=p, output_type="ndarray")
    i, j = pairs[:, 0], pairs[:, 1]
    diff = (
        np.abs(xs[i] - xs[j]) + np.abs(ys[i] - ys[j])
        if p == 1
        else np.hypot(xs[i] - xs[j], ys[i] - ys[j])
    )
    dband = _band_index(diff, db)
    # pairs nearer than the first breakpoint are in no band but are in the time totals
    below = pairs[dband < 0]
    keep = (dband >= 0) & (dband < nd - 1)
    i, j, dband = i[keep], j[keep], dband[keep]
    totals = _time_band_totals(t, tb)

    def table(tt: np.ndarray) -> np.ndarray:
        tband = _band_index(np.abs(tt[i] - tt[j]), tb)
        ok = tband >= 0
        close = np.bincount(dband[ok] * nt + tband[ok], minlength=(nd - 1) * nt).reshape(nd - 1, nt)
        rest = totals.copy()
        rest -= close.sum(axis=0)
        if len(below):
            tb0 = _band_index(np.abs(tt[below[:, 0]] - tt[below[:, 1]]), tb)
            rest -= np.bincount(tb0[tb0 >= 0], minlength=nt)
        return np.vstack([close, rest[None, :]])

    obs = table(t)
    rng = np.random.default_rng(seed)
    sims = np.empty((int(n_sim), nd, nt))
    for k in range(int(n_sim)):
        sims[k] = table(t[rng.permutation(len(t))])
    exp = sims.mean(axis=0)
    ge = (sims >= obs[None, :, :] - 1e-9).sum(axis=0)
    pval = (1 + ge) / (int(n_sim) + 1)
    dl = band_labels(db, "m")
    tl = band_labels(tb, unit)

    def frame(a: np.ndarray) -> pd.DataFrame:
        f = pd.DataFrame(a, index=pd.Index(dl, name="distance"), columns=pd.Index(tl, name="time"))
        return f

    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.where(exp > 0, obs / exp, np.nan)
    return NearRepeatResult(
        observed=frame(obs.round().astype(np.int64)),
        expected=frame(exp),
        knox_ratio=frame(ratio),
        p_value=frame(pval),
        options={
            "distance_bands": db.tolist(),
            "time_bands": tb.tolist(),
            "time_unit": unit,
            "metric": metric,
            "n_sim": int(n_sim),
            "seed": seed,
            "n_incidents": len(xs),
            "n_pairs": len(xs) * (len(xs) - 1) // 2,
        },
    )
