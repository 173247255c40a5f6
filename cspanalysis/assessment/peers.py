"""Comparison with a peer group of partnerships.

Peers come from the parameter file (``peers.params``) or, when none are
given, are chosen by :func:`choose_peers` as the partnerships most similar in
population and deprivation; the result says which (``options["peer_source"]``).

For each category:

* ``rate``: the partnership's annual rate per 1,000 residents over the window;
* ``peer_rate``: the **pooled** peer rate (all peers' incidents over all
  peers' person-years), the "most similar group average";
* ``ratio``, ``ci_low``, ``ci_high``, ``p_value``: the rate ratio of the
  partnership to the peer pool, exact conditional test
  (:func:`cspanalysis.stats.poisson_rate_ratio`, exposures = person-years);
* ``rank``: 1 = highest rate among the partnership and its peers;
* ``above_average`` / ``below_average``: the rate differs from the peer
  average by more than chance after a Holm correction across categories
  (``p_adjusted < alpha``); the interval shown is the unadjusted 95% one;
* ``increasing``: the partnership's own rolling change is a rise more than
  chance (:func:`~cspanalysis.assessment.rolling_change`);
* ``above_and_increasing``: both – the flag partnerships report.

Partnerships are passed as any objects with ``name``, ``incidents``,
``areas`` and ``coverage`` attributes (e.g. :class:`cspanalysis.PartnershipData`,
or :class:`PeerInput`).
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol

import numpy as np
import pandas as pd

from cspanalysis.assessment.change import ALL_CRIME, ASB, assess_change
from cspanalysis.assessment.periods import MonthLike, monthly_counts, present_months, rolling_window
from cspanalysis.errors import DataQualityWarning, InputError
from cspanalysis.stats import adjust_pvalues, poisson_rate_ratio

__all__ = ["PeerInput", "PeerResult", "choose_peers", "compare_with_peers", "partnership_profile"]


class _Partnership(Protocol):
    name: str
    incidents: pd.DataFrame
    areas: pd.DataFrame
    coverage: Any


@dataclass
class PeerInput:
    """One partnership's frames, for peer comparison."""

    name: str
    incidents: pd.DataFrame
    areas: pd.DataFrame
    coverage: Any = None


@dataclass
class PeerResult:
    """Peer comparison table with the options used."""

    table: pd.DataFrame
    rates: pd.DataFrame
    options: dict[str, Any]
    notes: list[str] = field(default_factory=list)

    def findings(self) -> list[str]:
        """One sentence per category; the 'above average AND increasing' list first."""
        from cspanalysis.assessment.findings import peer_sentence

        flagged = list(self.table.index[self.table["above_and_increasing"].fillna(False)])
        head = (
            ["Above the peer average AND increasing: " + ", ".join(flagged) + "."]
            if flagged
            else ["No category is both above the peer average and increasing."]
        )
        label = (
            "peers chosen automatically by population and deprivation similarity"
            if self.options["peer_source"] == "auto"
            else "peers given in the parameter file"
        )
        head.append(f"Peer group ({label}): {', '.join(self.options['peers'])}.")
        return head + [peer_sentence(c, r) for c, r in self.table.iterrows()] + self.notes

    def plot(self, ax: Any = None) -> Any:
        """Rate ratio to the peer average per category with intervals (log scale)."""
        import matplotlib.pyplot as plt
        from matplotlib.ticker import FixedLocator, NullLocator, StrMethodFormatter

        t = self.table.dropna(subset=["ratio"])
        t = t[np.isfinite(t["ratio"])].sort_values("ratio")
        if ax is None:
            _, ax = plt.subplots(figsize=(7, 0.35 * max(len(t), 4) + 1.4))
        y = np.arange(len(t))
        colors = np.where(
            t["above_average"], "#D55E00", np.where(t["below_average"], "#0072B2", "0.5")
        )
        ax.errorbar(
            t["ratio"],
            y,
            xerr=[t["ratio"] - t["ci_low"], t["ci_high"].clip(upper=50) - t["ratio"]],
            fmt="none",
            ecolor="0.4",
            lw=0.8,
            capsize=2,
        )
        ax.scatter(t["ratio"], y, c=colors, zorder=3)
        ax.axvline(1, color="0.3", lw=0.8)
        ax.set_xscale("log")
        ax.xaxis.set_major_locator(FixedLocator([0.125, 0.25, 0.5, 1, 2, 4, 8, 16]))
        ax.xaxis.set_minor_locator(NullLocator())
        ax.xaxis.set_major_formatter(StrMethodFormatter("{x:g}"))
        ax.set_yticks(y, list(t.index))
        ax.set_xlabel("Rate relative to peer average (1 = same), 95% interval")
        ax.set_title("Comparison with peer partnerships", fontsize=10)
        ax.figure.text(
            0.01,
            0.005,
            "Orange: above, blue: below the peer average (Holm-adjusted p < 0.05). "
            "Source: police.uk, ONS population",
            fontsize=7,
        )
        ax.figure.tight_layout(rect=(0, 0.03, 1, 1))
        return ax.figure


