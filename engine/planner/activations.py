"""What one card holds above its static states at its peak, for the planner: ``engine.training.memory.detailed``'s
numbers without its text.

``activation_figures``, ``logits_figure`` and the transients build labels and formulas for every call; the
search needs only the bytes, for thousands of (stage, micro-batch, recompute, SP, chunks) signatures.  This
is the same arithmetic on the engine's own (memoised) per-layer figures, for every framework profile, split
into pieces that do not depend on the stage's layer counts or the chunks in flight (:class:`RestPieces`) and
combined per stage for many variants at once (:class:`PiecesTable`); and the seed method's activation rule.
:class:`engine.planner.memory.MemoryModel` checks it against the engine once per code path and uses the
engine where they differ.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from engine.report.formatting import ceil_div
from engine.training.memory.activations import checkpoint_bytes, norm_stat_bytes
from engine.training.memory.context import CardContext
from engine.training.memory.detailed import (
    card_layer_activations,
    logits_beside_kept,
    peak_rest,
)
from engine.training.memory.huggingface import (
    hf_final_norm_bytes,
    hf_logits_bytes,
)
from engine.training.memory.model_states import card_params
from engine.training.memory.seed import SEED_ACTIVATION_FACTOR
from engine.training.memory.transients import (
    backward_layer_bytes,
    backward_wgrad_bytes,
    flattened_allreduce_bytes,
    held_gradient_bytes,
)

# A card needing more than an exbibyte fits nowhere (cards hold at most engine.limits.MAX_CARD_BYTES):
# the DP-independent part is capped here, so sums in the planner's int64 arrays stay far from overflow
# (model states are < 2 x 10^16 B under engine.limits.MAX_PARAMETERS) while "does not fit" stays true.
BYTES_CAP = 2**60


class RestPieces(NamedTuple):
    """What one stage's peak above its static states is made of, before its layer counts and chunks in
    flight multiply it."""

    full: bool  # full recompute: checkpoints (layer inputs) instead of whole layers
    dense_layer: int  # saved activations of one dense layer, one micro-batch (0: the stage has none)
    moe_layer: int  # the same for one MoE layer
    kept: int  # full recompute: one layer's checkpointed input
    working: int  # full recompute: the largest layer's working set
    per_microbatch: int  # first stage: input ids (+ dropout mask) per micro-batch in flight
    tail: int  # last stage: final norm and output-layer inputs
    logits: int
    backward: int  # the backward buffers (``backward_transient``)


def layer_counts(ctx: CardContext) -> tuple[int, int]:
    """(dense layers, MoE layers) of the card's stage."""
    moe = sum(map(ctx.model.is_moe_layer, ctx.layer_indices)) if ctx.model.moe is not None else 0
    return ctx.layers - moe, moe


def layer_pieces(ctx: CardContext, counts: tuple[int, int]) -> tuple[bool, int, int, int, int, int]:
    """(full, dense_layer, moe_layer, kept, working) of :class:`RestPieces` and the layer's own backward
    buffers, for a stage of ``counts`` (dense, MoE) layers: they read which kinds of layer it holds, not
    how many, nor its place in the pipeline."""
    tr, spec = ctx.training, ctx.model
    s = ceil_div(tr.seq, ctx.cp)
    b, t = tr.micro_batch, ctx.tp
    e = 4 if tr.precision == "fp32" else 2
    sp = tr.sequence_parallel and t > 1
    kinds = [kind for kind, count in zip((False, True), counts, strict=True) if count] or [False]
    drop_scores = tr.recompute == "selective"
    per_layer = {kind: card_layer_activations(ctx, kind, s, b, t, sp, drop_scores, e).bytes for kind in kinds}
    full = tr.recompute == "full"
    kept = checkpoint_bytes(spec, s, b, t, sp, e, tr.partition_activations, tr.cpu_checkpointing) if full else 0
    return (full, per_layer.get(False, 0), per_layer.get(True, 0), kept, max(per_layer.values()),
            backward_layer_bytes(ctx))


def end_pieces(ctx: CardContext) -> tuple[int, int, int]:
    """(per_microbatch, tail, logits) of :class:`RestPieces`: what the first and the last stage add."""
    tr, spec = ctx.training, ctx.model
    s = ceil_div(tr.seq, ctx.cp)
    b, t = tr.micro_batch, ctx.tp
    e = 4 if tr.precision == "fp32" else 2
    rep = t if tr.sequence_parallel and t > 1 else 1
    per_microbatch = tail = logits = 0
    if ctx.first:
        ids = (16 if spec.position_embedding == "learned" else 8) * s * b
        mask = ceil_div(s * b * spec.hidden, rep) if spec.dropout > 0 else 0
        per_microbatch = ids + mask
    if ctx.last:
        hf = ctx.method.framework == "huggingface"
        if hf:
            tail = hf_final_norm_bytes(spec, s, b, e)[0]
        else:
            tail = 2 * ceil_div(e * s * b * spec.hidden, rep) + ceil_div(norm_stat_bytes(spec) * s * b, rep)
        if spec.vocab is not None:
            if hf:
                logits = hf_logits_bytes(s, b, t, spec.vocab, e, ctx.method.transformers_version)[0]
            else:
                logits = ceil_div((4 + e) * s * b * spec.vocab, t) + 9 * s * b
            logits = logits_beside_kept(ctx, logits)
    return per_microbatch, tail, logits


