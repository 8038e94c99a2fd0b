"""Two plans side by side: per-stage peaks, headroom, the categories that differ, step time and cost,
and the warnings that appear or disappear (issue 14).

``compare_plans(a, b) -> PlanComparison``.  Stages are aligned by index (a plan with fewer stages
has no row for the others); each side of a stage names its heaviest card (largest total), that
card's parts, and the least headroom of the stage's cards.  Step time and cost come from the
planner's step-time model (:mod:`engine.planner.steptime`, docs/planner.md) with its default speed
model, for training plans laid out as a uniform grid on a catalog GPU with a known peak; otherwise
they are ``None`` and ``step_note`` says why.

``expert_load_comparison(plan)`` compares a MoE plan's average expert-parallel rank (balanced
routing) with its busiest one under the plan's ``training.expert_load``, stage by stage;
``expert_load_summary(plan)`` gives the two heaviest cards only (no step time: what
``vramplan estimate`` and ``vramplan plan`` report).

The records are frozen pydantic models: the same objects serve Python callers (the GUI),
``vramplan compare --json`` (``model_dump``) and ``vramplan schema`` (``model_json_schema``).
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from engine.errors import PlanError
from engine.estimate import estimate
from engine.plan.schema import Plan, plan_error_from_validation, with_changes
from engine.report.records import BREAKDOWN_KEYS, CardEstimate, Estimate
from engine.training.config import ExpertLoadKind


class FrozenRecord(BaseModel):
    """A frozen output record: the same object for Python callers, JSON (model_dump) and the schema."""

    model_config = ConfigDict(frozen=True, extra="forbid")


class CategoryDelta(FrozenRecord):
    """One breakdown category of a stage's heaviest card on both sides (bytes; delta = B - A)."""

    key: str
    a_bytes: int
    b_bytes: int
    delta_bytes: int


class StageSide(FrozenRecord):
    """One plan's cards on one pipeline stage."""

    cards: int
    peak_bytes: int  # the heaviest card's total
    peak_card: int  # its index in layout.cards
    capacity_bytes: int  # the heaviest card's capacity
    headroom_bytes: int  # the least headroom of the stage's cards
    fits: bool  # every card of the stage fits
    breakdown: dict[str, int]  # the heaviest card's parts, by breakdown key


class StageComparison(FrozenRecord):
    stage: int  # 0-based (tables count from 1)
    a: StageSide | None  # None: plan A has no such stage
    b: StageSide | None
    delta_bytes: int | None  # b.peak - a.peak (None when a side is missing)
    categories: list[CategoryDelta]  # the heaviest cards' categories that differ (both sides present)


class WarningRecord(FrozenRecord):
    code: str
    severity: str
    message: str


class StepCost(FrozenRecord):
    """The planner's step-time model applied to one plan (default speed model: MFU 0.4, overlap 0.5)."""

    gpu: str
    gpus: int
    step_s: float
    compute_s: float
    bubble_s: float
    tp_s: float
    cp_s: float
    dp_s: float
    tokens_per_step: int
    tokens_per_s_per_gpu: float
    train_tokens: int  # 20 x parameters (Chinchilla), the planner's default
    days_to_train: float
    cost: float
    cost_unit: Literal["USD", "GPU-hours"]


class PlanSide(FrozenRecord):
    label: str
    name: str
    mode: str
    method: str
    cards: int
    fits: bool
    peak_bytes: int  # heaviest card of the plan
    peak_card: int
    peak_stage: int  # 0-based
    headroom_bytes: int  # least headroom of any card
    step: StepCost | None
    step_note: str | None  # why ``step`` is None


class PlanComparison(FrozenRecord):
    a: PlanSide
    b: PlanSide
    peak_delta_bytes: int  # b.peak - a.peak
    stages: list[StageComparison]
    warnings_added: list[WarningRecord]  # codes B has and A has not
    warnings_removed: list[WarningRecord]  # codes A has and B has not
    units: Literal["bytes"] = "bytes"


# --- building the records ----------------------------------------------------------------------
def _stage_sides(est: Estimate) -> dict[int, StageSide]:
    by_stage: dict[int, list[CardEstimate]] = {}
    for c in est.cards:
        by_stage.setdefault(c.stage, []).append(c)
    out = {}
    for stage, cards in sorted(by_stage.items()):
        heavy = max(cards, key=lambda c: c.total_bytes)  # first of equals: the lowest card index
        out[stage] = StageSide(
            cards=len(cards), peak_bytes=heavy.total_bytes, peak_card=heavy.index, capacity_bytes=heavy.capacity_bytes,
            headroom_bytes=min(c.headroom_bytes for c in cards), fits=all(c.fits for c in cards),
            breakdown=heavy.breakdown.bytes_by_key())
    return out


def _categories(a: StageSide, b: StageSide) -> list[CategoryDelta]:
    return [CategoryDelta(key=k, a_bytes=a.breakdown[k], b_bytes=b.breakdown[k],
                          delta_bytes=b.breakdown[k] - a.breakdown[k])
            for k in BREAKDOWN_KEYS if a.breakdown[k] != b.breakdown[k]]


