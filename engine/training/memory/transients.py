"""Short-lived buffers of a training step: a layer's backward and the optimizer step.

The steady categories (weights, gradients, optimizer states, saved activations,
logits) are alive across the step; real runs peak on top of them with buffers
that live for one operation.  Each term is one mechanism in the frameworks' code:

* **The gradient stream.**  While a layer is back-propagated, the gradient that
  arrived at its output and the one it sends to its input are both alive
  (``2·e·sbh``, split by TP only under sequence parallelism).
* **The largest intermediate gradient inside the layer.**  MLP: the gradient of
  FC2's input (``e·sbf/t``) and, for a gated MLP, those of the gate and up
  outputs (``2·e·sbf/t``) coexist in the activation's backward (Megatron's
  ``bias_swiglu_impl`` backward returns the concatenated ``[gate, up]``
  gradient).  Attention with flash attention: FlashAttention-2's backward
  allocates dq, dk, dv in 16 bit and an fp32 dq accumulator
  (flash-attention ``csrc/flash_attn/flash_api.cpp``, ``mha_bwd``:
  ``dq_accum`` in ``at::kFloat``).  Without flash attention: the gradients of
  the softmax output and of the scores (``2·e·a·s²·b/t``) plus dq, dk, dv.
* **The weight gradient before it is accumulated.**  Megatron-LM with
  ``--gradient-accumulation-fusion`` (its default when the fused kernel is
  installed) writes the weight gradient straight into the fp32 ``main_grad``
  (``fused_weight_gradient_mlp_cuda.wgrad_gemm_accum_fp32`` in
  ``megatron/core/tensor_parallel/layers.py``); without it, and in DeepSpeed and
  Hugging Face code, autograd produces the 16-bit gradient of the matrix first and
  then adds it to ``.grad``: one matrix's gradient (the largest) more.
* **The optimizer step.**  Apex / DeepSpeed / Transformer Engine ``FusedAdam``
  update in place (``multi_tensor_apply``); PyTorch's ``AdamW`` with
  ``foreach=True`` (its default on CUDA, Hugging Face Trainer's ``adamw_torch``)
  computes ``torch._foreach_sqrt(exp_avg_sqs)``: a copy of the second moment
  (``torch/optim/adamw.py``, ``_multi_tensor_adamw``) while the gradients are
  still alive.  DeepSpeed's wrappers add their fp32 gradient copies
  (:mod:`engine.training.memory.deepspeed_optimizer`).
* **The gradient all-reduce.**  Megatron-LM of 2021 flattens every fp16 gradient;
  DeepSpeed without ZeRO flattens 500M-gradient buckets at DP > 1.
* **The previous step's gradients.**  Megatron-LM of 2021 keeps them through
  ``main_grad`` while the backward writes the new ones (:func:`held_gradient_bytes`).
"""

from __future__ import annotations

from engine.report.formatting import ceil_div, n
from engine.report.records import Figure, figure
from engine.training.memory.activations import routed_copies
from engine.training.memory.context import CardContext
from engine.training.memory.deepspeed_optimizer import (
    DEEPSPEED_ALLREDUCE_BUCKET,
    deepspeed_allreduce_bytes,
    deepspeed_bucket_bytes_per_element,
    deepspeed_fp32_grad_bytes_per_param,
    deepspeed_zero_step_bytes_per_param,
)
from engine.training.memory.model_states import card_params, optimizer_bytes_per_param


def _geometry(ctx: CardContext) -> tuple[int, int, int, int, int]:
    tr = ctx.training
    s = ceil_div(tr.seq, ctx.cp)
    e = 4 if tr.precision == "fp32" else 2
    sp = tr.sequence_parallel and ctx.tp > 1 and ctx.method.framework != "huggingface"
    return s, tr.micro_batch, ctx.tp, e, ctx.tp if sp else 1


def _attention_grads(ctx: CardContext, s: int, b: int, t: int, e: int) -> tuple[int, str]:
    spec = ctx.model
    if spec.mla is not None:
        m = spec.mla
        q = k = spec.heads * (m.qk_nope_head_dim + m.qk_rope_head_dim)
        v = spec.heads * m.v_head_dim
    else:
        q = spec.heads * spec.head_dim_
        k = v = spec.kv_heads_ * spec.head_dim_
    dqkv = ceil_div(e * s * b * (q + k + v), t)
    if ctx.training.flash_attention:
        acc = ceil_div(4 * s * b * q, t)
        return dqkv + acc, f"flash backward dq,dk,dv {n(dqkv)} + fp32 dq accumulator {n(acc)}"
    scores = ceil_div(2 * e * spec.heads * s * s * b, t)
    return dqkv + scores, f"softmax and score gradients 2·{e}·a·s²·b/t {n(scores)} + dq,dk,dv {n(dqkv)}"


