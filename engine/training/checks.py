"""Layout checks: errors that make a plan meaningless, warnings a reviewer should see."""

from __future__ import annotations

from collections import Counter

from engine.errors import PlanError
from engine.model.spec import ModelSpec
from engine.plan.checks import check_stages, check_tp_heads
from engine.plan.layout import Layout, Topology
from engine.report.records import PlanWarning
from engine.training.config import MethodConfig, TrainingConfig

MAX_TP_ADVISED = 8  # the article: keep TP inside a node, TP <= 8


def check_layout(layout: Layout, model: ModelSpec, training: TrainingConfig, method: MethodConfig) -> Topology:
    topo = check_stages(layout)
    check_tp_heads(topo, model)
    if layout.vpp > 1 and topo.stages == 1:
        raise PlanError("layout.vpp", layout.vpp, "1 without pipeline parallelism (PP = 1)")
    if method.method == "detailed" and max(topo.cp_size) > 1 and not training.flash_attention:
        raise PlanError("training.flash_attention", False, "true when context parallel CP > 1 (Megatron's CP runs on fused attention)")
    return topo


def microbatches_per_step(training: TrainingConfig, dp: int, stages: int, vpp: int) -> int:
    per_step = training.micro_batch * dp
    if training.global_batch is None:
        return stages
    if training.global_batch % per_step:
        raise PlanError("training.global_batch", training.global_batch,
                        f"a multiple of micro_batch × DP = {training.micro_batch} × {dp} = {per_step}")
    m = training.global_batch // per_step
    if vpp > 1 and m % stages:
        raise PlanError("training.global_batch", training.global_batch,
                        f"micro-batches per step ({m}) a multiple of PP={stages} for the interleaved schedule")
    return m


def layout_warnings(layout: Layout, topo: Topology, method: MethodConfig) -> list[PlanWarning]:
    structural = topo.memo.get("warnings")
    if not isinstance(structural, tuple):
        structural = _structural_warnings(layout, topo)
        topo.memo["warnings"] = structural
    out = list(structural)
    if method.method == "seed":
        out.append(PlanWarning(code="seed-ignores-overhead", severity="info", message=(
            "seed method: the article's rules ignore the CUDA context, NCCL buffers, allocator "
            "fragmentation and the logits; use the detailed method for a verdict with margins")))
    return out


def _structural_warnings(layout: Layout, topo: Topology) -> tuple[PlanWarning, ...]:
    out: list[PlanWarning] = []
    for group, spans in topo.tp_spans_nodes.items():
        if spans:
            members = tuple(topo.tp_members[group])
            label = str(group) if isinstance(group, int) else f"of card {members[0]}"
            out.append(PlanWarning(code="tp-spans-nodes", message=(
                f"TP group {label} spans {len({topo.node_index[i] for i in members})} nodes: "
                "TP all-reduces twice per layer, keep it inside one node"), cards=members))
    big = [g for g, m in topo.tp_members.items() if len(m) > MAX_TP_ADVISED]
    if big:
        cards = tuple(i for g in big for i in topo.tp_members[g])
        out.append(PlanWarning(code="tp-too-large", message=f"TP size above {MAX_TP_ADVISED}: NVLink domains rarely exceed 8 cards", cards=cards))
    for label, sizes in (("TP", topo.tp_size), ("DP", topo.dp_size)):
        counts = Counter(sizes)
        if len(counts) > 1:
            common = counts.most_common(1)[0][0]
            odd = tuple(i for i, s in enumerate(sizes) if s != common)
            out.append(PlanWarning(code=f"unequal-{label.lower()}-groups", message=(
                f"{label} groups have unequal sizes {sorted(counts)}: cards in smaller groups hold larger shards"), cards=odd))
    gpus = Counter(c.gpu for c in layout.cards)
    if len(gpus) > 1:
        out.append(PlanWarning(code="mixed-gpus", severity="info", message=(
            "mixed GPU types: the slowest card paces every synchronous step")))
    return tuple(out)
