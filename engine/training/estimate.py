"""Training memory of a plan: one breakdown per distinct card context, warnings over the layout."""

from __future__ import annotations

from functools import lru_cache

from engine.model.params import parameter_count, parameter_counts
from engine.model.spec import ModelSpec
from engine.plan.layout import Topology
from engine.plan.schema import Plan
from engine.report.formatting import n
from engine.report.records import (
    Breakdown,
    CardEstimate,
    Estimate,
    PlanWarning,
    figure,
    over_capacity_warning,
)
from engine.training.checks import check_layout, layout_warnings, microbatches_per_step
from engine.training.config import MethodConfig, TrainingConfig
from engine.training.memory.context import CardContext, ReplayedReserve
from engine.training.memory.deepspeed_optimizer import deepspeed_bf16_optimizer
from engine.training.memory.detailed import detailed_breakdown
from engine.training.memory.first_step import OPTIMIZER_STEP
from engine.training.memory.fsdp import FSDP_RESERVE_WARNING
from engine.training.memory.schedule import in_flight_chunks, stage_layer_indices
from engine.training.memory.seed import seed_breakdown
from engine.units import GB, format_both_units, format_bytes, plural


def training_estimate(plan: Plan, replayed_reserve: ReplayedReserve | None = None) -> Estimate:
    """Every card's breakdown; ``replayed_reserve``: the allocator reserve a caller replayed for the plan's one
    card (full fine-tuning under the Hugging Face Trainer), used as its fragmentation figure."""
    model, training, method, layout = plan.model, plan.training, plan.method, plan.layout
    topo = check_layout(layout, model, training, method)
    stages, vpp = topo.stages, layout.vpp
    layers_by_stage = stage_layer_indices(model.layers, stages, layout.pp_layers, vpp)
    m = microbatches_per_step(training, topo.dp_for_batch, stages, vpp)
    world = len(layout.cards)

    cache: dict[tuple[int, int, int, int, int], tuple[int, Breakdown]] = {}
    cards: list[CardEstimate] = []
    for key, slot in zip(topo.keys, topo.slots, strict=True):
        hit: tuple[int, Breakdown] | None = cache.get(key)
        if hit is None:
            stage = key[0]
            ctx = CardContext(
                model=model, training=training, method=method, stage=stage, stages=stages, vpp=vpp,
                layer_indices=layers_by_stage[stage], tp=key[1], dp=key[2], cp=key[3], ep=key[4],
                in_flight_chunks=in_flight_chunks(stage, stages, m, vpp), world=world,
                replayed_reserve=replayed_reserve,
            )
            hit = cache[key] = (ctx.in_flight_microbatches, card_breakdown(ctx))
        cards.append(CardEstimate(slot, *hit))
    warnings = layout_warnings(layout, topo, method)
    warnings.extend(_remainder_warning(model, method))
    warnings.extend(_framework_warnings(training, method))
    warnings.extend(_attention_scores_warning(model, training, method))
    warnings.extend(_gradient_lifetime_warning(cards))
    if training.fsdp and topo.dp_for_batch > 1:
        warnings.append(PlanWarning("fsdp-reserve", FSDP_RESERVE_WARNING))
    capacity = _capacity_warnings(cards, {k: v[1].total_bytes for k, v in cache.items()}, topo)
    warnings.extend(capacity)
    if any(w.code == "over-capacity" for w in capacity):
        warnings.extend(_first_step_warning(cards, training.precision == "fp16"))
    params = parameter_count(model)
    notes = (
        figure("parameters", "parameters", params, f"{n(params)} parameters"),
        figure("model_states_18B", "model + optimizer states, whole model (18 B/param)", 18 * params,
               f"18 B × {n(params)} = {format_bytes(18 * params, 'GB')}"),
    )
    return Estimate(
        plan_name=plan.name, mode=plan.mode, method=method.method, framework=method.framework, parameters=params,
        microbatches_per_step=m, cards=tuple(cards), warnings=tuple(warnings), notes=notes,
    )


