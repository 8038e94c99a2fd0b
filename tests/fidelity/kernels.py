"""Autograd Functions that save exactly what fused GPU kernels save.

Megatron-LM and Transformer Engine run fused kernels whose backward keeps
fewer (or differently typed) tensors than a chain of PyTorch ops would:

* fused LayerNorm / RMSNorm (apex, TE): the input, plus fp32 statistics per
  token (mean and 1/std for LayerNorm, 1/rms for RMSNorm);
* fused SwiGLU (Megatron ``bias_swiglu``): only its input, the gate/up output;
* fused RoPE (TE ``fused_apply_rotary_pos_emb``): no activation, the rotation
  is undone with the same cos/sin tables;
* flash attention: Q, K, V, the output and an fp32 log-sum-exp per head and token.

The backward passes recompute through plain ops: they are exact but not fast,
which is all a measurement harness needs.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F


def _recompute_grads(fn, inputs, grad_out):
    with torch.enable_grad():
        leaves = [t.detach().requires_grad_(t.requires_grad) if t is not None else None for t in inputs]
        out = fn(*leaves)
        wanted = [t for t in leaves if t is not None and t.requires_grad]
        grads = iter(torch.autograd.grad(out, wanted, grad_out))
    return tuple(next(grads) if t is not None and t.requires_grad else None for t in leaves)


def _layer_norm_ref(x, weight, bias, eps):
    return F.layer_norm(x.float(), x.shape[-1:], weight.float(), bias.float(), eps).to(x.dtype)


def _rms_norm_ref(x, weight, eps):
    x32 = x.float()
    return (x32 * torch.rsqrt(x32.pow(2).mean(-1, keepdim=True) + eps) * weight.float()).to(x.dtype)


class FusedLayerNorm(torch.autograd.Function):
    """Saves the input, the weight and fp32 mean and rstd (apex ``FusedLayerNormAffineFunction``)."""

    @staticmethod
    def forward(ctx, x, weight, bias, eps=1e-5):
        x32 = x.float()
        mean = x32.mean(-1, keepdim=True)
        rstd = torch.rsqrt(x32.var(-1, unbiased=False, keepdim=True) + eps)
        ctx.eps = eps
        ctx.save_for_backward(x, weight, bias, mean, rstd)
        return ((x32 - mean) * rstd * weight.float() + bias.float()).to(x.dtype)

    @staticmethod
    def backward(ctx, grad):
        x, weight, bias, _, _ = ctx.saved_tensors
        grads = _recompute_grads(lambda a, w, b: _layer_norm_ref(a, w, b, ctx.eps), (x, weight, bias), grad)
        return (*grads, None)


class FusedRMSNorm(torch.autograd.Function):
    """Saves the input, the weight and an fp32 1/rms per token (TE ``RMSNorm``)."""

    @staticmethod
    def forward(ctx, x, weight, eps=1e-6):
        x32 = x.float()
        rstd = torch.rsqrt(x32.pow(2).mean(-1, keepdim=True) + eps)
        ctx.eps = eps
        ctx.save_for_backward(x, weight, rstd)
        return (x32 * rstd * weight.float()).to(x.dtype)

    @staticmethod
    def backward(ctx, grad):
        x, weight, _ = ctx.saved_tensors
        grads = _recompute_grads(lambda a, w: _rms_norm_ref(a, w, ctx.eps), (x, weight), grad)
        return (*grads, None)


class FusedSwiGLU(torch.autograd.Function):
    """silu(gate) * up from one [.., 2f] gate/up tensor; saves only that input."""

    @staticmethod
    def forward(ctx, gate_up):
        ctx.save_for_backward(gate_up)
        gate, up = gate_up.chunk(2, dim=-1)
        return F.silu(gate) * up

    @staticmethod
    def backward(ctx, grad):
        (gate_up,) = ctx.saved_tensors
        return _recompute_grads(lambda t: F.silu(t.chunk(2, -1)[0]) * t.chunk(2, -1)[1], (gate_up,), grad)


def _rotate(x, cos, sin):
    half = x.shape[-1] // 2
    rotated = torch.cat((-x[..., half:], x[..., :half]), dim=-1)
    return x * cos + rotated * sin


class FusedRoPE(torch.autograd.Function):
    """Out-of-place rotary embedding; keeps only the (shared, constant) cos/sin tables."""

    @staticmethod
    def forward(ctx, x, cos, sin):
        ctx.save_for_backward(cos, sin)
        return _rotate(x, cos, sin)

    @staticmethod
    def backward(ctx, grad):
        cos, sin = ctx.saved_tensors
        return _rotate(grad, cos, -sin), None, None  # the inverse rotation


def _attention_ref(q, k, v, causal: bool):
    """q [s, b, a, d], k/v [s, b, g, d] (GQA: g divides a) -> [s, b, a, d], computed in fp32."""
    a, g = q.shape[2], k.shape[2]
    qh, kh, vh = (t.permute(1, 2, 0, 3).float() for t in (q, k, v))
    kh, vh = kh.repeat_interleave(a // g, dim=1), vh.repeat_interleave(a // g, dim=1)
    scores = qh @ kh.transpose(-1, -2) / math.sqrt(q.shape[-1])
    if causal:
        s = q.shape[0]
        scores = scores.masked_fill(torch.ones(s, s, dtype=torch.bool).triu(1), float("-inf"))
    return scores, vh


class FlashAttention(torch.autograd.Function):
    """Causal attention in the [s, b, heads, d] layout that keeps Q, K, V, out and an fp32 LSE.

    The output is written [s, b, a, d]-contiguous, so the output projection reads
    it through a view, as with flash-attn / TE in Megatron's sbhd layout.
    """

    @staticmethod
    def forward(ctx, q, k, v):
        scores, vh = _attention_ref(q, k, v, causal=True)
        lse = torch.logsumexp(scores, dim=-1)  # [b, a, s] fp32
        out = (torch.softmax(scores, -1) @ vh).to(q.dtype).permute(2, 0, 1, 3).contiguous()
        ctx.save_for_backward(q, k, v, out, lse)
        return out

    @staticmethod
    def backward(ctx, grad):
        q, k, v, _, _ = ctx.saved_tensors

        def attend(q_, k_, v_):
            scores, vh = _attention_ref(q_, k_, v_, causal=True)
            return (torch.softmax(scores, -1) @ vh).to(q_.dtype).permute(2, 0, 1, 3)

        return _recompute_grads(attend, (q, k, v), grad)
