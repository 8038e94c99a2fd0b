"""Per-card memory for the planner, exactly the engine's, at search speed.

A card's total splits into a part that does not depend on DP or the ZeRO
stage (activations, logits, KV cache: taken from ``engine.estimate.card_breakdown``
of the stage's context, memoised per activation signature) and a part that
does (weights, gradients, optimizer states, communication buffers and, in the
detailed method, the runtime overhead on top of them).  The second part is
the engine's own arithmetic (``engine.memory.model_states`` and
``engine.memory.seed``) redone on cached parameter counts, so that one
context's DP sweep costs a few integer operations instead of a breakdown.

Every (stage, ZeRO stage) signature is checked once against ``card_breakdown``
of the full context; on a mismatch that signature falls back to the engine
for every DP value (slow, still exact) and ``fallbacks`` counts it.
"""

from __future__ import annotations

from engine.estimate import card_breakdown
from engine.memory.context import CardContext
from engine.memory.detailed import activation_figures, logits_figure
from engine.memory.formatting import ceil_div
from engine.memory.model_states import card_params
from engine.memory.seed import (
    SEED_GRAD_BYTES,
    SEED_MASTER_BYTES,
    SEED_MOMENT_BYTES,
    SEED_WEIGHT_BYTES,
)
from engine.model import ModelSpec
from engine.params import parameter_count
from engine.planner.space import Geometry
from engine.training import MethodConfig, TrainingConfig

# Knobs the search varies per micro-batch: (micro_batch, recompute, sequence_parallel).
Variant = tuple[int, str, bool]


