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
from engine.planner.activations import (
    BYTES_CAP,
    PiecesTable,
    RestPieces,
    end_pieces,
    layer_pieces,
    reduce_bytes,
    seed_rest_bytes_fast,
)
from engine.planner.space import Geometry, layer_kinds, stage_kind
from engine.report.formatting import ceil_div
from engine.training.config import MethodConfig, TrainingConfig
from engine.training.estimate import card_breakdown
from engine.training.memory.context import CardContext
from engine.training.memory.deepspeed_optimizer import (
    DEEPSPEED_ALLREDUCE_BUCKET,
    deepspeed_bf16_optimizer,
    deepspeed_bucket_bytes_per_element,
    deepspeed_fp32_grad_bytes_per_param,
    deepspeed_zero_step_bytes_per_param,
)
from engine.training.memory.detailed import (
    activation_figures,
    kept_logits_buffers,
    logits_beside_kept,
    logits_figure,
    peak_rest,
    pipeline_output_buffers,
)
from engine.training.memory.first_step import OPTIMIZER_STEP
from engine.training.memory.model_states import (
    card_params,
    grad_bytes_per_param,
    optimizer_bytes_per_param,
    plain_torch_gradients,
)
from engine.training.memory.schedule import in_flight_chunks
from engine.training.memory.seed import (
    SEED_GRAD_BYTES,
    SEED_MASTER_BYTES,
    SEED_MOMENT_BYTES,
    SEED_WEIGHT_BYTES,
)
from engine.training.memory.transients import (
    backward_transient,
    backward_wgrad_bytes,
    held_gradient_bytes,
)
from engine.training.memory.workspace import library_workspace_bytes

# Knobs the search varies per micro-batch: (micro_batch, recompute, sequence_parallel).
Variant = tuple[int, str, bool]


