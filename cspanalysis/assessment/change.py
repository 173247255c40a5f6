"""Rolling-period change tables: current vs previous period, with a test of chance.

:func:`rolling_change` builds the table partnerships publish ("12 month
rolling period | current | previous | change (No) | change (%)") and adds
what the published tables lack: whether the change is more than chance.

How each row is computed
------------------------
* ``current`` and ``previous`` are counts over the two windows (``months``
  long, the previous one ending just before the current one starts).
* A window with a month the source did not supply is never summed as if the
  month were zero. With ``incomplete="shared"`` (default) the two windows are
  compared on the **months both supply** – month *m* of the current window with
  month *m − months* – and the row is labelled ``status = "shared months"``
  with ``months_compared`` < ``months``; with ``incomplete="unavailable"`` the
  counts and change are NA and ``status = "unavailable"``. Either way a
  :class:`~cspanalysis.errors.DataQualityWarning` names the missing months.
* ``p_value`` tests rate ratio = 1 (equal exposure, so ratio = current /
  previous) by the exact conditional binomial test, or the E-test with
  ``method="etest"`` (:func:`cspanalysis.stats.poisson_rate_ratio`);
  ``ci_low`` / ``ci_high`` bound the rate ratio.
* ``p_adjusted`` corrects the per-category p-values for multiple testing
  (Holm by default) within each end month; the headline rows ("All crime",
  "Anti-social behaviour") are single pre-specified tests and are not in the
  family. ``significant`` is ``p_adjusted < alpha``.
* "All crime" is every category except anti-social behaviour, which
  partnerships report separately (police.uk publishes ASB in the same files).
"""

from __future__ import annotations

import warnings
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import pandas as pd

from cspanalysis.assessment.periods import (
    MonthLike,
    describe_months,
    monthly_counts,
    present_months,
    rolling_window,
    to_month,
)
from cspanalysis.errors import DataQualityWarning, InputError
from cspanalysis.stats import adjust_pvalues, poisson_rate_ratio

__all__ = ["ALL_CRIME", "ASB", "ChangeResult", "assess_change", "rolling_change"]

#: label of the all-crime row (every category except anti-social behaviour)
ALL_CRIME = "All crime"
#: police.uk's name for anti-social behaviour
ASB = "Anti-social behaviour"

CHANGE_COLUMNS = (
    "period",
    "previous_period",
    "current",
    "previous",
    "change",
    "pct_change",
    "rate_ratio",
    "ci_low",
    "ci_high",
    "p_value",
    "p_adjusted",
    "significant",
    "months_compared",
    "status",
    "note",
)


def rolling_change(
    incidents: pd.DataFrame,
    end: MonthLike | Sequence[MonthLike],
    months: int = 12,
    by: str = "category",
    *,
    coverage: pd.DataFrame | pd.PeriodIndex | Iterable[MonthLike] | None = None,
    source: str | None = "police.uk",
    incomplete: Literal["shared", "unavailable"] = "shared",
    method: Literal["exact-conditional", "etest"] = "exact-conditional",
    correction: Literal["holm", "fdr_bh", "bonferroni", "none"] = "holm",
    alpha: float = 0.05,
    totals: bool = True,
    lag: int | None = None,
) -> pd.DataFrame:
    """Current ``months`` vs the previous ``months`` for each category, tested for chance.

    Parameters
    ----------
    incidents
        Incidents frame (``month``, ``by``, and ``count`` when rows are pre-aggregated).
    end
        Last month of the current window, or several end months (one block of rows each).
    months
        Window length (12 for the usual rolling year).
    by
        Column to break down by (``"category"``, ``"lsoa"``, …).
    coverage
        Coverage frame or the months present. When omitted, the months present are the
        months that appear in ``incidents`` (see :func:`~.periods.present_months`).
    source
        Which source to count (default police.uk; None for all rows).
    incomplete
        What to do when a window has missing months: compare the months both windows
        supply (``"shared"``, labelled) or report the change as unavailable.
    method
        ``"exact-conditional"`` (binomial) or ``"etest"`` p-values.
    correction
        Multiple-testing correction across categories within each end month.
    alpha
        Significance level and 1 − interval coverage.
    totals
        Add the "All crime" (excluding ASB) row; ASB always stays its own row.
    lag
        Months from the start of the previous window to the start of the current one
        (default ``months``: the windows are adjacent). ``months=1, lag=12`` compares a month
        with the same month a year earlier; ``months=3, lag=12`` a quarter with the same
        quarter.

    Returns
    -------
    pandas.DataFrame
        Indexed by ``by`` (one end month) or by (``end``, ``by``); columns
        ``period, previous_period, current, previous, change, pct_change, rate_ratio,
        ci_low, ci_high, p_value, p_adjusted, significant, months_compared, status, note``.
        ``df.attrs["options"]`` holds the options used.

    Examples
    --------
    >>> months = pd.period_range("2018-01", "2019-12", freq="M")
    >>> inc = pd.DataFrame({"month": list(months) * 2,
    ...                     "category": ["Burglary"] * 24 + ["Robbery"] * 24,
    ...                     "count": [31] * 12 + [25] * 12 + [5] * 24})
    >>> t = rolling_change(inc, "2019-12")
    >>> t.loc["Burglary", ["current", "previous", "change"]].tolist()
    [300, 372, -72]
    >>> round(float(t.loc["Burglary", "pct_change"]), 1), bool(t.loc["Burglary", "significant"])
    (-19.4, True)
    """
    return assess_change(
        incidents,
        end,
        months,
        by,
        coverage=coverage,
        source=source,
        incomplete=incomplete,
        method=method,
        correction=correction,
        alpha=alpha,
        totals=totals,
        lag=lag,
    ).table


