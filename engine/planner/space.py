"""The search space: TP, PP (even and balanced uneven splits), VPP, CP, DP and EP values.

A :class:`Geometry` is everything about a layout except DP, the ZeRO stage
and the per-micro-batch knobs; the search loops DP and those inside it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from engine.limits import MAX_PP
from engine.model.params import parameter_counts
from engine.model.spec import ModelSpec
from engine.planner.request import SearchSpace
from engine.training.config import MethodConfig, TrainingConfig
from engine.training.memory.schedule import stage_layer_indices


@dataclass(frozen=True, slots=True)
class Geometry:
    tp: int
    pp: int
    vpp: int
    cp: int
    pp_layers: tuple[int, ...] | None  # None: the even split
    stage_layers: tuple[tuple[int, ...], ...]  # layer indices held by each stage
    heavy_stages: tuple[int, ...]  # stages that can hold the heaviest card

    @property
    def cards_per_replica(self) -> int:
        return self.tp * self.pp * self.cp

    @property
    def max_stage_layers(self) -> int:
        return max(len(s) for s in self.stage_layers)


@lru_cache(maxsize=256)  # bounded; a search asks for the same few (the node's slots, the experts) often
def divisors(n: int) -> tuple[int, ...]:
    small = [d for d in range(1, math.isqrt(n) + 1) if n % d == 0]
    return tuple(sorted({*small, *(n // d for d in small)}))


def tp_options(model: ModelSpec, space: SearchSpace) -> list[int]:
    """TP sizes that divide the heads (and KV heads) and a node's slots."""
    limit = min(space.max_tp or space.gpus_per_node, space.gpus_per_node)
    kv = model.heads if model.mla is not None else model.kv_heads_
    return [t for t in divisors(space.gpus_per_node) if t <= limit and model.heads % t == 0 and kv % t == 0]


def cp_options(training: TrainingConfig, method: MethodConfig, space: SearchSpace) -> list[int]:
    """CP sizes: powers of two splitting the sequence into 2·CP equal chunks (Megatron's load balancing).

    Only the detailed method with flash attention models CP (the seed method has no CP rule), and
    only while each rank keeps ``min_cp_tokens`` (CP is for long sequences; shorter chunks mostly add traffic).
    """
    if method.method != "detailed" or not training.flash_attention:
        return [1]
    out, cp = [], 1
    while cp <= space.max_cp and training.seq % (2 * cp) == 0 and training.seq // cp >= space.min_cp_tokens:
        out.append(cp)
        cp *= 2
    return out or [1]


