"""``estimate(plan) -> Estimate``: the engine's one entry point; dispatches by workload."""

from __future__ import annotations

from engine.limits import check_estimate_input
from engine.model.params import parameter_count
from engine.plan.schema import Plan
from engine.report.records import Estimate


def estimate(plan: Plan) -> Estimate:
    # plans built with model_copy skip the schema's bounds: check before any work
    check_estimate_input(plan, parameter_count(plan.model))
    if plan.mode == "serving":
        from engine.serving.estimate import serving_estimate

        return serving_estimate(plan)
    if plan.mode == "finetune":
        from engine.finetune.estimate import finetune_estimate

        return finetune_estimate(plan)
    from engine.training.estimate import training_estimate

    return training_estimate(plan)
