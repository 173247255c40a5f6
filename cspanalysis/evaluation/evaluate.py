"""Evaluate one intervention with every method the months allow: :func:`evaluate_intervention`.

Each method runs on the :class:`~cspanalysis.evaluation.design.InterventionDesign`
panel; a method the data cannot support (too few months, a zero count) is
recorded in ``not_computed`` with the reason, never failed and never
invented. The before/after pairs used by the count statistics (RES, WDD,
WDQ) are equal windows either side of the start, the same months for every
area, stated in ``windows``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from cspanalysis.evaluation.counterfactual import CounterfactualResult, counterfactual_forecast
from cspanalysis.evaluation.design import InterventionDesign
from cspanalysis.evaluation.displacement import WDQResult, weighted_displacement_quotient
from cspanalysis.evaluation.its import (
    MIN_SEASONAL_MONTHS,
    ITSResult,
    interrupted_time_series,
)
from cspanalysis.evaluation.power import PowerResult, smallest_detectable_effect
from cspanalysis.evaluation.prepost import PrePostResult, pre_post, whole_years
from cspanalysis.evaluation.result import InsufficientDataError, month_range
from cspanalysis.evaluation.rtm import RTMResult, regression_to_mean_check
from cspanalysis.evaluation.verdict import buffer_finding, estimates_table, verdict_sentences
from cspanalysis.evaluation.with_control import (
    DiDResult,
    RESResult,
    WDDResult,
    difference_in_differences,
    relative_effect_size,
    weighted_displacement_difference,
)

__all__ = ["InterventionEvaluation", "evaluate_intervention"]


@dataclass
class InterventionEvaluation:
    """Every estimate for one intervention, with the checks and the verdict.

    Attributes
    ----------
    design
        The target / buffer / control design and its monthly panel.
    windows
        ``before`` and ``after``: the months summed into the (before, after)
        pairs, identical for every area.
    pairs
        Counts per area (rows) in the two windows (columns ``before``, ``after``).
    prepost, res, wdd, wdd_buffer, did, its, its_control, counterfactual, wdq, rtm, power
        Each method's result, or None when it was not computed.
    not_computed
        Method name → the reason it was not computed.
    """

    design: InterventionDesign
    windows: dict[str, pd.PeriodIndex]
    pairs: pd.DataFrame
    prepost: PrePostResult | None = None
    res: RESResult | None = None
    wdd: WDDResult | None = None
    wdd_buffer: WDDResult | None = None
    did: DiDResult | None = None
    its: ITSResult | None = None
    its_control: ITSResult | None = None
    counterfactual: CounterfactualResult | None = None
    wdq: WDQResult | None = None
    rtm: RTMResult | None = None
    power: PowerResult | None = None
    not_computed: dict[str, str] = field(default_factory=dict)
    options: dict[str, Any] = field(default_factory=dict)

    def estimates(self) -> pd.DataFrame:
        """Tidy table: one row per estimate, with the design it rests on and its interval."""
        return estimates_table(self)

    @property
    def buffer_finding(self) -> str:
        """``"displacement"``, ``"diffusion of benefit"``, ``"no clear change in the buffer"``
        or ``"not examined"``: the buffer judged with its uncertainty (see
        :func:`~cspanalysis.evaluation.verdict.buffer_finding`)."""
        return buffer_finding(self)

    def verdict(self) -> list[str]:
        """The plain-English verdict: what changed, how sure, whether crime moved, caveats."""
        return verdict_sentences(self)

    def findings(self) -> list[str]:
        """Every method's own sentences, in order, then the methods not computed."""
        out = list(self.design.findings())
        for obj in (
            self.prepost,
            self.res,
            self.wdd,
            self.wdd_buffer,
            self.did,
            self.its,
            self.its_control,
            self.counterfactual,
            self.wdq,
            self.rtm,
            self.power,
        ):
            if obj is not None:
                out += obj.findings()
        out += [f"Not computed — {k}: {v}" for k, v in self.not_computed.items()]
        return out

    def plot(self) -> Figure:
        """Forest plot of the rate-ratio estimates with their intervals, as % changes."""
        from matplotlib.ticker import FuncFormatter

        est = self.estimates()
        est = est[est["quantity"] == "rate ratio"].dropna(subset=["estimate"])
        fig = Figure(figsize=(9, 0.45 * max(len(est), 1) + 1.4))
        ax = fig.subplots()
        y = np.arange(len(est))[::-1]
        ax.errorbar(
            est["estimate"],
            y,
            xerr=[est["estimate"] - est["ci_low"], est["ci_high"] - est["estimate"]],
            fmt="o",
            color="tab:blue",
            capsize=3,
        )
        ax.axvline(1, color="k", lw=1, ls="--")
        truth = self.options.get("reference_ratio")
        if truth is not None:
            ax.axvline(truth, color="tab:red", lw=1, ls=":")
        ax.set_yticks(y, [f"{m}" for m in est["method"]], fontsize=8)
        ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{100 * (v - 1):+.0f}%"))
        ax.set_xlabel("change after the start (relative to the control where there is one)")
        ax.set_title(
            f"{self.design.name}: estimates with {round(100 * (1 - self.options['alpha']))}%"
            " intervals"
        )
        fig.tight_layout()
        return fig