@lru_cache(maxsize=4096)
def card_breakdown(ctx: CardContext) -> Breakdown:
    """One card's breakdown; pure in its context, so memoised across estimates (live GUI edits)."""
    return seed_breakdown(ctx) if ctx.method.method == "seed" else detailed_breakdown(ctx)


REMAINDER_WARN_FRACTION = 0.02  # a declared count 2 % above what the layers explain is a missing vocabulary


def _remainder_warning(model: ModelSpec, method: MethodConfig) -> list[PlanWarning]:
    """An article-level model (a declared count, no vocabulary) whose layers explain much less than the
    declared total: the detailed method puts the remainder in the first stage's embedding, so stage 1
    looks heavier than it is (the seed method splits everything evenly and is not affected)."""
    if method.method != "detailed" or model.complete or not model.params:
        return []
    remainder = parameter_counts(model).embedding
    if remainder <= REMAINDER_WARN_FRACTION * model.params:
        return []
    return [PlanWarning("unexplained-parameters", (
        f"the declared {model.params / 1e9:.2f} B parameters leave {remainder / 1e9:.2f} B "
        f"({remainder / model.params:.0%}) unexplained by {model.layers} layers of hidden {model.hidden:,}; "
        "the detailed method puts them in stage 1's embedding: give the vocabulary size or pick a model preset"),
        severity="warning")]


def _framework_warnings(training: TrainingConfig, method: MethodConfig) -> list[PlanWarning]:
    """What the framework does with these settings that a user may not expect."""
    if method.method == "detailed" and deepspeed_bf16_optimizer(training, method, training.zero):
        return [PlanWarning("deepspeed-bf16-without-zero", (
            "DeepSpeed runs bf16 without ZeRO through its BF16_Optimizer (from DeepSpeed 0.6): the fp32 master "
            "weights and Adam sharded over DP like ZeRO-1, plus an unsharded fp32 gradient buffer of 4 B per "
            "parameter, as estimated here. Releases since January 2026 refuse bf16 without ZeRO (DeepSpeed PR "
            "7790): there, ZeRO-1 with data_types.grad_accum_dtype fp32 runs the same optimizer"), severity="info")]
    return []


def _gradient_lifetime_warning(cards: list[CardEstimate]) -> list[PlanWarning]:
    """A card that peaks before its backward because its gradients start there (one micro-batch per optimizer
    step: ``gradient_lifetime``) would hold them at that peak too if the run accumulated gradients: say so,
    with what they weigh on the worst such card."""
    seen: dict[int, tuple[CardEstimate, int]] = {}
    for card in cards:
        bd = card.breakdown
        if id(bd) in seen or not bd.timeline:
            continue
        peak = bd.timeline[bd.peak_moment]
        at_step = next((dict(m.live).get("gradients", 0) for m in bd.timeline if m.short == OPTIMIZER_STEP), 0)
        if at_step and not dict(peak.live).get("gradients", 0):
            seen[id(bd)] = (card, at_step)
    if not seen:
        return []
    card, grads = max(seen.values(), key=lambda pair: pair[1])
    return [PlanWarning("gradients-from-backward", (
        f"one micro-batch per optimizer step: zero_grad frees the gradients between steps, so card {card.index} "
        f"peaks at '{card.breakdown.timeline[card.breakdown.peak_moment].label}' without its "
        f"{n(grads)} B ({format_both_units(grads)}) of gradients. A run that accumulates gradients keeps them from "
        "its first backward on: say how many micro-batches a step takes (the Global batch field, --global-batch; "
        "fine-tuning: the Gradient accumulation field, --gradient-accumulation)"),
        tuple(c.index for c, _ in seen.values()), severity="info")]