def _mlp_grads(ctx: CardContext, s: int, b: int, t: int, e: int) -> tuple[int, str]:
    spec = ctx.model
    per = 3 if spec.gated_mlp else 2
    ffn = spec.ffn_
    tokens = s * b
    if spec.moe is not None and any(spec.is_moe_layer(i) for i in ctx.layer_indices):
        moe = spec.moe
        # the experts' gradients live on the rank holding them: the busiest EP rank's copies (balanced: sb·k)
        received = routed_copies(moe, tokens, ctx.ep, ctx.training.expert_load)
        routed = received * moe.expert_ffn
        if routed > tokens * ffn or not any(not spec.is_moe_layer(i) for i in ctx.layer_indices):
            bytes_ = ceil_div(per * e * routed, t)
            r = "sb·k" if received == tokens * moe.top_k else f"R (busiest EP rank, {n(received)} copies)"
            return bytes_, f"expert MLP gradients {per}·{e}·{r}·f_e/t {n(bytes_)}"
    bytes_ = ceil_div(per * e * tokens * ffn, t)
    return bytes_, f"MLP gradients {per}·{e}·sbf/t {n(bytes_)}"


def _wgrad_before_accumulation(ctx: CardContext, e: int) -> tuple[int, str]:
    # Megatron-LM of 2021 included: from the second micro-batch on, the fp16 .grad exists and autograd
    # computes the new weight gradient before adding it in.
    if ctx.method.framework == "megatron" and ctx.method.gradient_accumulation_fusion:
        return 0, ""
    largest = card_params(ctx).largest_module
    return e * largest, f" + unaccumulated weight gradient {e} B × {n(largest)}"


def held_gradient_bytes(ctx: CardContext) -> int:
    """The previous step's fp16 gradients, alive beside the new ones while the backward writes them.

    Megatron-LM of 2021 with the local DDP and no contiguous buffers: ``allreduce_gradients`` sets
    ``param.main_grad = param.grad`` and nothing clears that reference (``megatron/model/distributed.py``
    at 63121a9e), so ``zero_grad`` (set_to_none, ``Float16OptimizerWithFloat16Params``) frees nothing
    and the old gradients live until the next all-reduce re-points ``main_grad``: 2 B per parameter more
    during the backward (0 for the other frameworks)."""
    return 2 * card_params(ctx).total if _megatron_2021_fp16(ctx) else 0


def backward_layer_bytes(ctx: CardContext) -> int:
    """``backward_transient(ctx).bytes`` but the weight gradient and the held gradients: the gradient stream
    and the larger of the attention and MLP gradients.  It reads which kinds of layer the card holds, not
    its stage."""
    if not ctx.layer_indices:
        return 0
    s, b, t, e, rep = _geometry(ctx)
    stream = 2 * ceil_div(e * s * b * ctx.model.hidden, rep)
    return stream + max(_attention_grads(ctx, s, b, t, e)[0], _mlp_grads(ctx, s, b, t, e)[0])


def backward_wgrad_bytes(ctx: CardContext) -> int:
    """The unaccumulated weight gradient of the card's largest module in ``backward_transient(ctx).bytes``
    (it reads the card's parameters, not the micro-batch); :func:`held_gradient_bytes` is the rest."""
    if not ctx.layer_indices:
        return 0
    return _wgrad_before_accumulation(ctx, _geometry(ctx)[3])[0]


def backward_transient(ctx: CardContext) -> Figure:
    """Buffers alive while one layer is back-propagated, on top of the saved activations."""
    held = held_gradient_bytes(ctx)
    held_text = f" + the previous step's fp16 gradients (main_grad) {n(held)}" if held else ""
    if not ctx.layer_indices:
        return figure("transient", "backward buffers", held, f"0 (no layers on this card){held_text}")
    s, b, t, e, rep = _geometry(ctx)
    stream = 2 * ceil_div(e * s * b * ctx.model.hidden, rep)
    attn, attn_text = _attention_grads(ctx, s, b, t, e)
    mlp, mlp_text = _mlp_grads(ctx, s, b, t, e)
    wgrad, wgrad_text = _wgrad_before_accumulation(ctx, e)
    inner, inner_text = (attn, attn_text) if attn >= mlp else (mlp, mlp_text)
    total = stream + inner + wgrad + held
    return figure("transient", "backward buffers", total,
                  f"gradient in + out 2·{e}·sbh/{rep} {n(stream)} + max(attention, MLP): {inner_text}"
                  f"{wgrad_text}{held_text} = {n(total)} B")


