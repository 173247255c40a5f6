"""One partnership's data, validated and ready for analysis: :func:`load_partnership`.

:func:`load_partnership` reads a parameter file, builds the partnership's
Areas and boundary from ONS geography, loads every police.uk and partner
source into one Incidents frame in the analysis LSOA vintage, keeps the rows
that fall in the partnership, and states every gap in a Coverage table.

How rows are attributed to the partnership
------------------------------------------
* A row whose LSOA (in the analysis vintage) is one of the partnership's LSOAs
  is **in** the partnership.
* A row with an LSOA elsewhere, or an LSOA code the lookup does not know, is
  **outside** it: counted in ``rows_outside``, not kept. police.uk force files
  include a few such rows every month (crimes just over a force boundary), and
  a district's partnership is only part of its force's file.
* A partner row with coordinates but no LSOA is given the LSOA its point falls
  in; a point outside the partnership is outside.
* A row with **no location** cannot be placed. police.uk publishes ~9–10% of
  rows so; they are counted in ``rows_no_location`` and kept only when
  ``areas.include_unlocated`` is true, which is right only for a partnership
  that covers its whole force area (the City of London). Partner datasets are
  the partnership's own, so their unlocated rows are always kept.

So for every source and month, ``rows = rows_in_area + rows_outside`` plus
the unlocated rows that were *not* kept; ``rows_no_location`` counts every
unlocated row, kept or not.

Missing months are missing
--------------------------
Coverage has one row per source and month from the earliest to the latest
month any source supplied. A month a source did not supply has status
``missing`` and NA counts, and :meth:`PartnershipData.monthly_counts` gives NaN
there, never 0.

Caching
-------
The assembled frames are cached as GeoParquet under the cache folder, keyed by
the SHA-256 of every input file, the parameter file's content and the code
version; a changed input invalidates the cache. police.uk files are also
cached one by one (see :mod:`cspanalysis.data.policeuk`), so a force's files
are parsed once for all its partnerships.
"""

from __future__ import annotations

import json
import shutil
import tempfile
import warnings
from dataclasses import dataclass, field
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd

from cspanalysis.config import Params, iter_data_paths, load_params
from cspanalysis.data.schema import (
    BNG,
    COVERAGE_COLUMNS,
    INCIDENT_COLUMNS,
    describe_months,
    month_span,
)
from cspanalysis.data.vintages import read_vintage_lookup
from cspanalysis.errors import DataQualityWarning, InputError
from cspanalysis.files import atomic_path, combined_key, default_cache_dir, sha256_file

#: bump when the assembled frames change shape, to invalidate old caches
PARTNERSHIP_CACHE_VERSION = "1"

_COUNT_COLUMNS = ("rows", "rows_no_location", "rows_outside", "rows_in_area")


