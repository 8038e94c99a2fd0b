"""The ends of the model: the embedding and the output layer with its loss.

* Megatron: word + learned position embeddings (the data loader's int64
  position ids), embedding dropout; final LayerNorm, output layer and
  ``vocab_parallel_cross_entropy`` (fp32 softmax computed in place, kept with a
  bool target mask and the int64 masked targets), here on one TP rank.
* Hugging Face: final ``LlamaRMSNorm``, ``lm_head`` and ``ForCausalLMLoss``
  (``logits.float()``, labels padded and shifted, ``cross_entropy``).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from fidelity.kernels import FusedLayerNorm
from fidelity.layers import DTYPE, Shape, dropout, hf_rms_norm, param


class VocabCrossEntropy(torch.autograd.Function):
    """Megatron's ``_VocabParallelCrossEntropy`` on one rank: keeps softmax (fp32), mask, targets."""

    @staticmethod
    def forward(ctx, logits, target):
        vocab = logits.shape[-1]
        logits32 = logits.float()
        logits32.sub_(logits32.max(dim=-1, keepdim=True)[0])
        target_mask = (target < 0) | (target >= vocab)
        masked_target = target.clone()
        masked_target[target_mask] = 0
        predicted = logits32.gather(-1, masked_target.unsqueeze(-1)).squeeze(-1)
        exp_logits = logits32.exp_()
        sum_exp = exp_logits.sum(dim=-1)
        loss = torch.log(sum_exp) - predicted
        exp_logits.div_(sum_exp.unsqueeze(-1))
        ctx.save_for_backward(exp_logits, target_mask, masked_target)
        return loss

    @staticmethod
    def backward(ctx, grad):
        # In place on the saved softmax, as Megatron does: no second vocabulary-sized buffer.
        softmax, target_mask, masked_target = ctx.saved_tensors
        grad_input = softmax.view(-1, softmax.shape[-1])
        rows = torch.arange(grad_input.shape[0], device=grad_input.device)
        grad_input[rows, masked_target.view(-1)] -= (~target_mask).view(-1).float()
        grad_input.mul_(grad.reshape(-1, 1))
        return softmax, None


def embedding_params(sh: Shape, vocab: int) -> dict[str, torch.Tensor]:
    return {"word": param(vocab, sh.h), "pos": param(sh.s, sh.h)}


def megatron_embedding(ids: torch.Tensor, positions: torch.Tensor, p: dict[str, torch.Tensor],
                       sh: Shape) -> torch.Tensor:
    """ids, positions: [b, s] int64 -> [s, b, h]."""
    emb = F.embedding(ids, p["word"]) + F.embedding(positions, p["pos"])
    return dropout(emb.transpose(0, 1).contiguous(), sh.dropout)


def output_params(sh: Shape, vocab: int, norm: str) -> dict[str, torch.Tensor]:
    p = {"norm_w": torch.ones(sh.h, dtype=DTYPE, requires_grad=True), "out_w": param(vocab, sh.h)}
    if norm == "layernorm":
        p["norm_b"] = param(sh.h)
    return p


def megatron_output_loss(x: torch.Tensor, labels: torch.Tensor, p: dict[str, torch.Tensor]) -> torch.Tensor:
    """x [s, b, h], labels [b, s] -> mean loss."""
    normed = FusedLayerNorm.apply(x, p["norm_w"], p["norm_b"])
    logits = F.linear(normed, p["out_w"])  # [s, b, V]
    return VocabCrossEntropy.apply(logits, labels.t().contiguous()).mean()


def hf_output_loss(x: torch.Tensor, labels: torch.Tensor, p: dict[str, torch.Tensor], on_logits_grad=None) -> tuple:
    """x [b, s, h], labels [b, s] -> (logits, loss), as LlamaForCausalLM returns them.  ``on_logits_grad``: a hook
    called with the fp32 logits' gradient, once the cross-entropy's backward has made it."""
    logits = F.linear(hf_rms_norm(x, p["norm_w"]), p["out_w"])
    upcast = logits.float()  # ForCausalLMLoss
    if on_logits_grad is not None:
        upcast.register_hook(on_logits_grad)
    padded = F.pad(labels, (0, 1), value=-100)
    shift = padded[..., 1:].contiguous()
    loss = F.cross_entropy(upcast.view(-1, upcast.shape[-1]), shift.view(-1), ignore_index=-100)
    return logits, loss