@dataclass
class ChangeResult:
    """A rolling change table with the options that produced it.

    Attributes
    ----------
    table
        As returned by :func:`rolling_change`.
    options
        The options actually used (defaults resolved).
    warnings
        Data-quality messages (missing months), also emitted as warnings.
    """

    table: pd.DataFrame
    options: dict[str, Any]
    warnings: list[str] = field(default_factory=list)

    def findings(self, end: MonthLike | None = None) -> list[str]:
        """Plain-English sentences for each row of one end month (default: the latest)."""
        from cspanalysis.assessment.findings import change_sentence

        block = self._block(end)
        if len(block) and (block["status"] == "unavailable").all():
            first = block.iloc[0]
            return [
                f"No like-for-like comparison of {first['period']} with {first['previous_period']} "
                f"is possible: {first['note'].removeprefix('change not computed: ')}."
            ]
        return [change_sentence(name, row, self.options) for name, row in block.iterrows()]

    def layout(self, by_period: bool = False, category: str = ALL_CRIME) -> pd.DataFrame:
        """The table in the partnership layout.

        ``by_period=True`` gives one row per rolling period for ``category`` (as in
        "12 month rolling period | Current | Previous | Change (No) | Change (%)");
        otherwise one row per category for the latest end month.
        """
        cols = {
            "current": "Current",
            "previous": "Previous",
            "change": "Change (No)",
            "pct_change": "Change (%)",
            "p_adjusted": "p (adjusted)",
            "significant": "More than chance",
            "status": "Status",
        }
        if by_period:
            if not isinstance(self.table.index, pd.MultiIndex):
                rows = self.table.loc[[category]]
            else:
                rows = self.table.xs(category, level=1)
            out = rows.set_index("period")[list(cols)].rename(columns=cols)
            out.index.name = f"{self.options['months']} month rolling period"
            return out
        out = self._block(None)[list(cols)].rename(columns=cols)
        return out

    def plot(self, end: MonthLike | None = None, ax: Any = None) -> Any:
        """Horizontal bars of % change with the rate-ratio interval; significant bars filled."""
        import matplotlib.pyplot as plt

        whole = self._block(end)
        block = whole.dropna(subset=["pct_change"])
        if ax is None:
            _, ax = plt.subplots(figsize=(7, 0.35 * max(len(block), 4) + 1.2))
        if block.empty:  # say why, rather than draw an empty chart
            notes = [n for n in whole.get("note", pd.Series(dtype=str)).dropna() if n]
            why = notes[0] if notes else "no category has counts in both periods"
            why = why.removeprefix("change not computed: ")
            ax.text(
                0.5,
                0.5,
                "No change can be shown: " + why,
                ha="center",
                va="center",
                wrap=True,
                fontsize=9,
                transform=ax.transAxes,
            )
            ax.set_axis_off()
            ax.set_title("Change in recorded incidents", fontsize=10)
            return ax.figure
        y = np.arange(len(block))
        lo = 100 * (block["ci_low"] - 1)
        hi = 100 * (block["ci_high"].clip(upper=10) - 1)
        colors = np.where(block["pct_change"] > 0, "#D55E00", "#0072B2")
        sig = block["significant"].fillna(False).astype(bool).to_numpy()
        ax.barh(y, block["pct_change"], color=colors, alpha=0.9, edgecolor=colors)
        for i in np.where(~sig)[0]:
            ax.patches[i].set_facecolor("white")
            ax.patches[i].set_hatch("//")
        ax.errorbar(
            block["pct_change"],
            y,
            xerr=[block["pct_change"] - lo, hi - block["pct_change"]],
            fmt="none",
            ecolor="0.2",
            capsize=2,
            lw=0.8,
        )
        ax.axvline(0, color="0.3", lw=0.8)
        ax.set_yticks(y, [str(i) for i in block.index])
        ax.invert_yaxis()
        ax.set_xlabel("Change on previous period (%), with 95% interval")
        first = block.iloc[0] if len(block) else None
        title = "Change in recorded incidents"
        if first is not None:
            title += f": {first['period']} vs {first['previous_period']}"
        ax.set_title(title, fontsize=10)
        ax.figure.text(
            0.01,
            0.005,
            "Hatched: not more than chance (adjusted p ≥ "
            f"{self.options['alpha']}). Source: police.uk",
            fontsize=7,
        )
        ax.figure.tight_layout(rect=(0, 0.03, 1, 1))
        return ax.figure

    def _block(self, end: MonthLike | None) -> pd.DataFrame:
        t = self.table
        if not isinstance(t.index, pd.MultiIndex):
            return t
        key = t.index.get_level_values(0).max() if end is None else to_month(end)
        return t.xs(key, level=0)