def _side(label: str, plan: Plan, est: Estimate) -> PlanSide:
    if not est.cards:
        raise PlanError("layout.cards", 0, "at least one card")
    heavy = max(est.cards, key=lambda c: c.total_bytes)
    step, note = step_cost(plan, est)
    return PlanSide(label=label, name=plan.name, mode=plan.mode, method=est.method, cards=len(est.cards),
                    fits=est.fits, peak_bytes=heavy.total_bytes, peak_card=heavy.index, peak_stage=heavy.stage,
                    headroom_bytes=min(c.headroom_bytes for c in est.cards), step=step, step_note=note)


def _warnings(est: Estimate, codes: set[str]) -> list[WarningRecord]:
    seen: set[str] = set()
    out = []
    for w in est.warnings:
        if w.code not in codes and w.code not in seen:
            seen.add(w.code)
            out.append(WarningRecord(code=w.code, severity=w.severity, message=w.message))
    return out


def compare_plans(a: Plan, b: Plan, *, label_a: str = "A", label_b: str = "B", estimate_a: Estimate | None = None,
                  estimate_b: Estimate | None = None) -> PlanComparison:
    """A (the baseline) against B.  Pass the estimates when they are at hand (the GUI's document
    keeps the last one); otherwise they are computed here."""
    est_a = estimate(a) if estimate_a is None else estimate_a
    est_b = estimate(b) if estimate_b is None else estimate_b
    side_a, side_b = _side(label_a, a, est_a), _side(label_b, b, est_b)
    stages_a, stages_b = _stage_sides(est_a), _stage_sides(est_b)
    rows = []
    for k in range(max(len(stages_a), len(stages_b))):
        sa, sb = stages_a.get(k), stages_b.get(k)
        rows.append(StageComparison(
            stage=k, a=sa, b=sb, delta_bytes=sb.peak_bytes - sa.peak_bytes if sa and sb else None,
            categories=_categories(sa, sb) if sa and sb else []))
    codes_a, codes_b = {w.code for w in est_a.warnings}, {w.code for w in est_b.warnings}
    return PlanComparison(a=side_a, b=side_b, peak_delta_bytes=side_b.peak_bytes - side_a.peak_bytes, stages=rows,
                          warnings_added=_warnings(est_b, codes_a), warnings_removed=_warnings(est_a, codes_b))


def expert_load_comparison(plan: Plan) -> PlanComparison:
    """A MoE training plan's average EP rank (A) against its busiest (B, the plan as it is).

    The estimate counts every card as the busiest rank (any rank can be the busiest in a step),
    so B is ``estimate(plan)``; A is the same plan with ``training.expert_load`` at its average
    (:meth:`engine.training.config.ExpertLoad.average`).
    """
    if plan.model.moe is None:
        raise PlanError("model.moe", None, "a mixture-of-experts model to compare its average and busiest EP rank")
    if plan.mode == "serving":
        raise PlanError("mode", plan.mode, "a training or full fine-tuning plan (serving has no expert-parallel load)")
    load = plan.training.expert_load
    average = with_changes(plan, training=plan.training.model_copy(update={"expert_load": load.average()}))
    return compare_plans(average, plan, label_a="average EP rank (balanced)", label_b=f"busiest EP rank ({load.label})")


class ExpertLoadSummary(FrozenRecord):
    """A MoE training plan's heaviest card as the busiest expert-parallel rank and as the average one.

    ``estimate`` counts every card as the busiest EP rank under ``training.expert_load`` (any rank can
    be the busiest in a step), so the busiest side is the plan's own estimate and its verdict; the
    average side is the same plan under :meth:`engine.training.config.ExpertLoad.average` (balanced
    routing).  ``vramplan estimate --json`` and ``vramplan plan --json`` (for the best layout) write it
    under ``expert_load``.
    """

    kind: ExpertLoadKind
    factor: float | None = Field(description="capacity-factor: Megatron's --moe-expert-capacity-factor; measured: "
                                 "the busiest EP rank's tokens / the mean; null for balanced and dropless-worst-case")
    label: str = Field(description="the load as text, e.g. 'measured 1.6'")
    ep: int = Field(description="the largest expert-parallel group of the layout (1: the load changes nothing)")
    busiest_peak_bytes: int = Field(description="the heaviest card as the busiest EP rank: the estimate's own figure")
    busiest_peak_card: int
    busiest_activation_bytes: int = Field(description="that card's activations (the routed tokens' part grows "
                                          "with the load)")
    busiest_fits: bool = Field(description="every card fits as the busiest EP rank: the estimate's verdict")
    average_peak_bytes: int = Field(description="the heaviest card as the average EP rank (balanced routing)")
    average_peak_card: int
    average_activation_bytes: int
    average_fits: bool = Field(description="every card would fit as the average EP rank")
    units: Literal["bytes"] = "bytes"


