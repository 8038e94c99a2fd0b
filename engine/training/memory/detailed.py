"""The ``detailed`` method: real architectures, recompute, SP/TP/CP/EP, ZeRO 0-3, overhead."""

from __future__ import annotations

from collections.abc import Callable

from engine.report.formatting import ceil_div, n
from engine.report.records import Breakdown, Figure, Moment, figure, make_breakdown
from engine.training.memory.activations import (
    LayerActivations,
    checkpoint_bytes,
    layer_activations,
    norm_stat_bytes,
)
from engine.training.memory.context import CardContext
from engine.training.memory.first_step import OPTIMIZER_STEP, before_first_step
from engine.training.memory.fsdp import FsdpUnits
from engine.training.memory.gradient_lifetime import (
    BackwardGradients,
    backward_gradients,
    gradients_start_at_backward,
)
from engine.training.memory.huggingface import (
    hf_final_norm_bytes,
    hf_layer_activations,
    hf_logits_bytes,
)
from engine.training.memory.litgpt import litgpt_full_layer_activations
from engine.training.memory.megatron2021_replay import megatron_2021_replay
from engine.training.memory.model_states import (
    card_params,
    communication_figure,
    fsdp_units,
    grad_bytes_per_param,
    model_state_figures,
)
from engine.training.memory.transients import (
    allreduce_transient,
    backward_transient,
    optimizer_step_transient,
)
from engine.training.memory.workspace import library_workspace_bytes


def _activation_bytes_per_element(ctx: CardContext) -> int:
    return 4 if ctx.training.precision == "fp32" else 2


def card_layer_activations(ctx: CardContext, moe_layer: bool, s: int, b: int, t: int, sp: bool, drop_scores: bool,
                           e: int) -> LayerActivations:
    """One layer's saved tensors under the plan's framework profile (and LitGPT's block for a dense layer of
    ``method.model_code`` litgpt: flash attention, no tensor parallelism, as LitGPT runs it)."""
    flash = ctx.training.flash_attention
    if ctx.method.framework == "huggingface":
        if ctx.method.model_code == "litgpt" and not moe_layer and ctx.model.mla is None and t == 1 and flash:
            return litgpt_full_layer_activations(ctx.model, s, b, e)
        return hf_layer_activations(ctx.model, moe_layer, s, b, t, flash, drop_scores, e)
    return layer_activations(ctx.model, moe_layer, s, b, t, sp, flash, drop_scores, e, ctx.ep, ctx.training.expert_load)


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
        la = card_layer_activations(ctx, moe_layer, s, b, t, sp, drop_scores, e)
        per_layer[moe_layer] = la.bytes
        formulas.append(("MoE layer: " if moe_layer else "layer: ") + la.formula)
    one_pass = sum(per_layer[spec.is_moe_layer(i)] for i in ctx.layer_indices)  # all chunks, one micro-batch
    if tr.recompute == "full":
        kept = checkpoint_bytes(spec, s, b, t, sp, e, tr.partition_activations, tr.cpu_checkpointing)
        working = max(per_layer.values())
        # Every in-flight layer keeps only its input; the layer being recomputed in backward
        # holds its whole working set instead of its checkpoint (so: one checkpoint fewer).
        checkpoints = ceil_div(ctx.layers * chunks, vpp)
        total = kept * (checkpoints - 1) + working
        after_forward = kept * checkpoints  # before the backward recomputes a layer: every checkpoint alone
        where = ("on the GPU (the checkpoints are in CPU memory: cpu_checkpointing)" if tr.cpu_checkpointing else
                 f"(1/{t} per TP rank: partition_activations)" if tr.partition_activations and t > 1 and not sp else "")
        text = (f"full recompute: layer input {n(kept)} B{' ' + where if where else ''} × ({ctx.layers} layers × "
                f"{chunks}/{vpp} chunk passes - 1) + one layer's working set {n(working)} B")
    else:
        total = ceil_div(one_pass * chunks, vpp)
        text = f"{n(one_pass)} B for {ctx.layers} layers × {chunks}/{vpp} chunk passes in flight"
    ends = _stage_end_figures(ctx, s, b, t, sp, e)
    for f in ends:
        total += f.bytes
        text += f" + {f.label} {n(f.bytes)}"
    details = tuple(figure("activations_per_layer", "activations per layer", v, f)
                    for v, f in zip(per_layer.values(), formulas, strict=True))
    if tr.recompute == "full":
        after_forward += sum(f.bytes for f in ends)
        details += (figure("activations_after_forward", "activations until the backward", after_forward,
                           f"full recompute, no layer recomputed yet: layer input {n(kept)} B × {checkpoints} "
                           f"checkpoints + the stage's ends = {n(after_forward)} B"),)
    return figure("activations", "activations", total, text + f" = {n(total)} B"), details + ends