def assess_change(
    incidents: pd.DataFrame,
    end: MonthLike | Sequence[MonthLike],
    months: int = 12,
    by: str = "category",
    *,
    coverage: pd.DataFrame | pd.PeriodIndex | Iterable[MonthLike] | None = None,
    source: str | None = "police.uk",
    incomplete: Literal["shared", "unavailable"] = "shared",
    method: Literal["exact-conditional", "etest"] = "exact-conditional",
    correction: Literal["holm", "fdr_bh", "bonferroni", "none"] = "holm",
    alpha: float = 0.05,
    totals: bool = True,
    lag: int | None = None,
) -> ChangeResult:
    """As :func:`rolling_change`, returning a :class:`ChangeResult` (findings, plot, layout)."""
    if incomplete not in ("shared", "unavailable"):
        raise InputError(f"incomplete must be 'shared' or 'unavailable', not {incomplete!r}")
    single = isinstance(end, str | pd.Period | pd.Timestamp)
    ends = [to_month(e) for e in ([end] if single else end)]
    if not ends:
        raise InputError("give at least one end month")
    present = present_months(incidents, coverage, source)
    if len(present) == 0:
        raise InputError("the incidents have no months of data for this source")
    for e in ends:
        if e > present.max():
            raise InputError(
                f"end month {e} is after the last month with data ({present.max()}); "
                "choose an end month the data cover"
            )
        if e < present.min():
            raise InputError(
                f"end month {e} is before the first month with data ({present.min()}); "
                "choose an end month the data cover"
            )
    if lag is not None and (int(lag) != lag or lag < months):
        raise InputError(f"lag must be a whole number of months of at least {months}, not {lag!r}")
    first = min(ends) - (months + (months if lag is None else int(lag)) - 1)
    span = pd.period_range(min(first, present.min()), max(ends), freq="M")
    counts = monthly_counts(incidents, present, by=by, source=source, months=span)
    if totals and by == "category":
        counts[ALL_CRIME] = counts.drop(columns=[ASB], errors="ignore").sum(axis=1, min_count=0)
        counts.loc[~counts.index.isin(present), ALL_CRIME] = np.nan
    options = {
        "end": [str(e) for e in ends],
        "months": months,
        "by": by,
        "source": source,
        "incomplete": incomplete,
        "method": method,
        "correction": correction,
        "alpha": alpha,
        "totals": totals,
        "lag": months if lag is None else int(lag),
        "coverage": "given" if coverage is not None else "inferred from incidents",
    }
    blocks, messages = [], []
    for e in ends:
        block, msg = _one_end(counts, present, e, months, incomplete, method, alpha, lag)
        headline = block.index.isin([ALL_CRIME, ASB])
        block["p_adjusted"] = block["p_value"]
        block.loc[~headline, "p_adjusted"] = adjust_pvalues(
            block.loc[~headline, "p_value"].to_numpy(dtype=float), correction
        )
        block["significant"] = pd.array(
            np.where(block["p_adjusted"].isna(), pd.NA, block["p_adjusted"] < alpha),
            dtype="boolean",
        )
        blocks.append(block)
        if msg:
            messages.append(msg)
    for msg in messages:
        warnings.warn(msg, DataQualityWarning, stacklevel=3)
    if len(ends) == 1:
        table = blocks[0]
    else:
        table = pd.concat(blocks, keys=pd.PeriodIndex(ends, freq="M"), names=["end", by])
    table = table[list(CHANGE_COLUMNS)]
    table.attrs["options"] = options
    return ChangeResult(table, options, messages)


