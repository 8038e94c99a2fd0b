"""When a card's gradients exist: through the whole step, or only from its backward on.

PyTorch's optimizers and modules free every ``.grad`` in ``zero_grad()`` (``set_to_none=True`` is the
default since PyTorch 2.0), and the eager training loops of the huggingface profile call it at the end
of each optimizer step: transformers' ``Trainer`` (``model.zero_grad()`` after ``optimizer.step()``),
LitGPT (``optimizer.zero_grad()`` in ``finetune/full.py`` and ``pretrain.py``), torchtune
(``zero_grad(set_to_none=True)``).  The next step's forward and loss therefore run without gradients;
its backward creates them again, each as its weight's gradient is computed (``AccumulateGrad`` keeps
the tensor the backward produced).  With gradient accumulation (several micro-batches per optimizer
step) the gradients of the first backward are there for every later micro-batch's forward and loss,
so they count through the step.  Megatron-LM's contiguous ``main_grad`` buffers and DeepSpeed's ZeRO
partitions are allocated once and zeroed in place: through the step too.  PyTorch FSDP (``training.fsdp``)
keeps each unit's sharded flat gradient past ``zero_grad`` (the Trainer's ``set_to_none`` reaches the
original parameters only), and frees them all in the root's pre-forward once every original parameter's
gradient is None (``_reset_flat_param_grad_info_if_needed``, FSDP1): its forwards and loss also run
without gradients, and its backward makes the 1/N shards.
"""

from __future__ import annotations

from dataclasses import dataclass

from engine.model.params import parameter_counts
from engine.report.formatting import ceil_div, n
from engine.training.memory.context import CardContext
from engine.training.memory.model_states import card_params, plain_torch_gradients


def gradients_start_at_backward(ctx: CardContext) -> bool:
    """True when the card's step begins without gradients: the huggingface profile without ZeRO or a
    distributed optimizer, or PyTorch FSDP, one micro-batch per optimizer step (``training.global_batch`` =
    micro-batch × DP; without a global batch, one pipeline stage)."""
    tr = ctx.training
    if not (ctx.fsdp or plain_torch_gradients(ctx.method.framework, tr.zero, tr.distributed_optimizer)):
        return False
    if tr.global_batch is None:
        return ctx.stages == 1
    return tr.global_batch == tr.micro_batch * ctx.dp


@dataclass(frozen=True, slots=True)
class BackwardGradients:
    """Gradients and activations at the two ends of a backward whose gradients start there (bytes)."""

    first_layer: int  # back-propagating the stage's last layer: the output layer's gradients and that layer's
    last_layer: int  # back-propagating the stage's first layer: every gradient but the embedding's (made after)
    last_layer_activations: int  # then: that layer's activations and the embedding inputs the stage keeps
    formula_first: str
    formula_last: str


def backward_gradients(ctx: CardContext, grad_bytes: int, layer_activations: dict[bool, int],
                       embedding_inputs: int, shards: int = 1) -> BackwardGradients:
    """The gradients the backward has made when it reaches the stage's last layer and its first, with
    ``grad_bytes`` per parameter, each card keeping 1/``shards`` of them (FSDP); ``layer_activations``: one
    layer's activations (its working set under full recompute) by whether it is an MoE layer."""
    params, counts = card_params(ctx), parameter_counts(ctx.model)
    t, ep = ctx.tp, ctx.ep
    last, first = ctx.layer_indices[-1], ctx.layer_indices[0]
    first_params = params.output_layer + counts.layers[last].per_tp_rank(t, ep, t)
    last_params = params.total - params.embedding
    activations = layer_activations[ctx.model.is_moe_layer(first)] + embedding_inputs
    share = f" ÷ {shards} (FSDP shards)" if shards > 1 else ""
    return BackwardGradients(
        grad_bytes * ceil_div(first_params, shards), grad_bytes * ceil_div(last_params, shards), activations,
        f"{grad_bytes} B × (output layer {n(params.output_layer)} + layer {last + 1} "
        f"{n(first_params - params.output_layer)}) params{share}: the gradients made so far",
        f"{grad_bytes} B × {n(last_params)} params{share}: every gradient but the embedding's "
        f"({n(params.embedding)} params, made last)")
