"""Per-card memory for the planner, exactly the engine's, at search speed.

A card's total splits into a part that does not depend on DP or the ZeRO
stage (activations, logits, KV cache; memoised per stage signature, computed
by :mod:`engine.planner.activations` on the engine's own per-layer figures
and checked against the engine once per code path) and a part that does
(weights, gradients, optimizer states, communication buffers and, in the
detailed method, the runtime overhead on top of them).  The second part is
the engine's own arithmetic (``engine.training.memory.model_states`` and
``engine.training.memory.seed``) redone on the engine's parameter counts for a whole
array of DP sizes at once (numpy int64: exact up to 9.2 x 10^18 bytes per card;
a Python int beyond that raises), so a DP sweep costs a few array operations instead of
a breakdown per DP value.  :class:`engine.planner.blocks.HardwareSearch`
checks the whole card against ``card_breakdown`` once per code path and uses
the engine wherever they differ (``fallbacks``).
"""

from __future__ import annotations

import numpy as np

from engine.model.params import parameter_count
from engine.model.spec import ModelSpec
from engine.planner.activations import rest_bytes_fast, seed_rest_bytes_fast
from engine.planner.space import Geometry, homogeneous_layers
from engine.report.formatting import ceil_div
from engine.training.config import MethodConfig, TrainingConfig
from engine.training.estimate import card_breakdown
from engine.training.memory.context import CardContext
from engine.training.memory.detailed import activation_figures, backward_peak_rest, logits_figure
from engine.training.memory.model_states import (
    card_params,
    grad_bytes_per_param,
    optimizer_bytes_per_param,
)
from engine.training.memory.seed import (
    SEED_GRAD_BYTES,
    SEED_MASTER_BYTES,
    SEED_MOMENT_BYTES,
    SEED_WEIGHT_BYTES,
)
from engine.training.memory.transients import backward_transient

# Knobs the search varies per micro-batch: (micro_batch, recompute, sequence_parallel).
Variant = tuple[int, str, bool]
# A card needing more than an exbibyte fits nowhere (cards hold at most engine.limits.MAX_CARD_BYTES):
# the DP-independent part is capped here, so sums in the int64 arrays stay far from overflow
# (model states are < 2 x 10^16 B under engine.limits.MAX_PARAMETERS) while "does not fit" stays true.
BYTES_CAP = 2**60


