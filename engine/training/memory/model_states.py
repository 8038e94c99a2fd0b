"""Weights, gradients and optimizer states on one card (``detailed`` method).

Profiles:

* ``megatron``: bf16 weights (2 B), fp32 main grads (4 B, Megatron accumulates
  ``main_grad`` in fp32), fp32 master weights + Adam moments (12 B).  The
  distributed optimizer (= ZeRO-1) shards only master + moments over DP x CP:
  6 + 12/DP bytes per parameter, as in Megatron's
  ``compute_weight_and_optimizer_memory``.  ZeRO-2/3 additionally shard the
  gradients / weights (Megatron-FSDP).
* ``deepspeed``: the ZeRO paper's accounting, 2 + 2 + K with K = 12
  (fp16/bf16 weights and gradients, fp32 master + moments); ZeRO-1 shards K,
  ZeRO-2 also the gradients, ZeRO-3 also the weights.  DeepSpeed's own
  ``estimate_zero2_model_states_mem_needs`` is the conservative 4 + 16/N
  (fp16 gradients kept whole during backward, plus an fp32 gradient partition);
  here the gradient bucket it keeps is the ``communication`` part instead.

Routed experts shard their optimizer over the expert-data-parallel group
(DP x CP / EP), dense parameters over DP x CP.
"""

from __future__ import annotations

from dataclasses import dataclass

from engine.model.params import parameter_counts
from engine.report.formatting import ceil_div, n
from engine.report.records import Figure, figure
from engine.training.memory.context import CardContext
from engine.training.memory.deepspeed_optimizer import deepspeed_bf16_optimizer
from engine.training.memory.fsdp import FsdpUnits, gathered


@dataclass(frozen=True, slots=True)
class CardParams:
    dense: int  # parameters of this card that shard over DP x CP
    experts: int  # routed-expert parameters of this card (shard over DP x CP / EP)
    embedding: int  # part of `dense`: input embedding (+ positions)
    output_layer: int  # part of `dense`: output layer (or the tied copy on the last stage)
    largest_module: int  # largest single module on this card (DeepSpeed's ZeRO-3 gather unit)

    @property
    def total(self) -> int:
        return self.dense + self.experts


def card_params(ctx: CardContext) -> CardParams:
    counts = parameter_counts(ctx.model)
    t, ep = ctx.tp, ctx.ep
    dense = experts = 0
    for i in ctx.layer_indices:
        layer = counts.layers[i]
        on_card = layer.per_tp_rank(t, ep, t)
        layer_experts = ceil_div(layer.experts, ep * t)
        dense += on_card - layer_experts
        experts += layer_experts
    embedding = output = 0
    if ctx.first:
        embedding = ceil_div(counts.embedding, t) + counts.position_embedding
    if ctx.last:
        output = counts.final_norm + ceil_div(counts.output_layer, t)
        if ctx.model.tied_embeddings and ctx.stages > 1:
            # Megatron keeps a copy of the tied word embeddings on the last stage
            # and all-reduces its gradient with the first stage's.
            output += ceil_div(counts.embedding, t)
            if ctx.method.framework == "deepspeed":
                # DeepSpeed's pipeline ties the whole embedding module: Megatron-DeepSpeed's and GPT-NeoX's
                # GPTModelPipe build TiedLayerSpec('embed', EmbeddingPipe, ..., max_position_embeddings) on
                # both ends, so the last stage also holds the learned position table.
                output += counts.position_embedding
    largest = max(_largest_matrix(ctx.model, t), ceil_div(counts.embedding, t) if embedding else 0,
                  ceil_div(counts.output_layer, t) if output else 0)
    return CardParams(dense + embedding + output, experts, embedding, output, largest)


def _largest_matrix(spec, t: int) -> int:
    """Largest weight matrix of a transformer layer on one TP rank.

    DeepSpeed's ``model_to_params`` (beside ``estimate_zero3_model_states_mem_needs_all_live``)
    takes the largest module's own parameters: with Hugging Face modules that is one
    projection (q_proj, an MLP matrix, one expert's matrix) or the embedding.
    """
    h = spec.hidden
    candidates = [h * spec.ffn_]
    if spec.mla is not None:
        m = spec.mla
        candidates += [spec.heads * m.v_head_dim * h, m.kv_lora_rank * spec.heads * (m.qk_nope_head_dim + m.v_head_dim)]
    else:
        candidates.append(h * spec.heads * spec.head_dim_)
    if spec.moe is not None:
        candidates.append(h * spec.moe.expert_ffn)
    return ceil_div(max(candidates), t)


def _bytes_per_weight(ctx: CardContext) -> int:
    return 4 if ctx.training.precision == "fp32" else 2