def _stage_end_figures(ctx: CardContext, s: int, b: int, t: int, sp: bool, e: int) -> tuple[Figure, ...]:
    """What the embedding (first stage) and the final norm + output layer (last stage) keep."""
    spec, out = ctx.model, []
    rep = t if sp else 1
    if ctx.first:
        # Input ids (int64; with learned positions also Megatron's int64 position ids) and the
        # embedding dropout mask, per in-flight micro-batch.
        ids = (16 if spec.position_embedding == "learned" else 8) * s * b
        mask = ceil_div(s * b * spec.hidden, rep) if spec.dropout > 0 else 0
        k = ctx.in_flight_microbatches
        out.append(figure("embedding_inputs", "embedding inputs", (ids + mask) * k,
                          f"(ids {n(ids)} + dropout mask {n(mask)}) × {k} micro-batches"))
    if ctx.last:
        # The one micro-batch in its backward: final norm input (+ fp32 statistics) and output-layer input.
        if ctx.method.framework == "huggingface":
            tail, text = hf_final_norm_bytes(spec, s, b, e)
        else:
            stats = norm_stat_bytes(spec) * s * b
            tail = 2 * ceil_div(e * s * b * spec.hidden, rep) + ceil_div(stats, rep)
            text = f"2 × {e} B × s·b·h / {rep} + norm statistics {n(ceil_div(stats, rep))}"
        out.append(figure("output_layer_inputs", "final norm/output-layer inputs", tail, text))
    return tuple(out)


def logits_figure(ctx: CardContext) -> Figure:
    if not ctx.last or ctx.model.vocab is None:
        return figure("logits", "logits and loss", 0, "0 (not the last stage)" if not ctx.last else "0 (no vocab)")
    tr = ctx.training
    s, b, t, V = ceil_div(tr.seq, ctx.cp), tr.micro_batch, ctx.tp, ctx.model.vocab
    e = _activation_bytes_per_element(ctx)
    if ctx.method.framework == "huggingface":
        bytes_, text = hf_logits_bytes(s, b, t, V, e, ctx.method.transformers_version)
        return figure("logits", "logits and loss", bytes_, text)
    # Megatron's vocab-parallel cross entropy upcasts the logits to fp32 and keeps them for
    # backward (4·s·b·V/t); the 16-bit logits coexist with that copy at the peak.  It also
    # keeps a bool target mask and the int64 masked targets (9·s·b).
    bytes_ = ceil_div((4 + e) * s * b * V, t) + 9 * s * b
    return figure("logits", "logits and loss", bytes_,
                  f"(4 + {e}) B × s {n(s)} × b {b} × V {n(V)} / TP {t} + 9 B × s·b target mask and ids")


PIPE_OUTPUT_BUFFERS = 2  # TrainSchedule.num_pipe_buffers on the last stage: max(2, min(stages - stage_id, m))


