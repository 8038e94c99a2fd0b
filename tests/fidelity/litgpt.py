"""A transformer block as LitGPT writes it, with LoRA adapters and bitsandbytes 4-bit base linears.

Written op by op after ``litgpt/model.py`` and ``litgpt/lora.py`` (2024, commit 4a9b7e6; the
block's ops are those of Lit-GPT October 2023 too):

* ``RMSNorm`` upcasts its input (``x.float()``), normalises in fp32 and casts back; a
  ``LayerNorm`` is ``torch.nn.LayerNorm`` (on CUDA it keeps its input and fp32 mean and 1/std);
* the fused QKV projection is a ``LoRAQKVLinear``: the frozen linear, plus ``lora_dropout`` on
  its input, ``lora_A`` as a linear, ``lora_B`` as a grouped 1-D convolution and, when only some
  of q, k, v are adapted, ``zero_pad``'s ``index_copy`` into a zero tensor of the QKV width;
* q, k, v are split from the QKV output viewed ``(B, groups, q_per_kv + 2, T, hs)``; with GQA, K
  and V are expanded to every head and reshaped (copies); RoPE (on ``rope_n_elem`` of each head)
  multiplies by fp32 cos/sin tables and ``torch.cat`` writes new Q and K;
* ``scaled_dot_product_attention`` (causal; on the CPU its flash kernel, which keeps Q, K, V, the
  output and an fp32 log-sum-exp as CUDA's does), output transposed and reshaped (a copy);
* ``LLaMAMLP``: ``proj(silu(fc_1(x)) * fc_2(x))``; ``GptNeoxMLP``: ``proj(gelu(fc(x)))``;
* parallel residual: ``x + attn(norm_1(x)) + mlp(norm_2(x))`` (``norm_2`` is ``norm_1``'s output
  when the attention norm is shared); else two sequential residual branches.

A quantized base linear stands for bitsandbytes' ``MatMul4Bit`` before 0.43.2: its forward keeps
its input for the backward (``ctx.tensors = (A, B)``, bitsandbytes/autograd/_functions.py; later
releases keep ``(None, B)``).  bitsandbytes keeps it as a context attribute, which
``saved_tensors_hooks`` cannot see, so the stand-in keeps it with ``save_for_backward``: the same
tensor, alive through the step.  (A context attribute also outlives the backward, until the graph's
outputs go: test_fidelity.py ``test_an_input_kept_on_ctx_outlives_the_backward_until_the_outputs_go``.)
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
import torch.nn.functional as F

from fidelity.kernels import FusedLayerNorm
from fidelity.layers import DTYPE, Shape, dropout, param


@dataclass(frozen=True)
class Block:
    """The block's architecture and adapters (LitGPT ``Config`` names in comments)."""

    norm: str = "rmsnorm"  # norm_class_name
    mlp: str = "llama"  # mlp_class_name: LLaMAMLP or GptNeoxMLP ("neox")
    parallel: bool = False  # parallel_residual
    shared_norm: bool = False  # shared_attention_norm
    rope_fraction: float = 1.0  # rotary_percentage
    targets: tuple[str, ...] = ("q", "v")  # lora_query/key/value, lora_projection, lora_mlp (gate, up, down; fc = up)
    rank: int = 4
    lora_dropout: float = 0.05
    quantized: bool = False  # bnb.nf4 before bitsandbytes 0.43.2: every base linear is a MatMul4Bit keeping its input


class FrozenLinear4bit(torch.autograd.Function):
    """A frozen base linear through bitsandbytes' MatMul4Bit: the input is kept for its gradient."""

    @staticmethod
    def forward(ctx, x, weight):
        ctx.save_for_backward(x)
        ctx.weight = weight
        return F.linear(x, weight)

    @staticmethod
    def backward(ctx, grad):
        return grad @ ctx.weight, None