class MemoryModel:
    """Exact card totals of uniform layouts; cheap to query across DP and ZeRO."""

    def __init__(self, model: ModelSpec, training: TrainingConfig, method: MethodConfig) -> None:
        self.model, self.training, self.method = model, training, method
        self.seed = method.method == "seed"
        self.params = parameter_count(model)  # a sum over layers: computed once here
        self._trainings: dict[tuple, TrainingConfig] = {}
        self._rest: dict[tuple, int] = {}
        self._coeffs: dict[tuple, tuple] = {}
        self._engine_only: set[tuple] = set()
        self._checked: set[tuple] = set()
        self.engine_calls = 0
        self.fallbacks = 0
        o = method.overhead
        self._pct = o.fragmentation_percent
        self._fixed = 0 if self.seed else o.cuda_context_bytes
        self._nccl = 0 if self.seed else o.nccl_bytes

    # Engine contexts --------------------------------------------------------------
    def training_for(self, zero: int, variant: Variant) -> TrainingConfig:
        key = (zero, variant)
        tr = self._trainings.get(key)
        if tr is None:
            mb, recompute, sp = variant
            tr = self._trainings[key] = self.training.model_copy(update={
                "zero": zero, "micro_batch": mb, "recompute": recompute, "sequence_parallel": sp})
        return tr

    def context(self, g: Geometry, stage: int, dp: int, ep: int, zero: int, variant: Variant,
                chunks: int, world: int) -> CardContext:
        return CardContext(
            model=self.model, training=self.training_for(zero, variant), method=self.method, stage=stage,
            stages=g.pp, vpp=g.vpp, layer_indices=g.stage_layers[stage], tp=g.tp, dp=dp, cp=g.cp, ep=ep,
            in_flight_chunks=chunks, world=world)

    def _breakdown(self, ctx: CardContext):
        self.engine_calls += 1
        return card_breakdown(ctx)

    # The DP-independent part ------------------------------------------------------
    def rest_bytes(self, g: Geometry, stage: int, ep: int, variant: Variant, chunks: int) -> int:
        """Activations + logits + KV cache of one stage (the engine's figures)."""
        key = (id(g), stage, ep, variant, chunks)
        hit = self._rest.get(key)
        if hit is None:
            ctx = self.context(g, stage, 1, ep, 0, variant, chunks, g.tp * g.pp * g.cp)
            if self.seed:
                bd = self._breakdown(ctx)
                hit = bd.activations.bytes + bd.logits.bytes + bd.kv_cache.bytes
            else:
                # The two figures of engine.memory.detailed.detailed_breakdown that do not depend
                # on DP or ZeRO (a training breakdown has no KV cache), without the model states.
                self.engine_calls += 1
                hit = activation_figures(ctx)[0].bytes + logits_figure(ctx).bytes
            self._rest[key] = hit
        return hit

    # The DP-dependent part --------------------------------------------------------
    def _coefficients(self, g: Geometry, stage: int, ep: int) -> tuple:
        key = (id(g), stage, ep)
        hit = self._coeffs.get(key)
        if hit is None:
            if self.seed:
                hit = (len(g.stage_layers[stage]),)
            else:
                p = card_params(self.context(g, stage, 1, ep, 0, (1, "none", False), 1, 1))
                hit = (p.dense, p.experts, p.largest_module, p.total)
            self._coeffs[key] = hit
        return hit

    def states_bytes(self, g: Geometry, stage: int, ep: int, zero: int, shard: int) -> int:
        """Weights + gradients + optimizer states + communication buffers on one card."""
        c = self._coefficients(g, stage, ep)
        if self.seed:
            return _seed_states(self.params, self.model.layers, self.training, c[0], g.tp, zero, shard)
        return _detailed_states(self.training, self.method, c, ep, zero, shard)

    def states_floor(self, g: Geometry, stage: int, ep: int, shard: int) -> int:
        """A lower bound of ``states_bytes`` over every ZeRO stage: everything sharded, no buffers."""
        c, tr = self._coefficients(g, stage, ep), self.training
        if self.seed:
            base, split = self.params * c[0], self.model.layers * g.tp * shard
            per_param = SEED_WEIGHT_BYTES + SEED_GRAD_BYTES
            if not tr.offload_optimizer:
                per_param += SEED_MASTER_BYTES + SEED_MOMENT_BYTES
            return -(-(per_param * base) // split)  # a sum of ceilings is at least the ceiling of the sum
        dense, experts = c[0], c[1]
        kept = ceil_div(dense, shard) + ceil_div(experts, max(1, shard // ep))
        per_param = 0 if tr.offload_params else (4 if tr.precision == "fp32" else 2)
        per_param += 2  # gradients: at least 2 B
        if not tr.offload_optimizer:
            per_param += (0 if tr.precision == "fp32" else 4) + (4 if tr.optimizer == "sgd" else 8)
        return per_param * kept

    def with_overhead(self, visible: int, world: int) -> int:
        """The engine's card total from what the allocator sees (detailed: + CUDA, NCCL, fragmentation)."""
        if self.seed:
            return visible
        return visible + self._fixed + (self._nccl if world > 1 else 0) + int(visible * self._pct / 100)

    def visible_budget(self, budget: int, world: int) -> int:
        """The most bytes the allocator may see for ``with_overhead`` to stay within ``budget``."""
        if self.seed:
            return budget
        fixed = self._fixed + (self._nccl if world > 1 else 0)
        v = max(0, int((budget - fixed) / (1 + self._pct / 100)))
        while v > 0 and self.with_overhead(v, world) > budget:
            v -= 1
        while self.with_overhead(v + 1, world) <= budget:
            v += 1
        return v

    def card_param_count(self, g: Geometry, stage: int, ep: int) -> int:
        """Parameters one card of ``stage`` holds before ZeRO sharding (what DP reduces)."""
        c = self._coefficients(g, stage, ep)
        if self.seed:
            return ceil_div(self.params * c[0], self.model.layers * g.tp)
        return c[3]

    # One card ---------------------------------------------------------------------
    def confirmed(self, g: Geometry, ep: int, zero: int) -> bool:
        """True when every heavy stage's fast path was checked against the engine and agreed."""
        return all((sig := (id(g), k, ep, zero)) in self._checked and sig not in self._engine_only
                   for k in g.heavy_stages)

    def total(self, g: Geometry, stage: int, dp: int, ep: int, zero: int, variant: Variant,
              chunks: int, world: int, states: int | None = None) -> int:
        """One card's total, exactly ``card_breakdown(context).total_bytes``.

        ``states`` is ``states_bytes(g, stage, ep, zero, dp * g.cp)`` when the caller has it.
        """
        sig = (id(g), stage, ep, zero)
        if sig in self._engine_only:
            return self._breakdown(self.context(g, stage, dp, ep, zero, variant, chunks, world)).total_bytes
        if states is None:
            states = self.states_bytes(g, stage, ep, zero, dp * g.cp)
        fast = self.with_overhead(states + self.rest_bytes(g, stage, ep, variant, chunks), world)
        if sig not in self._checked:
            self._checked.add(sig)
            exact = self._breakdown(self.context(g, stage, dp, ep, zero, variant, chunks, world)).total_bytes
            if exact != fast:
                self._engine_only.add(sig)
                self.fallbacks += 1
                return exact
        return fast


def _seed_states(params: int, total_layers: int, tr: TrainingConfig, stage_layers: int, t: int, zero: int,
                 shard: int) -> int:
    """``engine.memory.seed.seed_breakdown``'s weights + gradients + optimizer states.

    Each part there is ceil(bytes x params x stage layers / (layers x TP [x ZeRO shard])).
    """
    base = params * stage_layers
    whole = total_layers * t
    split = whole * shard
    states = -(-(SEED_WEIGHT_BYTES * base) // (split if zero >= 3 else whole))
    states += -(-(SEED_GRAD_BYTES * base) // (split if zero >= 2 else whole))
    if not tr.offload_optimizer:
        opt = split if zero >= 1 or tr.distributed_optimizer else whole
        states += -(-(SEED_MASTER_BYTES * base) // opt) + -(-(SEED_MOMENT_BYTES * base) // opt)
    return states


def _detailed_states(tr: TrainingConfig, method: MethodConfig, c: tuple, ep: int, zero: int, shard: int) -> int:
    """``engine.memory.model_states``: model_state_figures + communication_figure, summed."""
    dense, experts, largest, total = c

    def kept(on: bool) -> int:
        if not on or shard == 1:
            return dense + experts
        return ceil_div(dense, shard) + ceil_div(experts, max(1, shard // ep))

    bw = 4 if tr.precision == "fp32" else 2
    bg = 4 if method.framework == "megatron" or tr.precision == "fp32" else 2
    offload_params = tr.offload_params and zero == 3
    out = 0 if offload_params else bw * kept(zero >= 3)
    out += bg * kept(zero >= 2)
    if not tr.offload_optimizer:
        master_b = 0 if tr.precision == "fp32" else 4
        moment_b = 4 if tr.optimizer == "sgd" else 8
        out += (master_b + moment_b) * kept(zero >= 1 or tr.distributed_optimizer)
    if zero == 3 and shard > 1:
        out += (bw + bg) * largest
    elif method.framework == "deepspeed" and zero in (1, 2) and shard > 1:
        out += bg * min(method.deepspeed_reduce_bucket_elements, total)
    return out
