"""Strategic assessment: change, rates, trends, peers, harm, targets, priorities, findings.

Every function takes frames (Incidents, Areas, Coverage; see
:mod:`cspanalysis.data.schema`) and options, does no file I/O, and returns a
table or a result object holding tidy tables, the options used, ``findings()``
(plain-English sentences) and, where it helps, ``plot()``.

Example
-------
>>> import pandas as pd
>>> from cspanalysis.assessment import rolling_change, performance_against_target
>>> months = pd.period_range("2018-01", "2019-12", freq="M")
>>> inc = pd.DataFrame({"month": months, "category": "Burglary",
...                     "count": [31] * 12 + [25] * 12})
>>> rolling_change(inc, "2019-12").loc["Burglary", "pct_change"].round(1)
np.float64(-19.4)
"""

from __future__ import annotations

from cspanalysis.assessment.change import (
    ALL_CRIME,
    ASB,
    ChangeResult,
    assess_change,
    rolling_change,
)
from cspanalysis.assessment.concentration import lsoa_concentration, top_lsoas
from cspanalysis.assessment.findings import (
    category_brief,
    change_sentence,
    coverage_findings,
    format_p,
    peer_sentence,
    rag_sentence,
    trend_sentence,
)
from cspanalysis.assessment.harm import (
    DEFAULT_HARM_WEIGHTS,
    HARM_CAVEAT,
    HarmResult,
    harm_weighted,
)
from cspanalysis.assessment.peers import (
    PeerInput,
    PeerResult,
    choose_peers,
    compare_with_peers,
    partnership_profile,
)
from cspanalysis.assessment.periods import (
    Window,
    calendar_year,
    consecutive_months,
    custom_window,
    describe_months,
    financial_year,
    monthly_counts,
    present_months,
    rolling_window,
)
from cspanalysis.assessment.priorities import (
    DEFAULT_PRIORITY_WEIGHTS,
    PriorityResult,
    score_priorities,
)
from cspanalysis.assessment.rates import HOUSEHOLD_CATEGORIES, RateResult, crime_rates
from cspanalysis.assessment.targets import (
    TargetResult,
    assess_targets,
    performance_against_target,
    targets_table,
)
from cspanalysis.assessment.trends import TrendResult, seasonal_trends

__all__ = [
    "ALL_CRIME",
    "ASB",
    "DEFAULT_HARM_WEIGHTS",
    "DEFAULT_PRIORITY_WEIGHTS",
    "HARM_CAVEAT",
    "HOUSEHOLD_CATEGORIES",
    "ChangeResult",
    "HarmResult",
    "PeerInput",
    "PeerResult",
    "PriorityResult",
    "RateResult",
    "TargetResult",
    "TrendResult",
    "Window",
    "assess_change",
    "assess_targets",
    "calendar_year",
    "category_brief",
    "change_sentence",
    "choose_peers",
    "compare_with_peers",
    "consecutive_months",
    "coverage_findings",
    "crime_rates",
    "custom_window",
    "describe_months",
    "financial_year",
    "format_p",
    "harm_weighted",
    "lsoa_concentration",
    "monthly_counts",
    "partnership_profile",
    "peer_sentence",
    "performance_against_target",
    "present_months",
    "rag_sentence",
    "rolling_change",
    "rolling_window",
    "score_priorities",
    "seasonal_trends",
    "targets_table",
    "top_lsoas",
    "trend_sentence",
]
