"""Comparing plans and sweeping one knob (issue 14): pure functions over ``engine.estimate``.

* :func:`compare_plans` -> :class:`PlanComparison`: two plans side by side, stage by stage;
  :func:`expert_load_comparison`: a MoE plan's average against its busiest EP rank;
  :func:`expert_load_summary` -> :class:`ExpertLoadSummary`: the two heaviest cards only.
* :func:`sweep` -> :class:`Sweep`: the heaviest card's peak against one knob, with the largest
  value that fits; :func:`plan_with_knob`: the plan one point stands for.
"""

from engine.compare.compare import (
    CategoryDelta,
    ExpertLoadSummary,
    PlanComparison,
    PlanSide,
    StageComparison,
    StageSide,
    StepCost,
    WarningRecord,
    compare_plans,
    expert_load_comparison,
    expert_load_summary,
    step_cost,
)
from engine.compare.sweep import (
    KNOBS,
    ExcludedValue,
    Knob,
    Sweep,
    SweepPoint,
    knobs_for,
    plan_with_knob,
    sweep,
)

__all__ = [
    "KNOBS", "CategoryDelta", "ExcludedValue", "ExpertLoadSummary", "Knob", "PlanComparison", "PlanSide",
    "StageComparison", "StageSide", "StepCost", "Sweep", "SweepPoint", "WarningRecord", "compare_plans",
    "expert_load_comparison", "expert_load_summary", "knobs_for", "plan_with_knob", "step_cost", "sweep",
]