def block_params(sh: Shape, blk: Block) -> dict[str, torch.Tensor]:
    h, f, q, kv = sh.h, sh.ffn, sh.a * sh.d, sh.g * sh.d
    frozen = lambda *shape: param(*shape).detach()  # noqa: E731
    p = {"norm1_w": torch.ones(h, dtype=DTYPE), "norm1_b": torch.zeros(h, dtype=DTYPE), "qkv_w": frozen(q + 2 * kv, h),
         "proj_w": frozen(h, q), "norm2_w": torch.ones(h, dtype=DTYPE), "norm2_b": torch.zeros(h, dtype=DTYPE),
         "down_w": frozen(h, f)}
    p |= {"gate_w": frozen(f, h), "up_w": frozen(f, h)} if blk.mlp == "llama" else {"fc_w": frozen(f, h)}
    enabled = [t for t in ("q", "k", "v") if t in blk.targets]
    if enabled:
        widths = {"q": q, "k": kv, "v": kv}
        p["qkv_A"] = param(blk.rank * len(enabled), h)
        p["qkv_B"] = param(sum(widths[t] for t in enabled), blk.rank)
    ins = {"o": q, "gate": h, "up": h, "down": f}
    outs = {"o": h, "gate": f, "up": f, "down": h}
    for t in ("o", "gate", "up", "down"):
        if t in blk.targets:
            p[f"{t}_A"], p[f"{t}_B"] = param(blk.rank, ins[t]), param(outs[t], blk.rank)
    return p


def _base(x: torch.Tensor, weight: torch.Tensor, blk: Block) -> torch.Tensor:
    return FrozenLinear4bit.apply(x, weight) if blk.quantized else F.linear(x, weight)


def _lora_linear(x: torch.Tensor, p: dict[str, torch.Tensor], name: str, weight: str, blk: Block) -> torch.Tensor:
    """LoRALinear.forward: the frozen linear plus dropout(x) @ A^T @ B^T * scaling."""
    out = _base(x, p[weight], blk)
    if f"{name}_A" not in p:
        return out
    lora = F.linear(F.linear(dropout(x, blk.lora_dropout), p[f"{name}_A"]), p[f"{name}_B"])
    return out + lora * (2.0 / blk.rank)