def _megatron_2021_fp16(ctx: CardContext) -> bool:
    return ctx.method.framework == "megatron-2021" and ctx.training.precision != "fp32"


def flattened_allreduce_bytes(ctx: CardContext, grad_elements: int) -> int:
    """The part of :func:`allreduce_transient` that does not depend on DP or ZeRO: Megatron-LM of 2021
    flattens every fp16 gradient, even at DP = 1."""
    return 2 * grad_elements if _megatron_2021_fp16(ctx) else 0


def allreduce_transient(ctx: CardContext, grad_elements: int) -> Figure:
    """The gradient all-reduce's copies, while the activations are already freed.

    * Megatron-LM of 2021, local DDP without contiguous buffers: ``allreduce_gradients`` flattens
      every fp16 gradient into one new buffer (``_flatten_dense_tensors``,
      ``megatron/model/distributed.py``), even at DP = 1;
    * DeepSpeed without ZeRO at DP > 1: ``buffered_allreduce_fallback`` flattens 500M-element buckets
      (:func:`deepspeed_allreduce_bytes`)."""
    flattened = flattened_allreduce_bytes(ctx, grad_elements)
    if flattened:
        return figure("transient", "gradient all-reduce buffer", flattened,
                      f"flattened fp16 gradients 2 B × {n(grad_elements)} params")
    tr = ctx.training
    bucket = deepspeed_allreduce_bytes(tr, ctx.method, tr.zero, ctx.shard, grad_elements)
    if bucket:
        per = deepspeed_bucket_bytes_per_element(tr, ctx.method, tr.zero)
        what = "fp32 + its bf16 copy" if per == 6 else f"{per} B"
        return figure("transient", "gradient all-reduce buffer", bucket,
                      f"DeepSpeed all-reduce bucket ({what}) {per} B × min({n(DEEPSPEED_ALLREDUCE_BUCKET)}, "
                      f"{n(grad_elements)} params)")
    return figure("transient", "gradient all-reduce buffer", 0, "0 (reductions run in place)")


def optimizer_step_transient(ctx: CardContext, moments_bytes: int) -> Figure:
    """Temporaries of the optimizer step: PyTorch's foreach AdamW copies sqrt(v); DeepSpeed's fp16
    wrapper converts the gradients to fp32 (:func:`deepspeed_fp32_grad_bytes_per_param`); DeepSpeed ZeRO
    1-2 flattens and casts the partition's gradients (:func:`deepspeed_zero_step_bytes_per_param`)."""
    tr = ctx.training
    zero_step = deepspeed_zero_step_bytes_per_param(tr, ctx.method, tr.zero)
    if zero_step and moments_bytes:
        partition = moments_bytes // optimizer_bytes_per_param(tr.precision, tr.optimizer, tr.master_weights)[1]
        return figure("transient", "optimizer-step temporaries", zero_step * partition,
                      f"DeepSpeed ZeRO-{tr.zero} step: the partition's gradients flattened and cast to fp32, "
                      f"{zero_step} B × {n(partition)} params")
    per_param = deepspeed_fp32_grad_bytes_per_param(ctx.training, ctx.method, ctx.training.zero)
    if per_param:
        params = card_params(ctx).total
        wrapper = ("FP16_Optimizer: fp32 copies + their flat buffer" if per_param == 8
                   else "FP16_UnfusedOptimizer: an fp32 .grad per parameter")
        return figure("transient", "optimizer-step temporaries", per_param * params,
                      f"DeepSpeed {wrapper}, {per_param} B × {n(params)} params")
    if ctx.method.framework != "huggingface" or ctx.training.optimizer == "sgd" or not moments_bytes:
        return figure("transient", "optimizer-step temporaries", 0, "0 (fused optimizer updates in place)")
    copy = moments_bytes // 2
    return figure("transient", "optimizer-step temporaries", copy,
                  f"torch AdamW (foreach) sqrt(exp_avg_sq) copy = moments {n(moments_bytes)} / 2")
