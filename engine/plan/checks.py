"""Checks every workload shares: the layout has cards, stages 0..n-1 are all held, a TP group stays
inside one stage, and TP divides the attention heads.  Workload-specific rules live beside each estimator."""

from __future__ import annotations

from engine.errors import PlanError
from engine.model.spec import ModelSpec
from engine.plan.layout import Layout, Topology


def check_stages(layout: Layout) -> Topology:
    """The layout's topology, once it has cards, no empty stage and no TP group across stages."""
    if not layout.cards:
        raise PlanError("layout.cards", 0, "at least one card")
    topo = layout.topology
    stages = sorted(topo.stage_members)
    if stages != list(range(len(stages))):
        missing = next(k for k in range(max(stages) + 1) if k not in topo.stage_members)
        raise PlanError("layout.cards.stage", missing,
                        f"every stage 0..{max(stages)} holding at least one card (stage {missing} is empty)")
    for group, stage_set in topo.tp_group_stages.items():
        if len(stage_set) > 1:
            raise PlanError(f"layout.cards.tp_group={group}", stage_set,
                            "cards of one pipeline stage (a TP group splits one stage's layers)")
    return topo


def check_tp_heads(topo: Topology, model: ModelSpec, *, replicate_kv: bool = False) -> None:
    """TP divides the query heads and the KV heads (MLA has no KV heads to split).

    ``replicate_kv``: the runtime replicates KV heads when TP exceeds them (vLLM), so TP may
    also be a multiple of the KV heads.
    """
    for t in set(topo.tp_size):
        kv = model.kv_heads_
        kv_ok = model.mla is not None or kv % t == 0 or (replicate_kv and t % kv == 0)
        if model.heads % t == 0 and kv_ok:
            continue
        if model.mla is not None:
            allowed = f"a divisor of heads={model.heads}"
        elif replicate_kv:
            allowed = f"a divisor of heads={model.heads} that divides or is a multiple of kv_heads={kv}"
        else:
            allowed = f"a divisor of heads={model.heads} and kv_heads={kv}"
        raise PlanError("layout.tp", t, allowed)