def grad_bytes_per_param(framework: str, precision: str, bf16_optimizer: bool = False) -> int:
    """Bytes of gradients per parameter that live through the step.

    * megatron: the fp32 ``main_grad`` buffer (Megatron-Core DDP accumulates in fp32);
    * megatron-2021: the fp16 ``.grad`` (2 B) and the fp32 ``main_param.grad`` (4 B) the optimizer
      copies it into, which is never freed: ``zero_grad`` skips the fp32 groups
      (``megatron/optimizer/optimizer.py``, FP16OptimizerWithFP16Params, 2021);
    * deepspeed with its BF16_Optimizer (:func:`deepspeed_bf16_optimizer`): the bf16 ``.grad`` of the
      micro-batch being back-propagated (2 B) and the fp32 accumulation buffer (4 B);
    * deepspeed, huggingface: the 16-bit ``.grad`` (fp32 when training in fp32).
    """
    if precision == "fp32":
        return 4
    if bf16_optimizer:
        return 6
    return {"megatron": 4, "megatron-2021": 6}.get(framework, 2)


def optimizer_bytes_per_param(precision: str, optimizer: str, master_weights: bool) -> tuple[int, int]:
    """(master-weight bytes, optimizer-state bytes) per parameter.

    Mixed precision keeps an fp32 master copy (4 B) and fp32 states: two Adam moments (8 B) or one
    SGD momentum (4 B).  Pure 16-bit training (``master_weights`` false) keeps no master copy and its
    states in the parameters' dtype (``torch.optim.AdamW`` creates ``exp_avg`` / ``exp_avg_sq`` with
    ``torch.zeros_like(param)``): 2 x 2 B for Adam in bf16.  fp32 training has no master copy either.
    """
    state = 4 if precision == "fp32" or master_weights else 2
    master = 0 if precision == "fp32" or not master_weights else 4
    return master, state * (1 if optimizer == "sgd" else 2)


def _bytes_per_grad(ctx: CardContext) -> int:
    bf16_optimizer = deepspeed_bf16_optimizer(ctx.training, ctx.method, ctx.training.zero)
    return grad_bytes_per_param(ctx.method.framework, ctx.training.precision, bf16_optimizer)


