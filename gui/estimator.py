"""The single place the GUI calls the engine for the plan's estimate: plan in, (estimate, error) out.

A plan without cards is the normal empty state (the user has not dragged a GPU in yet, or deleted
every card): neither an estimate nor an error, so the views show their empty hints instead of the
engine's "layout.cards=0" refusal.
"""

from __future__ import annotations

from engine.errors import PlanError
from engine.estimate import estimate
from engine.plan.schema import Plan
from engine.report.records import Estimate


def is_empty(plan: Plan) -> bool:
    """True for a plan with no cards yet (the empty diagram)."""
    return not plan.layout.cards


def run_estimate(plan: Plan) -> tuple[Estimate | None, PlanError | None]:
    if is_empty(plan):
        return None, None
    try:
        return estimate(plan), None
    except PlanError as e:
        return None, e
