"""The single place the GUI calls the engine: plan in, (estimate, error) out."""

from __future__ import annotations

from engine.errors import PlanError
from engine.estimate import estimate
from engine.plan.schema import Plan
from engine.report.records import Estimate


def run_estimate(plan: Plan) -> tuple[Estimate | None, PlanError | None]:
    try:
        return estimate(plan), None
    except PlanError as e:
        return None, e