def kept_logits_buffers(ctx: CardContext) -> int:
    """How many micro-batches' fp32 logits the card keeps through every moment of the step: DeepSpeed's
    pipeline keeps its last stage's two outputs; a training loop that binds the model's output to a name
    (``method.model_code`` litgpt) keeps the last one until the next forward returns; else none."""
    if not ctx.last or ctx.model.vocab is None:
        return 0
    if ctx.method.framework == "deepspeed" and not ctx.first:
        return PIPE_OUTPUT_BUFFERS
    return 1 if ctx.method.model_code == "litgpt" else 0


def pipeline_output_buffers(ctx: CardContext) -> Figure:
    """The fp32 logits the card keeps through every moment of the step (:func:`kept_logits_buffers`).

    DeepSpeed's pipeline: Megatron-DeepSpeed's GPTModelPipe ends with ``float16_to_fp32``, so a last stage's
    output is its micro-batch's fp32 logits; ``PipelineEngine._exec_forward_pass`` stores it in
    ``pipe_buffers['outputs']`` and, on the last stage, ``_exec_backward_pass`` returns right after the
    loss's backward without freeing it (``deepspeed/runtime/pipe/engine.py``, v0.4.0 to today).  Each
    of the stage's two pipe buffers holds its last output until the next forward into it, through the
    optimizer step: 2 × 4 B × s·b·V/TP.

    LitGPT's full fine-tuning loop binds ``logits = model(input_ids)`` (``litgpt/finetune/full.py``) and
    Fabric returns them in fp32 (``convert_output``), so the micro-batch's logits stay alive through its
    backward, the optimizer step and the next micro-batch's forward, until the name is rebound: 4 B × s·b·V."""
    buffers = kept_logits_buffers(ctx)
    if not buffers:
        return figure("logits", "pipeline output buffers", 0,
                      "0 (DeepSpeed pipeline's last stage, or a loop that keeps its logits, only)")
    tr = ctx.training
    s, b, t, V = ceil_div(tr.seq, ctx.cp), tr.micro_batch, ctx.tp, ctx.model.vocab
    assert V is not None
    one = ceil_div(4 * s * b * V, t)
    who = (f"DeepSpeed pipeline keeps the last {buffers} outputs" if buffers == PIPE_OUTPUT_BUFFERS
           else "the training loop keeps the last micro-batch's logits until the next forward returns")
    label = "pipeline output buffers" if buffers == PIPE_OUTPUT_BUFFERS else "logits kept by the loop"
    return figure("logits", label, buffers * one,
                  f"{who}: {buffers} × fp32 logits 4 B × s {n(s)} × b {b} × V {n(V)} / TP {t} = {n(buffers * one)} B")


REPLAYED_RESERVE = "allocator reserve (replayed)"  # the fragmentation figure's label under the allocator replay


def fragmentation_figure(ctx: CardContext, visible: int, *, with_state: bool = True,
                         side_streams: Figure | None = None) -> Figure:
    """The allocator's reserve above the ``visible`` bytes it allocates: the plan's percentage (with FSDP, plus
    what its own streams keep: ``side_streams``), or (``fragmentation_model`` replay) what PyTorch's caching
    allocator adds over the card's replayed iterations (``with_state=False``: iterations whose optimizer never
    steps): the caller's replay (``ctx.replayed_reserve``), else Megatron-LM 2021's."""
    o = ctx.method.overhead
    if ctx.replayed_reserve is not None:  # the caller's replay (fine-tuning: asked for, or by default)
        return ctx.replayed_reserve.at_peak if with_state else ctx.replayed_reserve.before_first_step
    if o.fragmentation_model == "replay":
        r = megatron_2021_replay(ctx, with_state=with_state)
        return figure("fragmentation", REPLAYED_RESERVE, r.reserve,
                      f"PyTorch caching allocator replayed over {r.iterations} Megatron-LM 2021 iterations of this "
                      f"stage ({r.skipped_steps} skipped optimizer step{'s' * (r.skipped_steps != 1)}): peak reserved "
                      f"{n(r.peak_reserved)} B − peak allocated {n(r.peak_allocated)} B = {n(r.reserve)} B")
    return percent_reserve_figure(o.fragmentation_percent, visible, side_streams)


