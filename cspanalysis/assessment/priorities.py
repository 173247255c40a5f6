"""Transparent scoring of candidate priorities.

Each category gets five components on a 0–1 scale (1 = strongest case for a
priority), each computed from a number shown in the table:

========== ============================== ==========================================
component  input                          component
========== ============================== ==========================================
volume     ``count``                      count / largest category's count
trend      ``pct_change``, ``significant`` min(% rise / 50, 1) if a rise more than
                                          chance, else 0 (no credit for chance moves)
harm       ``harm_share``                 share / largest category's share
peers      ``peer_ratio``, above average  min(log2(ratio), 1) if above the peer
                                          average (interval excludes 1), else 0
concentr.  ``share_top`` (top 10% LSOAs)  (share − 0.1) / 0.9, clipped to 0–1
========== ============================== ==========================================

``score = Σ weight_i × component_i / Σ weight_i`` over the components
available (a component with no input, e.g. no peer comparison, is left out
and its weight is shared among the others; ``options["weights_used"]`` says
so). ``contrib_<component>`` columns give each component's share of the
score, so every score can be traced to its inputs.

Default weights are equal (0.2 each); partnerships set their own.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from cspanalysis.assessment.change import ALL_CRIME
from cspanalysis.errors import InputError

__all__ = ["DEFAULT_PRIORITY_WEIGHTS", "PriorityResult", "score_priorities"]

#: equal weights for the five components
DEFAULT_PRIORITY_WEIGHTS: dict[str, float] = {
    "volume": 0.2,
    "trend": 0.2,
    "harm": 0.2,
    "peers": 0.2,
    "concentration": 0.2,
}
_COMPONENTS = tuple(DEFAULT_PRIORITY_WEIGHTS)


@dataclass
class PriorityResult:
    """Ranked candidate priorities with every input, component and contribution."""

    table: pd.DataFrame
    options: dict[str, Any]
    notes: list[str] = field(default_factory=list)

    def explain(self, category: str) -> str:
        """How one category's score was made, in one sentence."""
        r = self.table.loc[category]
        parts = [f"{c} {r[f'contrib_{c}']:.2f}" for c in self.options["components_used"]]
        return (
            f"{category}: score {r['score']:.2f} (rank {int(r['rank'])}) = "
            + " + ".join(parts)
            + "."
        )

    def findings(self, top: int = 3) -> list[str]:
        """The top candidates with the components that put them there."""
        t = self.table.sort_values("rank").head(top)
        out = [
            "Candidate priorities (highest scores): "
            + ", ".join(f"{c} ({r['score']:.2f})" for c, r in t.iterrows())
            + "."
        ]
        out += [self.explain(c) for c in t.index]
        return out + self.notes


def score_priorities(
    change: pd.DataFrame,
    harm: pd.DataFrame | None = None,
    peers: pd.DataFrame | None = None,
    concentration: pd.DataFrame | None = None,
    weights: dict[str, float] | None = None,
    volume: pd.Series | None = None,
) -> PriorityResult:
    """Score and rank categories as candidate priorities.

    Parameters
    ----------
    change
        :func:`~cspanalysis.assessment.rolling_change` table (one end month).
    harm
        ``HarmResult.table`` (``harm_share``), optional.
    peers
        ``PeerResult.table`` (``ratio``, ``above_average``), optional.
    concentration
        :func:`~cspanalysis.assessment.lsoa_concentration` table (``share_top``), optional.
    weights
        Component → weight (non-negative); keys from ``volume, trend, harm, peers,
        concentration``. Missing keys take 0.
    volume
        Counts per category for the volume component (default: the change table's
        ``current``); e.g. the counts over the months supplied when no like-for-like
        change is possible.

    Examples
    --------
    >>> ch = pd.DataFrame({"current": [300, 100], "pct_change": [-10.0, 40.0],
    ...                    "significant": [False, True]}, index=["Burglary", "Robbery"])
    >>> r = score_priorities(ch, weights={"volume": 0.5, "trend": 0.5})
    >>> t = r.table[["volume", "trend", "score", "rank"]].round(3)
    >>> t.to_dict("index")  # doctest: +NORMALIZE_WHITESPACE
    {'Robbery': {'volume': 0.333, 'trend': 0.8, 'score': 0.567, 'rank': 1},
     'Burglary': {'volume': 1.0, 'trend': 0.0, 'score': 0.5, 'rank': 2}}
    """
    w = dict(DEFAULT_PRIORITY_WEIGHTS if weights is None else weights)
    unknown = set(w) - set(_COMPONENTS)
    if unknown:
        raise InputError(f"unknown priority weight(s) {sorted(unknown)}; use {list(_COMPONENTS)}")
    if any(v < 0 for v in w.values()) or not any(v > 0 for v in w.values()):
        raise InputError("priority weights must be 0 or more, and at least one above 0")
    if isinstance(change.index, pd.MultiIndex):
        change = change.xs(change.index.get_level_values(0).max(), level=0)
    t = change.drop(index=[ALL_CRIME], errors="ignore")
    table = pd.DataFrame(index=t.index)
    table["count"] = (
        t["current"].astype(float) if volume is None else volume.reindex(t.index).astype(float)
    )
    table["pct_change"] = t["pct_change"].astype(float)
    table["significant"] = t["significant"].astype("boolean").fillna(False).astype(bool)
    available = {
        "volume": True,
        "trend": True,
        "harm": harm is not None,
        "peers": peers is not None,
        "concentration": concentration is not None,
    }
    vmax = table["count"].max()
    table["volume"] = (table["count"] / vmax).fillna(0.0) if vmax > 0 else 0.0
    rise = table["significant"] & (table["pct_change"] > 0)
    table["trend"] = np.where(rise, (table["pct_change"] / 50).clip(0, 1), 0.0)
    if harm is not None:
        table["harm_share"] = harm["harm_share"].reindex(table.index)
        hmax = table["harm_share"].max()
        table["harm"] = (table["harm_share"] / hmax).fillna(0.0) if hmax > 0 else 0.0
    if peers is not None:
        table["peer_ratio"] = peers["ratio"].reindex(table.index)
        above = peers["above_average"].reindex(table.index).fillna(False).astype(bool)
        table["peers"] = np.where(above, np.log2(table["peer_ratio"].clip(lower=1)).clip(0, 1), 0.0)
    if concentration is not None:
        table["share_top"] = concentration["share_top"].reindex(table.index)
        table["concentration"] = ((table["share_top"] - 0.1) / 0.9).clip(0, 1).fillna(0.0)
    used = [c for c in _COMPONENTS if available[c] and w.get(c, 0) > 0]
    total_w = sum(w[c] for c in used)
    for c in used:
        table[f"contrib_{c}"] = w[c] / total_w * table[c]
    table["score"] = table[[f"contrib_{c}" for c in used]].sum(axis=1)
    table["rank"] = table["score"].rank(ascending=False, method="min").astype(int)
    notes = []
    if table["pct_change"].isna().all():
        notes.append("No like-for-like change is available, so the trend component is 0.")
    dropped = [c for c in _COMPONENTS if not available[c] and w.get(c, 0) > 0]
    if dropped:
        notes.append(
            "Not scored (no input): "
            + ", ".join(dropped)
            + "; their weight is shared among the other components."
        )
    options = {
        "weights": w,
        "weights_used": {c: w[c] / total_w for c in used},
        "components_used": used,
    }
    return PriorityResult(table.sort_values("rank"), options, notes)
