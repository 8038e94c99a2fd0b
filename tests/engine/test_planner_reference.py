"""The planner's search against a slow, obvious reference on small cases (issue 15: the fast search must
answer exactly as a full enumeration would).

The reference below walks every layout the search space allows, one at a time, in the planner's list order
(TP, PP, its splits, CP, EP, ZeRO, recompute, SP, micro-batch, DP; ties on the front are broken by that
order), builds every stage's card with ``card_breakdown`` (no heavy-stage shortcut, no memo of its own, no
closed form), takes the step time from ``StepTimeModel`` and the front from ``pareto_front``.  The search
(heavy stages by layer kind, pieces memoised per signature, whole arrays per geometry, a memory bound,
column fronts) must give the same front, the same heaviest card and stage, and the same best layouts.
"""

import itertools

import pytest

from engine import MethodConfig, ModelSpec, Plan, TrainingConfig, build_grid, estimate
from engine.model.params import parameter_count
from engine.model.spec import MoESpec
from engine.planner import Hardware, PlannerRequest, SearchSpace, search
from engine.planner.pareto import best_by_objective, pareto_front
from engine.planner.space import balanced_split
from engine.planner.steptime import StepTimeModel
from engine.training.estimate import card_breakdown
from engine.training.memory.context import CardContext
from engine.training.memory.model_states import card_params
from engine.training.memory.schedule import in_flight_chunks, stage_layer_indices
from engine.training.memory.workspace import library_workspace_bytes

HW = dict(gpu="g", bf16_tflops=100.0, intra_node_gbps=100.0, price_usd_per_hour=2.0)

DENSE = ModelSpec(layers=6, hidden=64, heads=4, kv_heads=2, vocab=300)
# Layers alike within a kind: one dense layer, then MoE (DeepSeek-V3's pattern); the search keys stages by
# their (dense, MoE) layer counts and keeps only the first stage of each.
MOE_FIRST_DENSE = ModelSpec(layers=6, hidden=64, heads=4, vocab=300,
                            moe=MoESpec(experts=4, top_k=2, expert_ffn=96, shared_experts=1, first_dense_layers=1))
MOE_EVERY_OTHER = ModelSpec(layers=4, hidden=64, heads=4, vocab=300,
                            moe=MoESpec(experts=4, top_k=1, expert_ffn=64, layer_freq=2))
WIDE = ModelSpec(layers=6, hidden=128, heads=4, kv_heads=2, vocab=300)
WIDE_MOE = ModelSpec(layers=6, hidden=128, heads=4, vocab=300,
                     moe=MoESpec(experts=4, top_k=2, expert_ffn=256, first_dense_layers=1))
# Declared parameters spread unevenly over the layers: no two layers alike, every stage is evaluated.
UNEVEN = ModelSpec(params=100_003, layers=6, hidden=16, heads=2)


class Ref:
    """One reference layout, with the fields ``pareto_front`` and ``best_by_objective`` read."""

    def __init__(self, key, gpus, max_total_bytes, heaviest_stage, train_s, capacity, cost):
        self.key, self.gpus, self.max_total_bytes, self.heaviest_stage = key, gpus, max_total_bytes, heaviest_stage
        self.train_s, self.headroom_bytes, self.cost = train_s, capacity - max_total_bytes, cost


def splits(layers, pp, space):
    """(pp_layers, vpp) pairs: even splits with each VPP, then the balanced uneven split (SearchSpace's rules)."""
    out = []
    if layers % pp == 0:
        out += [(None, v) for v in range(1, space.max_vpp + 1) if (v == 1 or pp > 1) and layers % (pp * v) == 0]
    if space.uneven_pp and 2 <= pp <= space.max_uneven_pp:
        if layers % pp:
            out.append((balanced_split(layers, pp), 1))
        elif layers // pp >= 2:
            out.append((balanced_split(layers, pp, lighten_first=1), 1))
    return out


