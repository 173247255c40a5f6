"""Warnings raised by hotspot analysis when a default or an input looks wrong for the data.

Each is a :class:`UserWarning` subclass whose message says what was seen and
what to change, so an analyst can act on it (or silence one kind only).
"""

from __future__ import annotations


class HotspotWarning(UserWarning):
    """A hotspot setting or input that is usable but probably not what the analyst wants."""


class GridSizeWarning(HotspotWarning):
    """The grid has more than 100,000 cells: slow to compute and hard to read on a map."""


class BandwidthWarning(HotspotWarning):
    """The kernel bandwidth is smaller than the cell size, so the surface is spiky."""


class MissingPeriodWarning(HotspotWarning):
    """A period in the analysis window has no incidents at all: treated as missing, not zero."""
