"""Analysis periods: rolling 12 months, financial and calendar years, custom windows.

A :class:`Window` is an inclusive run of months. Which months a source
actually supplied comes from the Coverage frame (or, when none is given,
from the months that appear in the incidents); :func:`present_months`
resolves that once so every table downstream treats a month the source did
not supply as **missing**, never as zero.

Examples
--------
>>> w = rolling_window("2020-06")
>>> w.label, w.n_months
('Jul 2019 – Jun 2020', 12)
>>> w.previous().label
'Jul 2018 – Jun 2019'
>>> financial_year(2019).label
'FY 2019/20 (Apr 2019 – Mar 2020)'
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np
import pandas as pd

from cspanalysis.data.schema import describe_months
from cspanalysis.errors import InputError

__all__ = [
    "Window",
    "calendar_year",
    "consecutive_months",
    "custom_window",
    "describe_months",
    "financial_year",
    "monthly_counts",
    "present_months",
    "rolling_window",
    "select_source",
    "to_month",
]

MonthLike = str | pd.Period | pd.Timestamp


def to_month(value: MonthLike) -> pd.Period:
    """A month as ``pandas.Period[M]``; text must be written ``YYYY-MM``.

    >>> to_month("2019-06")
    Period('2019-06', 'M')
    """
    if isinstance(value, pd.Period):
        return value.asfreq("M")
    try:
        return pd.Period(value, freq="M")
    except (ValueError, TypeError) as exc:
        raise InputError(
            f"'{value}' is not a month; write months as YYYY-MM, e.g. 2019-06"
        ) from exc


@dataclass(frozen=True)
class Window:
    """An inclusive run of whole months, with a label for tables.

    Attributes
    ----------
    start, end
        First and last month (``Period[M]``).
    name
        Optional label prefix, e.g. ``"FY 2019/20"``.
    """

    start: pd.Period
    end: pd.Period
    name: str = ""

    def __post_init__(self) -> None:
        if self.end < self.start:
            raise InputError(f"a period cannot end ({self.end}) before it starts ({self.start})")

    @property
    def months(self) -> pd.PeriodIndex:
        """Every month of the window."""
        return pd.period_range(self.start, self.end, freq="M")

    @property
    def n_months(self) -> int:
        """Number of months in the window."""
        return len(self.months)

    @property
    def label(self) -> str:
        """``'Jul 2019 – Jun 2020'`` (prefixed by ``name`` when given)."""
        span = f"{self.start.strftime('%b %Y')} – {self.end.strftime('%b %Y')}"
        if self.n_months == 1:
            span = self.start.strftime("%b %Y")
        return f"{self.name} ({span})" if self.name else span

    def previous(self, gap: int | None = None) -> Window:
        """The window of the same length ending ``gap`` months earlier (default: just before).

        >>> rolling_window("2020-06").previous().end
        Period('2019-06', 'M')
        """
        shift = self.n_months if gap is None else gap
        return Window(self.start - shift, self.end - shift)

    def missing(self, present: pd.PeriodIndex) -> pd.PeriodIndex:
        """Months of the window not in ``present``."""
        return self.months[~self.months.isin(present)]


def consecutive_months(present: Iterable[MonthLike]) -> pd.PeriodIndex:
    """Months whose previous month is also present (where month-on-month change is possible).

    >>> consecutive_months(["2018-06", "2018-10", "2018-11", "2018-12"]).astype(str).tolist()
    ['2018-11', '2018-12']
    """
    ms = pd.PeriodIndex(sorted({to_month(m) for m in present}), freq="M")
    return ms[(ms - 1).isin(ms)]


def rolling_window(end: MonthLike, months: int = 12) -> Window:
    """The ``months`` months ending at ``end`` (inclusive).

    >>> rolling_window("2020-03", 3).months.astype(str).tolist()
    ['2020-01', '2020-02', '2020-03']
    """
    if int(months) != months or months < 1:
        raise InputError(f"months must be a whole number of at least 1, not {months!r}")
    last = to_month(end)
    return Window(last - (int(months) - 1), last)


def financial_year(start_year: int) -> Window:
    """April ``start_year`` to March ``start_year + 1`` (the UK financial year).

    >>> financial_year(2019).months[0], financial_year(2019).months[-1]
    (Period('2019-04', 'M'), Period('2020-03', 'M'))
    """
    name = f"FY {start_year}/{str(start_year + 1)[-2:]}"
    return Window(pd.Period(f"{start_year}-04", "M"), pd.Period(f"{start_year + 1}-03", "M"), name)


def calendar_year(year: int) -> Window:
    """January to December of ``year``.

    >>> calendar_year(2019).label
    '2019 (Jan 2019 – Dec 2019)'
    """
    return Window(pd.Period(f"{year}-01", "M"), pd.Period(f"{year}-12", "M"), str(year))


def custom_window(start: MonthLike, end: MonthLike, name: str = "") -> Window:
    """Any run of months from ``start`` to ``end`` inclusive.

    >>> custom_window("2020-04", "2020-06").n_months
    3
    """
    return Window(to_month(start), to_month(end), name)


def select_source(incidents: pd.DataFrame, source: str | None) -> pd.DataFrame:
    """Rows of one source (``"police.uk"`` or a partner dataset name); all rows for None.

    When ``source`` is ``"police.uk"`` and the frame has no ``source`` column, every row is used.
    """
    if source is None or "source" not in incidents.columns:
        return incidents
    out = incidents[incidents["source"] == source]
    if out.empty and len(incidents):
        known = ", ".join(sorted(map(str, incidents["source"].dropna().unique())))
        raise InputError(f"no incidents from source '{source}'; sources present are {known}")
    return out


def present_months(
    incidents: pd.DataFrame,
    coverage: pd.DataFrame | pd.PeriodIndex | Iterable[MonthLike] | None = None,
    source: str | None = "police.uk",
) -> pd.PeriodIndex:
    """The months a source supplied, sorted.

    Parameters
    ----------
    incidents
        Incidents frame (used only when ``coverage`` is None).
    coverage
        A Coverage frame (see :mod:`cspanalysis.data.schema`), or the present months themselves.
        When None, the present months are the months that appear in ``incidents``: a month
        with no incident at all is then indistinguishable from a month not supplied, so
        pass the Coverage frame whenever you have it.
    source
        ``"police.uk"`` (a month is present when every police.uk force supplied it), a
        partner dataset name, or None (present when every source supplied it).

    Examples
    --------
    >>> inc = pd.DataFrame({"month": pd.PeriodIndex(["2019-01", "2019-03"], freq="M")})
    >>> present_months(inc).astype(str).tolist()
    ['2019-01', '2019-03']
    """
    if coverage is None:
        if "month" not in incidents.columns:
            raise InputError("the incidents have no 'month' column")
        rows = select_source(incidents, source) if source is not None else incidents
        return pd.PeriodIndex(sorted(pd.PeriodIndex(rows["month"], freq="M").unique()), freq="M")
    if isinstance(coverage, pd.DataFrame):
        missing_cols = {"source", "month", "status"} - set(coverage.columns)
        if missing_cols:
            raise InputError(
                f"the coverage table lacks column(s) {sorted(missing_cols)}; pass the "
                "PartnershipData.coverage frame or a list of present months"
            )
        cov = coverage
        if source == "police.uk":
            cov = cov[cov["source"].astype(str).str.startswith("police.uk")]
        elif source is not None:
            cov = cov[cov["source"].astype(str).isin([source, f"partner:{source}"])]
        if cov.empty:
            raise InputError(f"the coverage table has no rows for source '{source}'")
        ok = cov.assign(ok=cov["status"] == "present").groupby("month")["ok"].all()
        return pd.PeriodIndex(sorted(ok.index[ok.to_numpy()]), freq="M")
    return pd.PeriodIndex(sorted({to_month(m) for m in coverage}), freq="M")


def monthly_counts(
    incidents: pd.DataFrame,
    coverage: pd.DataFrame | pd.PeriodIndex | Iterable[MonthLike] | None = None,
    by: str | None = "category",
    source: str | None = "police.uk",
    months: pd.PeriodIndex | None = None,
) -> pd.DataFrame:
    """Counts per month (rows) and ``by`` (columns); NaN in months the source did not supply.

    Parameters
    ----------
    incidents
        Incidents (``month``, ``count`` when present, else one per row).
    coverage
        See :func:`present_months`.
    by
        Column to split by, or None for one ``total`` column.
    source
        Source to count (see :func:`present_months`).
    months
        Months to report (default: first to last present month, gaps included).

    Examples
    --------
    >>> inc = pd.DataFrame({"month": pd.PeriodIndex(["2019-01", "2019-03"], freq="M"),
    ...                     "category": ["Burglary", "Burglary"], "count": [2, 3]})
    >>> monthly_counts(inc, coverage=["2019-01", "2019-03"])["Burglary"].tolist()
    [2.0, nan, 3.0]
    """
    present = present_months(incidents, coverage, source)
    rows = select_source(incidents, source)
    if months is None:
        months = (
            pd.period_range(present.min(), present.max(), freq="M")
            if len(present)
            else pd.PeriodIndex([], freq="M")
        )
    weight = rows["count"] if "count" in rows.columns else pd.Series(1, index=rows.index)
    frame = pd.DataFrame(
        {"month": pd.PeriodIndex(rows["month"], freq="M"), "n": weight.to_numpy(dtype=float)}
    )
    if by is None:
        table = frame.groupby("month")["n"].sum().to_frame("total")
    else:
        if by not in rows.columns:
            raise InputError(f"the incidents have no column '{by}' to split by")
        frame[by] = rows[by].astype("string").fillna("(none)").to_numpy()
        table = frame.groupby(["month", by])["n"].sum().unstack(by)
    table = table.reindex(months).fillna(0.0)
    table.loc[~table.index.isin(present)] = np.nan
    table.index.name = "month"
    table.columns.name = by
    return table