def _attention_scores_warning(model: ModelSpec, training: TrainingConfig, method: MethodConfig) -> list[PlanWarning]:
    """Attention without FlashAttention keeps each layer's s x s scores: 5·a·s²·b bytes against 34·s·b·h for
    the rest of a GPT layer (Korthikanti et al. 2022, Table 2), so past s = 6.8·h/a tokens they dominate.  The
    default is off (the article's setting), while Megatron-Core (Transformer Engine's fused attention) and
    transformers (sdpa, since 4.36) run fused attention by default: say so when it decides the figure."""
    if method.method != "detailed" or training.flash_attention or training.recompute == "selective":
        return []
    ratio = 5 * model.heads * training.seq / (34 * model.hidden)
    if ratio <= 1:
        return []
    who = ("the layer being recomputed in the backward holds" if training.recompute == "full"
           else "every layer keeps")
    return [PlanWarning("attention-scores", (
        f"attention runs without FlashAttention: {who} its {training.seq:,} × {training.seq:,} scores, "
        f"{ratio:.1f} times the rest of its activations (5·a·s/(34·h)). Megatron-Core and transformers (sdpa) use "
        "fused attention by default; if your stack does, turn on flash attention (the Flash attention box, "
        "--flash-attention)"), severity="info")]


def _first_step_warning(cards: list[CardEstimate], fp16: bool) -> list[PlanWarning]:
    """Cards over capacity only once their optimizer has stepped (engine.training.memory.first_step): the
    run starts and fails at its first optimizer step, which a user should not read as 'it fits'.  ``fp16``:
    the dynamic loss scale may skip the first steps, so the failure can come iterations in."""
    late = [c for c in cards if not c.fits and c.breakdown.before_first_step is not None
            and c.before_first_step_bytes <= c.capacity_bytes]
    if not late:
        return []
    worst = min(late, key=lambda c: c.headroom_bytes)
    first = worst.breakdown.before_first_step
    assert first is not None
    return [PlanWarning("oom-at-first-optimizer-step", (
        f"{plural(len(late), 'card')} {'gets' if len(late) == 1 else 'get'} through forward and backward but not the first optimizer step, which "
        f"creates the optimizer's state: card {worst.index} needs {format_both_units(worst.before_first_step_bytes)} "
        f"before it and {format_both_units(worst.total_bytes)} from it on ({format_both_units(first.state_bytes)} "
        f"created) of {format_both_units(worst.capacity_bytes)}. "
        + ("In fp16 the loss scale skips steps while gradients overflow, so the run can fail several iterations "
           "in; " if fp16 else "")
        + "a run resumed from a checkpoint loads the state and fails at start-up"), tuple(c.index for c in late))]


def _capacity_warnings(cards: list[CardEstimate], totals: dict[tuple, int], topo: Topology) -> list[PlanWarning]:
    """Over-capacity and unbalanced-stage warnings, checked per distinct card context."""
    out = []
    caps: dict[tuple, int] | None = topo.memo.get("min_capacity_by_key")  # type: ignore[assignment]
    if caps is None:
        caps = {}
        topo.memo["min_capacity_by_key"] = caps
        for key, slot in zip(topo.keys, topo.slots, strict=True):
            caps[key] = min(caps.get(key, slot.capacity_bytes), slot.capacity_bytes)
    if any(totals[k] > caps[k] for k in totals):
        over = [c for c in cards if c.breakdown.total_bytes > c.capacity_bytes]
        stages = sorted({c.stage for c in over})
        label = "stage" if len(stages) == 1 else "stages"
        out.append(over_capacity_warning(over, f" on {label} {', '.join(str(s + 1) for s in stages)}"))
    if topo.stages > 1:
        per_stage: dict[int, int] = {}
        for key, total in totals.items():
            per_stage[key[0]] = max(per_stage.get(key[0], 0), total)
        hi, lo = max(per_stage.values()), min(per_stage.values())
        if lo and hi > 1.25 * lo and hi - lo > 2 * GB:
            heavy = max(per_stage, key=lambda k: per_stage[k])
            light = min(per_stage, key=lambda k: per_stage[k])
            out.append(PlanWarning(code="unbalanced-stages", message=(
                f"stages are unbalanced: stage {heavy + 1} needs {format_both_units(hi)}, stage {light + 1} "
                f"{format_both_units(lo)}; move layers off stage {heavy + 1} (pp_layers) or trade PP for TP"),
                cards=tuple(topo.stage_members[heavy])))
    return out
