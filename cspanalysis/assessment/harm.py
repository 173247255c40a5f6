"""Harm-weighted counts, so volume and harm rankings can be shown side by side.

Each category's count is multiplied by an offence weight (by default the
indicative Crime Severity Score weights in ``data/harm_weights.csv``, whose
source, mapping and limits are in ``data/harm_weights.md``; they are
**not verified** against the primary ONS table). The defaults are held here
as :data:`DEFAULT_HARM_WEIGHTS` so that the library needs no file access;
a test keeps them identical to the CSV. Pass ``weights=`` to use your own.

Anti-social behaviour has no weight (it is not a notifiable crime): it is
listed with harm NA and left out of harm totals and ranks.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from cspanalysis.errors import InputError

__all__ = ["DEFAULT_HARM_WEIGHTS", "HARM_CAVEAT", "HarmResult", "harm_weighted"]

#: category → weight (ONS CSS 2016 as transcribed; see data/harm_weights.md). NaN: no weight.
DEFAULT_HARM_WEIGHTS: pd.Series = pd.Series(
    {
        "Anti-social behaviour": np.nan,
        "Bicycle theft": 10.0,
        "Burglary": 438.0,
        "Criminal damage and arson": 19.0,
        "Drugs": 9.0,
        "Other crime": 123.2,
        "Other theft": 33.0,
        "Possession of weapons": 75.0,
        "Public order": 365.0,
        "Robbery": 746.0,
        "Shoplifting": 13.0,
        "Theft from the person": 86.0,
        "Vehicle crime": 26.5,
        "Violence and sexual offences": 709.3,
    },
    name="weight",
)
DEFAULT_HARM_WEIGHTS.index.name = "category"

HARM_CAVEAT = (
    "Harm weights are indicative: Crime Severity Score weights (ONS, 2016 edition) from an "
    "unverified transcription, one median weight per police.uk category; see "
    "data/harm_weights.md before publishing."
)


@dataclass
class HarmResult:
    """Volume and harm side by side.

    Attributes
    ----------
    table
        Per category: ``count, weight, harm, harm_share, volume_rank, harm_rank``.
    options
        Options used (weights source, period).
    notes
        Caveats to print beside the table.
    """

    table: pd.DataFrame
    options: dict[str, Any]
    notes: list[str] = field(default_factory=list)

    def findings(self) -> list[str]:
        """Which categories rank higher by harm than by volume, with the caveat."""
        t = self.table.dropna(subset=["harm_rank"])
        if t.empty:
            return ["No harm-weighted figures (no weighted categories in the data)."]
        top_v = t.sort_values("volume_rank").index[0]
        top_h = t.sort_values("harm_rank").index[0]
        out = [
            f"By volume the largest category is {top_v} ({t.loc[top_v, 'count']:,.0f}); by harm "
            f"it is {top_h} ({t.loc[top_h, 'harm_share']:.0%} of weighted harm)."
        ]
        risers = t[t["volume_rank"] - t["harm_rank"] >= 3]
        if len(risers):
            out.append(
                "Ranked much higher by harm than by volume: "
                + ", ".join(risers.sort_values("harm_rank").index)
                + "."
            )
        return out + self.notes

    def plot(self, ax: Any = None) -> Any:
        """Paired bars: share of volume and share of harm per category."""
        import matplotlib.pyplot as plt

        t = self.table.dropna(subset=["harm"]).sort_values("harm_share")
        if ax is None:
            _, ax = plt.subplots(figsize=(7, 0.35 * max(len(t), 4) + 1.5))
        y = np.arange(len(t))
        vol_share = t["count"] / t["count"].sum()
        ax.barh(y - 0.2, 100 * vol_share, height=0.4, color="#0072B2", label="Share of volume")
        ax.barh(y + 0.2, 100 * t["harm_share"], height=0.4, color="#E69F00", label="Share of harm")
        ax.set_yticks(y, list(t.index))
        ax.set_xlabel("Share of recorded crime / of weighted harm (%), ASB excluded")
        ax.set_title("Volume and harm by category", fontsize=10)
        ax.legend(loc="lower right", fontsize=8)
        ax.figure.text(
            0.01,
            0.005,
            "Weights: ONS Crime Severity Score (indicative, see notes). Source: police.uk",
            fontsize=7,
        )
        ax.figure.tight_layout(rect=(0, 0.03, 1, 1))
        return ax.figure


def harm_weighted(
    counts: pd.Series | pd.DataFrame,
    weights: pd.Series | dict[str, float] | None = None,
) -> HarmResult:
    """Harm-weighted counts and volume / harm ranks per category.

    Parameters
    ----------
    counts
        Counts per category: a Series indexed by category, or a change table from
        :func:`~cspanalysis.assessment.rolling_change` (its ``current`` column is used;
        the "All crime" row is ignored).
    weights
        Category → weight (default :data:`DEFAULT_HARM_WEIGHTS`). A category in the data
        with no weight entry is an error, so nothing is silently dropped; give it NaN to
        leave it unweighted on purpose.

    Examples
    --------
    >>> r = harm_weighted(pd.Series({"Robbery": 10, "Shoplifting": 200}))
    >>> t = r.table[["harm", "volume_rank", "harm_rank"]]
    >>> t.to_dict("index")  # doctest: +NORMALIZE_WHITESPACE
    {'Robbery': {'harm': 7460.0, 'volume_rank': 2.0, 'harm_rank': 1.0},
     'Shoplifting': {'harm': 2600.0, 'volume_rank': 1.0, 'harm_rank': 2.0}}
    """
    from cspanalysis.assessment.change import ALL_CRIME

    if isinstance(counts, pd.DataFrame):
        if "current" not in counts.columns:
            raise InputError("pass counts per category, or a change table with a 'current' column")
        if isinstance(counts.index, pd.MultiIndex):
            counts = counts.xs(counts.index.get_level_values(0).max(), level=0)
        counts = counts["current"]
    counts = counts.drop(index=[ALL_CRIME], errors="ignore").astype(float)
    custom = weights is not None
    w = DEFAULT_HARM_WEIGHTS if weights is None else pd.Series(weights, dtype=float)
    unknown = [c for c in counts.index if c not in w.index]
    if unknown:
        raise InputError(
            f"no harm weight for categor{'y' if len(unknown) == 1 else 'ies'} "
            f"{', '.join(map(str, unknown))}; add {'it' if len(unknown) == 1 else 'them'} to the "
            "weights (NaN to leave unweighted)"
        )
    table = pd.DataFrame({"count": counts, "weight": w.reindex(counts.index)})
    table.index.name = "category"
    table["harm"] = table["count"] * table["weight"]
    weighted = table["harm"].notna()
    total = table.loc[weighted, "harm"].sum()
    table["harm_share"] = table["harm"] / total if total > 0 else np.nan
    table["volume_rank"] = table["count"].where(weighted).rank(ascending=False, method="min")
    table["harm_rank"] = table["harm"].rank(ascending=False, method="min")
    notes = [] if custom else [HARM_CAVEAT]
    unweighted = list(table.index[~weighted])
    if unweighted:
        notes.append("Not harm-weighted (no weight): " + ", ".join(unweighted) + ".")
    options = {
        "weights": "custom" if custom else "DEFAULT_HARM_WEIGHTS (ONS CSS 2016, transcribed)"
    }
    return HarmResult(table.sort_values("harm_rank"), options, notes)
