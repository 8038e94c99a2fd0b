"""The article's method, exactly (``../shared/seed/article-zh.txt``).

* Model + optimizer states: 18 B/param = 2 (bf16 weights) + 4 (fp32 grads,
  Megatron's main_grad) + 4 (fp32 master) + 4 + 4 (Adam moments).
* ZeRO-1 shards the 12 B of master + moments over DP; ZeRO-2 also the 4 B of
  gradients; ZeRO-3 also the 2 B of weights.
* PP splits everything by the stage's share of layers.
* Activations: 40 * S * H * L bytes per sample, split over PP; stage k holds
  min(PP - k + 1, micro-batches) micro-batches (1F1B, k 1-based).
* No runtime overhead, no logits, no communication buffers.

TP (not in the article) divides every term by the TP size.
"""

from __future__ import annotations

from engine.model.params import parameter_count
from engine.report.formatting import ceil_div, n
from engine.report.records import Breakdown, figure, make_breakdown
from engine.training.memory.context import CardContext

SEED_WEIGHT_BYTES = 2
SEED_GRAD_BYTES = 4
SEED_MASTER_BYTES = 4
SEED_MOMENT_BYTES = 8
SEED_ACTIVATION_FACTOR = 40  # bytes per (token x hidden x layer), the article's rule


def seed_breakdown(ctx: CardContext) -> Breakdown:
    model, training = ctx.model, ctx.training
    params = parameter_count(model)
    total_layers, stage_layers = model.layers, ctx.layers
    t, shard = ctx.tp, ctx.shard
    share = f"{n(params)} params × {stage_layers}/{total_layers} layers" + (f" / TP {t}" if t > 1 else "")

    def part(bytes_per_param: int, sharded: bool) -> tuple[int, str]:
        div = total_layers * t * (shard if sharded else 1)
        text = f"{bytes_per_param} B × {share}" + (f" ÷ {shard} (sharded over DP = {shard} ranks)" if sharded and shard > 1 else "")
        return ceil_div(bytes_per_param * params * stage_layers, div), text

    w, w_text = part(SEED_WEIGHT_BYTES, training.zero >= 3)
    g, g_text = part(SEED_GRAD_BYTES, training.zero >= 2)
    zero_opt = training.shards_optimizer
    master, m_text = part(SEED_MASTER_BYTES, zero_opt)
    moments, mo_text = part(SEED_MOMENT_BYTES, zero_opt)
    opt_gpu = 0 if training.offload_optimizer else master + moments
    host = master + moments if training.offload_optimizer else 0

    s, h, b = training.seq, model.hidden, training.micro_batch
    chunks = ctx.in_flight_chunks
    act = ceil_div(SEED_ACTIVATION_FACTOR * s * h * stage_layers * b * chunks, ctx.vpp * t)
    act_text = (
        f"40 × S {n(s)} × H {n(h)} × {stage_layers} layers × micro-batch {b} × {ctx.in_flight_microbatches} in flight"
        + (f" / TP {t}" if t > 1 else "")
    )
    opt_text = f"master {m_text} + moments {mo_text}" + (" (offloaded to CPU)" if training.offload_optimizer else "")
    parts = {
        "weights": figure("weights", "weights (bf16)", w, w_text),
        "gradients": figure("gradients", "gradients (fp32)", g, g_text),
        "optimizer_states": figure("optimizer_states", "optimizer states", opt_gpu, opt_text),
        "activations": figure("activations", "activations", act, act_text),
        "overhead": figure("overhead", "overhead", 0, "0 (the seed method ignores runtime overhead)"),
    }
    details = (
        figure("master_weights", "fp32 master weights", 0 if host else master, m_text),
        figure("adam_moments", "Adam moments", 0 if host else moments, mo_text),
        figure("activations_per_sample", "activations per sample (whole model)",
               SEED_ACTIVATION_FACTOR * s * h * total_layers, f"40 × {n(s)} × {n(h)} × {total_layers}"),
    )
    return make_breakdown(parts, details, host_bytes=host)
