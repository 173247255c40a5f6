"""Intervention evaluation: what changed, compared with what, how sure we are, and whether
crime just moved.

Statistics on (before, after) pairs of counts
    :func:`weighted_displacement_difference` (Wheeler & Ratcliffe 2018),
    :func:`weighted_displacement_quotient` (Bowers & Johnson 2003),
    :func:`relative_effect_size` (Farrington & Welsh).
Monthly series
    :func:`pre_post` (quasi-Poisson rate ratio; exact Poisson kept), :func:`interrupted_time_series`
    (segmented Poisson / quasi-Poisson / NB), :func:`difference_in_differences`
    (GLM on the panel), :func:`counterfactual_forecast` (structural time
    series), :func:`regression_to_mean_check`.
Planning
    :func:`smallest_detectable_effect` (power).
Whole evaluations
    :func:`design_intervention` (target, buffer, control, panel) and
    :func:`evaluate_intervention` (every method the months allow, with the
    verdict).

Example
-------
>>> from cspanalysis.evaluation import weighted_displacement_difference
>>> r = weighted_displacement_difference((207, 110), (308, 318), (178, 157), (150, 140))
>>> r.estimate, round(r.z, 2)
(-118.0, -2.98)
"""

from __future__ import annotations

from cspanalysis.evaluation.counterfactual import CounterfactualResult, counterfactual_forecast
from cspanalysis.evaluation.design import InterventionDesign, design_intervention
from cspanalysis.evaluation.displacement import WDQResult, weighted_displacement_quotient
from cspanalysis.evaluation.evaluate import InterventionEvaluation, evaluate_intervention
from cspanalysis.evaluation.its import ITSResult, interrupted_time_series
from cspanalysis.evaluation.power import PowerResult, smallest_detectable_effect
from cspanalysis.evaluation.prepost import PrePostResult, monthly_series, pre_post
from cspanalysis.evaluation.result import InsufficientDataError
from cspanalysis.evaluation.rtm import RTMResult, regression_to_mean_check
from cspanalysis.evaluation.with_control import (
    DiDResult,
    RESResult,
    WDDResult,
    difference_in_differences,
    relative_effect_size,
    weighted_displacement_difference,
)

__all__ = [
    "CounterfactualResult",
    "DiDResult",
    "ITSResult",
    "InsufficientDataError",
    "InterventionDesign",
    "InterventionEvaluation",
    "PowerResult",
    "PrePostResult",
    "RESResult",
    "RTMResult",
    "WDDResult",
    "WDQResult",
    "counterfactual_forecast",
    "design_intervention",
    "difference_in_differences",
    "evaluate_intervention",
    "interrupted_time_series",
    "monthly_series",
    "pre_post",
    "regression_to_mean_check",
    "relative_effect_size",
    "smallest_detectable_effect",
    "weighted_displacement_difference",
    "weighted_displacement_quotient",
]
