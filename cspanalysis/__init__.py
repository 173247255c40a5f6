"""cspanalysis: strategic assessments, hotspots and intervention evaluation for CSPs.

The public API:

- :func:`load_params` reads and validates a partnership's parameter file;
- :func:`load_partnership` loads its police.uk, partner and ONS data into a
  :class:`PartnershipData` (Incidents, Areas, Coverage, boundary);
- :class:`InputError` is raised, with one clear sentence, for bad input.

Example
-------
>>> import cspanalysis
>>> data = cspanalysis.load_partnership("params/demo/northbrook.yaml")  # doctest: +SKIP
>>> data.coverage_table()                                                # doctest: +SKIP
"""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version

from cspanalysis.config import Params, load_params
from cspanalysis.data.partnership import PartnershipData, load_partnership
from cspanalysis.errors import DataQualityWarning, InputError

try:
    __version__ = version("cspanalysis")
except PackageNotFoundError:  # pragma: no cover - running from a source tree
    __version__ = "0+unknown"

__all__ = [
    "DataQualityWarning",
    "InputError",
    "Params",
    "PartnershipData",
    "__version__",
    "load_params",
    "load_partnership",
]