def rest_pieces(ctx: CardContext) -> RestPieces:
    """The pieces of ``rest_bytes_fast(ctx)``.  They read the stage's layers only through which kinds
    (dense, MoE) it holds, and not ``ctx.in_flight_chunks`` or ``ctx.vpp`` (the backward buffers read
    neither)."""
    full, dense_layer, moe_layer, kept, working, backward = layer_pieces(ctx, layer_counts(ctx))
    per_microbatch, tail, logits = end_pieces(ctx)
    return RestPieces(full, dense_layer, moe_layer, kept, working, per_microbatch, tail, logits,
                      backward + backward_wgrad_bytes(ctx))


def rest_from_pieces(p: RestPieces, counts: tuple[int, int], chunks: int, vpp: int, reduce: int,
                     held: int = 0) -> int:
    """``peak_rest`` of a stage of ``counts`` (dense, MoE) layers with ``chunks`` chunk passes in flight, an
    all-reduce copy of ``reduce`` bytes and ``held`` bytes of the previous step's gradients beside the
    backward's (``held_gradient_bytes``), the optimizer step's temporaries left out (they depend on the
    ZeRO sharding; ``MemoryModel.step_table``)."""
    dense, moe = counts
    if p.full:
        total = p.kept * (ceil_div((dense + moe) * chunks, vpp) - 1) + p.working
    else:
        total = ceil_div((dense * p.dense_layer + moe * p.moe_layer) * chunks, vpp)
    total += p.per_microbatch * ceil_div(chunks, vpp) + p.tail  # ceil(chunks / vpp): micro-batches in flight
    # until the backward recomputes a layer, full recompute holds one more checkpoint instead of its working set
    after_forward = total - p.working + p.kept if p.full else None
    return peak_rest(total, p.logits, p.backward + held, reduce, 0, after_forward)


class PiecesTable(NamedTuple):
    """:class:`RestPieces` of several variants as int64 columns, combined with numpy."""

    pieces: tuple[RestPieces, ...]
    full: np.ndarray  # bool: full recompute
    parts: np.ndarray  # [field, variant]: dense_layer, moe_layer, kept, working, per_microbatch, tail
    logits: np.ndarray  # [variant]: the loss moment's logits
    backward: np.ndarray  # [variant]: the backward buffers but the held gradients (what reads the card's params)
    largest: int  # the largest piece

    @classmethod
    def of(cls, pieces: list[RestPieces]) -> PiecesTable:
        ints = [p[1:] for p in pieces]
        largest = max(max(row) for row in ints)
        if largest >= 2**62:  # int64 could overflow: rest() takes exact Python ints
            empty = np.zeros(0, dtype=np.int64)
            return cls(tuple(pieces), np.zeros(0, dtype=bool), np.zeros((6, 0), dtype=np.int64), empty, empty,
                       largest)
        parts = np.array([p[1:7] for p in pieces], dtype=np.int64).T
        logits = np.array([p.logits for p in pieces], dtype=np.int64)
        backward = np.array([p.backward for p in pieces], dtype=np.int64)
        return cls(tuple(pieces), np.array([p.full for p in pieces]), parts, logits, backward, largest)

    def rest(self, counts: tuple[int, int], chunks: tuple[int, ...], vpp: int, reduce: int,
             held: int = 0) -> np.ndarray:
        """``rest_from_pieces`` of each variant for each of ``chunks``: [chunks, variant] (int64, at most
        BYTES_CAP)."""
        dense, moe = counts
        if max(self.largest, reduce, held) * ((dense + moe + 2) * max(chunks) + 4) >= 2**62:  # int64 could overflow
            return np.array([[min(rest_from_pieces(p, counts, c, vpp, reduce, held), BYTES_CAP)
                              for p in self.pieces] for c in chunks], dtype=np.int64)
        c = np.array(chunks, dtype=np.int64)[:, None]
        dense_layer, moe_layer, kept, working, per_microbatch, tail = self.parts
        if self.full.all():
            total = kept * (-(-((dense + moe) * c) // vpp) - 1) + working
        elif not self.full.any():
            total = -(-((dense * dense_layer + moe * moe_layer) * c) // vpp)
        else:
            total = np.where(self.full, kept * (-(-((dense + moe) * c) // vpp) - 1) + working,
                             -(-((dense * dense_layer + moe * moe_layer) * c) // vpp))
        total = total + per_microbatch * -(-c // vpp) + tail
        recomputed = np.where(self.full, working - kept, 0)  # not alive before the backward (rest_from_pieces)
        total = np.maximum(total - recomputed + self.logits, total + self.backward + held)
        return np.minimum(np.maximum(total, reduce), BYTES_CAP)


def rest_bytes_fast(ctx: CardContext) -> int:
    """The peak on top of the static states, the optimizer step aside: ``peak_rest`` of the engine's
    activations, logits, backward buffers and all-reduce copy (detailed method), without the bytes every
    moment holds (the DeepSpeed pipeline's kept outputs: ``MemoryModel.kept_table``)."""
    return rest_from_pieces(rest_pieces(ctx), layer_counts(ctx), ctx.in_flight_chunks, ctx.vpp, reduce_bytes(ctx),
                            held_gradient_bytes(ctx))


def reduce_bytes(ctx: CardContext) -> int:
    """The gradient all-reduce's copy that does not depend on DP or ZeRO (``flattened_allreduce_bytes``:
    Megatron-LM of 2021); DeepSpeed's DP buckets are in ``MemoryModel.step_table``."""
    return flattened_allreduce_bytes(ctx, card_params(ctx).total)


def seed_rest_bytes_fast(ctx: CardContext) -> int:
    """``seed_breakdown(ctx)``'s activations (its logits and KV cache are 0)."""
    tr = ctx.training
    return ceil_div(SEED_ACTIVATION_FACTOR * tr.seq * ctx.model.hidden * ctx.layers * tr.micro_batch
                    * ctx.in_flight_chunks, ctx.vpp * ctx.tp)
