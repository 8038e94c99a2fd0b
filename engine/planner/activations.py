"""Activations + logits of one card for the planner: ``engine.training.memory.detailed``'s numbers without its text.

``activation_figures(ctx)[0].bytes + logits_figure(ctx).bytes`` builds labels and
formulas for every call; the search needs only the sum, for thousands of
(stage, micro-batch, recompute, SP, chunks) signatures.  This is the same
arithmetic on the engine's own (memoised) per-layer figures, for the Megatron
and DeepSpeed profiles (the Hugging Face profile always goes to the engine), and
the seed method's activation rule.
:class:`engine.planner.memory.MemoryModel` checks it against the engine once
per (stage, recompute, SP) signature and uses the engine where they differ.
"""

from __future__ import annotations

from engine.report.formatting import ceil_div
from engine.training.memory.activations import checkpoint_bytes, layer_activations, norm_stat_bytes
from engine.training.memory.context import CardContext
from engine.training.memory.detailed import backward_peak_rest
from engine.training.memory.seed import SEED_ACTIVATION_FACTOR
from engine.training.memory.transients import backward_transient


def rest_bytes_fast(ctx: CardContext) -> int:
    """The backward peak on top of the static states: ``backward_peak_rest`` of the engine's activations,
    logits and backward buffers (detailed method, not Hugging Face)."""
    tr, spec = ctx.training, ctx.model
    s = ceil_div(tr.seq, ctx.cp)
    b, t = tr.micro_batch, ctx.tp
    e = 4 if tr.precision == "fp32" else 2
    sp = tr.sequence_parallel and t > 1
    rep = t if sp else 1
    chunks, vpp = ctx.in_flight_chunks, ctx.vpp
    kinds = [spec.is_moe_layer(i) for i in ctx.layer_indices] if spec.moe is not None else [False]
    per_layer = {moe: layer_activations(spec, moe, s, b, t, sp, tr.flash_attention, tr.recompute == "selective",
                                        e, ctx.ep, tr.expert_load).bytes for moe in set(kinds)}
    if tr.recompute == "full":
        checkpoints = ceil_div(ctx.layers * chunks, vpp)
        kept = checkpoint_bytes(spec, s, b, t, sp, e, tr.partition_activations, tr.cpu_checkpointing)
        total = kept * (checkpoints - 1) + max(per_layer.values())
    else:
        one_pass = sum(per_layer[k] for k in kinds) if spec.moe is not None else per_layer[False] * ctx.layers
        total = ceil_div(one_pass * chunks, vpp)
    if ctx.first:
        ids = (16 if spec.position_embedding == "learned" else 8) * s * b
        mask = ceil_div(s * b * spec.hidden, rep) if spec.dropout > 0 else 0
        total += (ids + mask) * ctx.in_flight_microbatches
    logits = 0
    if ctx.last:
        total += 2 * ceil_div(e * s * b * spec.hidden, rep) + ceil_div(norm_stat_bytes(spec) * s * b, rep)
        if spec.vocab is not None:
            logits = ceil_div((4 + e) * s * b * spec.vocab, t) + 9 * s * b
    return backward_peak_rest(total, logits, backward_transient(ctx).bytes)


def seed_rest_bytes_fast(ctx: CardContext) -> int:
    """``seed_breakdown(ctx)``'s activations (its logits and KV cache are 0)."""
    tr = ctx.training
    return ceil_div(SEED_ACTIVATION_FACTOR * tr.seq * ctx.model.hidden * ctx.layers * tr.micro_batch
                    * ctx.in_flight_chunks, ctx.vpp * ctx.tp)
