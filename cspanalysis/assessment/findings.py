"""Plain-English sentences for assessment results, never claiming more than the test supports.

Each function turns one row of a result table into one sentence. The rules:

* A rise or fall is called a rise or fall **only** when the (adjusted) test
  says it is more than chance; otherwise the sentence says the counts moved
  but the change is within what chance alone would produce.
* Numbers are always given with what they are of ("368 to 302").
* Missing data are named, never hidden.

>>> row = pd.Series({"current": 302, "previous": 368, "pct_change": -17.9, "p_value": 0.012,
...                  "p_adjusted": 0.012, "significant": True, "status": "complete", "note": ""})
>>> change_sentence("Burglary", row, {"alpha": 0.05})
'Burglary fell 18% (368 to 302), a fall unlikely to be chance (p = 0.01).'
"""

from __future__ import annotations

import math
from typing import Any

import pandas as pd

__all__ = [
    "category_brief",
    "change_sentence",
    "coverage_findings",
    "format_p",
    "peer_sentence",
    "rag_sentence",
    "trend_sentence",
]


def format_p(p: float) -> str:
    """``p = 0.01``, ``p < 0.001``, ``p = 0.24`` (two significant places, as reports print).

    >>> format_p(0.0004), format_p(0.0123), format_p(0.24)
    ('p < 0.001', 'p = 0.01', 'p = 0.24')
    """
    if p is None or (isinstance(p, float) and math.isnan(p)):
        return "p not available"
    if p < 0.001:
        return "p < 0.001"
    if p < 0.01 or 0.04 <= p < 0.06:  # three places near the usual 0.05 threshold
        return f"p = {p:.3f}"
    return f"p = {p:.2f}"


def _int(x: Any) -> int:
    return int(x)


def change_sentence(name: str, row: pd.Series, options: dict[str, Any]) -> str:
    """One sentence for one row of a :func:`~cspanalysis.assessment.rolling_change` table."""
    alpha = options.get("alpha", 0.05)
    if row.get("status") == "unavailable" or pd.isna(row.get("current")):
        return f"{name}: no like-for-like comparison is possible ({row.get('note', '')})."
    a, b = _int(row["current"]), _int(row["previous"])
    basis = ""
    if row.get("status") == "shared months":
        basis = f" over the {_int(row['months_compared'])} months both periods supply"
    if a == b:
        return f"{name} was unchanged ({b} to {a}){basis}."
    if b == 0:
        return f"{name}: {a} incidents{basis}, against none in the previous period."
    p = row.get("p_adjusted", row.get("p_value"))
    adjusted = "" if row.get("p_adjusted") == row.get("p_value") else " after adjustment"
    pct = abs(float(row["pct_change"]))
    pct_text = f"{pct:.0f}%" if pct >= 1 else f"{pct:.1f}%"
    if bool(row.get("significant")) and not pd.isna(p):
        verb, noun = ("rose", "rise") if a > b else ("fell", "fall")
        return (
            f"{name} {verb} {pct_text} ({b} to {a}){basis}, a {noun} unlikely to be "
            f"chance ({format_p(p)}{adjusted})."
        )
    direction = "higher" if a > b else "lower"
    return (
        f"{name} was {pct_text} {direction} ({b} to {a}){basis}, but a change this size is "
        f"within what chance alone would produce ({format_p(p)}{adjusted}; "
        f"threshold {alpha})."
    )


def coverage_findings(present: pd.PeriodIndex, end: Any, months: int = 12) -> list[str]:
    """What comparisons the months supplied allow, said plainly.

    >>> present = pd.PeriodIndex(["2018-06", "2018-10", "2018-11", "2018-12", "2019-01",
    ...                           "2019-02"], freq="M")
    >>> for s in coverage_findings(present, "2019-02"):
    ...     print(s[:64])
    The data cover 6 months: 2018-06, 2018-10 to 2019-02 (missing, n
    A full 12-month vs previous 12-month comparison is not possible:
    Same month last year (Feb 2018) is not available.
    Month-on-month change is possible for 2018-11 to 2019-02.
    """
    from cspanalysis.assessment.periods import (
        consecutive_months,
        describe_months,
        rolling_window,
    )

    present = pd.PeriodIndex(present, freq="M")
    if len(present) == 0:
        return ["No months of data were supplied."]
    span = pd.period_range(present.min(), present.max(), freq="M")
    gaps = span[~span.isin(present)]
    first = f"The data cover {len(present)} months: {describe_months(present)}"
    first += f" (missing, not zero: {describe_months(gaps)})." if len(gaps) else "."
    out = [first]
    cur = rolling_window(end, months)
    prev = cur.previous()
    n_cur, n_prev = int(cur.months.isin(present).sum()), int(prev.months.isin(present).sum())
    if n_cur == months and n_prev == months:
        out.append(
            f"A full {months}-month vs previous {months}-month comparison is possible "
            f"({cur.label} vs {prev.label})."
        )
    else:
        out.append(
            f"A full {months}-month vs previous {months}-month comparison is not possible: the "
            f"current {months} months ({cur.label}) have {n_cur} of {months} months and the "
            f"previous {months} months ({prev.label}) have {n_prev}."
        )
        shared = int((cur.months.isin(present) & prev.months.isin(present)).sum())
        if shared:
            out.append(f"Changes are shown on the {shared} months both periods supply.")
    last_year = cur.end - 12
    avail = "available" if last_year in present else "not available"
    out.append(f"Same month last year ({last_year.strftime('%b %Y')}) is {avail}.")
    mom = consecutive_months(present)
    if len(mom):
        out.append(f"Month-on-month change is possible for {describe_months(mom)}.")
    return out