def _heaviest(est: Estimate) -> CardEstimate:
    return max(est.cards, key=lambda c: c.total_bytes)  # first of equals: the lowest card index


def expert_load_summary(plan: Plan, est: Estimate | None = None) -> ExpertLoadSummary | None:
    """The busiest and the average EP rank of a MoE training plan (None for a dense model or another
    workload).  Pass the plan's estimate when it is at hand; the average needs one more estimate unless
    the load is its own average (balanced routing)."""
    if plan.model.moe is None or plan.mode != "training":
        return None
    busiest = estimate(plan) if est is None else est
    if not busiest.cards:
        raise PlanError("layout.cards", 0, "at least one card")
    load = plan.training.expert_load
    mean = load.average()
    average = busiest if mean == load else estimate(
        with_changes(plan, training=plan.training.model_copy(update={"expert_load": mean})))
    hb, ha = _heaviest(busiest), _heaviest(average)
    return ExpertLoadSummary(
        kind=load.kind, factor=load.factor, label=load.label, ep=max(plan.layout.topology.ep_size),
        busiest_peak_bytes=hb.total_bytes, busiest_peak_card=hb.index,
        busiest_activation_bytes=hb.breakdown.activations.bytes, busiest_fits=busiest.fits,
        average_peak_bytes=ha.total_bytes, average_peak_card=ha.index,
        average_activation_bytes=ha.breakdown.activations.bytes, average_fits=average.fits)


# --- step time and cost --------------------------------------------------------------------------
def step_cost(plan: Plan, est: Estimate) -> tuple[StepCost | None, str | None]:
    """(the planner's step time and cost of ``plan``, None) or (None, why the model does not apply)."""
    from engine.catalog import find_gpu
    from engine.export.grid import grid_shape
    from engine.planner.memory import MemoryModel
    from engine.planner.request import (
        PlannerRequest,
        SearchSpace,
        SpeedModel,
        hardware_for_gpu,
        searchable_method,
    )
    from engine.planner.search import train_tokens
    from engine.planner.space import Geometry, heavy_stages
    from engine.planner.steptime import StepTimeModel
    from engine.training.memory.schedule import stage_layer_indices

    if plan.mode != "training":
        return None, f"the planner's step-time model covers training plans, not {plan.mode}"
    try:
        g = grid_shape(plan)
    except PlanError as e:
        return None, f"not a uniform TP x CP x DP x PP grid ({e})"
    if len({c.gpu for c in plan.layout.cards}) > 1:
        return None, "mixed GPU types: the step-time model takes one GPU type"
    try:
        hw = hardware_for_gpu(find_gpu(g.gpu), len(plan.layout.cards))
        request = PlannerRequest(model=plan.model, training=plan.training, method=searchable_method(plan.method),
                                 hardware=(hw,),
                                 space=SearchSpace(gpus_per_node=g.gpus_per_node), speed=SpeedModel())
    except PlanError as e:
        return None, f"no step-time model for GPU {g.gpu!r} ({e})"
    except ValidationError as e:
        return None, f"no step-time model for this plan ({plan_error_from_validation(e, 'planner')})"
    tr = plan.training
    speed = StepTimeModel.of(plan.model, tr, plan.method, hw, request.speed, g.gpus_per_node)
    stage_layers = tuple(stage_layer_indices(plan.model.layers, g.pp, g.pp_layers, g.vpp))
    geometry = Geometry(g.tp, g.pp, g.vpp, g.cp, g.pp_layers, stage_layers, heavy_stages(plan.model, stage_layers))
    mem = MemoryModel(plan.model, tr, plan.method)
    card_params = max(mem.card_param_count(geometry, k, g.ep) for k in range(g.pp))
    zero = tr.zero or (1 if tr.distributed_optimizer else 0)
    t = speed.step(tp=g.tp, pp=g.pp, vpp=g.vpp, cp=g.cp, dp=g.dp, micro_batch=tr.micro_batch,
                   microbatches=est.microbatches_per_step, recompute=tr.recompute, zero=zero,
                   max_stage_layers=geometry.max_stage_layers, card_params=card_params)
    tokens = train_tokens(request)
    train_s = tokens * t.step_s / t.tokens_per_step
    price = hw.price_usd_per_hour
    gpus = g.world
    return StepCost(
        gpu=hw.gpu, gpus=gpus, step_s=t.step_s, compute_s=t.compute_s, bubble_s=t.bubble_s, tp_s=t.tp_s, cp_s=t.cp_s,
        dp_s=t.dp_s, tokens_per_step=t.tokens_per_step, tokens_per_s_per_gpu=t.tokens_per_step / t.step_s / gpus,
        train_tokens=tokens, days_to_train=train_s / 86400,
        cost=gpus * train_s / 3600 * (price if price is not None else 1.0),
        cost_unit="USD" if price is not None else "GPU-hours"), None