def partnership_profile(areas: pd.DataFrame) -> pd.Series:
    """Population and deprivation summary used to find similar partnerships.

    Returns ``population`` (sum), ``imd_mean_decile`` (population-weighted mean decile) and
    ``share_most_deprived`` (share of residents in deciles 1–2).

    >>> a = pd.DataFrame({"population": [1000.0, 3000.0], "imd_decile": [1, 6]})
    >>> partnership_profile(a).round(2).to_dict()
    {'population': 4000.0, 'imd_mean_decile': 4.75, 'share_most_deprived': 0.25}
    """
    pop = areas["population"].astype(float)
    dec = (
        areas["imd_decile"].astype(float)
        if "imd_decile" in areas
        else pd.Series(np.nan, index=areas.index)
    )
    ok = pop.notna() & dec.notna()
    w = pop[ok]
    return pd.Series(
        {
            "population": float(pop.sum()),
            "imd_mean_decile": float((dec[ok] * w).sum() / w.sum()) if w.sum() > 0 else np.nan,
            "share_most_deprived": float(w[dec[ok] <= 2].sum() / w.sum())
            if w.sum() > 0
            else np.nan,
        }
    )


def choose_peers(own: pd.Series, candidates: pd.DataFrame, n: int = 7) -> pd.DataFrame:
    """The ``n`` candidates nearest to ``own`` in log population and deprivation.

    Distance: Euclidean over standardised ``log(population)``, ``imd_mean_decile`` and
    ``share_most_deprived`` (each scaled by its standard deviation across candidates).

    Parameters
    ----------
    own
        The partnership's :func:`partnership_profile`.
    candidates
        One row per candidate partnership (index: name) with the same columns.

    Examples
    --------
    >>> c = pd.DataFrame({"population": [1e5, 2e5, 1e6], "imd_mean_decile": [5.0, 6, 2],
    ...                   "share_most_deprived": [0.1, 0.1, 0.5]}, index=["A", "B", "C"])
    >>> own = pd.Series({"population": 1.5e5, "imd_mean_decile": 5.2, "share_most_deprived": 0.1})
    >>> choose_peers(own, c, n=2).index.tolist()
    ['A', 'B']
    """
    cols = ["population", "imd_mean_decile", "share_most_deprived"]
    missing = [c for c in cols if c not in candidates.columns]
    if missing:
        raise InputError(f"peer candidates lack column(s) {missing}; use partnership_profile()")
    feats = candidates[cols].astype(float).copy()
    feats["population"] = np.log(feats["population"])
    me = own[cols].astype(float).copy()
    me["population"] = np.log(me["population"])
    sd = feats.std(ddof=0).replace(0, 1.0).fillna(1.0)
    dist = (((feats - me) / sd) ** 2).sum(axis=1, min_count=1) ** 0.5
    out = candidates.assign(distance=dist).sort_values("distance").head(int(n))
    out.index.name = "partnership"
    return out


def _category_counts(
    p: _Partnership, end: pd.Period, months: int, source: str | None
) -> tuple[pd.Series, int]:
    window = rolling_window(end, months)
    present = (
        present_months(p.incidents, p.coverage, source)
        if len(p.incidents)
        else pd.PeriodIndex([], freq="M")
    )
    in_window = window.months[window.months.isin(present)]
    if len(in_window) == 0:
        return pd.Series(dtype=float), 0
    counts = monthly_counts(p.incidents, present, source=source, months=in_window).sum()
    return counts, len(in_window)