class MemoryModel:
    """Exact card totals of uniform layouts; cheap to query across DP and ZeRO."""

    def __init__(self, model: ModelSpec, training: TrainingConfig, method: MethodConfig) -> None:
        self.model, self.training, self.method = model, training, method
        self.seed = method.method == "seed"
        self.params = parameter_count(model)  # a sum over layers: computed once here
        self._trainings: dict[tuple, TrainingConfig] = {}
        self._rest: dict[tuple, int] = {}
        self._coeffs: dict[tuple, tuple] = {}
        self._rest_checked: dict[tuple, bool] = {}
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
        """Activations + logits + KV cache of one stage (the engine's figures).

        Memoised by what those figures read: the stage's layers (their count when all layers
        are alike), whether it is the first or the last stage, VPP, TP, CP, EP, the variant and
        the chunks in flight, so geometries that share a stage share its figures.
        """
        layers = g.stage_layers[stage]
        key = (len(layers) if homogeneous_layers(self.model) else layers, stage == 0, stage == g.pp - 1, g.vpp,
               g.tp, g.cp, ep, variant, chunks)
        hit = self._rest.get(key)
        if hit is None:
            ctx = self.context(g, stage, 1, ep, 0, variant, chunks, g.tp * g.pp * g.cp)
            if self.method.framework == "huggingface" and not self.seed:
                hit = self._engine_rest(ctx)
            else:
                hit = seed_rest_bytes_fast(ctx) if self.seed else rest_bytes_fast(ctx)
                # Checked once per code path: all but the micro-batch, the chunks and (layers alike) the
                # layer count, which the engine only multiplies by.
                signature = (key[0] if isinstance(key[0], tuple) else None, *key[1:6], ep, variant[1:])
                agrees = self._rest_checked.get(signature)
                if agrees is None:
                    agrees = self._rest_checked[signature] = hit == self._engine_rest(ctx)
                    self.fallbacks += not agrees
                if not agrees:
                    hit = self._engine_rest(ctx)
            hit = self._rest[key] = min(hit, BYTES_CAP)
        return hit

    def _engine_rest(self, ctx: CardContext) -> int:
        """The engine's figures that do not depend on DP or ZeRO: activations + logits (+ KV cache)."""
        if self.seed:
            bd = self._breakdown(ctx)
            return bd.activations.bytes + bd.logits.bytes + bd.kv_cache.bytes
        # detailed_breakdown's backward peak on top of the model states (a training breakdown has
        # no KV cache); where the optimizer step is the peak, the whole-card check falls back.
        self.engine_calls += 1
        return backward_peak_rest(activation_figures(ctx)[0].bytes, logits_figure(ctx).bytes,
                                  backward_transient(ctx).bytes)

    # The DP-dependent part --------------------------------------------------------
    def coefficients(self, g: Geometry, stage: int, ep: int) -> tuple:
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
        c = self.coefficients(g, stage, ep)
        if self.seed:
            return ceil_div(self.params * c[0], self.model.layers * g.tp)
        return c[3]

    # Arrays over DP ---------------------------------------------------------------
    def states_array(self, g: Geometry, stage: int, ep: int, zero: int, shard: np.ndarray) -> np.ndarray:
        """Weights + gradients + optimizer states + communication buffers on one card, per shard
        degree in ``shard`` (int64, the engine's integer steps)."""
        c = self.coefficients(g, stage, ep)
        if self.seed:
            out = _seed_states_array(self.params, self.model.layers, self.training, c[0], g.tp, zero, shard)
        else:
            out = _detailed_states_array(self.training, self.method, c, ep, zero, shard)
        return out + np.zeros_like(shard)  # a scalar when nothing is sharded

    def with_overhead_array(self, visible: np.ndarray, multi_card: np.ndarray) -> np.ndarray:
        """``with_overhead`` element-wise (``multi_card``: world > 1, broadcastable)."""
        if self.seed:
            return visible
        # int(visible * pct / 100): the same float steps, truncated toward zero by astype.
        frag = (visible.astype(np.float64) * self._pct / 100).astype(np.int64)
        return visible + self._fixed + np.where(multi_card, self._nccl, 0) + frag


def _seed_states_array(params: int, total_layers: int, tr: TrainingConfig, stage_layers: int, t: int, zero: int,
                       shard: np.ndarray):
    """``engine.training.memory.seed.seed_breakdown``'s weights + gradients + optimizer states, per shard degree.

    Each part there is ceil(bytes x params x stage layers / (layers x TP [x ZeRO shard]))."""
    base = params * stage_layers
    whole = total_layers * t
    split = whole * shard

    def part(bytes_per_param: int, sharded: bool):
        return -(-(bytes_per_param * base) // (split if sharded else whole))

    states = part(SEED_WEIGHT_BYTES, zero >= 3) + part(SEED_GRAD_BYTES, zero >= 2)
    if not tr.offload_optimizer:
        opt = zero >= 1 or tr.distributed_optimizer
        states = states + part(SEED_MASTER_BYTES, opt) + part(SEED_MOMENT_BYTES, opt)
    return states


def _detailed_states_array(tr: TrainingConfig, method: MethodConfig, c: tuple, ep: int, zero: int,
                           shard: np.ndarray):
    """``engine.training.memory.model_states``: model_state_figures + communication_figure, summed, per shard degree."""
    dense, experts, largest, total = c
    alone = shard == 1
    sharded = np.where(alone, dense + experts, -(-dense // shard) + -(-experts // np.maximum(1, shard // ep)))

    def kept(on: bool):
        return sharded if on else dense + experts

    bw = 4 if tr.precision == "fp32" else 2
    bg = grad_bytes_per_param(method.framework, tr.precision)
    offload_params = tr.offload_params and zero == 3
    out = (0 if offload_params else bw * kept(zero >= 3)) + bg * kept(zero >= 2)
    if not tr.offload_optimizer:
        master_b, moment_b = optimizer_bytes_per_param(tr.precision, tr.optimizer, tr.master_weights)
        out = out + (master_b + moment_b) * kept(zero >= 1 or tr.distributed_optimizer)
    if zero == 3:
        out = out + np.where(alone, 0, (bw + bg) * largest)
    elif method.framework == "deepspeed" and zero in (1, 2):
        out = out + np.where(alone, 0, bg * min(method.deepspeed_reduce_bucket_elements, total))
    return out
