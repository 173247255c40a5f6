"""Intervention design: target, displacement buffer and control areas, and monthly panels.

:func:`design_intervention` turns an :class:`~cspanalysis.config.Intervention`
(from the parameter file) and a partnership's Incidents, Areas and Coverage
into an :class:`InterventionDesign`:

* the **target**: the union of the given LSOAs, a polygon, or a circle of
  ``radius`` metres around a point (EPSG:27700);
* the **buffer**: a ring ``buffer`` metres wide around the target (the
  target itself excluded), where displacement or diffusion would show;
* the **control**: the given LSOAs, or LSOAs of the partnership entirely
  outside target and buffer chosen automatically as the closest to the
  target in pre-period **level** (mean monthly count per LSOA, log scale)
  and **trend** (slope of log(count + 0.5) per month), each standardised
  over the candidates. Both are shrunk towards the candidates' mean by
  their reliability first (empirical Bayes), so that LSOAs are not chosen
  for a pre-period that was high or rising by chance — such a control
  would regress to its mean after the start and bias every controlled
  estimate. How well the chosen control matches is reported
  (pre-period correlation of the monthly series, and a quasi-Poisson test
  that the pre-period trends are parallel);
* the **control buffer**: a ring of the same width around the control, for
  the buffer pair of the Weighted Displacement Difference test;
* the **panel**: monthly counts of the chosen categories in each area, NaN
  in months the source did not supply (never 0).

Incidents with no location cannot be placed; they are counted and said so.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass, field
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from matplotlib.figure import Figure
from shapely.geometry import Point
from shapely.geometry.base import BaseGeometry

from cspanalysis.config import Intervention
from cspanalysis.errors import DataQualityWarning, InputError
from cspanalysis.evaluation.control import choose_control, parallel_trends, yearly_trend
from cspanalysis.evaluation.result import month_range, pct, to_period

__all__ = ["InterventionDesign", "design_intervention"]

BNG = "EPSG:27700"
AREAS = ("target", "buffer", "control", "control_buffer")


@dataclass
class InterventionDesign:
    """Where and when an intervention happened, what it is compared with, and the counts.

    Attributes
    ----------
    name, start, end, categories
        From the parameter file (``categories`` None = every category).
    geometries
        GeoDataFrame (EPSG:27700) indexed by area: ``target``, ``buffer``,
        ``control``, ``control_buffer`` (empty geometries where not used).
    target_lsoas, control_lsoas
        LSOAs of the target (when given as LSOAs) and of the control.
    control_method
        ``"given"`` or ``"automatic"``.
    control_match
        One row per area (``target``, ``control``): pre-period months, mean per
        month, trend (% per year), plus the correlation of the two monthly
        series and the parallel-trends test in :attr:`options`.
    candidates
        For an automatic control: every candidate LSOA with its level, trend
        and distance score, the chosen ones flagged.
    panel
        Monthly counts, index ``month`` (every month of the span), columns
        ``target``, ``buffer``, ``control``, ``control_buffer``; NaN where the
        source did not supply the month.
    options
        Every setting used, defaults resolved.
    """

    name: str
    start: pd.Period
    end: pd.Period | None
    categories: list[str] | None
    geometries: gpd.GeoDataFrame
    target_lsoas: list[str]
    control_lsoas: list[str]
    control_method: str
    control_match: pd.DataFrame
    candidates: pd.DataFrame
    panel: pd.DataFrame
    options: dict[str, Any]
    notes: list[str] = field(default_factory=list)
    areas: gpd.GeoDataFrame | None = None

    @property
    def pre_months(self) -> pd.PeriodIndex:
        """Observed months before the start."""
        p = self.panel["target"].dropna()
        return pd.PeriodIndex(p.index[p.index < self.start], freq="M")

    @property
    def post_months(self) -> pd.PeriodIndex:
        """Observed months from the start (to ``end`` when given)."""
        p = self.panel["target"].dropna()
        m = p.index >= self.start
        if self.end is not None:
            m &= p.index <= self.end
        return pd.PeriodIndex(p.index[m], freq="M")

    @property
    def has_control(self) -> bool:
        """True when there is a control area with observed counts."""
        return bool(self.control_lsoas) and bool(self.panel["control"].notna().any())

    @property
    def has_buffer(self) -> bool:
        """True when a displacement buffer was drawn."""
        return self.options["buffer_m"] > 0

    def findings(self) -> list[str]:
        """Plain-English sentences about the design."""
        cats = ", ".join(self.categories) if self.categories else "all categories"
        missing = self.panel["target"].isna().sum()
        out = [
            f"{self.name}: started {self.start}"
            f"{f', ended {self.end}' if self.end is not None else ''}; {cats}; "
            f"{len(self.pre_months)} observed months before and {len(self.post_months)} from "
            f"the start ({missing} month(s) of the span missing, left out).",
        ]
        tgt = self.options["target"]
        ring = f"a {self.options['buffer_m']:.0f} m ring around it" if self.has_buffer else "none"
        out.append(f"Target: {tgt}; buffer: {ring}.")
        if not self.control_lsoas:
            out.append("Control: none (see the note below).")
            return out + list(self.notes)
        how = (
            "given in the parameter file"
            if self.control_method == "given"
            else "chosen automatically from the LSOAs outside the buffer as the closest to the "
            "target in pre-period level and trend"
        )
        n = len(self.control_lsoas)
        out.append(f"Control: {n} LSOA{'s' if n != 1 else ''}, {how}.")
        m = self.options.get("match", {})
        p = m.get("parallel_trends_p", math.nan)
        if m and math.isfinite(p):
            caution = (
                ", not parallel: treat the controlled estimates with caution" if p < 0.05 else ""
            )
            corr = m["correlation"]
            corr_text = f"{corr:.2f}" if math.isfinite(corr) else "not defined"
            out.append(
                f"Match before the start: correlation of monthly counts {corr_text}; trend of "
                f"the target relative to the control {pct(m['trend_ratio_per_year'])} a year "
                f"(p = {p:.3g}{caution})."
            )
        elif m:
            out.append(
                "How well the control matches before the start could not be assessed (too few "
                "months or no incidents)."
            )
        return out + list(self.notes)

    def plot(self) -> Figure:
        """The monthly series of target, buffer and control (one panel each), start marked."""
        cols = [c for c in ("target", "buffer", "control") if self.panel[c].notna().any()]
        fig = Figure(figsize=(8, 1.9 * len(cols) + 0.6))
        axes = fig.subplots(len(cols), 1, sharex=True, squeeze=False)[:, 0]
        x = self.panel.index.to_timestamp()
        colours = {"target": "tab:red", "buffer": "tab:orange", "control": "tab:blue"}
        miss = self.panel.index[self.panel["target"].isna()]
        for ax, col in zip(axes, cols, strict=True):
            ax.plot(x, self.panel[col], marker="o", ms=2.5, lw=1, color=colours[col])
            ax.axvline(self.start.to_timestamp(), color="k", ls="--", lw=1)
            if self.end is not None:
                ax.axvline((self.end + 1).to_timestamp(), color="k", ls=":", lw=1)
            for m in miss:
                ax.axvspan(m.to_timestamp(), (m + 1).to_timestamp(), color="0.85", lw=0)
            ax.set_ylim(bottom=0)
            ax.set_ylabel(f"{col}\nper month")
        axes[0].set_title(f"{self.name}: monthly counts (dashed: start; grey: month not supplied)")
        fig.tight_layout()
        return fig

    def map(self) -> Figure:
        """Map of target, buffer, control (and control buffer) over the partnership's LSOAs."""
        fig = Figure(figsize=(7, 7))
        ax = fig.subplots()
        if self.areas is not None and len(self.areas):
            self.areas.boundary.plot(ax=ax, color="0.8", lw=0.4)
        g = self.geometries
        styles = {
            "control_buffer": ("tab:cyan", 0.15),
            "control": ("tab:blue", 0.45),
            "buffer": ("tab:orange", 0.45),
            "target": ("tab:red", 0.7),
        }
        handles = []
        from matplotlib.patches import Patch

        for area, (colour, alpha) in styles.items():
            geom = g.loc[area, "geometry"]
            if geom is not None and not geom.is_empty:
                gpd.GeoSeries([geom], crs=BNG).plot(ax=ax, color=colour, alpha=alpha)
                handles.append(Patch(color=colour, alpha=alpha, label=area.replace("_", " ")))
        ax.legend(handles=handles, loc="best", fontsize=8)
        ax.set_axis_off()
        ax.set_aspect("equal")
        ax.set_title(f"{self.name}: target, buffer and control")
        fig.tight_layout()
        return fig