def _windows(design: InterventionDesign) -> tuple[pd.PeriodIndex, pd.PeriodIndex, int]:
    panel = design.panel
    cols = [
        c
        for c in ("target", "control", "buffer", "control_buffer")
        if c in panel and panel[c].notna().any()
    ]
    observed = panel[cols].notna().all(axis=1)
    span = panel.index
    start = design.start
    last = span.max() if design.end is None else min(span.max(), design.end)
    n = whole_years(min(max(0, (start - span.min()).n), max(0, (last - start).n + 1)))
    before = pd.period_range(start - n, periods=n, freq="M")
    after = pd.period_range(start, periods=n, freq="M")
    before = before[observed.reindex(before, fill_value=False).to_numpy()]
    after = after[observed.reindex(after, fill_value=False).to_numpy()]
    return pd.PeriodIndex(before, freq="M"), pd.PeriodIndex(after, freq="M"), n


def evaluate_intervention(
    design: InterventionDesign,
    *,
    alpha: float = 0.05,
    family: Literal["quasipoisson", "poisson", "negbin"] = "quasipoisson",
    seasonality: Literal["auto", "harmonic", "month"] | None = "auto",
    harmonics: int = 2,
    slope_change: bool = False,
    recent_months: int = 3,
    power: float = 0.8,
    n_simulations: int = 2000,
    seed: int = 0,
) -> InterventionEvaluation:
    """Run every evaluation method the months allow on one intervention's design.

    Parameters
    ----------
    design
        From :func:`~cspanalysis.evaluation.design_intervention`.
    alpha
        1 − confidence level, for every interval.
    family
        GLM family for the difference-in-differences and the interrupted time series.
    seasonality, harmonics
        Seasonal terms of the interrupted time series; ``"auto"`` is
        ``"harmonic"`` with 24 or more observed months, else none (said so).
    slope_change
        Also estimate a change of trend in the interrupted time series.
    recent_months
        Months before the start examined for regression to the mean.
    power
        Power for the smallest detectable effect.
    n_simulations, seed
        For the counterfactual forecast (reproducible for a given seed).

    Examples
    --------
    >>> result = evaluate_intervention(design)   # doctest: +SKIP
    >>> result.estimates()                        # doctest: +SKIP
    >>> print("\\n".join(result.verdict()))       # doctest: +SKIP
    """
    panel = design.panel
    start, end = design.start, design.end
    before, after, n_window = _windows(design)
    areas = [
        c
        for c in ("target", "buffer", "control", "control_buffer")
        if c in panel and panel[c].notna().any()
    ]
    pairs = pd.DataFrame(
        {"before": panel.loc[before, areas].sum(), "after": panel.loc[after, areas].sum()}
    ).astype(float)
    pairs.index.name = "area"
    ev = InterventionEvaluation(design, {"before": before, "after": after}, pairs)
    nc = ev.not_computed

    def attempt(name: str, fn):
        try:
            return fn()
        except InsufficientDataError as exc:
            nc[name] = exc.message
        except np.linalg.LinAlgError:
            nc[name] = "the model could not be fitted to these counts (a singular design)"
        return None

    target = panel["target"]
    control = panel["control"]
    has_control = design.has_control
    has_buffer = design.has_buffer and "buffer" in pairs.index and has_control
    windows_ok = len(before) > 0 and len(after) > 0
    if not has_control:
        for name in (
            "RES",
            "WDD",
            "WDQ",
            "difference-in-differences",
            "interrupted time series with control",
        ):
            nc[name] = "there is no control area (see the design notes)"
    if not windows_ok:
        reason = (
            f"no month before and after {start} with every area observed "
            f"(equal windows either side: {month_range(before)} / {month_range(after)})"
        )
        for name in ("pre/post", "RES", "WDD", "WDQ"):
            nc.setdefault(name, reason)
    else:
        ev.prepost = attempt(
            "pre/post",
            lambda: pre_post(
                target,
                start,
                end=end,
                months_before=n_window,
                months_after=n_window,
                alpha=alpha,
            ),
        )
    if windows_ok and has_control:
        t_pair = tuple(pairs.loc["target"])
        c_pair = tuple(pairs.loc["control"])
        ev.wdd = weighted_displacement_difference(t_pair, c_pair, alpha=alpha)
        if has_buffer:
            ev.wdd_buffer = weighted_displacement_difference(
                t_pair,
                c_pair,
                tuple(pairs.loc["buffer"]),
                tuple(pairs.loc["control_buffer"]),
                alpha=alpha,
            )
            ev.wdq = weighted_displacement_quotient(t_pair, tuple(pairs.loc["buffer"]), c_pair)
    if has_control:
        ev.did = attempt(
            "difference-in-differences",
            lambda: difference_in_differences(
                panel[[c for c in ("target", "buffer", "control") if c in areas]],
                start,
                end=end,
                family=family,
                alpha=alpha,
            ),
        )
    n_obs = int(target.dropna().pipe(lambda s: (s.index <= (end or s.index.max())).sum()))
    season = seasonality
    if seasonality == "auto":
        season = "harmonic" if n_obs >= MIN_SEASONAL_MONTHS else None
    its_kw = dict(
        seasonality=season,
        harmonics=harmonics,
        family=family,
        slope_change=slope_change,
        end=end,
        alpha=alpha,
    )
    ev.its = attempt(
        "interrupted time series", lambda: interrupted_time_series(target, start, **its_kw)
    )
    if has_control:
        ev.its_control = attempt(
            "interrupted time series with control",
            lambda: interrupted_time_series(target, start, control=control, **its_kw),
        )
    if ev.its is not None and seasonality == "auto" and season is None:
        ev.its.notes.append(
            f"Only {n_obs} observed months, fewer than "
            f"{MIN_SEASONAL_MONTHS}: no seasonal terms were fitted, so a "
            "seasonal swing could be read as an effect."
        )
    if ev.did is not None:
        dispersion = max(1.0, ev.did.dispersion)
    elif ev.its is not None:
        dispersion = max(1.0, ev.its.dispersion)
    else:
        dispersion = 1.0
    if windows_ok and has_control:
        ev.res = relative_effect_size(
            tuple(pairs.loc["target"]),
            tuple(pairs.loc["control"]),
            alpha=alpha,
            dispersion=dispersion,
        )
        if not ev.res.defined:
            nc["RES"] = ev.res.note
    ev.counterfactual = attempt(
        "counterfactual forecast",
        lambda: counterfactual_forecast(
            target,
            start,
            control.rename("control") if has_control else None,
            end=end,
            alpha=alpha,
            n_simulations=n_simulations,
            seed=seed,
        ),
    )
    ev.rtm = attempt(
        "regression to the mean",
        lambda: regression_to_mean_check(target, start, recent_months=recent_months, alpha=alpha),
    )
    if windows_ok:
        base = float(panel.loc[before, "target"].mean())
        crate = float(panel.loc[before, "control"].mean()) if has_control else math.nan
        ev.power = attempt(
            "power",
            lambda: smallest_detectable_effect(
                base,
                len(before),
                len(after),
                control_rate=crate if crate > 0 else None,
                alpha=alpha,
                power=power,
                dispersion=dispersion,
            ),
        )
    ev.options = {
        "alpha": alpha,
        "family": family,
        "seasonality": season,
        "harmonics": harmonics if season == "harmonic" else None,
        "slope_change": slope_change,
        "recent_months": recent_months,
        "power": power,
        "n_simulations": n_simulations,
        "seed": seed,
        "dispersion": dispersion,
        "reference_ratio": None,
        "windows": f"{month_range(before)} vs {month_range(after)}",
        "window_months": n_window,
    }
    return ev