def _sharded(count: int, experts: int, ctx: CardContext, on: bool) -> tuple[int, str]:
    """Elements of (dense, expert) parameters this card keeps when sharded over ZeRO."""
    if not on or ctx.shard == 1:
        return count + experts, ""
    expert_shard = max(1, ctx.shard // ctx.ep)
    kept = ceil_div(count, ctx.shard) + ceil_div(experts, expert_shard)
    over = "DP × CP" if ctx.cp > 1 else "DP"
    text = f" ÷ {ctx.shard} (sharded over {over} = {ctx.shard} ranks" + (
        f"; experts ÷ {expert_shard})" if experts else ")")
    return kept, text


def model_state_figures(ctx: CardContext) -> tuple[dict[str, Figure], tuple[Figure, ...], int]:
    """(breakdown parts, detail figures, host bytes) for weights, grads and optimizer states."""
    p = card_params(ctx)
    tr = ctx.training
    where = f"{n(p.total)} params on this card"
    bw, bg = _bytes_per_weight(ctx), _bytes_per_grad(ctx)
    offload_params = tr.offload_params and tr.zero == 3
    w_count, w_div = _sharded(p.dense, p.experts, ctx, tr.zero >= 3)
    weights = 0 if offload_params else bw * w_count
    w_text = f"{bw} B × {where}{w_div}" + (" (offloaded to CPU)" if offload_params else "")
    g_count, g_div = _sharded(p.dense, p.experts, ctx, tr.zero >= 2)
    grads = bg * g_count
    bf16_optimizer = deepspeed_bf16_optimizer(tr, ctx.method, tr.zero)
    g_text = f"{bg} B × {where}{g_div}" + (" (BF16_Optimizer: 2 B bf16 .grad + 4 B fp32 accumulation buffer)"
                                           if bf16_optimizer else "")
    o_count, o_div = _sharded(p.dense, p.experts, ctx, tr.shards_optimizer or bf16_optimizer)
    master_b, moment_b = optimizer_bytes_per_param(tr.precision, tr.optimizer, tr.master_weights)
    master, moments = master_b * o_count, moment_b * o_count
    host = 0
    if tr.offload_optimizer:
        host = master + moments
        master = moments = 0
    if offload_params:
        host += bw * w_count
    opt_name = "momentum" if tr.optimizer == "sgd" else "Adam moments"
    o_text = f"({master_b} B master + {moment_b} B {opt_name}) × {where}{o_div}"
    if tr.offload_optimizer:
        o_text += " (offloaded to CPU)"
    parts = {
        "weights": figure("weights", f"weights ({'fp32' if bw == 4 else tr.precision})", weights, w_text),
        "gradients": figure("gradients", f"gradients ({'fp32' if bg == 4 else tr.precision})", grads, g_text),
        "optimizer_states": figure("optimizer_states", "optimizer states", master + moments, o_text),
    }
    details = (
        figure("master_weights", "fp32 master weights", master, f"{master_b} B × {n(o_count)} params"),
        figure("optimizer_moments", opt_name, moments, f"{moment_b} B × {n(o_count)} params"),
        figure("embedding_weights", "input embedding share of weights", bw * p.embedding if not offload_params else 0,
               f"{bw} B × {n(p.embedding)} params"),
        figure("output_layer_weights", "output layer share of weights", bw * p.output_layer if not offload_params else 0,
               f"{bw} B × {n(p.output_layer)} params"),
    )
    return parts, details, host


def plain_torch_gradients(framework: str, zero: int, distributed_optimizer: bool) -> bool:
    """Whether a card's gradients are PyTorch's own ``.grad`` tensors: the huggingface profile without ZeRO or a
    distributed optimizer.  The backward creates them, ``zero_grad`` frees them
    (:mod:`engine.training.memory.gradient_lifetime`), and across data-parallel ranks DDP copies them into its
    buckets (:func:`communication_figure`)."""
    return framework == "huggingface" and not zero and not distributed_optimizer


def communication_figure(ctx: CardContext) -> Figure:
    """Framework buffers the allocator sees: DeepSpeed's gradient bucket, ZeRO-3 gathers, PyTorch DDP's buckets.

    PyTorch ``DistributedDataParallel`` (the Hugging Face Trainer's and accelerate's wrapper across
    data-parallel ranks) allocates its gradient buckets when it wraps the model, flat tensors that together
    hold every gradient, and by default (``gradient_as_bucket_view=False``) each ``.grad`` stays a tensor of
    its own that the reducer copies into them: one more gradient-sized buffer, through the step.  PyTorch PR
    41954, which added the bucket view, measured it: "For roberta_base model with ~1GB parameters, peak
    memory dropped ~1GB"."""
    tr = ctx.training
    p = card_params(ctx)
    if ctx.fsdp:
        return fsdp_units(ctx).figure("backward")
    if tr.zero == 3 and ctx.shard > 1:
        # DeepSpeed's estimate_zero3_model_states_mem_needs: largest_layer_memory = 4 * largest_layer_params
        # (the gathered 16-bit parameters and gradients of the largest module).
        bw = _bytes_per_weight(ctx)
        bytes_ = (bw + _bytes_per_grad(ctx)) * p.largest_module
        return figure("communication", "ZeRO-3 gathered layer", bytes_,
                      f"({bw} + {_bytes_per_grad(ctx)}) B × largest module {n(p.largest_module)} params")
    if ctx.method.framework == "deepspeed" and tr.zero in (1, 2) and ctx.shard > 1:
        elements = min(ctx.method.deepspeed_reduce_bucket_elements, p.total)
        bg = _bytes_per_grad(ctx)
        return figure("communication", "gradient reduce bucket", bg * elements,
                      f"{bg} B × min(reduce_bucket_size {n(ctx.method.deepspeed_reduce_bucket_elements)}, {n(p.total)})")
    if plain_torch_gradients(ctx.method.framework, tr.zero, tr.distributed_optimizer) and ctx.shard > 1:
        bg = _bytes_per_grad(ctx)
        return figure("communication", "DDP gradient buckets", bg * p.total,
                      f"{bg} B × {n(p.total)} params (torch DistributedDataParallel's flat buckets, "
                      "gradient_as_bucket_view False: a copy of every gradient)")
    return figure("communication", "communication buffers", 0, "0 (reductions run in place on the gradient buffer)")


def fsdp_units(ctx: CardContext) -> FsdpUnits:
    """What PyTorch FSDP gathers whole on this card (:mod:`engine.training.memory.fsdp`): its decoder layers'
    units and the root unit, in the weights' dtype, and their full gradients in the gradients' dtype (the
    root's whole flat gradient exists from the output layer's backward on, FSDP accumulating every
    parameter's gradient into its unit's flat gradient)."""
    counts = parameter_counts(ctx.model)
    t, ep, shards = ctx.tp, ctx.ep, ctx.shard
    bw, bg = _bytes_per_weight(ctx), _bytes_per_grad(ctx)
    largest = max((counts.layers[i].per_tp_rank(t, ep, t) for i in ctx.layer_indices), default=0)
    p = card_params(ctx)
    root = p.embedding + p.output_layer
    return FsdpUnits(root=gathered(bw * root, bw, shards), layer=gathered(bw * largest, bw, shards),
                     layers=len(ctx.layer_indices), layer_grad=gathered(bg * largest, bg, shards),
                     root_grad=gathered(bg * root, bg, shards))