def percent_reserve_figure(percent: float, visible: int, side_streams: Figure | None = None) -> Figure:
    """The allocator's reserve as ``percent`` of the ``visible`` bytes it allocates (training and fine-tuning),
    plus FSDP's side streams' segments when the card runs FSDP (:meth:`FsdpUnits.side_streams`)."""
    share = int(visible * percent / 100)
    if side_streams is None:
        return figure("fragmentation", "allocator reserve", share, f"{percent}% × {n(visible)} B allocated")
    return figure("fragmentation", "allocator reserve", share + side_streams.bytes,
                  f"{percent}% × {n(visible)} B allocated = {n(share)} B + FSDP's side streams: {side_streams.formula}"
                  f" = {n(side_streams.bytes)} B")


def overhead_figures(ctx: CardContext, visible: int, *, with_state: bool = True,
                     side_streams: Figure | None = None) -> tuple[Figure, tuple[Figure, ...]]:
    """CUDA context, NCCL, the allocator reserve on the ``visible`` bytes (with FSDP's ``side_streams``), and the
    library workspaces (which PyTorch's allocator holds: ``details.library_workspace`` is part of its peak)."""
    o = ctx.method.overhead
    nccl = o.nccl_bytes if ctx.world > 1 else 0
    frag = fragmentation_figure(ctx, visible, with_state=with_state, side_streams=side_streams)
    lib, lib_text = library_workspace_bytes(ctx.method)
    total = o.cuda_context_bytes + nccl + frag.bytes + lib
    details = (
        figure("cuda_context", "CUDA context", o.cuda_context_bytes, f"{n(o.cuda_context_bytes)} B (profile constant)"),
        figure("nccl", "NCCL buffers", nccl, f"{n(nccl)} B" if nccl else "0 (single card)"),
        frag,
        figure("library_workspace", "cuBLAS / Transformer Engine workspaces", lib, lib_text),
    )
    text = (f"CUDA context {n(o.cuda_context_bytes)} + NCCL {n(nccl)} + fragmentation {n(frag.bytes)}"
            f" + library workspaces {n(lib)}")
    return figure("overhead", "runtime overhead", total, text), details


# Warm-up forwards a timeline shows at most: with hundreds of micro-batches in flight (deep pipelines)
# the ramp keeps its first and last steps and evenly spaced ones between.
WARMUP_MOMENTS = 8