class MemoryModel:
    """Exact card totals of uniform layouts; cheap to query across DP and ZeRO."""

    def __init__(self, model: ModelSpec, training: TrainingConfig, method: MethodConfig) -> None:
        self.model, self.training, self.method = model, training, method
        self.seed = method.method == "seed"
        self.params = parameter_count(model)  # a sum over layers: computed once here
        self.alike = layer_kinds(model) is not None  # layers of a kind alike: stages keyed by their layer counts
        self._trainings: dict[tuple, TrainingConfig] = {}
        self._rest: dict[tuple, int] = {}
        self._stages: dict[tuple, tuple] = {}  # (id(geometry), stage) -> what its figures read
        self._pieces: dict[tuple, RestPieces] = {}
        self._layer_parts: dict[tuple, tuple[bool, int, int, int, int, int]] = {}
        self._end_parts: dict[tuple, tuple[int, int, int]] = {}
        self._wgrads: dict[tuple, int] = {}
        self._tables: dict[tuple, PiecesTable] = {}
        self._rows_checked: dict[tuple, bool] = {}
        self._coeffs: dict[tuple, tuple] = {}
        self._reduces: dict[tuple, tuple[int, int]] = {}
        self._rest_checked: dict[tuple, bool] = {}
        self._fresh: dict[tuple, int] = {}
        self.engine_calls = 0
        self.fallbacks = 0
        o = method.overhead
        self._pct = o.fragmentation_percent
        self._fixed = 0 if self.seed else o.cuda_context_bytes + library_workspace_bytes(method)[0]
        self._nccl = 0 if self.seed else o.nccl_bytes

    # Engine contexts --------------------------------------------------------------
    def training_for(self, zero: int, variant: Variant) -> TrainingConfig:
        key = (zero, variant)
        tr = self._trainings.get(key)
        if tr is None:
            mb, recompute, sp = variant
            tr = self._trainings[key] = self.training.searched(zero, mb, recompute, sp)
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
    def _where(self, g: Geometry, stage: int) -> tuple:
        """What a stage's figures read of its geometry: (:func:`stage_kind`, first, last, VPP, TP, CP)."""
        where = self._stages.get((id(g), stage))
        if where is None:
            kind = stage_kind(self.model, g.stage_layers[stage])
            where = self._stages[id(g), stage] = (kind, stage == 0, stage == g.pp - 1, g.vpp, g.tp, g.cp)
        return where

    def rest_bytes(self, g: Geometry, stage: int, ep: int, variant: Variant, chunks: int) -> int:
        """Activations + logits + KV cache of one stage (the engine's figures)."""
        return int(self.rest_table(g, stage, ep, (variant,), (chunks,))[0, 0])

    def rest_table(self, g: Geometry, stage: int, ep: int, variants: tuple[Variant, ...],
                   chunks: tuple[int, ...]) -> np.ndarray:
        """``rest_bytes`` of one stage for each of ``chunks`` and ``variants``: [chunks, variant] (int64, at
        most ``BYTES_CAP``).

        What those figures read: the stage's :func:`stage_kind` (its dense and MoE layer counts when
        layers of a kind are alike), whether it is the first or the last stage, VPP, TP, CP, EP, the
        variant and the chunks in flight.  The detailed method's figures come from :class:`RestPieces`,
        memoised without the layer counts, VPP and the chunks (which only multiply them), and are
        combined for all variants and chunks at once; the seed method's are memoised per stage signature.
        """
        where = self._where(g, stage)
        if self.seed:
            return np.array([[self._memo_rest(g, stage, ep, v, c, where) for v in variants] for c in chunks],
                            dtype=np.int64)
        kind = where[0]
        path = tuple(n > 0 for n in kind) if self.alike else kind  # which kinds of layer: the code path
        table = self._tables.get((path, *where[1:3], g.pp > 1, *where[4:], ep, variants))
        if table is None:
            pieces = [self._pieces_of(g, stage, ep, v, chunks[0], path, where) for v in variants]
            table = self._tables[path, *where[1:3], g.pp > 1, *where[4:], ep, variants] = PiecesTable.of(pieces)
        counts = kind if self.alike else self._counts(g, stage)
        rows = table.rest(counts, chunks, g.vpp, *self._reduce(g, stage, ep))
        # Checked against the engine once per code path: which kinds of layer the stage holds, its role,
        # VPP > 1, TP > 1, CP > 1, EP > 1, recompute and SP; the micro-batch, the layer counts, the chunks
        # and the sizes only change the numbers.
        path_key = (path, *where[1:3], where[3] > 1, where[4] > 1, where[5] > 1, ep > 1)
        if not self._rows_checked.get((path_key, variants)):
            good = True
            for v, variant in enumerate(variants):
                signature = (path_key, variant[1:])
                agrees = self._rest_checked.get(signature)
                if agrees is None:
                    engine = self._memo_rest(g, stage, ep, variant, chunks[0], where, engine=True)
                    agrees = self._rest_checked[signature] = int(rows[0, v]) == engine
                    self.fallbacks += not agrees
                if not agrees:  # this code path is the engine's, chunks by chunks
                    rows[:, v] = [self._memo_rest(g, stage, ep, variant, c, where, engine=True) for c in chunks]
                    good = False
            self._rows_checked[path_key, variants] = good
        return rows

    def _pieces_of(self, g: Geometry, stage: int, ep: int, variant: Variant, chunks: int, path: tuple,
                   where: tuple) -> RestPieces:
        """``rest_pieces`` of the stage, put together from parts memoised by what each reads: the layer
        kinds, TP, CP, EP and the variant (activations per layer, the layer's backward buffers); the role,
        TP, CP and the variant (what the first and last stages add); the role and TP (the weight gradient
        of the card's largest module)."""
        key = (path, *where[1:3], g.pp > 1, *where[4:], ep, variant)
        pieces = self._pieces.get(key)
        if pieces is None:
            ctx: list[CardContext] = []

            def card() -> CardContext:
                if not ctx:
                    ctx.append(self.context(g, stage, 1, ep, 0, variant, chunks, g.tp * g.pp * g.cp))
                return ctx[0]

            layer_key, end_key = (path, *where[4:], ep, variant), (*where[1:3], *where[4:], variant)
            wgrad_key = (where[0] if not self.alike else path, *where[1:3], g.pp > 1, where[4])
            layer = self._layer_parts.get(layer_key)
            if layer is None:
                layer = self._layer_parts[layer_key] = layer_pieces(card(), where[0] if self.alike else
                                                                    self._counts(g, stage))
            ends = self._end_parts.get(end_key)
            if ends is None:
                ends = self._end_parts[end_key] = end_pieces(card())
            wgrad = self._wgrads.get(wgrad_key)
            if wgrad is None:
                wgrad = self._wgrads[wgrad_key] = backward_wgrad_bytes(card())
            full, dense_layer, moe_layer, kept, working, backward = layer
            pieces = self._pieces[key] = RestPieces(full, dense_layer, moe_layer, kept, working, *ends,
                                                    backward + wgrad)
        return pieces

    def fresh_rest_table(self, g: Geometry, ep: int, variants: tuple[Variant, ...]) -> np.ndarray | None:
        """[heavy stage, variant] what the highest moment but the optimizer step adds to the model states and
        the kept outputs where the gradients start at the backward (``gradient_lifetime``: the huggingface
        profile without ZeRO, one micro-batch per step), from the card's own step timeline (0 at the least: the
        optimizer step holds the states); None for every other profile.  It reads neither DP nor ZeRO beyond
        ZeRO-0: the model states are whole, and the communication buffers are in every moment."""
        if self.seed or not plain_torch_gradients(self.method.framework, 0, self.training.distributed_optimizer):
            return None
        out = np.empty((len(g.heavy_stages), len(variants)), dtype=np.int64)
        for i, k in enumerate(g.heavy_stages):
            for j, variant in enumerate(variants):
                key = (g.stage_layers[k], k == 0, k == g.pp - 1, g.pp, g.vpp, g.tp, g.cp, ep, variant)
                hit = self._fresh.get(key)
                if hit is None:
                    hit = self._fresh[key] = self._fresh_rest(g, k, ep, variant)
                out[i, j] = hit
        return out

    def _fresh_rest(self, g: Geometry, stage: int, ep: int, variant: Variant) -> int:
        one_step = self.training_for(0, variant).model_copy(update={"global_batch": variant[0]})  # m = 1 at DP 1
        ctx = CardContext(model=self.model, training=one_step, method=self.method, stage=stage, stages=g.pp,
                          vpp=g.vpp, layer_indices=g.stage_layers[stage], tp=g.tp, dp=1, cp=g.cp, ep=ep,
                          in_flight_chunks=in_flight_chunks(stage, g.pp, 1, g.vpp), world=g.cards_per_replica)
        timeline = self._breakdown(ctx).timeline
        step = next(m for m in timeline if m.short == OPTIMIZER_STEP)
        held = step.total_bytes - dict(step.live).get("transient", 0)  # the states and the kept outputs
        return max(0, max(m.total_bytes for m in timeline if m is not step) - held)

    def _reduce(self, g: Geometry, stage: int, ep: int) -> tuple[int, int]:
        """(``reduce_bytes``, ``held_gradient_bytes``) of the stage: the all-reduce copy of its parameters and
        the previous step's gradients the backward runs beside (Megatron-LM of 2021 only)."""
        if self.method.framework != "megatron-2021":
            return 0, 0
        where = self._where(g, stage)
        key = (*where[:3], g.pp > 1, g.tp, ep)
        hit = self._reduces.get(key)
        if hit is None:
            ctx = self.context(g, stage, 1, ep, 0, (1, "none", False), 1, 1)
            hit = self._reduces[key] = (reduce_bytes(ctx), held_gradient_bytes(ctx))
        return hit

    def _counts(self, g: Geometry, stage: int) -> tuple[int, int]:
        layers = g.stage_layers[stage]
        moe = sum(map(self.model.is_moe_layer, layers)) if self.model.moe is not None else 0
        return len(layers) - moe, moe

    def _memo_rest(self, g: Geometry, stage: int, ep: int, variant: Variant, chunks: int, where: tuple,
                   engine: bool = False) -> int:
        """The engine's figures (``engine``) or the seed method's fast rule, memoised by the stage signature."""
        key = (where, ep, variant, chunks)
        hit = self._rest.get(key)
        if hit is None:
            ctx = self.context(g, stage, 1, ep, 0, variant, chunks, g.tp * g.pp * g.cp)
            if self.seed and not engine:
                hit = self._checked_seed_rest(ctx, where, ep, variant)
            else:
                hit = self._engine_rest(ctx)
            hit = self._rest[key] = min(hit, BYTES_CAP)
        return hit

    def _checked_seed_rest(self, ctx: CardContext, where: tuple, ep: int, variant: Variant) -> int:
        fast = seed_rest_bytes_fast(ctx)
        signature = ((where[1], where[2], where[3] > 1, where[4] > 1, where[5] > 1, ep > 1), variant[1:])
        agrees = self._rest_checked.get(signature)
        if agrees is None or not agrees:
            engine = self._engine_rest(ctx)
            if agrees is None:
                agrees = self._rest_checked[signature] = fast == engine
                self.fallbacks += not agrees
            if not agrees:
                return engine
        return fast

    def _engine_rest(self, ctx: CardContext) -> int:
        """The engine's figures that do not depend on DP or ZeRO: activations + logits (+ KV cache), or in the
        detailed method what the highest moment of its step timeline adds to the static states, the optimizer
        step aside (its temporaries depend on the ZeRO sharding: ``step_array``)."""
        if self.seed:
            bd = self._breakdown(ctx)
            return bd.activations.bytes + bd.logits.bytes + bd.kv_cache.bytes
        self.engine_calls += 1
        # every moment also holds the kept pipeline outputs: ``kept_table`` adds them beside this
        logits = logits_beside_kept(ctx, logits_figure(ctx).bytes)
        act, details = activation_figures(ctx)
        after = next((f.bytes for f in details if f.key == "activations_after_forward"), None)
        return peak_rest(act.bytes, logits, backward_transient(ctx).bytes, reduce_bytes(ctx), 0, after)

    # The DP-dependent part --------------------------------------------------------
    def coefficients(self, g: Geometry, stage: int, ep: int) -> tuple:
        """The stage's parameter counts (``card_params``: dense, experts, largest module, total), memoised by
        what they read: the stage's kind, whether it is the first or the last stage (embedding, output
        layer, the tied copy when PP > 1), TP and EP."""
        where = self._where(g, stage)
        key = (*where[:3], g.pp > 1, g.tp, ep)
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

    def states_table(self, g: Geometry, ep: int, zeros: list[int], shard: np.ndarray) -> np.ndarray:
        """``states_array`` of every heavy stage and ZeRO stage: [ZeRO, heavy stage, shard] (int64).

        The detailed method's arithmetic runs on all heavy stages at once, their parameter counts as a
        column (int64: a card's parameters stay below engine.limits.MAX_PARAMETERS)."""
        stages = g.heavy_stages
        if self.seed:
            return np.array([[self.states_array(g, k, ep, z, shard) for k in stages] for z in zeros])
        c = tuple(np.array(col, dtype=np.int64)[:, None]
                  for col in zip(*(self.coefficients(g, k, ep) for k in stages), strict=True))
        shape, row = (len(stages), len(shard)), shard[None, :]
        sharded = sharded_params(c[0], c[1], ep, row)
        return np.array([np.broadcast_to(_detailed_states_array(self.training, self.method, c, ep, z, row, sharded),
                                         shape) for z in zeros])

    def kept_table(self, g: Geometry, ep: int, variants: tuple[Variant, ...]) -> np.ndarray | None:
        """[heavy stage, variant] bytes every moment of the step holds besides the model states, or None where
        there are none: the last stage's kept fp32 logits, DeepSpeed's pipeline output buffers or those a
        training loop keeps (``pipeline_output_buffers``; they read the micro-batch, not DP or ZeRO)."""
        last = g.pp - 1
        if self.seed or last not in g.heavy_stages \
                or not kept_logits_buffers(self.context(g, last, 1, ep, 0, variants[0], 1, 1)):
            return None
        return np.array([[pipeline_output_buffers(self.context(g, k, 1, ep, 0, v, 1, 1)).bytes for v in variants]
                         for k in g.heavy_stages], dtype=np.int64)

    def step_table(self, g: Geometry, ep: int, zeros: list[int], shard: np.ndarray) -> np.ndarray | None:
        """[ZeRO, heavy stage, shard] bytes of the moments without activations that depend on the sharding, or
        None where there are none: the optimizer step's temporaries (``optimizer_step_transient``: the Hugging
        Face profile's foreach AdamW copies half the moments, which ZeRO shards; DeepSpeed's fp16 wrapper
        without ZeRO converts every gradient to fp32; DeepSpeed ZeRO 1-2 flattens and casts the partition's
        gradients) and DeepSpeed's all-reduce bucket without ZeRO at DP x CP > 1 (``allreduce_transient``).
        Each is a moment of its own: the card peaks at the largest of them and ``rest_row``."""
        tr = self.training
        fp32_grads = [deepspeed_fp32_grad_bytes_per_param(tr, self.method, z) for z in zeros]
        buckets = [deepspeed_bucket_bytes_per_element(tr, self.method, z) for z in zeros]
        zero_steps = [deepspeed_zero_step_bytes_per_param(tr, self.method, z) for z in zeros]
        foreach = self.method.framework == "huggingface" and tr.optimizer != "sgd" and not tr.offload_optimizer
        if self.seed or not (foreach or any(fp32_grads) or any(buckets) or any(zero_steps)):
            return None
        moment_b = optimizer_bytes_per_param(tr.precision, tr.optimizer, tr.master_weights)[1]
        coeffs = [self.coefficients(g, k, ep) for k in g.heavy_stages]
        dense = np.array([c[0] for c in coeffs], dtype=np.int64)[:, None]
        experts = np.array([c[1] for c in coeffs], dtype=np.int64)[:, None]
        shard = shard[None, :]
        sharded = sharded_params(dense, experts, ep, shard)
        shape = (len(coeffs), shard.shape[1])
        if not foreach:
            # DeepSpeed without ZeRO: the fp16 wrapper's fp32 copies of every gradient at the step, or (a moment
            # of its own, also without activations) the all-reduce's flattened bucket at DP > 1; with ZeRO 1-2 the
            # step's flat and fp32 copies of the partition's gradients
            total = dense + experts
            bucket = np.where(shard > 1, np.minimum(DEEPSPEED_ALLREDUCE_BUCKET, total), 0)
            return np.array([np.broadcast_to(np.maximum(np.maximum(b * total, per * bucket), zs * sharded), shape)
                             for b, per, zs in zip(fp32_grads, buckets, zero_steps, strict=True)])
        return np.array([np.broadcast_to(moment_b * (sharded if z >= 1 or tr.distributed_optimizer else dense + experts)
                                         // 2, shape) for z in zeros])

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
                           shard: np.ndarray, sharded: np.ndarray | None = None):
    """``engine.training.memory.model_states``: model_state_figures + communication_figure, summed, per shard degree.

    ``sharded`` (the parameters a card keeps when sharded, the same for every ZeRO stage) may be passed in."""
    dense, experts, largest, total = c
    alone = shard == 1
    if sharded is None:
        sharded = sharded_params(dense, experts, ep, shard)

    def kept(on: bool):
        return sharded if on else dense + experts

    bw = 4 if tr.precision == "fp32" else 2
    bf16_optimizer = deepspeed_bf16_optimizer(tr, method, zero)
    bg = grad_bytes_per_param(method.framework, tr.precision, bf16_optimizer)
    offload_params = tr.offload_params and zero == 3
    out = (0 if offload_params else bw * kept(zero >= 3)) + bg * kept(zero >= 2)
    if not tr.offload_optimizer:
        master_b, moment_b = optimizer_bytes_per_param(tr.precision, tr.optimizer, tr.master_weights)
        out = out + (master_b + moment_b) * kept(zero >= 1 or tr.distributed_optimizer or bf16_optimizer)
    if zero == 3:
        out = out + np.where(alone, 0, (bw + bg) * largest)
    elif method.framework == "deepspeed" and zero in (1, 2):
        out = out + np.where(alone, 0, bg * np.minimum(method.deepspeed_reduce_bucket_elements, total))
    elif plain_torch_gradients(method.framework, zero, tr.distributed_optimizer):
        out = out + np.where(alone, 0, bg * (dense + experts))  # DDP's gradient buckets (communication_figure)
    return out


def sharded_params(dense, experts, ep: int, shard: np.ndarray) -> np.ndarray:
    """Parameters a card keeps when ZeRO shards them over ``shard`` ranks, experts over shard / EP
    (``model_states._sharded``); all of them for one rank."""
    return np.where(shard == 1, dense + experts, -(-dense // shard) + -(-experts // np.maximum(1, shard // ep)))
