"""Static maps for reports: cells, boundary, legend with units, scale bar, north arrow, source.

Every map is a matplotlib Figure sized to read well in an A4 Word document
(7 × 7 inches by default), in British National Grid. Grid north and true
north differ by under 2° across England and Wales, so the arrow shows grid
north. The source line defaults to the Open Government Licence attribution
police.uk and ONS data require; pass ``source=`` to change it.
"""

from __future__ import annotations

import math
from collections.abc import Mapping

import geopandas as gpd
import matplotlib.pyplot as plt
import numpy as np
from matplotlib.figure import Figure
from matplotlib.patches import Patch, Rectangle

DEFAULT_SOURCE = (
    "Police data: police.uk. Contains public sector information licensed under the Open "
    "Government Licence v3.0. Contains OS data © Crown copyright and database right."
)

#: Colours for categorical layers (Gi*, change, classification); others are grey.
CATEGORY_COLOURS: dict[str, str] = {
    "hot": "#d7301f",
    "cold": "#2b8cbe",
    "not significant": "#f0f0f0",
    "significant increase": "#d7301f",
    "significant decrease": "#2b8cbe",
    "no significant change": "#f0f0f0",
    "no incidents": "#ffffff",
    "persistent hotspot": "#99000d",
    "emerging hotspot": "#fb6a4a",
    "former hotspot": "#fdae6b",
    "intermittent hotspot": "#fee0d2",
    "persistent coldspot": "#08519c",
    "emerging coldspot": "#6baed6",
    "former coldspot": "#c6dbef",
    "intermittent coldspot": "#deebf7",
    "mixed": "#bcbddc",
    "no pattern": "#f7f7f7",
    "high-high": "#d7301f",
    "low-low": "#2b8cbe",
    "high-low": "#fdae6b",
    "low-high": "#9ecae1",
}


def nice_length(span: float) -> float:
    """A round scale-bar length (1, 2 or 5 × 10^k m) near a fifth of ``span`` metres.

    >>> nice_length(12_000), nice_length(900)
    (2000.0, 100.0)
    """
    target = max(span / 5.0, 1e-9)
    exp = math.floor(math.log10(target))
    for m in (5, 2, 1):
        if m * 10**exp <= target:
            return float(m * 10**exp)
    return float(10**exp)


def add_scale_bar(ax: plt.Axes) -> None:
    """Draw a black-and-white scale bar in the lower left of a map in metres."""
    x0, x1 = ax.get_xlim()
    y0, y1 = ax.get_ylim()
    length = nice_length(x1 - x0)
    bx, by = x0 + 0.04 * (x1 - x0), y0 + 0.04 * (y1 - y0)
    h = 0.012 * (y1 - y0)
    for k in range(2):
        ax.add_patch(
            Rectangle(
                (bx + k * length / 2, by),
                length / 2,
                h,
                facecolor="black" if k == 0 else "white",
                edgecolor="black",
                lw=0.8,
                zorder=5,
            )
        )
    label = f"{length / 1000:g} km" if length >= 1000 else f"{length:g} m"
    ax.text(bx + length / 2, by + 1.8 * h, label, ha="center", va="bottom", fontsize=8, zorder=5)


def add_north_arrow(ax: plt.Axes) -> None:
    """Draw a north arrow (grid north) in the upper right of a map."""
    ax.annotate(
        "N",
        xy=(0.95, 0.95),
        xytext=(0.95, 0.85),
        xycoords="axes fraction",
        ha="center",
        va="center",
        fontsize=10,
        fontweight="bold",
        arrowprops={"arrowstyle": "-|>", "color": "black", "lw": 1.5},
        zorder=5,
    )


def _frame(
    ax: plt.Axes,
    cells: gpd.GeoDataFrame,
    boundary: gpd.GeoDataFrame | gpd.GeoSeries | None,
    areas: gpd.GeoDataFrame | None,
) -> None:
    if areas is not None:
        areas.boundary.plot(ax=ax, color="#777777", linewidth=0.3, zorder=3)
    if boundary is not None:
        boundary.boundary.plot(ax=ax, color="black", linewidth=1.0, zorder=4)
    xmin, ymin, xmax, ymax = cells.total_bounds
    pad = 0.03 * max(xmax - xmin, ymax - ymin)
    ax.set_xlim(xmin - pad, xmax + pad)
    ax.set_ylim(ymin - pad, ymax + pad)
    ax.set_aspect("equal")
    ax.set_axis_off()
    add_scale_bar(ax)
    add_north_arrow(ax)


def _finish(fig: Figure, ax: plt.Axes, title: str | None, source: str, note: str | None) -> Figure:
    if title:
        ax.set_title(title, fontsize=12)
    text = source if not note else f"{note}\n{source}"
    engine = fig.get_layout_engine()
    if engine is not None and hasattr(engine, "set"):
        engine.set(rect=(0, 0.06 if note else 0.045, 1, 0.94 if note else 0.955))
    fig.text(0.01, 0.005, text, fontsize=6, color="#444444", ha="left", va="bottom", wrap=True)
    return fig