def warmup_steps(in_flight: int) -> list[int]:
    """The warm-up forwards (1-based, ascending) a timeline shows of ``in_flight``: all of them up to
    ``WARMUP_MOMENTS``, else the first, the last and evenly spaced ones."""
    if in_flight <= WARMUP_MOMENTS:
        return list(range(1, in_flight + 1))
    return sorted({1} | {-(-i * in_flight // WARMUP_MOMENTS) for i in range(1, WARMUP_MOMENTS + 1)})


def step_timeline(ctx: CardContext, static: dict[str, Figure], act: Figure, logits: Figure,
                  backward: Figure, reduce: Figure, step: Figure,
                  warmups: Callable[[int], list[int]] | None = None,
                  kept: int = 0, fresh: BackwardGradients | None = None,
                  after_forward: int | None = None,
                  fsdp: FsdpUnits | None = None) -> tuple[tuple[Moment, ...], int]:
    """The card's step moment by moment, and the index of its peak.

    ``static`` (weights, gradients, optimizer states, communication buffers) lives through
    the step, except gradients that start at the backward (``fresh``, :mod:`gradient_lifetime`): the
    start, the forwards and the loss hold none, the backward of the stage's last layer the output
    layer's and that layer's, and the backward of its first layer every gradient but the embedding's
    beside that layer's activations only (a moment of its own).  The warm-up forwards add the
    in-flight micro-batches' activations (1F1B: ``in_flight`` of them on this stage); the last
    stage then computes the loss over the
    full logits and its gradient; the first backward runs with every in-flight activation
    still saved plus that layer's backward buffers; a framework that reduces gradients through a
    flattened copy does so after the backward; the optimizer step runs after the
    activations are freed, with its own temporaries.

    ``after_forward``: the activations the forward leaves (full recompute: every checkpoint, no layer's
    working set, which the backward's recompute adds); the forwards and the loss hold that, the backward
    ``act``.  None: ``act``.

    ``fsdp``: the units PyTorch FSDP gathers whole (:mod:`engine.training.memory.fsdp`): the communication
    part of each moment is what FSDP holds unsharded then, nothing at the start and the optimizer step.

    ``kept``: logits the framework keeps through every moment (:func:`pipeline_output_buffers`); at the
    loss moment one of its buffers holds the current micro-batch's logits, which ``logits`` counts.

    Forward j of k holds ``act * j // k`` bytes of activations, which never falls as j grows
    (``act`` is not negative): no warm-up forward is above the last one, and the last one is not
    above the start unless ``act`` is positive.  So the moments :func:`warmup_steps` leaves out are
    never the (first) highest moment, and the peak is the one the full walk would find.
    """
    statics = tuple((k, f.bytes) for k, f in static.items())
    base = (*statics, ("logits", kept)) if kept else statics
    # without gradients until the backward (gradient_lifetime): the start, the forwards and the loss
    early_statics = tuple((k, 0 if k == "gradients" else b) for k, b in statics) if fresh else statics
    early = (*early_statics, ("logits", kept)) if kept else early_statics
    k = max(1, ctx.in_flight_microbatches)
    moments = [Moment("step start: weights, optimizer states (zero_grad freed the gradients)" if fresh
                      else "step start: weights, gradients, optimizer states", early, "start")]
    forward = act.bytes if after_forward is None else after_forward
    for j in (warmups or warmup_steps)(k):
        moments.append(Moment(f"forward of micro-batch {j} of {k} in flight",
                              (*early, ("activations", forward * j // k)), f"forward {j}/{k}"))
    if logits.bytes:
        at_loss = kept + logits_beside_kept(ctx, logits.bytes)
        moments.append(Moment("loss over the full logits and its gradient",
                              (*early_statics, ("activations", forward), ("logits", at_loss)), "loss"))
    if fresh is None:
        moments.append(Moment("backward of the first layer, every in-flight activation saved",
                              (*base, ("activations", act.bytes), ("transient", backward.bytes)), "backward"))
    else:
        made = tuple((k, fresh.first_layer if k == "gradients" else b) for k, b in early)
        moments.append(Moment("backward of the first layer, every in-flight activation saved",
                              (*made, ("activations", act.bytes), ("transient", backward.bytes)), "backward"))
        made = tuple((k, fresh.last_layer if k == "gradients" else b) for k, b in early)
        moments.append(Moment("backward of the stage's first layer, the later layers' gradients made",
                              (*made, ("activations", fresh.last_layer_activations), ("transient", backward.bytes)),
                              "backward end"))
    if reduce.bytes:
        moments.append(Moment("gradient all-reduce", (*base, ("transient", reduce.bytes)), "all-reduce"))
    moments.append(Moment("optimizer step", (*base, ("transient", step.bytes)), OPTIMIZER_STEP))
    if fsdp is not None:
        moments = list(fsdp.across(moments))
    peak = max(range(len(moments)), key=lambda i: moments[i].total_bytes)
    return tuple(moments), peak


def logits_beside_kept(ctx: CardContext, logits: int) -> int:
    """What the loss moment's ``logits`` add to the logits the card keeps (:func:`pipeline_output_buffers`):
    the current micro-batch's fp32 logits already fill one of their buffers."""
    buffers = kept_logits_buffers(ctx)
    if not buffers:
        return logits
    return max(0, logits - pipeline_output_buffers(ctx).bytes // buffers)


def peak_rest(act: int, logits: int, backward: int, reduce: int, step: int, after_forward: int | None = None) -> int:
    """What the highest moment of :func:`step_timeline` adds to the static states (and the kept pipeline
    outputs, which every moment holds: pass ``logits`` through :func:`logits_beside_kept`), in closed form.

    On top of them a warm-up forward holds at most ``after_forward`` (``act`` when None), the loss
    ``after_forward + logits``, the first backward ``act + backward``, the gradient all-reduce ``reduce``
    and the optimizer step ``step`` (all non-negative, ``after_forward`` at most ``act``)."""
    forward = act if after_forward is None else after_forward
    return max(forward + logits, act + backward, reduce, step)


def host_checkpoint_bytes(ctx: CardContext) -> int:
    """DeepSpeed ``cpu_checkpointing``: this rank's partitions of every in-flight checkpoint, in host memory."""
    tr = ctx.training
    if not tr.cpu_checkpointing:
        return 0
    s, t = ceil_div(tr.seq, ctx.cp), ctx.tp
    sp = tr.sequence_parallel and t > 1
    # the partition this rank would keep on the GPU without cpu_checkpointing (cpu_checkpointing needs partitions)
    part = checkpoint_bytes(ctx.model, s, tr.micro_batch, t, sp, _activation_bytes_per_element(ctx), True, False)
    return part * ceil_div(ctx.layers * ctx.in_flight_chunks, ctx.vpp)


def _logits_at_peak(bytes_: int, logits: Figure, kept: Figure, at_loss: bool) -> Figure:
    """The breakdown's logits part at the peak moment: the loss's logits, the pipeline's kept outputs, both
    (the current micro-batch's logits in one of the kept buffers), or nothing."""
    if not bytes_:
        return _zero(logits, "not alive at the peak")
    if not kept.bytes:
        return logits
    if not at_loss:
        return kept
    if bytes_ == logits.bytes:  # one kept buffer: it is the current micro-batch's, inside the loss's logits
        return logits
    return figure("logits", "logits and loss", bytes_,
                  f"{logits.formula} + the other kept pipeline output {n(bytes_ - logits.bytes)} B")


def detailed_breakdown(ctx: CardContext) -> Breakdown:
    static, details, host = model_state_figures(ctx)
    host += host_checkpoint_bytes(ctx)
    static["communication"] = communication_figure(ctx)
    act, act_details = activation_figures(ctx)
    logits = logits_figure(ctx)
    backward = backward_transient(ctx)
    moments_bytes = next(f.bytes for f in details if f.key == "optimizer_moments")
    step = optimizer_step_transient(ctx, moments_bytes)
    reduce = allreduce_transient(ctx, card_params(ctx).total)
    kept = pipeline_output_buffers(ctx)
    fresh = _backward_gradients(ctx, act_details) if gradients_start_at_backward(ctx) else None
    after = next((f for f in act_details if f.key == "activations_after_forward"), None)
    units = fsdp_units(ctx) if ctx.fsdp else None
    timeline, peak = step_timeline(ctx, static, act, logits, backward, reduce, step, kept=kept.bytes, fresh=fresh,
                                   after_forward=None if after is None else after.bytes, fsdp=units)
    live = dict(timeline[peak].live)
    parts = dict(static)
    if units is not None:
        parts["communication"] = units.figure(timeline[peak].short)
    parts["gradients"] = _gradients_at_peak(static["gradients"], live.get("gradients", 0), fresh)
    parts["activations"] = _activations_at_peak(act, after, fresh, timeline[peak], live.get("activations", 0))
    parts["logits"] = _logits_at_peak(live.get("logits", 0), logits, kept, timeline[peak].short == "loss")
    transient = {"optimizer step": step, "gradient all-reduce": reduce}.get(timeline[peak].label, backward)
    parts["transient"] = transient if live.get("transient") else _zero(transient, "not alive at the peak")
    visible = sum(f.bytes for f in parts.values())
    side = (None if units is None else
            units.side_streams(timeline[peak].short, static["gradients"].bytes - parts["gradients"].bytes))
    parts["overhead"], overhead_details = overhead_figures(ctx, visible, side_streams=side)
    peak_note = figure("peak_moment", f"peak: {timeline[peak].label}", visible, "allocator-visible bytes at the peak")
    first = before_first_step(ctx, timeline, moments_bytes,
                              lambda v: overhead_figures(ctx, v, with_state=False, side_streams=side)[0].bytes)
    moments_details = (Figure("backward_buffers", backward.label, backward.bytes, backward.formula),
                       Figure("loop_kept_logits" if kept_logits_buffers(ctx) == 1 else "pipeline_output_buffers",
                              kept.label, kept.bytes, kept.formula),
                       Figure("optimizer_step_temporaries", step.label, step.bytes, step.formula),
                       Figure("allreduce_buffer", reduce.label, reduce.bytes, reduce.formula),
                       Figure("loss_logits", logits.label, logits.bytes, logits.formula))
    return make_breakdown(parts, details + act_details + moments_details + (peak_note,) + overhead_details,
                          host_bytes=host, timeline=timeline, peak_moment=peak, before_first_step=first)


def _backward_gradients(ctx: CardContext, act_details: tuple[Figure, ...]) -> BackwardGradients:
    """``backward_gradients`` of a card whose gradients start at the backward, from its activation figures."""
    kinds = sorted({ctx.model.is_moe_layer(i) for i in ctx.layer_indices})
    per_layer = dict(zip(kinds, (f.bytes for f in act_details if f.key == "activations_per_layer"), strict=True))
    inputs = sum(f.bytes for f in act_details if f.key == "embedding_inputs")
    per_param = grad_bytes_per_param(ctx.method.framework, ctx.training.precision)
    return backward_gradients(ctx, per_param, per_layer, inputs, ctx.shard if ctx.fsdp else 1)


def _activations_at_peak(act: Figure, after: Figure | None, fresh: BackwardGradients | None, moment: Moment,
                         live: int) -> Figure:
    """The activations part of the breakdown at the peak ``moment`` holding ``live`` bytes of them: all of them
    (a backward), those the forward leaves under full recompute (``after``: the loss, a forward), the stage's
    first layer's at the end of a backward whose gradients start there (``fresh``), or none."""
    if fresh is not None and moment.short == "backward end":
        return figure("activations", "activations", fresh.last_layer_activations,
                      "the stage's first layer being back-propagated: its activations and the embedding inputs "
                      f"(the other layers' freed) = {n(fresh.last_layer_activations)} B")
    if not live:
        return _zero(act, "freed at the peak")
    if after is not None and live == after.bytes and moment.short != "backward":
        return Figure("activations", "activations", after.bytes, after.formula)
    if live == act.bytes:
        return act
    return figure("activations", "activations", live, f"{moment.label}: {n(live)} B of {act.formula}")


def _gradients_at_peak(grads: Figure, live: int, fresh: BackwardGradients | None) -> Figure:
    """The gradients part of the breakdown: all of them, none (freed by zero_grad, the backward not yet run),
    or those the backward has made by the peak moment."""
    if live == grads.bytes:
        return grads
    if not live:
        return _zero(grads, "not yet created at the peak: zero_grad(set_to_none) freed them after the last step "
                     "and this step's backward has not run")
    assert fresh is not None
    formula = fresh.formula_first if live == fresh.first_layer else fresh.formula_last
    return figure("gradients", grads.label, live, formula)


def _zero(f: Figure, why: str) -> Figure:
    return Figure(f.key, f.label, 0, f"0 ({why}; {f.formula})")
