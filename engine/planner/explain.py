"""From a candidate to what users see: its plan, its exact memory, what binds it, its JSON.

``binding`` names the constraint that decides a layout:

* ``memory: stage k <part>``: the heaviest card is within 5% of the budget
  (for the fewest-GPUs answer: always, since fewer cards did not fit), with
  the largest part of that card;
* ``card budget``: the fastest layout uses every card allowed;
* ``pipeline bubble`` / ``TP traffic`` / ``CP traffic`` / ``DP traffic``: the
  largest overhead on top of compute, when it is at least 10% of the step;
* ``compute``: none of the above.
"""

from __future__ import annotations

from engine.plan.layout import Layout, build_grid
from engine.plan.schema import Plan
from engine.planner.candidate import Candidate
from engine.planner.request import PlannerRequest
from engine.training.config import TrainingConfig
from engine.training.estimate import card_breakdown
from engine.training.memory.context import CardContext
from engine.training.memory.schedule import in_flight_chunks

MEMORY_TIGHT = 0.95  # fraction of the budget above which memory is named as binding
OVERHEAD_SHARE = 0.10  # share of the step above which an overhead is named as binding
PART_LABELS = {
    "weights": "weights", "gradients": "gradients", "optimizer_states": "optimizer states",
    "activations": "activations", "logits": "logits", "communication": "communication buffers",
    "kv_cache": "KV cache", "overhead": "runtime overhead",
}


def candidate_training(request: PlannerRequest, c: Candidate) -> TrainingConfig:
    return request.training.searched(c.zero, c.micro_batch, c.recompute, c.sequence_parallel)


def candidate_layout(request: PlannerRequest, c: Candidate) -> Layout:
    g = c.geometry
    return build_grid(tp=g.tp, pp=g.pp, dp=c.dp, cp=g.cp, ep=c.ep, gpus_per_node=request.space.gpus_per_node,
                      gpu=c.gpu, capacity_bytes=c.capacity_bytes, pp_layers=g.pp_layers, vpp=g.vpp)


def candidate_plan(request: PlannerRequest, c: Candidate, name: str | None = None) -> Plan:
    """The plan ``engine.estimate`` would check for this candidate."""
    return Plan(name=name or request.model.name, model=request.model, training=candidate_training(request, c),
                method=request.method, layout=candidate_layout(request, c))


def stage_contexts(request: PlannerRequest, c: Candidate) -> list[CardContext]:
    """The engine's context of every stage (all cards of a stage are alike in a uniform layout)."""
    g, tr = c.geometry, candidate_training(request, c)
    return [CardContext(model=request.model, training=tr, method=request.method, stage=k, stages=g.pp, vpp=g.vpp,
                        layer_indices=g.stage_layers[k], tp=g.tp, dp=c.dp, cp=g.cp, ep=c.ep,
                        in_flight_chunks=in_flight_chunks(k, g.pp, c.microbatches, g.vpp), world=c.gpus)
            for k in range(g.pp)]


def exact_max_total(request: PlannerRequest, c: Candidate) -> tuple[int, int]:
    """(heaviest card's bytes, its stage) over every stage, straight from ``card_breakdown``."""
    totals = [card_breakdown(ctx).total_bytes for ctx in stage_contexts(request, c)]
    worst = max(totals)
    return worst, totals.index(worst)


def heaviest_part(request: PlannerRequest, c: Candidate) -> str:
    ctx = stage_contexts(request, c)[c.heaviest_stage]
    parts = card_breakdown(ctx).bytes_by_key()
    return PART_LABELS.get(max(parts, key=lambda k: parts[k]), "memory")


def time_binding(c: Candidate) -> str:
    t = c.time
    overheads = {"pipeline bubble": t.bubble_s, "TP traffic": t.tp_s, "CP traffic": t.cp_s, "DP traffic": t.dp_s}
    name = max(overheads, key=lambda k: overheads[k])
    return name if overheads[name] >= OVERHEAD_SHARE * t.step_s else "compute"


def binding(request: PlannerRequest, c: Candidate, objective: str | None = None) -> str:
    """The constraint that decides this candidate (for ``objective``: why it is the best)."""
    memory = f"memory: stage {c.heaviest_stage} {heaviest_part(request, c)}"
    if objective == "fewest-gpus":
        return memory if c.gpus > 1 else "none: one card suffices"
    if objective == "fastest":
        budget = next((h.max_gpus for h in request.hardware if h.gpu == c.gpu), None)
        if c.gpus == budget:
            return "card budget"
    if c.max_total_bytes >= MEMORY_TIGHT * c.budget_bytes:
        return memory
    return time_binding(c)


def estimate_args(request: PlannerRequest, c: Candidate) -> list[str]:
    """The layout and workload flags that make ``vramplan estimate`` check this candidate.

    Prepend the model and method flags the planner was given.
    """
    g = c.geometry
    args = ["--gpu", c.gpu, "--gpu-memory", str(c.capacity_bytes),
            "--gpus-per-node", str(request.space.gpus_per_node),
            "--tp", str(g.tp), "--pp", str(g.pp), "--dp", str(c.dp), "--cp", str(g.cp), "--ep", str(c.ep),
            "--vpp", str(g.vpp)]
    if g.pp_layers is not None:
        args += ["--pp-layers", ",".join(str(n) for n in g.pp_layers)]
    args += ["--zero", str(c.zero), "--micro-batch", str(c.micro_batch), "--recompute", c.recompute,
             "--sequence-parallel" if c.sequence_parallel else "--no-sequence-parallel"]
    tr = candidate_training(request, c)
    if tr.global_batch is not None:
        args += ["--global-batch", str(tr.global_batch)]
    if tr.partition_activations:
        args.append("--partition-activations")
    if tr.cpu_checkpointing:
        args.append("--cpu-checkpointing")
    load = tr.expert_load
    if load.kind != "balanced":
        args += ["--expert-load", load.kind if load.factor is None else f"{load.kind}:{load.factor:g}"]
    return args


def candidate_to_json(request: PlannerRequest, c: Candidate, binding_text: str, train_tokens: int) -> dict:
    t = c.time
    price = next((h.price_usd_per_hour for h in request.hardware if h.gpu == c.gpu), None)
    return {
        "gpus": c.gpus, "tp": c.tp, "pp": c.pp, "dp": c.dp, "cp": c.cp, "ep": c.ep, "vpp": c.vpp,
        "zero": c.zero, "distributed_optimizer": False, "recompute": c.recompute, "micro_batch": c.micro_batch,
        "sequence_parallel": c.sequence_parallel, "pp_layers": list(c.geometry.pp_layers) if c.geometry.pp_layers else None,
        "fits": c.max_total_bytes <= c.budget_bytes, "max_total_bytes": c.max_total_bytes,
        "step_time_s": t.step_s, "tokens_per_s_per_gpu": c.tokens_per_s_per_gpu, "binding": binding_text,
        "gpu": c.gpu, "capacity_bytes": c.capacity_bytes, "budget_bytes": c.budget_bytes,
        "headroom_bytes": c.headroom_bytes, "heaviest_stage": c.heaviest_stage,
        "layers_per_stage": list(c.pp_layers), "microbatches_per_step": c.microbatches,
        "tokens_per_step": t.tokens_per_step, "train_tokens": train_tokens, "days_to_train": c.train_s / 86400,
        "cost": c.cost, "cost_unit": "USD" if price is not None else "GPU-hours",
        "step_breakdown_s": {"compute": t.compute_s, "bubble": t.bubble_s, "tp": t.tp_s, "cp": t.cp_s, "dp": t.dp_s},
        "estimate_args": estimate_args(request, c),
    }