def compare_with_peers(
    own: _Partnership,
    peers: Sequence[_Partnership],
    end: MonthLike,
    months: int = 12,
    *,
    source: str | None = "police.uk",
    peer_source: str = "given",
    change: pd.DataFrame | None = None,
    alpha: float = 0.05,
    correction: Literal["holm", "fdr_bh", "bonferroni", "none"] = "holm",
) -> PeerResult:
    """Rates per 1,000 residents against the pooled peer average, rank and flags.

    Parameters
    ----------
    own, peers
        Partnerships (``name``, ``incidents``, ``areas``, ``coverage``).
    end, months
        The window (``months`` ending at ``end``); peers' missing months are left out and
        their exposure reduced accordingly.
    peer_source
        ``"given"`` (parameter file) or ``"auto"`` (:func:`choose_peers`), reported back.
    change
        The partnership's :func:`~cspanalysis.assessment.rolling_change` table for ``end``
        (computed when omitted) for the "increasing" flag.
    alpha
        Significance level.
    correction
        Multiple-testing correction of the peer comparisons across categories (Holm).

    Warns
    -----
    DataQualityWarning
        A peer has no data in the window, or shares LSOAs with the partnership; it is left
        out of the peer group.
    """
    end_p = rolling_window(end, months).end
    own_counts, own_n = _category_counts(own, end_p, months, source)
    if own_n == 0:
        raise InputError(f"{own.name} has no months of data in the {months} months to {end_p}")
    own_pop = float(own.areas["population"].sum())
    if not own_pop > 0:
        raise InputError(f"{own.name} has no population; rates need the areas' population")
    rows, notes, used = [], [], []
    for p in peers:
        shared = own.areas.index.intersection(p.areas.index)
        if len(shared):
            msg = (
                f"peer '{p.name}' shares {len(shared)} LSOAs with {own.name} (a joint or "
                "overlapping partnership); left out"
            )
            warnings.warn(msg, DataQualityWarning, stacklevel=2)
            notes.append(msg + ".")
            continue
        counts, n = _category_counts(p, end_p, months, source)
        pop = float(p.areas["population"].sum()) if "population" in p.areas else np.nan
        if n == 0 or not pop > 0:
            why = "no months of data" if n == 0 else "no population"
            msg = f"peer '{p.name}' has {why} in the {months} months to {end_p}; left out"
            warnings.warn(msg, DataQualityWarning, stacklevel=2)
            notes.append(msg + ".")
            continue
        used.append(p.name)
        rows.append(counts.rename(p.name).to_frame().T.assign(_exposure=pop * n / 12.0))
        if n < months:
            notes.append(
                f"Peer '{p.name}' supplied {n} of {months} months; its rate is annualised "
                "over those months."
            )
    if not used:
        raise InputError(
            "no peer partnership has data for the period; check the peers' "
            "parameter files and their data"
        )
    own_exposure = own_pop * own_n / 12.0
    peer_frame = pd.concat(rows).fillna(0.0)
    cats = [c for c in sorted(set(own_counts.index) | set(peer_frame.columns) - {"_exposure"})]
    rates = pd.DataFrame(index=[own.name, *used], columns=cats, dtype=float)
    for c in cats:
        rates.loc[own.name, c] = 1000 * own_counts.get(c, 0.0) / own_exposure
        for name in used:
            rates.loc[name, c] = (
                1000 * peer_frame.loc[name].get(c, 0.0) / peer_frame.loc[name, "_exposure"]
            )
    if change is None:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DataQualityWarning)
            change = assess_change(
                own.incidents,
                end_p,
                months,
                coverage=own.coverage,
                source=source,
                alpha=alpha,
                totals=False,
            ).table
    peer_exposure = float(peer_frame["_exposure"].sum())
    out = []
    for c in cats:
        a = round(float(own_counts.get(c, 0.0)))
        b = round(float(peer_frame[c].sum())) if c in peer_frame else 0
        rr = poisson_rate_ratio(a, b, own_exposure, peer_exposure, alpha=alpha)
        inc = False
        if c in change.index and not pd.isna(change.loc[c, "significant"]):
            inc = bool(change.loc[c, "significant"]) and change.loc[c, "change"] > 0
        out.append(
            {
                "category": c,
                "count": a,
                "rate": 1000 * a / own_exposure,
                "peer_rate": 1000 * b / peer_exposure,
                "ratio": rr.ratio,
                "ci_low": rr.ci_low,
                "ci_high": rr.ci_high,
                "p_value": rr.p_value,
                "rank": int(rates[c].rank(ascending=False, method="min")[own.name]),
                "of": len(rates),
                "increasing": inc,
            }
        )
    table = pd.DataFrame(out).set_index("category")
    table = table.drop(index=[ALL_CRIME], errors="ignore")
    table["p_adjusted"] = adjust_pvalues(table["p_value"].to_numpy(dtype=float), correction)
    differs = table["p_adjusted"] < alpha
    table["above_average"] = differs & (table["ratio"] > 1)
    table["below_average"] = differs & (table["ratio"] < 1)
    table["above_and_increasing"] = table["above_average"] & table["increasing"]
    options = {
        "end": str(end_p),
        "months": months,
        "peers": used,
        "peer_source": peer_source,
        "alpha": alpha,
        "correction": correction,
        "average": "pooled peer rate (all peer incidents / person-years)",
        "source": source,
    }
    if ASB in table.index:
        notes.append(
            "Anti-social behaviour recording practice differs between forces; compare "
            "its rate with care."
        )
    return PeerResult(table, rates, options, notes)