# ----------------------------------------------------------------------------- building


def _as_intervention(intervention: Intervention | dict[str, Any]) -> Intervention:
    if isinstance(intervention, Intervention):
        return intervention
    try:
        return Intervention.model_validate(intervention)
    except Exception as exc:  # pydantic's message is long; keep the first line
        raise InputError(f"invalid intervention: {str(exc).splitlines()[0]}") from None


def _as_polygon(polygon: Any) -> BaseGeometry:
    if isinstance(polygon, BaseGeometry):
        return polygon
    if isinstance(polygon, gpd.GeoDataFrame | gpd.GeoSeries):
        if polygon.crs is None:
            raise InputError("the target polygon has no CRS; set it (e.g. EPSG:27700) first")
        return shapely.union_all(polygon.to_crs(BNG).geometry.make_valid().to_numpy())
    raise InputError("target_polygon must be a shapely geometry or a GeoDataFrame/GeoSeries")


def _present_months(
    coverage: pd.DataFrame | None, source: str, inc_months: pd.Series
) -> tuple[pd.PeriodIndex, pd.PeriodIndex, list[str]]:
    notes: list[str] = []
    if coverage is None or len(coverage) == 0:
        months = pd.PeriodIndex(inc_months.dropna().unique(), freq="M")
        if len(months) == 0:
            return months, months, notes
        span = pd.period_range(months.min(), months.max(), freq="M")
        notes.append(
            "No coverage table was given, so every month from the first to the last "
            "incident is assumed supplied (a month with no incidents counts as 0)."
        )
        return span, span, notes
    cov = coverage
    prefix = "police.uk" if source == "police.uk" else f"partner:{source}"
    rows = cov[cov["source"].astype(str).str.startswith(prefix)]
    if rows.empty:
        raise InputError(
            f"the coverage table has no source '{prefix}'; sources are "
            f"{', '.join(sorted(cov['source'].astype(str).unique()))}"
        )
    status = rows.groupby("month")["status"].agg(lambda s: bool((s == "present").all()))
    span = pd.period_range(status.index.min(), status.index.max(), freq="M")
    present = pd.PeriodIndex(status.index[status.to_numpy(dtype=bool)], freq="M")
    return span, present, notes


