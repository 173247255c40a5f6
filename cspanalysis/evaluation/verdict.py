"""The verdict: every estimate side by side, where they agree, and what they rest on.

Rules the sentences follow, so they never overclaim:

* an estimate is called a change only when its interval excludes no change;
* each estimate names its **design**, and the verdict leads with the
  designs that have a comparison (a control area, the target's own longer
  history) rather than the bare before/after;
* agreement is stated only when every controlled estimate points the same
  way and excludes no change; otherwise the evidence is "mixed" or "no
  clear evidence", with the smallest detectable effect so that a null
  result is not read as "no effect";
* the words are "consistent with an effect", never "caused": these are
  observational designs;
* the caveats (regression to the mean, non-parallel pre-trends,
  overdispersion, missing months, methods not computed) are always listed.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import pandas as pd

from cspanalysis.evaluation.result import interval, month_range, pct

if TYPE_CHECKING:  # pragma: no cover
    from cspanalysis.evaluation.evaluate import InterventionEvaluation

__all__ = ["buffer_finding", "estimates_table", "verdict_sentences"]

#: designs with a comparison: a control area, or the target's own longer history and trend
CONTROLLED = (
    "before-after with control",
    "difference-in-differences (monthly panel)",
    "interrupted time series",
    "interrupted time series with control",
    "counterfactual forecast with control",
    "counterfactual forecast from the target's own history",
)

_COLUMNS = [
    "method",
    "design",
    "quantity",
    "estimate",
    "ci_low",
    "ci_high",
    "p_value",
    "beyond_chance",
    "months",
]


def estimates_table(ev: InterventionEvaluation) -> pd.DataFrame:
    """One row per estimate of the target's change, plus the buffer's, with design and interval.

    Rate ratios are after / before (relative to the control where the design
    has one): below 1 is a fall. The WDD rows are in crimes.
    """
    a = ev.options.get("alpha", 0.05)
    rows: list[dict[str, object]] = []
    win = f"{month_range(ev.windows['before'])} vs {month_range(ev.windows['after'])}"

    def add(
        method: str,
        design: str,
        quantity: str,
        est: float,
        lo: float,
        hi: float,
        p: float,
        months: str,
    ) -> None:
        beyond = bool(p < a) if p is not None and math.isfinite(p) else False
        rows.append(
            dict(
                zip(
                    _COLUMNS,
                    [method, design, quantity, est, lo, hi, p, beyond, months],
                    strict=True,
                )
            )
        )

    if ev.prepost is not None:
        r = ev.prepost
        add(
            "pre/post quasi-Poisson" if r.adjusted else "pre/post exact Poisson",
            "before/after, target only",
            "rate ratio",
            r.ratio,
            *r.ci,
            r.p_value,
            f"{month_range(r.before_months)} vs {month_range(r.after_months)}",
        )
    if ev.res is not None and ev.res.defined:
        r = ev.res
        add(
            "relative effect size (1/RES)",
            "before-after with control",
            "rate ratio",
            1 / r.res,
            1 / r.ci_high,
            1 / r.ci_low,
            r.p_value,
            win,
        )
    if ev.did is not None:
        r = ev.did
        months = f"{len(r.months_used)} months"
        row = r.estimates.loc["target"]
        add(
            f"difference-in-differences ({r.family})",
            "difference-in-differences (monthly panel)",
            "rate ratio",
            row["ratio"],
            row["ci_low"],
            row["ci_high"],
            row["p_value"],
            months,
        )
    for its, design in (
        (ev.its, "interrupted time series"),
        (ev.its_control, "interrupted time series with control"),
    ):
        if its is not None:
            add(
                f"{design} ({its.family}), level change",
                design,
                "rate ratio",
                its.level_ratio,
                *its.level_ci,
                its.level_p,
                f"{len(its.months_used)} months",
            )
            if its.slope_change:
                add(
                    f"{design}, slope change per year",
                    design,
                    "rate ratio per year",
                    its.slope_ratio**12,
                    its.slope_ci[0] ** 12,
                    its.slope_ci[1] ** 12,
                    its.slope_p,
                    f"{len(its.months_used)} months",
                )
    if ev.counterfactual is not None:
        r = ev.counterfactual
        add(
            "counterfactual forecast (structural time series)",
            "counterfactual forecast with control"
            if r.options["controls"]
            else "counterfactual forecast from the target's own history",
            "rate ratio",
            r.ratio,
            *r.ratio_ci,
            r.p_value,
            f"{r.options['pre_months']} months fitted, {r.options['post_months']} forecast",
        )
    if ev.wdd is not None:
        r = ev.wdd
        add(
            "weighted displacement difference",
            "before-after with control",
            "crimes",
            r.estimate,
            r.ci_low,
            r.ci_high,
            r.p_value,
            win,
        )
    if ev.wdd_buffer is not None:
        r = ev.wdd_buffer
        add(
            "weighted displacement difference, target + buffer",
            "before-after with control",
            "crimes",
            r.estimate,
            r.ci_low,
            r.ci_high,
            r.p_value,
            win,
        )
    if ev.did is not None and "buffer" in ev.did.estimates.index:
        row = ev.did.estimates.loc["buffer"]
        add(
            "buffer: difference-in-differences",
            "buffer vs control (monthly panel)",
            "rate ratio (buffer)",
            row["ratio"],
            row["ci_low"],
            row["ci_high"],
            row["p_value"],
            f"{len(ev.did.months_used)} months",
        )
    return pd.DataFrame(rows, columns=_COLUMNS)


def _range_text(lo: float, hi: float, n: int) -> str:
    if n == 1:
        return f"the one estimate with a comparison is {pct(lo)}"
    return f"the estimates with a comparison range from {pct(lo)} to {pct(hi)}"


def _strength(n_controlled: int, n_agree: int, n_beyond: int, has_control: bool) -> str:
    if n_controlled == 0:
        return "weak (only the bare before/after could be computed)"
    if n_beyond == n_controlled and n_agree == n_controlled:
        if not has_control:
            return (
                "moderate at most: it rests on the target's own history, with no control "
                "area, so anything else that changed at the start would look the same"
            )
        return "moderate" if n_controlled < 3 else "fairly strong, for an observational design"
    if n_beyond:
        return "mixed"
    return "no clear evidence"


def verdict_sentences(ev: InterventionEvaluation) -> list[str]:
    """Plain-English verdict for :class:`InterventionEvaluation`."""
    a = ev.options.get("alpha", 0.05)
    level = round(100 * (1 - a))
    est = estimates_table(ev)
    target = est[est["quantity"] == "rate ratio"]
    ctrl = target[target["design"].isin(CONTROLLED)]
    out: list[str] = []
    name = ev.design.name
    if len(target) == 0:
        return [
            f"{name}: no estimate could be computed from the months available; "
            + "; ".join(f"{k}: {v}" for k, v in ev.not_computed.items())
        ]
    falls = ctrl[(ctrl["ci_high"] < 1)]
    rises = ctrl[(ctrl["ci_low"] > 1)]
    n_c = len(ctrl)
    lo, hi = (ctrl["estimate"].min(), ctrl["estimate"].max()) if n_c else (math.nan, math.nan)
    if n_c and len(falls) == n_c:
        out.append(
            f"{name}: every estimate with a comparison ({n_c}) shows a fall in the target "
            f"beyond what chance produces, from {pct(hi)} to {pct(lo)}. This is consistent with "
            "the intervention having reduced crime, but these are observational designs: anything "
            "else that changed in the target at the same time would look the same."
        )
    elif n_c and len(rises) == n_c:
        out.append(
            f"{name}: every estimate with a comparison ({n_c}) shows a rise in the target beyond "
            f"chance, from {pct(lo)} to {pct(hi)}; the intervention is not followed by a fall "
            "(a rise can also mean more reporting, which some interventions aim for)."
        )
    elif n_c and (len(falls) or len(rises)):
        which = ", ".join(falls["design"].tolist() + rises["design"].tolist())
        out.append(
            f"{name}: the evidence is mixed. Only some of the estimates with a comparison "
            f"({which}) show a change beyond chance; the estimates range from {pct(lo)} to "
            f"{pct(hi)}. Read the result as suggestive, not established."
        )
    elif n_c:
        out.append(
            f"{name}: no clear evidence of a change in the target relative to what was "
            f"expected; {_range_text(lo, hi, n_c)} and every {level}% interval includes no "
            "change."
        )
    else:
        out.append(
            f"{name}: only the simple before/after comparison could be computed; it "
            "has no control, so it cannot attribute any change to the intervention."
        )
    strength = _strength(
        n_c, max(len(falls), len(rises)), len(falls) + len(rises), ev.design.has_control
    )
    out.append(f"Strength of evidence: {strength}.")
    pp = target[target["design"] == "before/after, target only"]
    if len(pp):
        row = pp.iloc[0]
        agrees = row["beyond_chance"] and (
            (row["estimate"] < 1 and len(falls) == n_c > 0)
            or (row["estimate"] > 1 and len(rises) == n_c > 0)
        )
        out.append(
            f"The raw before/after change ({pct(row['estimate'])}, {level}% CI "
            f"{interval(row['ci_low'], row['ci_high'])}, {row['months']}) rests on the target "
            "alone"
            + (
                " and agrees with the designs that have a comparison."
                if agrees
                else "; where it differs from the designs with a comparison, trust them: it "
                "cannot separate the intervention from trends, seasons or a "
                "city-wide change."
            )
        )
    for _, row in ctrl.iterrows():
        out.append(
            f"- {row['method']} [{row['design']}]: {pct(row['estimate'])} "
            f"({level}% CI {interval(row['ci_low'], row['ci_high'])}, "
            f"p = {row['p_value']:.3g})."
        )
    out += _displacement(ev, level)
    out += _caveats(ev)
    return out


def buffer_finding(ev: InterventionEvaluation) -> str:
    """What the buffer shows, judged with its uncertainty.

    ``"displacement"`` or ``"diffusion of benefit"`` only when the buffer's
    change relative to the control (difference-in-differences, which allows
    for overdispersion) is beyond chance; ``"no clear change in the buffer"``
    otherwise; ``"not examined"`` without a buffer or a control.
    """
    if not ev.design.has_buffer or ev.did is None or "buffer" not in ev.did.estimates.index:
        return "not examined"
    row = ev.did.estimates.loc["buffer"]
    if row["ci_high"] < 1:
        return "diffusion of benefit"
    if row["ci_low"] > 1:
        return "displacement"
    return "no clear change in the buffer"


def _buffer_power(ev: InterventionEvaluation) -> str | None:
    from cspanalysis.evaluation.power import smallest_detectable_effect

    before, after = ev.windows["before"], ev.windows["after"]
    panel = ev.design.panel
    if not len(before) or not len(after) or not ev.design.has_control:
        return None
    base = float(panel.loc[before, "buffer"].mean())
    crate = float(panel.loc[before, "control"].mean())
    if not (base > 0 and crate > 0):
        return None
    p = smallest_detectable_effect(
        base,
        len(before),
        len(after),
        control_rate=crate,
        alpha=ev.options.get("alpha", 0.05),
        power=ev.options.get("power", 0.8),
        dispersion=ev.options.get("dispersion", 1.0),
    )
    if not math.isfinite(p.ratio):
        return None
    return (
        f"With about {base:.0f} crimes a month in the buffer, only a buffer change of about "
        f"{pct(p.ratio)} (or the same size upwards) was likely to be detected; smaller "
        "displacement or diffusion can go unseen."
    )


def _displacement(ev: InterventionEvaluation, level: int) -> list[str]:
    if not ev.design.has_buffer:
        return ["Displacement was not examined (no buffer was set)."]
    if not ev.design.has_control:
        return ["Displacement was not examined (it needs a control area)."]
    finding = buffer_finding(ev)
    out = [
        f"Buffer: {finding}"
        + (
            " (the buffer changed beyond chance relative to the control)."
            if finding in ("displacement", "diffusion of benefit")
            else "."
        )
    ]
    did_b = None
    if ev.did is not None and "buffer" in ev.did.estimates.index:
        did_b = ev.did.estimates.loc["buffer"]
    if ev.wdq is not None:
        w = ev.wdq
        if w.defined:
            out.append(
                f"Displacement (WDQ {w.wdq:.2f}, which has no significance test): "
                f"{w.interpretation}"
            )
        else:
            out.append(f"Displacement: the WDQ is not computed: {w.interpretation}")
    if did_b is not None:
        beyond = did_b["p_value"] < ev.options.get("alpha", 0.05)
        out.append(
            f"The buffer changed by {pct(did_b['ratio'])} relative to the control ({level}% CI "
            f"{interval(did_b['ci_low'], did_b['ci_high'])}), "
            + (
                "beyond chance."
                if beyond
                else "within chance: the buffer change could be "
                "noise, so displacement or diffusion is not established."
            )
        )
    if ev.wdd_buffer is not None:
        w = ev.wdd_buffer
        out.append(
            f"Net of the control, target and buffer together changed by {w.estimate:+.0f} "
            f"crimes ({level}% CI {w.ci_low:+.0f} to {w.ci_high:+.0f}; WDD p = "
            f"{w.p_value:.3g})."
        )
    if finding not in ("displacement", "diffusion of benefit"):
        sentence = _buffer_power(ev)
        if sentence:
            out.append(sentence)
    return out


def _caveats(ev: InterventionEvaluation) -> list[str]:
    out = []
    if ev.rtm is not None and ev.rtm.flagged:
        out.append(
            "Caveat: the target's last months before the start were unusually high, so "
            "some of the fall is regression to the mean; the simple before/after "
            "overstates any effect."
        )
    match = ev.design.options.get("match", {})
    p = match.get("parallel_trends_p", math.nan)
    if isinstance(p, float) and math.isfinite(p) and p < 0.05:
        out.append(
            "Caveat: target and control trended differently before the start "
            f"(p = {p:.3g}), so the control may not show what would have happened; the "
            "controlled estimates carry that bias."
        )
    disp = ev.options.get("dispersion", 1.0)
    if disp > 1.5 and ev.wdd is not None:
        out.append(
            f"Caveat: monthly counts are overdispersed ({disp:.1f} × Poisson); the WDD "
            "standard error assumes Poisson and is too small by about "
            f"{math.sqrt(disp):.1f}×. RES and the GLMs allow for it."
        )
    n_window = ev.options.get("window_months", 0)
    if 0 < n_window < 12:
        out.append(
            f"Caveat: the before/after windows are {n_window} calendar month(s) each, less than "
            "a year, so they compare different seasons, and so few months make every estimate "
            "fragile."
        )
    missing = int(ev.design.panel["target"].isna().sum())
    if missing:
        out.append(
            f"Caveat: {missing} month(s) were not supplied by the source and were left "
            "out, never counted as zero."
        )
    if ev.power is not None and math.isfinite(ev.power.ratio):
        out.append(
            f"Power: only changes of about {pct(ev.power.ratio)} or larger were likely "
            f"({ev.power.power:.0%}) to be detected, so a null result does not show "
            "that there was no effect."
        )
    for k, v in ev.not_computed.items():
        out.append(f"Not computed — {k}: {v}")
    return out