def map_cells(
    cells: gpd.GeoDataFrame,
    column: str,
    boundary: gpd.GeoDataFrame | gpd.GeoSeries | None = None,
    areas: gpd.GeoDataFrame | None = None,
    title: str | None = None,
    legend_label: str | None = None,
    cmap: str = "YlOrRd",
    source: str = DEFAULT_SOURCE,
    note: str | None = None,
    figsize: tuple[float, float] = (7.0, 7.0),
) -> Figure:
    """Choropleth of a numeric cell column with a colour bar in its units.

    Parameters
    ----------
    cells
        Grid cells (EPSG:27700) with ``column``.
    column
        Numeric column to shade (NaN cells are left blank).
    boundary, areas
        Optional partnership boundary (thick line) and LSOA outlines (thin).
    title, legend_label
        Title and colour-bar label (say the units, e.g. "incidents per km²").
    cmap
        Matplotlib colour map.
    source, note
        Source and copyright line, and an optional note above it (e.g. how
        many incidents had no location).

    Examples
    --------
    >>> import geopandas as gpd
    >>> from shapely.geometry import box
    >>> from cspanalysis.hotspots.grid import grid
    >>> cells = grid(gpd.GeoSeries([box(0, 0, 1000, 1000)], crs=27700), 100)
    >>> cells["n"] = range(len(cells))
    >>> fig = map_cells(cells, "n", legend_label="incidents per cell")
    >>> len(fig.axes)
    2
    """
    fig, ax = plt.subplots(figsize=figsize, layout="constrained")
    values = cells[column].astype(float)
    vmax = np.nanmax(values) if values.notna().any() else 1.0
    cells.plot(
        column=values,
        ax=ax,
        cmap=cmap,
        vmin=0 if np.nanmin(values) >= 0 else None,
        vmax=vmax if vmax > 0 else 1.0,
        linewidth=0,
        zorder=2,
        missing_kwds={"color": "none"},
    )
    sm = ax.collections[-1]
    fig.colorbar(sm, ax=ax, shrink=0.6, label=legend_label or column)
    _frame(ax, cells, boundary, areas)
    return _finish(fig, ax, title, source, note)


def map_hotspots(
    cells: gpd.GeoDataFrame,
    column: str,
    boundary: gpd.GeoDataFrame | gpd.GeoSeries | None = None,
    areas: gpd.GeoDataFrame | None = None,
    title: str | None = None,
    colours: Mapping[str, str] | None = None,
    source: str = DEFAULT_SOURCE,
    note: str | None = None,
    figsize: tuple[float, float] = (7.0, 7.0),
) -> Figure:
    """Map of a categorical cell column (hot/cold spots, change, classification) with a legend.

    Examples
    --------
    >>> import geopandas as gpd
    >>> from shapely.geometry import box
    >>> from cspanalysis.hotspots.grid import grid
    >>> cells = grid(gpd.GeoSeries([box(0, 0, 300, 100)], crs=27700), 100)
    >>> cells["hotspot"] = ["hot", "not significant", "cold"]
    >>> fig = map_hotspots(cells, "hotspot", title="Gi* hot spots")
    >>> sorted(t.get_text() for t in fig.axes[0].get_legend().get_texts())
    ['cold (1 cells)', 'hot (1 cells)', 'not significant (1 cells)']
    """
    palette = {**CATEGORY_COLOURS, **(colours or {})}
    fig, ax = plt.subplots(figsize=figsize, layout="constrained")
    values = cells[column].astype("string").fillna("missing")
    order = [c for c in palette if c in set(values)] + sorted(set(values) - set(palette))
    handles = []
    for cat in order:
        sub = cells[(values == cat).to_numpy()]
        colour = palette.get(cat, "#bdbdbd")
        sub.plot(ax=ax, color=colour, linewidth=0, zorder=2)
        handles.append(
            Patch(facecolor=colour, edgecolor="#999999", label=f"{cat} ({len(sub)} cells)")
        )
    ax.legend(handles=handles, loc="upper left", fontsize=8, frameon=True)
    _frame(ax, cells, boundary, areas)
    return _finish(fig, ax, title, source, note)


def interactive_map(
    layers: Mapping[str, gpd.GeoDataFrame],
    column: Mapping[str, str] | None = None,
    tooltip: Mapping[str, list[str]] | None = None,
):
    """An interactive Leaflet map (folium) of one or more layers, for exploring in JupyterLab.

    Each layer is reprojected to WGS 84 for the web map and can be switched on
    and off; ``column`` names the column to colour each layer by.

    Parameters
    ----------
    layers
        ``{name: GeoDataFrame}`` in EPSG:27700 (cells, boundary, LSOAs, …).
    column
        ``{name: column}`` to shade a layer by (categorical or numeric).
    tooltip
        ``{name: [columns]}`` shown when hovering.

    Returns
    -------
    folium.Map

    Raises
    ------
    ImportError
        When folium is not installed (``pip install folium``).

    Examples
    --------
    >>> m = interactive_map({"cells": cells}, column={"cells": "hotspot"})  # doctest: +SKIP
    """
    try:
        import folium
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise ImportError(
            "interactive maps need folium; install it with 'pip install folium' "
            "(static maps need only matplotlib)"
        ) from exc
    column = dict(column or {})
    tooltip = dict(tooltip or {})
    m = None
    for name, frame in layers.items():
        web = frame.to_crs(4326)
        kwargs = {"name": name, "tooltip": tooltip.get(name, False)}
        col = column.get(name)
        if col is not None:
            kwargs["column"] = col
            if web[col].dtype.kind not in "if":
                cats = [str(c) for c in web[col].astype("string").fillna("missing").unique()]
                kwargs["categorical"] = True
                kwargs["cmap"] = [CATEGORY_COLOURS.get(c, "#bdbdbd") for c in sorted(cats)]
                kwargs["categories"] = sorted(cats)
                web = web.assign(**{col: web[col].astype("string").fillna("missing")})
        else:
            kwargs["style_kwds"] = {"fill": False, "color": "black", "weight": 2}
        m = web.explore(m=m, **kwargs)
    if m is not None:
        folium.LayerControl().add_to(m)
    return m