def category_brief(
    category: str,
    change: Any = None,
    trends: Any = None,
    rates: Any = None,
    harm: Any = None,
    peers: Any = None,
) -> str:
    """A short paragraph on one category from whichever results are given.

    Each argument is a result object (``ChangeResult``, ``TrendResult``, ``RateResult``,
    ``HarmResult``, ``PeerResult``) or None; sentences come from the functions above, so
    the brief never says more than the tables.
    """
    parts: list[str] = []
    if change is not None:
        block = change._block(None)
        if category in block.index:
            row = block.loc[category]
            if row["status"] == "unavailable":
                parts.append(f"{category}: no like-for-like comparison with the previous period.")
            else:
                parts.append(change_sentence(category, row, change.options))
    if rates is not None and category in rates.partnership.index:
        r = rates.partnership.loc[category]
        if pd.notna(r["rate"]):
            unit = "households" if r["denominator_kind"] == "households" else "residents"
            months = int(r["months_present"])
            basis = "" if months == 12 else f" (from the {months} months supplied)"
            parts.append(
                f"{r['count']:,.0f} recorded over {months} months: {r['rate']:.1f} per 1,000 "
                f"{unit} a year{basis}."
            )
    if trends is not None and category in trends.estimates.index:
        est = trends.estimates.loc[category]
        if est["status"] == "fitted":
            parts.append(trend_sentence(category, est))
            n_exc = int((trends.exceptions.index.get_level_values(0) == category).sum())
            if n_exc:
                parts.append(f"{n_exc} month(s) fell outside the expected range.")
    if peers is not None and category in peers.table.index:
        parts.append(peer_sentence(category, peers.table.loc[category]))
    if harm is not None and category in harm.table.index:
        h = harm.table.loc[category]
        if pd.notna(h["harm_rank"]):
            parts.append(
                f"It ranks {int(h['volume_rank'])} by volume and {int(h['harm_rank'])} by "
                "harm (indicative weights)."
            )
    return " ".join(parts) if parts else f"{category}: no results."


def _signed(x: float) -> str:
    """``+3``, ``-12``, and ``0`` rather than ``-0``."""
    r = round(float(x))
    return "0" if r == 0 else f"{r:+d}"


def trend_sentence(name: str, row: pd.Series) -> str:
    """One sentence for a fitted trend (``annual_change_pct`` with ``ci_low`` / ``ci_high``)."""
    if row.get("status") != "fitted":
        return f"{name}: no trend model ({row.get('note', '')})."
    est, lo, hi = row["annual_change_pct"], row["trend_ci_low"], row["trend_ci_high"]
    ci = f"95% interval {_signed(lo)}% to {_signed(hi)}% a year"
    if lo > 0:
        return f"{name} is rising by about {est:.0f}% a year after allowing for season ({ci})."
    if hi < 0:
        return (
            f"{name} is falling by about {abs(est):.0f}% a year after allowing for season ({ci})."
        )
    return f"{name} shows no clear trend after allowing for season ({ci})."


def peer_sentence(name: str, row: pd.Series) -> str:
    """One sentence comparing a category's rate with the peer average."""
    rate, peer = row["rate"], row["peer_rate"]
    if pd.isna(rate) or pd.isna(peer):
        return f"{name}: no peer comparison is possible ({row.get('note', 'no data')})."
    if row.get("above_and_increasing"):
        return (
            f"{name} is above the peer average ({rate:.1f} vs {peer:.1f} per 1,000 "
            "residents) and increasing."
        )
    if row.get("above_average"):
        where = "above"
    elif row.get("below_average"):
        where = "below"
    else:
        return (
            f"{name} is in line with the peer average ({rate:.1f} vs {peer:.1f} per 1,000 "
            "residents; the difference is within chance)."
        )
    return f"{name} is {where} the peer average ({rate:.1f} vs {peer:.1f} per 1,000 residents)."


def rag_sentence(row: pd.Series) -> str:
    """One sentence for a performance-against-target row.

    >>> rag_sentence(pd.Series({"indicator": "Theft from vehicles", "baseline": 404,
    ...     "target": 392, "actual": 465, "direction": "decrease", "pct_vs_target": 18.6,
    ...     "rag": "Red"}))
    'Theft from vehicles: 465 against a target of 392 (baseline 404), +19% against target: Red.'
    """
    if pd.isna(row.get("actual")):
        return f"{row['indicator']}: no actual value, so no status."
    return (
        f"{row['indicator']}: {row['actual']:,.0f} against a target of {row['target']:,.0f} "
        f"(baseline {row['baseline']:,.0f}), {row['pct_vs_target']:+.0f}% against target: "
        f"{row['rag']}."
    )
