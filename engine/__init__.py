"""vramplan's estimation engine: plan in, per-card memory breakdown out.  Qt-free."""

from engine.errors import PlanError
from engine.estimate import estimate
from engine.model.params import parameter_count, parameter_counts
from engine.model.spec import MLASpec, ModelSpec, MoESpec
from engine.plan.layout import Card, Layout, Node, build_grid
from engine.plan.schema import Plan, load_plan, plan_from_json, plan_to_json, save_plan
from engine.report.records import Breakdown, CardEstimate, Estimate, Figure, PlanWarning
from engine.training.config import MethodConfig, OverheadConfig, TrainingConfig
from engine.units import GB, GiB, format_bytes

__version__ = "0.1.0"

__all__ = [
    "GB", "GiB", "Breakdown", "Card", "CardEstimate", "Estimate", "Figure", "Layout", "MLASpec",
    "MethodConfig", "ModelSpec", "MoESpec", "Node", "OverheadConfig", "Plan", "PlanError", "PlanWarning",
    "TrainingConfig", "build_grid", "estimate", "format_bytes", "load_plan", "parameter_count",
    "parameter_counts", "plan_from_json", "plan_to_json", "save_plan", "__version__",
]
