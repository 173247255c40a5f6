"""How well a hotspot map from one period captures crime in the next: PAI, PEI, RRI, hit rate.

Cells are ranked by the prediction (e.g. last year's counts, KDE or Gi*),
highest first, and selected cumulatively until they cover a given share of
the total area. For each selection, with ``n`` the incidents observed in the
selected cells, ``N`` all observed incidents, ``a`` the selected area and
``A`` the total area:

* **hit rate** ``= n / N``: the share of crime captured;
* **PAI**, Predictive Accuracy Index (Chainey, Tompson & Uhlig 2008)
  ``= (n / N) / (a / A)``;
* **PEI**, Predictive Efficiency Index (Hunt 2016) ``= n / n*``, where ``n*``
  is the most crime any selection of the same area could have captured
  (cells ranked by observed density: exact for equal-area cells; when
  clipped edge cells make areas unequal, the larger of that greedy choice and
  the prediction's own capture, so PEI never exceeds 1), i.e. PAI / PAI*;
* **RRI**, Recapture Rate Index (Levine 2008)
  ``= (n / p) / (N / P)``, with ``p`` and ``P`` the prediction summed over
  the selected and all cells: for counts from the earlier period it is the
  growth in the hotspots relative to growth everywhere (1 = hotspots kept
  their share).

Ties in the prediction are broken by cell order (stable sort), so results
are reproducible; with many tied zeros the last selections are arbitrary.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from cspanalysis.errors import InputError

DEFAULT_SHARES: tuple[float, ...] = (0.01, 0.02, 0.05, 0.10, 0.20)


def _as_array(values, name: str, n: int | None = None) -> np.ndarray:
    arr = pd.to_numeric(pd.Series(np.asarray(values).ravel()), errors="coerce").to_numpy(float)
    if n is not None and len(arr) != n:
        raise InputError(
            f"{name} has {len(arr)} values but observed has {n}; give one value per cell"
        )
    if np.isnan(arr).any():
        raise InputError(
            f"{name} is missing or not numeric for cell {int(np.flatnonzero(np.isnan(arr))[0])}; "
            "give a value for every cell (0 where there was none)"
        )
    return arr


def _selection(order: np.ndarray, area: np.ndarray, budget: float) -> np.ndarray:
    """Positions of the cells taken, in ``order``, while cumulative area ≤ budget (≥ 1 cell)."""
    cum = np.cumsum(area[order])
    k = int(np.searchsorted(cum, budget * (1 + 1e-9), side="right"))
    return order[: max(k, 1)]


@dataclass
class AccuracyResult:
    """Result of :func:`predictive_accuracy`.

    Attributes
    ----------
    table
        One row per area share: ``share`` (asked), ``cells`` (selected),
        ``area_share`` (achieved), ``captured`` (n), ``hit_rate``, ``pai``,
        ``pai_max``, ``pei``, ``rri``.
    options
        Totals and options used.

    ``result["pai"]`` is a shortcut for ``result.table["pai"]``.
    """

    table: pd.DataFrame
    options: dict = field(default_factory=dict)

    def __getitem__(self, key: str) -> pd.Series:
        """A column of :attr:`table`."""
        return self.table[key]

    def findings(self) -> list[str]:
        """Plain-English sentences, one per area share."""
        out = []
        for r in self.table.itertuples():
            out.append(
                f"The top {r.area_share:.1%} of the area by the prediction captured "
                f"{r.hit_rate:.1%} of the {self.options['total_observed']:,.0f} incidents "
                f"(PAI {r.pai:.1f}, PEI {r.pei:.2f}, RRI {r.rri:.2f})."
            )
        return out

    def plot(self):
        """Hit rate against area share, with the best possible and a random map for reference."""
        import matplotlib.pyplot as plt

        fig, ax = plt.subplots(figsize=(6, 4), layout="constrained")
        t = self.table
        ax.plot(t["area_share"] * 100, t["hit_rate"] * 100, "o-", label="prediction")
        ax.plot(t["area_share"] * 100, t["hit_rate"] / t["pei"] * 100, "s--", label="best possible")
        ax.plot(t["area_share"] * 100, t["area_share"] * 100, ":", color="grey", label="random")
        ax.set_xlabel("share of area selected (%)")
        ax.set_ylabel("share of incidents captured (%)")
        ax.legend()
        return fig


def predictive_accuracy(
    observed: Sequence[float] | np.ndarray | pd.Series,
    predicted: Sequence[float] | np.ndarray | pd.Series,
    area: Sequence[float] | np.ndarray | pd.Series | None = None,
    shares: Sequence[float] = DEFAULT_SHARES,
) -> AccuracyResult:
    """PAI, PEI, RRI and hit rate of a prediction at given cumulative area shares.

    Parameters
    ----------
    observed
        Incidents per cell in the period being predicted.
    predicted
        Score per cell from the earlier period (counts, KDE, Gi*); higher = hotter.
        RRI reads it as the earlier period's counts.
    area
        Area of each cell (default: equal areas).
    shares
        Area shares (0–1] at which to select the top cells.

    Examples
    --------
    Ten equal cells; the prediction's top cell holds 5 of 20 incidents:

    >>> obs = [5, 0, 3, 2, 6, 1, 1, 0, 1, 1]
    >>> pred = [9, 8, 7, 6, 0, 0, 0, 0, 0, 0]
    >>> t = predictive_accuracy(obs, pred, shares=[0.1, 0.2]).table
    >>> t[["cells", "captured", "hit_rate", "pai", "pei"]].round(3).values.tolist()
    [[1.0, 5.0, 0.25, 2.5, 0.833], [2.0, 5.0, 0.25, 1.25, 0.455]]
    """
    obs = _as_array(observed, "observed")
    n = len(obs)
    if n == 0:
        raise InputError("observed has no cells")
    pred = _as_array(predicted, "predicted", n)
    a = np.ones(n) if area is None else _as_array(area, "area", n)
    if (obs < 0).any() or (a <= 0).any():
        raise InputError("observed counts must be >= 0 and cell areas > 0")
    shares_arr = np.asarray(list(shares), dtype=float)
    if len(shares_arr) == 0 or (shares_arr <= 0).any() or (shares_arr > 1).any():
        raise InputError(f"shares must be fractions in (0, 1], e.g. 0.05 for 5%, not {shares!r}")
    big_n, big_a, big_p = obs.sum(), a.sum(), pred.sum()
    by_pred = np.argsort(-pred, kind="stable")
    by_obs = np.argsort(-(obs / a), kind="stable")
    rows = []
    for s in shares_arr:
        sel = _selection(by_pred, a, s * big_a)
        a_sel = a[sel].sum()
        best = _selection(by_obs, a, a_sel)
        n_sel, p_sel = obs[sel].sum(), pred[sel].sum()
        n_best = max(obs[best].sum(), n_sel)  # the prediction's own selection is feasible
        hit = n_sel / big_n if big_n else np.nan
        pai = hit / (a_sel / big_a)
        pai_max = (n_best / big_n) / (a_sel / big_a) if big_n else np.nan
        with np.errstate(divide="ignore", invalid="ignore"):
            rri = (n_sel / p_sel) / (big_n / big_p) if p_sel > 0 and big_n > 0 else np.nan
        rows.append(
            {
                "share": s,
                "cells": len(sel),
                "area_share": a_sel / big_a,
                "captured": float(n_sel),
                "hit_rate": hit,
                "pai": pai,
                "pai_max": pai_max,
                "pei": n_sel / n_best if n_best else np.nan,
                "rri": rri,
            }
        )
    return AccuracyResult(
        table=pd.DataFrame(rows),
        options={
            "total_observed": float(big_n),
            "total_area": float(big_a),
            "n_cells": n,
            "shares": shares_arr.tolist(),
        },
    )