def _monthly(
    inc: gpd.GeoDataFrame, mask: np.ndarray, span: pd.PeriodIndex, present: pd.PeriodIndex
) -> pd.Series:
    counts = inc.loc[mask].groupby("month")["count"].sum()
    s = counts.reindex(span, fill_value=0).astype(float)
    s[~s.index.isin(present)] = np.nan
    return s


def design_intervention(
    intervention: Intervention | dict[str, Any],
    incidents: gpd.GeoDataFrame,
    areas: gpd.GeoDataFrame,
    coverage: pd.DataFrame | None = None,
    *,
    target_polygon: BaseGeometry | gpd.GeoDataFrame | gpd.GeoSeries | None = None,
    n_control: int | None = None,
    source: str = "police.uk",
) -> InterventionDesign:
    """Build target, buffer and control areas and their monthly panel for one intervention.

    Parameters
    ----------
    intervention
        An :class:`~cspanalysis.config.Intervention` (``params.interventions[i]``)
        or a dict of the same keys.
    incidents, areas, coverage
        The partnership's frames (see :mod:`cspanalysis.data.schema`).
        ``areas`` supplies the LSOA polygons and the control candidates.
    target_polygon
        The target's polygon when the intervention gives ``target.polygon``
        (read the file with :func:`geopandas.read_file` and pass it here:
        analysis functions do not read files).
    n_control
        LSOAs in an automatic control; default ``max(10, 3 × target LSOAs, a third
        of the candidates)``. A small control picked from many candidates is
        picked partly for chance highs, and regresses to its mean after the start
        (on a synthetic grid, the 12 best of 80 candidates biased a placebo
        difference-in-differences by +7%, 27 by +3%, all of them by 0%).
    source
        Incidents source to count (``"police.uk"`` or a partner dataset's name).

    Examples
    --------
    >>> design = design_intervention(params.interventions[0], data.incidents,
    ...                              data.areas, data.coverage)  # doctest: +SKIP
    >>> design.panel.head()                                       # doctest: +SKIP
    """
    iv = _as_intervention(intervention)
    start = to_period(iv.start)
    end = to_period(iv.end, "end") if iv.end is not None else None
    if areas.crs is None or areas.crs.to_epsg() != 27700:
        raise InputError("areas must be in British National Grid (EPSG:27700)")
    if incidents.crs is None or incidents.crs.to_epsg() != 27700:
        raise InputError("incidents must be in British National Grid (EPSG:27700)")
    notes: list[str] = []
    inc = incidents[incidents["source"].astype(str) == source]
    if iv.categories:
        known = set(inc["category"].dropna().astype(str))
        unknown = [c for c in iv.categories if c not in known]
        if unknown:
            raise InputError(
                f"intervention '{iv.name}': categories {unknown} do not occur in the "
                f"{source} data; known categories are {', '.join(sorted(known))}"
            )
        inc = inc[inc["category"].astype(str).isin(iv.categories)]
    span, present, month_notes = _present_months(coverage, source, inc["month"])
    notes += month_notes
    if not (span.min() < start <= span.max()) if len(span) else True:
        raise InputError(
            f"intervention '{iv.name}' starts {start}, but the data run "
            f"{month_range(span)}; the start must fall after the first month of data"
        )

    # --- target geometry
    tgt = iv.target
    target_lsoas: list[str] = []
    if tgt.lsoas:
        unknown = [c for c in tgt.lsoas if c not in areas.index]
        if unknown:
            raise InputError(
                f"intervention '{iv.name}': target LSOAs {unknown} are not in the "
                "partnership's areas; check the codes and the LSOA vintage"
            )
        target_lsoas = list(tgt.lsoas)
        target_geom = shapely.union_all(areas.loc[target_lsoas].geometry.make_valid().to_numpy())
        target_desc = (
            f"{len(target_lsoas)} LSOA(s) ({', '.join(target_lsoas[:5])}"
            f"{'…' if len(target_lsoas) > 5 else ''})"
        )
    elif tgt.point is not None:
        target_geom = Point(*tgt.point).buffer(float(tgt.radius), quad_segs=32)
        target_desc = (
            f"a circle of {tgt.radius:.0f} m around ({tgt.point[0]:.0f}, {tgt.point[1]:.0f})"
        )
    else:
        if target_polygon is None:
            raise InputError(
                f"intervention '{iv.name}' gives its target as a polygon file; read it with "
                "geopandas.read_file and pass it as target_polygon",
                path=tgt.polygon,
            )
        target_geom = _as_polygon(target_polygon)
        target_desc = f"the polygon in {tgt.polygon.name if tgt.polygon else 'the given file'}"
    width = float(iv.buffer)
    outer = target_geom.buffer(width, quad_segs=32) if width > 0 else target_geom
    buffer_geom = outer.difference(target_geom) if width > 0 else shapely.Polygon()

    # --- which incidents fall where
    geoms = inc.geometry.to_numpy()
    located = ~(pd.isna(geoms) | shapely.is_empty(geoms))
    lsoa = inc["lsoa"].astype("string")
    in_target = (
        lsoa.isin(target_lsoas).fillna(False).to_numpy()
        if target_lsoas
        else shapely.intersects(geoms, target_geom) & located
    )
    in_buffer = (
        shapely.intersects(geoms, buffer_geom) & located & ~in_target
        if width > 0
        else np.zeros(len(inc), bool)
    )
    n_unlocated = int(inc.loc[~located & lsoa.isna().to_numpy(), "count"].sum())
    if n_unlocated:
        share = n_unlocated / max(int(inc["count"].sum()), 1)
        notes.append(
            f"{n_unlocated:,} incidents ({share:.0%}) have no location and cannot be "
            "placed in target, buffer or control; they are left out of all three."
        )

    # --- control
    exclusion = outer.buffer(0.01)
    touching = shapely.intersects(areas.geometry.make_valid().to_numpy(), exclusion)
    candidates_idx = areas.index[~touching & ~areas.index.isin(target_lsoas)]
    lsoa_counts = (
        inc[inc["lsoa"].notna()]
        .groupby(["month", "lsoa"])["count"]
        .sum()
        .unstack("lsoa")
        .reindex(span)
        .fillna(0.0)
    )
    lsoa_counts.loc[~lsoa_counts.index.isin(present)] = np.nan
    target_series = _monthly(inc, in_target, span, present)
    pre_mask = (span < start) & span.isin(present)
    cand_table = pd.DataFrame(columns=["level", "trend", "score", "chosen"])
    if iv.control_lsoas:
        control_lsoas = list(iv.control_lsoas)
        unknown = [c for c in control_lsoas if c not in areas.index]
        if unknown:
            raise InputError(
                f"intervention '{iv.name}': control LSOAs {unknown} are not in the "
                "partnership's areas; check the codes and the LSOA vintage"
            )
        inside = areas.loc[control_lsoas].geometry.make_valid().intersection(outer).area
        overlap = [c for c in control_lsoas if c in target_lsoas or inside[c] > 1.0]
        if overlap:
            warnings.warn(
                f"intervention '{iv.name}': control LSOAs {overlap} touch the target "
                "or its buffer, so the intervention or displacement could contaminate "
                "the control",
                DataQualityWarning,
                stacklevel=2,
            )
            notes.append(f"{len(overlap)} control LSOA(s) touch the target or buffer.")
        method = "given"
    elif len(candidates_idx) == 0 or int(pre_mask.sum()) < 2:
        method = "none"
        control_lsoas = []
        why = (
            "no LSOA of the partnership lies outside the target and its buffer"
            if len(candidates_idx) == 0
            else f"fewer than 2 observed months before {start} to match one on"
        )
        notes.append(
            f"No control area: {why}. Only the target's own history is used; give "
            "control_lsoas in the parameter file for the controlled designs."
        )
    else:
        method = "automatic"
        pre = lsoa_counts.reindex(columns=candidates_idx, fill_value=0.0).loc[pre_mask]
        n_target_units = max(
            1,
            len(target_lsoas)
            or int(shapely.intersects(areas.geometry.to_numpy(), target_geom).sum()),
        )
        control_lsoas, cand_table = choose_control(
            pre,
            target_series[pre_mask],
            n_target_units,
            n_control or max(10, 3 * n_target_units, len(candidates_idx) // 3),
        )
    control_geom = (
        shapely.union_all(areas.loc[control_lsoas].geometry.make_valid().to_numpy())
        if control_lsoas
        else shapely.Polygon()
    )
    in_control = lsoa.isin(control_lsoas).fillna(False).to_numpy() & ~in_target & ~in_buffer
    if width > 0 and control_lsoas:
        cb_geom = (
            control_geom.buffer(width, quad_segs=32).difference(control_geom).difference(outer)
        )
        in_cb = shapely.intersects(geoms, cb_geom) & located & ~in_target & ~in_buffer & ~in_control
    else:
        cb_geom = shapely.Polygon()
        in_cb = np.zeros(len(inc), bool)

    panel = pd.DataFrame(
        {
            "target": target_series,
            "buffer": _monthly(inc, in_buffer, span, present) if width > 0 else np.nan,
            "control": _monthly(inc, in_control, span, present) if control_lsoas else np.nan,
            "control_buffer": (
                _monthly(inc, in_cb, span, present) if width > 0 and control_lsoas else np.nan
            ),
        }
    )
    panel.index.name = "month"
    match_stats = parallel_trends(panel["target"][pre_mask], panel["control"][pre_mask])
    pre_t, pre_c = panel["target"][pre_mask], panel["control"][pre_mask]
    control_match = pd.DataFrame(
        {
            "pre_months": [int(pre_t.notna().sum())] * 2,
            "per_month": [pre_t.mean(), pre_c.mean()],
            "trend_per_year": [yearly_trend(pre_t), yearly_trend(pre_c)],
        },
        index=pd.Index(["target", "control"], name="area"),
    )
    geometries = gpd.GeoDataFrame(
        {"area": list(AREAS)},
        geometry=[target_geom, buffer_geom, control_geom, cb_geom],
        crs=BNG,
    ).set_index("area")
    if target_series.fillna(0).sum() == 0:
        notes.append("No incidents of these categories were found in the target at all.")
    options = {
        "buffer_m": width,
        "target": target_desc,
        "source": source,
        "n_control": len(control_lsoas),
        "control_method": method,
        "match": match_stats,
        "categories": iv.categories,
    }
    return InterventionDesign(
        iv.name,
        start,
        end,
        iv.categories,
        geometries,
        target_lsoas,
        control_lsoas,
        method,
        control_match,
        cand_table,
        panel,
        options,
        notes,
        areas,
    )
