"""The planner: the smallest, fastest or cheapest uniform layout that fits, with a step-time model.

``search(PlannerRequest) -> PlannerResult``; docs/planner.md documents the
search space, the bounds and the step-time model.  Qt-free.
"""

from engine.planner.candidate import Candidate, SearchStats
from engine.planner.request import (
    OBJECTIVES,
    Hardware,
    Objective,
    PlannerRequest,
    SearchSpace,
    SpeedModel,
    hardware_for_gpu,
)
from engine.planner.search import PlannerResult, search

__all__ = [
    "OBJECTIVES", "Candidate", "Hardware", "Objective", "PlannerRequest", "PlannerResult", "SearchSpace",
    "SearchStats", "SpeedModel", "hardware_for_gpu", "search",
]