def reference(request: PlannerRequest) -> list[Ref]:
    """Every fitting layout, in the planner's list order."""
    model, tr, method, space = request.model, request.training, request.method, request.space
    (hw,) = request.hardware
    budget = int(hw.capacity_bytes * (1 - request.margin))
    speed = StepTimeModel.of(model, tr, method, hw, request.speed, space.gpus_per_node)
    tokens_to_train = request.speed.train_tokens or 20 * parameter_count(model)
    kv = model.heads if model.mla is not None else model.kv_heads_
    tps = [t for t in range(1, space.gpus_per_node + 1)
           if space.gpus_per_node % t == 0 and model.heads % t == 0 and kv % t == 0]
    cps = [1]
    if method.method == "detailed" and tr.flash_attention:
        cps = [c for c in (1, 2, 4, 8) if c <= space.max_cp and tr.seq % (2 * c) == 0
               and tr.seq // c >= space.min_cp_tokens] or [1]
    out = []
    for tp, pp in itertools.product(tps, range(1, model.layers + 1)):
        for (pp_layers, vpp), cp in itertools.product(splits(model.layers, pp, space), cps):
            per = tp * pp * cp
            stage_layers = stage_layer_indices(model.layers, pp, pp_layers, vpp)
            dps = [d for d in range(1, hw.max_gpus // per + 1)
                   if per * d <= space.gpus_per_node or (per * d) % space.gpus_per_node == 0]
            eps = [1] if model.moe is None else [e for e in range(1, model.moe.experts + 1) if model.moe.experts % e == 0]
            sps = (False, True) if tp > 1 else (False,)
            for ep in eps:
                for zero, rc, sp, mb, dp in itertools.product(space.zero_stages, space.recompute, sps,
                                                               sorted(space.micro_batches), dps):
                    if dp % ep or (zero and dp * cp == 1):
                        continue  # EP is carved out of DP; ZeRO over one replica is ZeRO-0
                    if tr.global_batch is None:
                        m = pp
                    elif tr.global_batch % (mb * dp) or (vpp > 1 and (tr.global_batch // (mb * dp)) % pp):
                        continue
                    else:
                        m = tr.global_batch // (mb * dp)
                    training = tr.model_copy(update={"zero": zero, "micro_batch": mb, "recompute": rc,
                                                     "sequence_parallel": sp})
                    cards = [CardContext(model=model, training=training, method=method, stage=k, stages=pp, vpp=vpp,
                                         layer_indices=stage_layers[k], tp=tp, dp=dp, cp=cp, ep=ep,
                                         in_flight_chunks=in_flight_chunks(k, pp, m, vpp), world=per * dp)
                             for k in range(pp)]
                    totals = [card_breakdown(c).total_bytes for c in cards]
                    worst = max(totals)
                    if worst > budget:
                        continue
                    compute, bubble, tp_s, cp_s, _ = speed.pipeline_parts(
                        tp=tp, pp=pp, vpp=vpp, cp=cp, dp=1, micro_batch=mb, microbatches=m, recompute=rc,
                        max_stage_layers=max(len(s) for s in stage_layers))
                    dp_s = speed.dp_seconds(tp=tp, cp=cp, dp=dp, zero=zero,
                                            card_params=max(card_params(c).total for c in cards))
                    train_s = tokens_to_train * (compute + bubble + tp_s + cp_s + dp_s) / (float(mb * m * dp) * tr.seq)
                    key = (tp, pp, pp_layers or (), vpp, cp, dp, ep, zero, mb, rc, sp and tp > 1)
                    out.append(Ref(key, per * dp, worst, totals.index(worst), train_s, hw.capacity_bytes,
                                   per * dp * train_s / 3600 * hw.price_usd_per_hour))
    return out


def found(c) -> tuple:
    g = c.geometry
    return ((g.tp, g.pp, g.pp_layers or (), g.vpp, g.cp, c.dp, c.ep, c.zero, c.micro_batch, c.recompute,
             c.sequence_parallel), c.gpus, c.max_total_bytes, c.heaviest_stage, c.train_s)


def expected(r: Ref) -> tuple:
    return r.key, r.gpus, r.max_total_bytes, r.heaviest_stage, r.train_s


def one_card_bytes(model, training, method) -> int:
    plan = Plan(model=model, training=training, method=method,
                layout=build_grid(tp=1, pp=1, dp=1, gpus_per_node=8, gpu="g", capacity_bytes=10**12))
    return estimate(plan).cards[0].total_bytes


CASES = [
    # model, framework, sequence, global batch, flash attention, max GPUs, GPUs per node, capacity: the fixed
    # overhead and this share of one unsplit card
    (DENSE, "megatron", 256, None, False, 64, 8, 0.4),
    (DENSE, "deepspeed", 256, 16, True, 32, 8, 0.5),
    (MOE_FIRST_DENSE, "megatron", 256, None, False, 16, 8, 0.4),
    (MOE_FIRST_DENSE, "huggingface", 256, 8, False, 16, 4, 0.5),
    (MOE_EVERY_OTHER, "megatron-2021", 256, None, True, 16, 4, 0.4),
    (UNEVEN, "megatron", 256, None, False, 24, 4, 0.5),
    # The optimizer step's copy (Hugging Face's AdamW) and the flattened all-reduce copy (Megatron-LM of
    # 2021) are the peak of some layouts and not of others: the search used to miss those.
    (WIDE, "huggingface", 64, None, False, 16, 8, 0.5),
    (WIDE_MOE, "megatron-2021", 64, None, False, 16, 8, 0.5),
]


@pytest.mark.parametrize("model,framework,seq,global_batch,flash,max_gpus,per_node,squeeze", CASES)
def test_search_is_the_full_enumeration(model, framework, seq, global_batch, flash, max_gpus, per_node, squeeze):
    method = MethodConfig(method="detailed", framework=framework)
    training = TrainingConfig(seq=seq, global_batch=global_batch, flash_attention=flash)
    # The fixed overhead (CUDA context and library workspaces, NCCL) plus a share of what one unsplit card needs
    # on top of them.
    context = method.overhead.cuda_context_bytes + library_workspace_bytes(method)[0]
    capacity = int((context + method.overhead.nccl_bytes + squeeze * (one_card_bytes(model, training, method) - context))
                   / 0.8)
    space = SearchSpace(gpus_per_node=per_node, micro_batches=(1, 2), max_vpp=2, max_cp=2, min_cp_tokens=64,
                        max_uneven_pp=4)
    request = PlannerRequest(model=model, training=training, method=method, margin=0.2, space=space,
                             hardware=(Hardware(capacity_bytes=capacity, max_gpus=max_gpus, **HW),))
    everything = reference(request)
    front = pareto_front(everything)
    result = search(request)
    assert len(everything) > 20 and len(front) > 3  # layouts fit, and some do not (checked below)
    assert sorted(found(c) for c in result.front) == sorted(expected(r) for r in front)
    best = best_by_objective(front)
    assert {k: c and found(c) for k, c in result.best.items()} == {k: r and expected(r) for k, r in best.items()}
    assert result.stats.fitting == len(everything) < result.stats.configurations
    assert result.stats.fallbacks == 0
    kept = search(request, keep_all=True).fitting
    assert sorted(found(c) for c in kept) == sorted(expected(r) for r in everything)