@dataclass
class PartnershipData:
    """Everything one partnership's analyses read.

    Attributes
    ----------
    params
        The validated parameter file.
    incidents
        Incidents in the partnership (see :mod:`cspanalysis.data.schema`).
    areas
        The partnership's LSOAs (Areas).
    boundary
        One row: the partnership's outline (union of its LSOAs), EPSG:27700.
    coverage
        One row per source × month (Coverage), missing months included.
    notes
        Data-quality messages raised while loading (also emitted as warnings).
    """

    params: Params
    incidents: gpd.GeoDataFrame
    areas: gpd.GeoDataFrame
    boundary: gpd.GeoDataFrame
    coverage: pd.DataFrame
    notes: list[str] = field(default_factory=list)

    # ------------------------------------------------------------------ periods
    @property
    def name(self) -> str:
        """The partnership's name."""
        return self.params.name

    def months(self, source: str | None = None) -> pd.PeriodIndex:
        """Months a source (default: any police.uk force) supplied."""
        cov = self._coverage_for(source)
        return pd.PeriodIndex(
            sorted(cov.loc[cov["status"] == "present", "month"].unique()), freq="M"
        )

    def missing_months(self, source: str | None = None) -> pd.PeriodIndex:
        """Months inside the span that a source (default: police.uk) did not supply."""
        cov = self._coverage_for(source)
        present = set(cov.loc[cov["status"] == "present", "month"])
        missing = sorted(set(cov["month"]) - present)
        return pd.PeriodIndex(missing, freq="M")

    @property
    def period_end(self) -> pd.Period:
        """The analysis period's last month: ``params.period_end`` or the latest police.uk month."""
        return resolve_period_end(self.params, self.coverage)

    def _coverage_for(self, source: str | None) -> pd.DataFrame:
        cov = self.coverage
        if source is None:
            police = cov[cov["source"].str.startswith("police.uk")]
            if police.empty:
                return cov
            # a month counts as present when every force supplied it
            status = police.groupby("month")["status"].agg(
                lambda s: "present" if (s == "present").all() else "missing"
            )
            return status.rename("status").reset_index()
        if source not in set(cov["source"]):
            raise InputError(
                f"no source named '{source}'; sources are "
                + ", ".join(sorted(cov["source"].unique()))
            )
        return cov[cov["source"] == source]

    # ------------------------------------------------------------------ tables
    def coverage_table(self) -> pd.DataFrame:
        """Wide view of coverage: months down, sources across; 'missing' where not supplied.

        >>> data.coverage_table()  # doctest: +SKIP
        source   police.uk:thames-valley
        month
        2018-06                     1220
        2018-07                  missing
        """
        cov = self.coverage.copy()
        cov["value"] = (
            cov["rows_in_area"].astype("object").where(cov["status"] == "present", "missing")
        )
        return cov.pivot(index="month", columns="source", values="value")

    def quality(self) -> pd.DataFrame:
        """Per source and month: rows supplied, without location, outside, in the partnership."""
        cols = ["source", "month", "status", *_COUNT_COLUMNS]
        extra = [c for c in ("rows_bad_coordinates", "rows_unknown_lsoa") if c in self.coverage]
        return self.coverage[cols + extra].reset_index(drop=True)

    def monthly_counts(
        self, by: str | None = "category", source: str | None = "police.uk"
    ) -> pd.DataFrame:
        """Counts per month (rows) and ``by`` (columns), NaN for months a source did not supply.

        Parameters
        ----------
        by
            Column to split by (``"category"``, ``"lsoa"``…), or None for one ``total`` column.
        source
            ``"police.uk"`` (all forces), a partner dataset's name, or None for all sources.
        """
        inc = self.incidents
        if source is not None:
            inc = inc[inc["source"] == source]
        cov_source = None
        if source is not None and source != "police.uk":
            cov_source = f"partner:{source}"
        present = self.months(cov_source)
        span = month_span(self.coverage["month"])
        if by is None:
            table = inc.groupby("month")["count"].sum().to_frame("total")
        else:
            table = inc.groupby(["month", by])["count"].sum().unstack(by)
        table = table.reindex(span).fillna(0).astype(float)
        table.loc[~table.index.isin(present)] = np.nan
        table.index.name = "month"
        return table

    def summary(self) -> str:
        """A plain-text summary of what was loaded and what is missing."""
        lines = [
            f"{self.name}: {len(self.areas)} LSOAs, population "
            f"{_fmt_pop(self.areas['population'])}, vintage {self.params.vintage}"
        ]
        for source, cov in self.coverage.groupby("source", sort=True):
            present = cov[cov["status"] == "present"]
            missing = cov[cov["status"] == "missing"]
            first, last = cov["month"].min(), cov["month"].max()
            lines.append(
                f"  {source}: {len(present)} of {len(cov)} months present ({first} to {last}); "
                f"{int(present['rows_in_area'].sum()):,} rows in the partnership, "
                f"{int(present['rows_outside'].sum()):,} outside, "
                f"{int(present['rows_no_location'].sum()):,} without a location"
                + (
                    " (counted in the partnership: it covers its whole force area)"
                    if self.params.areas.include_unlocated and source.startswith("police.uk")
                    else ""
                )
            )
            if len(missing):
                lines.append(f"    missing months (not zero): {describe_months(missing['month'])}")
        lines.append(f"  period end: {self.period_end}")
        for note in self.notes:
            lines.append(f"  note: {note}")
        return "\n".join(lines)


# ---------------------------------------------------------------------------- loading