def balanced_split(layers: int, pp: int, lighten_first: int = 0) -> tuple[int, ...]:
    """Layers per stage, as even as possible, extra layers kept off stage 0 and the last stage.

    Stage 0 keeps the most micro-batches in flight (1F1B) and the last stage the
    logits, so remainders go to the middle stages first (PP - 2, PP - 3 ... 1),
    then the last, then stage 0.  ``lighten_first`` moves that many more layers
    off stage 0 the same way.
    """
    counts = [layers // pp] * pp
    order = list(range(pp - 2, 0, -1)) + [pp - 1, 0]
    for i in range(layers % pp):
        counts[order[i % pp]] += 1
    for i in range(lighten_first):
        counts[0] -= 1
        counts[order[i % (pp - 1)]] += 1
    return tuple(counts)


@lru_cache(maxsize=256)  # bounded: a long GUI session or a soak run must not grow it
def layer_kinds(model: ModelSpec) -> tuple[bool, ...] | None:
    """Each layer's kind (True: a MoE layer) when all layers of one kind are alike, else None.

    Alike: the same parameters (``parameter_counts``); their activations depend on the kind
    only (``layer_activations`` takes the MoE flag, not the index).  Dense models and regular
    MoE patterns (DeepSeek-V3: 3 dense layers, then MoE) qualify; an article-level model whose
    declared total is spread unevenly over its layers does not.
    """
    kinds = tuple(model.is_moe_layer(i) for i in range(model.layers))
    first: dict[bool, object] = {}
    for kind, params in zip(kinds, parameter_counts(model).layers, strict=True):
        if first.setdefault(kind, params) != params:
            return None
    return kinds


def homogeneous_layers(model: ModelSpec) -> bool:
    """True when every layer has the same parameters and activations (dense, no MoE pattern)."""
    kinds = layer_kinds(model)
    return kinds is not None and len(set(kinds)) <= 1


def stage_kind(model: ModelSpec, layers: tuple[int, ...]) -> tuple[int, ...]:
    """What a card's memory reads of its stage's layers: (dense layers, MoE layers) when layers of a kind
    are alike (:func:`layer_kinds`), else the layer indices themselves.

    The engine reads a stage's layers through their count, their parameters and, per layer, the MoE flag
    (activations per kind, whether MoE and dense layers are present for the backward buffers).
    """
    kinds = layer_kinds(model)
    if kinds is None:
        return layers
    moe = sum(kinds[i] for i in layers) if model.moe is not None else 0
    return (len(layers) - moe, moe)


def heavy_stages(model: ModelSpec, stage_layers: tuple[tuple[int, ...], ...]) -> tuple[int, ...]:
    """Stages that can hold the heaviest card.

    When layers of a kind are alike, a card's memory depends on its stage only through its
    :func:`stage_kind` (how many dense and MoE layers it holds), whether it is the first or last
    stage, and the micro-batches in flight, which fall with the stage index; each of these adds
    bytes (stage 0 also holds the embedding and its inputs).  So the heaviest card is on the last
    stage or on the first stage of each distinct kind, and the first stage with the most bytes is
    one of those.  Otherwise every stage is a candidate.
    """
    pp = len(stage_layers)
    if layer_kinds(model) is None:
        return tuple(range(pp))
    out, seen = {pp - 1}, set()
    for k in range(pp - 1):
        kind = stage_kind(model, stage_layers[k])
        if kind not in seen:
            seen.add(kind)
            out.add(k)
    return tuple(sorted(out))


def _splits(layers: int, pp: int, space: SearchSpace) -> list[tuple[tuple[int, ...] | None, int]]:
    """(pp_layers, vpp) pairs for one pipeline depth."""
    out: list[tuple[tuple[int, ...] | None, int]] = []
    if layers % pp == 0:
        out += [(None, v) for v in range(1, space.max_vpp + 1) if (v == 1 or pp > 1) and layers % (pp * v) == 0]
    if not space.uneven_pp or pp < 2 or pp > space.max_uneven_pp:
        return out
    if layers % pp:
        out.append((balanced_split(layers, pp), 1))
    elif layers // pp >= 2:
        out.append((balanced_split(layers, pp, lighten_first=1), 1))
    return out


# (TP, PP, pp_layers, VPP, CP): a geometry before its stages are laid out.
Shape = tuple[int, int, tuple[int, ...] | None, int, int]


def shapes(model: ModelSpec, training: TrainingConfig, method: MethodConfig, space: SearchSpace,
           max_gpus: int) -> list[Shape]:
    """Every (TP, PP, layer split, VPP, CP) within the card budget, in the search's order."""
    out: list[Shape] = []
    cps = cp_options(training, method, space)
    for tp in tp_options(model, space):
        for pp in range(1, min(model.layers, MAX_PP) + 1):
            if tp * pp > max_gpus:
                break
            for pp_layers, vpp in _splits(model.layers, pp, space):
                out += [(tp, pp, pp_layers, vpp, cp) for cp in cps if tp * pp * cp <= max_gpus]
    return out


def geometries(model: ModelSpec, shapes: list[Shape]) -> list[Geometry]:
    """The geometries of ``shapes``, their stages laid out once per (PP, split, VPP)."""
    laid: dict[tuple, tuple] = {}
    out = []
    for tp, pp, pp_layers, vpp, cp in shapes:
        stages = laid.get((pp, pp_layers, vpp))
        if stages is None:
            stage_layers = tuple(stage_layer_indices(model.layers, pp, pp_layers, vpp))
            stages = laid[pp, pp_layers, vpp] = (stage_layers, heavy_stages(model, stage_layers))
        out.append(Geometry(tp, pp, vpp, cp, pp_layers, *stages))
    return out


def dp_options(geometry: Geometry, max_gpus: int, space: SearchSpace) -> np.ndarray:
    """DP sizes within the card budget, ascending; beyond one node, whole nodes only (if asked)."""
    per = geometry.cards_per_replica
    node = space.gpus_per_node
    dps = np.arange(1, max_gpus // per + 1, dtype=np.int64)
    if not space.whole_nodes:
        return dps
    return dps[(per * dps <= node) | (per * dps % node == 0)]


def dp_count(per: int, max_gpus: int, space: SearchSpace, ep: int = 1) -> tuple[int, int]:
    """(how many of ``dp_options`` a multiple of ``ep`` holds, its largest DP size or 0), without listing
    them: DP up to max_gpus / per, and beyond one node (whole nodes) the multiples of
    q = node / gcd(per, node), which make per x DP a multiple of the node."""
    m = max_gpus // per
    if not space.whole_nodes:
        return m // ep, m
    node = space.gpus_per_node
    within = min(m, node // per)  # per x DP fits in one node
    q = node // math.gcd(per, node)
    both = math.lcm(ep, q)
    return within // ep + m // both - within // both, max(within, m // q * q)


def ep_options(model: ModelSpec, dp: int) -> list[int]:
    """Expert-parallel sizes: divisors of DP that divide the experts (1 for dense models).

    EP is carved out of DP (``engine.plan.layout.build_grid``), so it must divide DP.
    """
    if model.moe is None:
        return [1]
    return [e for e in divisors(dp) if model.moe.experts % e == 0]
