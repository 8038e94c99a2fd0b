"""The ``detailed`` method: real architectures, recompute, SP/TP/CP/EP, ZeRO 0-3, overhead."""

from __future__ import annotations

from engine.memory.activations import layer_activations, layer_input_bytes
from engine.memory.context import CardContext
from engine.memory.formatting import ceil_div, n
from engine.memory.model_states import communication_figure, model_state_figures
from engine.report import Breakdown, Figure, figure, make_breakdown


def _activation_bytes_per_element(ctx: CardContext) -> int:
    return 4 if ctx.training.precision == "fp32" else 2


def activation_figures(ctx: CardContext) -> tuple[Figure, tuple[Figure, ...]]:
    tr, spec = ctx.training, ctx.model
    s = ceil_div(tr.seq, ctx.cp)
    b, t, e = tr.micro_batch, ctx.tp, _activation_bytes_per_element(ctx)
    sp = tr.sequence_parallel and t > 1
    drop_scores = tr.recompute == "selective"
    chunks, vpp = ctx.in_flight_chunks, ctx.vpp
    per_layer: dict[bool, int] = {}
    formulas = []
    for moe_layer in sorted({spec.is_moe_layer(i) for i in ctx.layer_indices}):
        la = layer_activations(spec, moe_layer, s, b, t, sp, tr.flash_attention, drop_scores, e, ctx.ep)
        per_layer[moe_layer] = la.bytes
        formulas.append(("MoE layer: " if moe_layer else "layer: ") + la.formula)
    one_pass = sum(per_layer[spec.is_moe_layer(i)] for i in ctx.layer_indices)  # all chunks, one micro-batch
    if tr.recompute == "full":
        kept = layer_input_bytes(spec, s, b, t, sp, e)
        working = max(per_layer.values())
        # Every in-flight layer keeps only its input; the layer being recomputed in backward
        # holds its whole working set instead of its checkpoint (so: one checkpoint fewer).
        checkpoints = ceil_div(ctx.layers * chunks, vpp)
        total = kept * (checkpoints - 1) + working
        text = (f"full recompute: layer input {n(kept)} B × ({ctx.layers} layers × {chunks}/{vpp} chunk passes - 1)"
                f" + one layer's working set {n(working)} B")
    else:
        total = ceil_div(one_pass * chunks, vpp)
        text = f"{n(one_pass)} B for {ctx.layers} layers × {chunks}/{vpp} chunk passes in flight"
    extra = 0
    if ctx.first:
        # Megatron: input ids (int64) and the embedding dropout mask, per in-flight micro-batch.
        ids = 8 * s * b
        mask = ceil_div(s * b * spec.hidden, t if sp else 1) if spec.dropout > 0 else 0
        extra += (ids + mask) * ctx.in_flight_microbatches
        text += f" + embedding inputs ({n(ids)} + {n(mask)}) × {ctx.in_flight_microbatches}"
    if ctx.last:
        # final norm input and output-layer input of the one micro-batch in its backward
        tail = 2 * ceil_div(e * s * b * spec.hidden, t if sp else 1)
        extra += tail
        text += f" + final norm/output-layer inputs {n(tail)}"
    total += extra
    details = tuple(figure("activations_per_layer", "activations per layer", v, f)
                    for v, f in zip(per_layer.values(), formulas, strict=True))
    return figure("activations", "activations", total, text + f" = {n(total)} B"), details


def logits_figure(ctx: CardContext) -> Figure:
    if not ctx.last or ctx.model.vocab is None:
        return figure("logits", "logits and loss", 0, "0 (not the last stage)" if not ctx.last else "0 (no vocab)")
    tr = ctx.training
    s, b, t, V = ceil_div(tr.seq, ctx.cp), tr.micro_batch, ctx.tp, ctx.model.vocab
    e = _activation_bytes_per_element(ctx)
    # Megatron's vocab-parallel cross entropy upcasts the logits to fp32 and keeps them for
    # backward (4·s·b·V/t); the 16-bit logits coexist with that copy at the peak.
    bytes_ = ceil_div((4 + e) * s * b * V, t)
    return figure("logits", "logits and loss", bytes_, f"(4 + {e}) B × s {n(s)} × b {b} × V {n(V)} / TP {t}")


def overhead_figures(ctx: CardContext, visible: int) -> tuple[Figure, tuple[Figure, ...]]:
    o = ctx.method.overhead
    nccl = o.nccl_bytes if ctx.world > 1 else 0
    frag = int(visible * o.fragmentation_percent / 100)
    total = o.cuda_context_bytes + nccl + frag
    details = (
        figure("cuda_context", "CUDA context", o.cuda_context_bytes, f"{n(o.cuda_context_bytes)} B (profile constant)"),
        figure("nccl", "NCCL buffers", nccl, f"{n(nccl)} B" if nccl else "0 (single card)"),
        figure("fragmentation", "allocator reserve", frag, f"{o.fragmentation_percent}% × {n(visible)} B allocated"),
    )
    text = f"CUDA context {n(o.cuda_context_bytes)} + NCCL {n(nccl)} + fragmentation {n(frag)}"
    return figure("overhead", "runtime overhead", total, text), details


def detailed_breakdown(ctx: CardContext) -> Breakdown:
    parts, details, host = model_state_figures(ctx)
    act, act_details = activation_figures(ctx)
    parts["activations"] = act
    parts["logits"] = logits_figure(ctx)
    parts["communication"] = communication_figure(ctx)
    visible = sum(f.bytes for f in parts.values())
    parts["overhead"], overhead_details = overhead_figures(ctx, visible)
    return make_breakdown(parts, details + act_details + overhead_details, host_bytes=host)