def _order(columns: pd.Index) -> list[str]:
    """Categories alphabetically, then ASB, then All crime (the layout partnerships use)."""
    cats = sorted(c for c in columns if c not in (ALL_CRIME, ASB))
    return cats + [c for c in (ASB, ALL_CRIME) if c in columns]


def _one_end(
    counts: pd.DataFrame,
    present: pd.PeriodIndex,
    end: pd.Period,
    months: int,
    incomplete: str,
    method: Literal["exact-conditional", "etest"],
    alpha: float,
    lag: int | None,
) -> tuple[pd.DataFrame, str]:
    cur = rolling_window(end, months)
    prev = cur.previous(lag)
    cur_ok = cur.months.isin(present)
    prev_ok = prev.months.isin(present)
    both = cur_ok & prev_ok
    n_shared = int(both.sum())
    complete = bool(cur_ok.all() and prev_ok.all())
    missing = cur.missing(present).append(prev.missing(present))
    msg = ""
    if complete:
        status, note = "complete", ""
        cur_months, prev_months = cur.months, prev.months
    else:
        gap = describe_months(missing)
        if incomplete == "shared" and n_shared > 0:
            status = "shared months"
            cur_months, prev_months = cur.months[both], prev.months[both]
            note = (
                f"compared on the {n_shared} of {months} months both periods supply "
                f"(missing, not zero: {gap})"
            )
        else:
            status = "unavailable"
            cur_months = prev_months = pd.PeriodIndex([], freq="M")
            why = (
                "no month of the current period has its matching month in the previous period"
                if n_shared == 0
                else "the periods have missing months"
            )
            note = f"change not computed: {why} (missing, not zero: {gap})"
        msg = f"{cur.label} vs {prev.label}: {note}"
    rows = []
    for name in _order(counts.columns):
        col = counts[name]
        if status == "unavailable":
            rows.append(_row(name, cur, prev, None, None, 0, status, note, method, alpha))
            continue
        a = round(float(col.reindex(cur_months).sum()))
        b = round(float(col.reindex(prev_months).sum()))
        rows.append(_row(name, cur, prev, a, b, len(cur_months), status, note, method, alpha))
    block = pd.DataFrame(rows).set_index("name")
    for col in ("current", "previous", "change"):
        block[col] = block[col].astype("Int64")
    for col in ("pct_change", "rate_ratio", "ci_low", "ci_high", "p_value"):
        block[col] = block[col].astype(float)
    block.index.name = counts.columns.name or "category"
    return block, msg


def _row(
    name: str,
    cur: Any,
    prev: Any,
    a: int | None,
    b: int | None,
    n: int,
    status: str,
    note: str,
    method: Literal["exact-conditional", "etest"],
    alpha: float,
) -> dict[str, Any]:
    row: dict[str, Any] = {
        "name": name,
        "period": cur.label,
        "previous_period": prev.label,
        "current": pd.NA,
        "previous": pd.NA,
        "change": pd.NA,
        "pct_change": np.nan,
        "rate_ratio": np.nan,
        "ci_low": np.nan,
        "ci_high": np.nan,
        "p_value": np.nan,
        "months_compared": n,
        "status": status,
        "note": note,
    }
    if a is None or b is None:
        return row
    rr = poisson_rate_ratio(a, b, alpha=alpha, method=method)
    row.update(
        current=a,
        previous=b,
        change=a - b,
        pct_change=100.0 * (a - b) / b if b > 0 else np.nan,
        rate_ratio=rr.ratio,
        ci_low=rr.ci_low,
        ci_high=rr.ci_high,
        p_value=rr.p_value if a + b > 0 else np.nan,
    )
    if b == 0 and a > 0:
        row["note"] = (
            note + "; " if note else ""
        ) + "no incidents in the previous period: % change undefined"
    return row