def _qkv(x: torch.Tensor, p: dict[str, torch.Tensor], sh: Shape, blk: Block) -> torch.Tensor:
    """LoRAQKVLinear.forward with LitGPT's interleaved (q_per_kv, k, v) head groups."""
    out = _base(x, p["qkv_w"], blk)
    if "qkv_A" not in p:
        return out
    q, kv, d = sh.a * sh.d, sh.g * sh.d, sh.d
    enabled = [t for t in ("q", "k", "v") if t in blk.targets]
    after_a = F.linear(dropout(x, blk.lora_dropout), p["qkv_A"]).transpose(-2, -1)  # (B, r·n, T)
    weights = p["qkv_B"].unsqueeze(-1)
    if sh.a == sh.g:
        after_b = F.conv1d(after_a, weights, groups=len(enabled))
    else:
        widths = {"q": q, "k": kv, "v": kv}
        pieces = zip(after_a.chunk(len(enabled), dim=1), weights.split([widths[t] for t in enabled]), strict=True)
        after_b = torch.cat([F.conv1d(a, w) for a, w in pieces], dim=1)
    after_b = after_b.transpose(-2, -1)  # (B, T, adapted width)
    if len(enabled) < 3:  # zero_pad: scatter the adapted columns into the full QKV width
        width, per = q + 2 * kv, sh.a // sh.g + 2
        slot = {"q": lambda c: (c // d) % per < per - 2, "k": lambda c: (c // d) % per == per - 2,
                "v": lambda c: (c // d) % per == per - 1}
        index = torch.tensor([c for t in enabled for c in range(width) if slot[t](c)])
        moved = after_b.transpose(0, 1)
        padded = moved.new_zeros((*moved.shape[:-1], width)).view(-1, width)
        padded = padded.index_copy(1, index, moved.reshape(-1, after_b.shape[-1]))
        after_b = padded.view((*moved.shape[:-1], width)).transpose(0, 1)
    return out + after_b * (2.0 / blk.rank)


def _rms_norm(x: torch.Tensor, weight: torch.Tensor) -> torch.Tensor:
    dtype = x.dtype
    x = x.float()
    normed = x * torch.rsqrt(torch.mean(x * x, dim=-1, keepdim=True) + 1e-5)
    return normed.to(dtype=dtype) * weight


def _norm(x: torch.Tensor, p: dict[str, torch.Tensor], which: str, blk: Block) -> torch.Tensor:
    if blk.norm == "rmsnorm":
        return _rms_norm(x, p[f"{which}_w"])
    # torch.nn.LayerNorm runs native_layer_norm, which on CUDA keeps the input and fp32 mean and 1/std:
    # what FusedLayerNorm saves (the CPU kernel keeps 16-bit statistics instead)
    return FusedLayerNorm.apply(x, p[f"{which}_w"], p[f"{which}_b"])


def _rope(x: torch.Tensor, cos: torch.Tensor, sin: torch.Tensor) -> torch.Tensor:
    half = x.size(-1) // 2
    rotated = torch.cat((-x[..., half:], x[..., :half]), dim=-1)
    return ((x * cos) + (rotated * sin)).to(dtype=x.dtype)


def rope_tables(sh: Shape, blk: Block) -> tuple[torch.Tensor, torch.Tensor]:
    """fp32 tables, as ``build_rope_cache`` returns them, for ``rope_n_elem`` of each head."""
    n = int(blk.rope_fraction * sh.d)
    return torch.randn(sh.s, n), torch.randn(sh.s, n)


def _attention(x: torch.Tensor, p: dict[str, torch.Tensor], sh: Shape, blk: Block,
               rope: tuple[torch.Tensor, torch.Tensor]) -> torch.Tensor:
    b, s, a, g, d = sh.b, sh.s, sh.a, sh.g, sh.d
    per = a // g
    qkv = _qkv(x, p, sh, blk).view(b, s, g, per + 2, d).permute(0, 2, 3, 1, 4)
    q, k, v = qkv.split((per, 1, 1), dim=2)
    if g != a:
        k, v = k.expand(b, g, per, s, d), v.expand(b, g, per, s, d)
    q, k, v = (t.reshape(b, -1, s, d) for t in (q, k, v))
    n = rope[0].shape[-1]
    q = torch.cat((_rope(q[..., :n], *rope), q[..., n:]), dim=-1)
    k = torch.cat((_rope(k[..., :n], *rope), k[..., n:]), dim=-1)
    y = F.scaled_dot_product_attention(q, k, v, dropout_p=0.0, scale=1.0 / math.sqrt(d), is_causal=True)
    return _lora_linear(y.transpose(1, 2).reshape(b, s, a * d), p, "o", "proj_w", blk)


def _mlp(x: torch.Tensor, p: dict[str, torch.Tensor], blk: Block) -> torch.Tensor:
    if blk.mlp == "llama":
        hidden = F.silu(_lora_linear(x, p, "gate", "gate_w", blk)) * _lora_linear(x, p, "up", "up_w", blk)
    else:
        hidden = F.gelu(_lora_linear(x, p, "up", "fc_w", blk))
    return _lora_linear(hidden, p, "down", "down_w", blk)


def litgpt_block(x: torch.Tensor, p: dict[str, torch.Tensor], sh: Shape, blk: Block,
                 rope: tuple[torch.Tensor, torch.Tensor]) -> torch.Tensor:
    """``Block.forward`` on a [b, s, h] input."""
    n1 = _norm(x, p, "norm1", blk)
    attn = _attention(n1, p, sh, blk, rope)
    if blk.parallel:
        n2 = n1 if blk.shared_norm else _norm(x, p, "norm2", blk)
        return _mlp(n2, p, blk) + attn + x
    x = attn + x
    return _mlp(_norm(x, p, "norm2", blk), p, blk) + x