def load_partnership(
    params_or_path: str | Path | Params,
    data_root: str | Path | None = None,
    *,
    use_cache: bool = True,
) -> PartnershipData:
    """Load a partnership's data from its parameter file.

    Parameters
    ----------
    params_or_path
        A parameter file path or a loaded :class:`~cspanalysis.config.Params`.
    data_root
        Value for ``{data_root}`` in the file's paths (default:
        ``$CSPANALYSIS_DATA``, then the file's own ``data_root``).
    use_cache
        Read and write the parsed-data cache (default True).

    Returns
    -------
    PartnershipData

    Raises
    ------
    InputError
        For any problem with the parameter file or the data, in one sentence.

    Examples
    --------
    >>> data = load_partnership("params/thames-valley/reading.yaml",
    ...                         data_root="../shared/data")         # doctest: +SKIP
    >>> data.missing_months()                                         # doctest: +SKIP
    PeriodIndex(['2018-07', '2018-08', '2018-09'], dtype='period[M]')
    """
    params = load_params(params_or_path, data_root)
    if params.geography is None:
        raise InputError(
            "the parameter file has no 'geography' section; it needs at least "
            "geography.boundaries and geography.lookup to know which LSOAs are the partnership's",
            path=params.source_path,
        )
    if not params.police_uk and not params.partner:
        raise InputError(
            "the parameter file names no data: add a 'police_uk' or 'partner' source",
            path=params.source_path,
        )
    cache_root = params.cache_dir or default_cache_dir()
    key = _cache_key(params) if use_cache else None
    if key is not None:
        cached = _read_cache(cache_root, key, params)
        if cached is not None:
            return cached

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", DataQualityWarning)
        data = _assemble(params, cache_root if use_cache else False)
    notes = []
    for w in caught:
        if issubclass(w.category, DataQualityWarning):
            notes.append(str(w.message))
        warnings.warn_explicit(w.message, w.category, w.filename, w.lineno)
    data.notes = list(dict.fromkeys(notes))
    if key is not None:
        _write_cache(cache_root, key, data)
    return data


def resolve_period_end(params: Params, coverage: pd.DataFrame) -> pd.Period:
    """The last month of the analysis: explicit, or the latest month police.uk supplied."""
    present = coverage.loc[coverage["status"] == "present", "month"]
    police = coverage["source"].str.startswith("police.uk")
    pool = present[police.reindex(present.index)] if police.any() else present
    if pool.empty:
        raise InputError("no source supplied any month of data", path=params.source_path)
    latest = pool.max()
    if params.period_end == "latest":
        return latest
    end = pd.Period(params.period_end, freq="M")
    if end > latest:
        raise InputError(
            f"period_end {end} is after the latest month in the data ({latest}); "
            "set period_end to 'latest' or to a month the data cover",
            path=params.source_path,
        )
    if end < pool.min():
        raise InputError(
            f"period_end {end} is before the first month in the data ({pool.min()})",
            path=params.source_path,
        )
    return end


def _assemble(params: Params, cache_dir: Path | bool) -> PartnershipData:
    # imported here so `import cspanalysis` stays light and independent of loader import order
    from cspanalysis.data import geography, partner, policeuk

    geo = params.geography
    assert geo is not None
    _check_period_end_early(params, policeuk)
    areas, boundary = geography.build_areas(
        geo,
        districts=params.areas.districts,
        lsoas=params.areas.lsoas,
        vintage=params.vintage,
        partnership=params.name,
    )
    lookup = read_vintage_lookup(geo.vintage_lookup) if geo.vintage_lookup else None
    frames: list[gpd.GeoDataFrame] = []
    coverages: list[pd.DataFrame] = []
    for src in params.police_uk:
        inc, cov = policeuk.read_street(
            src.path,
            vintage=params.vintage,
            lookup=lookup,
            forces=src.forces,
            source_vintage=src.vintage,
            boundaries=areas,
            cache_dir=cache_dir if cache_dir is not False else False,
        )
        inc, cov = _attribute(inc, cov, areas, keep_unlocated=params.areas.include_unlocated)
        frames.append(inc)
        coverages.append(cov)
    salt = params.privacy.resolved_salt()
    for src in params.partner:
        inc, cov = partner.read_partner(
            src.path,
            name=src.name,
            columns=src.columns,
            salt=salt,
            vintage=params.vintage,
            source_vintage=src.vintage,
            lookup=lookup,
            boundaries=areas[["geometry"]],
            weights=areas["population"],
        )
        inc = _place_by_point(inc, areas)
        inc, cov = _attribute(inc, cov, areas, keep_unlocated=True)
        frames.append(inc)
        coverages.append(cov)
    incidents = _concat_incidents(frames)
    coverage = _complete_coverage(coverages)
    data = PartnershipData(params, incidents, areas, boundary, coverage)
    resolve_period_end(params, coverage)  # fail early on an impossible period_end
    return data


def _check_period_end_early(params: Params, policeuk_module) -> None:
    """Refuse an explicit period_end beyond the police.uk files' months before parsing anything."""
    if params.period_end == "latest" or not params.police_uk:
        return
    months = [
        f.month
        for src in params.police_uk
        for f in policeuk_module.find_street_files(src.path, src.forces)
    ]
    end = pd.Period(params.period_end, freq="M")
    if months and end > max(months):
        raise InputError(
            f"period_end {end} is after the latest month in the data ({max(months)}); "
            "set period_end to 'latest' or to a month the data cover",
            path=params.source_path,
        )


def _place_by_point(inc: gpd.GeoDataFrame, areas: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Give rows with a point but no LSOA the partnership LSOA their point falls in."""
    need = inc["lsoa"].isna() & inc.geometry.notna() & ~inc.geometry.is_empty
    if not need.any():
        return inc
    pts = gpd.GeoDataFrame(geometry=inc.geometry[need], crs=inc.crs)
    joined = gpd.sjoin(pts, areas[["geometry"]], how="left", predicate="within")
    joined = joined[~joined.index.duplicated(keep="first")]
    inc = inc.copy()
    inc.loc[joined.index, "lsoa"] = joined["lsoa"].astype("string")
    if "lsoa_mapping" in inc:
        inc.loc[joined.index, "lsoa_mapping"] = np.where(
            joined["lsoa"].notna(), "point-in-polygon", "outside"
        )
    # points outside every partnership LSOA are outside the partnership
    outside = joined.index[joined["lsoa"].isna()]
    inc.loc[outside, "lsoa"] = "outside"
    return inc


def _attribute(
    inc: gpd.GeoDataFrame, cov: pd.DataFrame, areas: gpd.GeoDataFrame, *, keep_unlocated: bool
) -> tuple[gpd.GeoDataFrame, pd.DataFrame]:
    """Keep the partnership's rows; fill rows_in_area / rows_outside in coverage."""
    lsoa = inc["lsoa"]
    in_area = lsoa.isin(areas.index).to_numpy()
    no_geom = inc.geometry.isna().to_numpy() | inc.geometry.is_empty.to_numpy()
    unlocated = lsoa.isna().to_numpy() & inc["lsoa_source"].isna().to_numpy() & no_geom
    keep = in_area | (unlocated & keep_unlocated)
    outside = ~in_area & ~unlocated
    source_key = _coverage_source(inc)
    per = (
        pd.DataFrame(
            {
                "source": source_key,
                "month": inc["month"].to_numpy(),
                "in": keep.astype(int),
                "out": outside.astype(int),
            }
        )
        .groupby(["source", "month"])[["in", "out"]]
        .sum()
    )
    cov = cov.copy()
    idx = pd.MultiIndex.from_frame(cov[["source", "month"]])
    present = (cov["status"] == "present").to_numpy()
    rows_in = per["in"].reindex(idx).fillna(0).to_numpy()
    rows_out = per["out"].reindex(idx).fillna(0).to_numpy()
    cov["rows_in_area"] = pd.array(np.where(present, rows_in, np.nan), dtype="Int64")
    cov["rows_outside"] = pd.array(np.where(present, rows_out, np.nan), dtype="Int64")
    kept = inc.loc[keep].copy()
    kept.loc[kept["lsoa"] == "outside", "lsoa"] = pd.NA
    return kept.reset_index(drop=True), cov


def _coverage_source(inc: gpd.GeoDataFrame) -> np.ndarray:
    police = (inc["source"] == "police.uk").to_numpy()
    force = inc["force"].astype("string").fillna("").to_numpy()
    name = inc["source"].astype("string").fillna("").to_numpy()
    return np.where(
        police,
        np.char.add("police.uk:", force.astype(str)),
        np.char.add("partner:", name.astype(str)),
    )


def _concat_incidents(frames: list[gpd.GeoDataFrame]) -> gpd.GeoDataFrame:
    if not frames:
        from cspanalysis.data.schema import empty_incidents

        return empty_incidents()
    frames = [f for f in frames if len(f)] or frames[:1]
    out = pd.concat(frames, ignore_index=True)
    out = gpd.GeoDataFrame(out, geometry="geometry", crs=BNG)
    ordered = list(INCIDENT_COLUMNS) + [c for c in out.columns if c not in INCIDENT_COLUMNS]
    return out[ordered]


def _complete_coverage(coverages: list[pd.DataFrame]) -> pd.DataFrame:
    """Concatenate coverage and extend every source to the common month span (missing = NA)."""
    cov = pd.concat(coverages, ignore_index=True)
    span = month_span(cov["month"])
    parts = []
    for source, part in cov.groupby("source", sort=True):
        part = part.set_index("month").reindex(span)
        part.index.name = "month"
        part["source"] = source
        gap = part["status"].isna()
        part.loc[gap, "status"] = "missing"
        part.loc[gap, "files"] = ""
        parts.append(part.reset_index())
    out = pd.concat(parts, ignore_index=True)
    for col in out.columns:
        if col.startswith("rows"):
            out[col] = out[col].astype("Int64")
    ordered = list(COVERAGE_COLUMNS) + [c for c in out.columns if c not in COVERAGE_COLUMNS]
    return out[ordered].sort_values(["source", "month"], ignore_index=True)


# ---------------------------------------------------------------------------- cache


def _cache_key(params: Params) -> str:
    parts = [PARTNERSHIP_CACHE_VERSION, params.model_dump_json()]
    for key, path in iter_data_paths(params):
        files = sorted(p for p in path.rglob("*") if p.is_file()) if path.is_dir() else [path]
        for f in files:
            parts += [key, f.name, sha256_file(f)]
    try:
        from cspanalysis import __version__

        parts.append(__version__)
    except ImportError:  # pragma: no cover
        pass
    return combined_key(parts)


def _read_cache(root: Path, key: str, params: Params) -> PartnershipData | None:
    folder = Path(root) / "partnership" / key
    if not (folder / "meta.json").exists():
        return None
    try:
        meta = json.loads((folder / "meta.json").read_text())
        incidents = gpd.read_parquet(folder / "incidents.parquet")
        areas = gpd.read_parquet(folder / "areas.parquet")
        boundary = gpd.read_parquet(folder / "boundary.parquet")
        coverage = pd.read_parquet(folder / "coverage.parquet")
    except Exception:  # a corrupt cache is rebuilt, never trusted
        shutil.rmtree(folder, ignore_errors=True)
        return None
    incidents["month"] = incidents["month"].astype("period[M]")
    coverage["month"] = coverage["month"].astype("period[M]")
    for note in meta.get("notes", []):
        warnings.warn(note, DataQualityWarning, stacklevel=3)
    return PartnershipData(params, incidents, areas, boundary, coverage, meta.get("notes", []))


def _write_cache(root: Path, key: str, data: PartnershipData) -> None:
    final = Path(root) / "partnership" / key
    final.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{key[:12]}.", dir=final.parent))
    try:
        inc = data.incidents.copy()
        inc["month"] = inc["month"].astype(str)
        inc.to_parquet(tmp / "incidents.parquet")
        data.areas.to_parquet(tmp / "areas.parquet")
        data.boundary.to_parquet(tmp / "boundary.parquet")
        cov = data.coverage.copy()
        cov["month"] = cov["month"].astype(str)
        cov.to_parquet(tmp / "coverage.parquet")
        with atomic_path(tmp / "meta.json") as m:
            m.write_text(json.dumps({"notes": data.notes}))
        if final.exists():
            shutil.rmtree(final, ignore_errors=True)
        tmp.rename(final)
    except OSError:
        shutil.rmtree(tmp, ignore_errors=True)  # caching is an optimisation; never fail a load


def _fmt_pop(pop: pd.Series) -> str:
    if pop.isna().all():
        return "unknown"
    text = f"{pop.sum():,.0f}"
    if pop.isna().any():
        text += f" ({int(pop.isna().sum())} LSOAs without population)"
    return text
