"""Transformer layers written to save, op by op, what the frameworks save.

* ``gpt_layer``: Megatron-LM's GPT layer (fused LayerNorm, fused QKV, explicit
  softmax attention with dropout or ``scaled_dot_product_attention``, GeLU MLP,
  bias-dropout-add), in Megatron's [s, b, h] layout.
* ``llama_fused_layer``: a Llama layer as Megatron-LM + Transformer Engine run
  it (fused RMSNorm, fused QKV with GQA, fused RoPE, flash attention, fused
  SwiGLU), [s, b, h].
* ``llama_hf_layer``: the same layer as Hugging Face ``transformers`` writes it
  in eager mode (``LlamaRMSNorm`` upcasting to fp32, separate q/k/v
  projections, ``apply_rotary_pos_emb``, ``repeat_kv``, eager attention with an
  fp32 softmax, ``down(silu(gate) * up)``), [b, s, h]; or with
  ``attn_implementation="sdpa"`` (flash kernel, GQA inside it).

Dropout calls ``torch.native_dropout``: that is what ``F.dropout`` runs on CUDA
(a 1-byte bool mask is saved).  On the CPU ``F.dropout`` takes a non-fused path
that multiplies by a 16-bit noise tensor and saves it (2 B per element), which
no GPU run does.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
import torch.nn.functional as F

from fidelity.kernels import FlashAttention, FusedLayerNorm, FusedRMSNorm, FusedRoPE, FusedSwiGLU

DTYPE = torch.bfloat16


@dataclass(frozen=True)
class Shape:
    """One layer configuration: s tokens, b samples, hidden h, a heads (kv of them for K/V), FFN f."""

    s: int
    b: int
    h: int
    a: int
    kv: int | None = None
    f: int | None = None
    dropout: float = 0.0

    @property
    def d(self) -> int:
        return self.h // self.a

    @property
    def g(self) -> int:
        return self.kv or self.a

    @property
    def ffn(self) -> int:
        return self.f or 4 * self.h


def param(*shape: int) -> torch.Tensor:
    return (torch.randn(*shape) * 0.02).to(DTYPE).requires_grad_()


def dropout(x: torch.Tensor, p: float) -> torch.Tensor:
    return torch.native_dropout(x, p, True)[0] if p > 0 else x


def layer_input(shape: Shape, batch_first: bool = False) -> torch.Tensor:
    dims = (shape.b, shape.s, shape.h) if batch_first else (shape.s, shape.b, shape.h)
    return torch.randn(*dims, dtype=DTYPE, requires_grad=True)


def rope_tables(s: int, d: int, batch_first: bool) -> tuple[torch.Tensor, torch.Tensor]:
    inv = 1.0 / (10000 ** (torch.arange(0, d, 2).float() / d))
    angles = torch.outer(torch.arange(s).float(), inv)
    emb = torch.cat((angles, angles), dim=-1)
    cos, sin = emb.cos().to(DTYPE), emb.sin().to(DTYPE)
    if batch_first:  # [1, 1, s, d] against [b, heads, s, d]
        return cos[None, None], sin[None, None]
    return cos[:, None, None], sin[:, None, None]  # [s, 1, 1, d] against [s, b, heads, d]


# GPT (Megatron) ---------------------------------------------------------------
def gpt_params(sh: Shape) -> dict[str, torch.Tensor]:
    h, f = sh.h, sh.ffn
    ones = lambda n: torch.ones(n, dtype=DTYPE, requires_grad=True)  # noqa: E731
    return {
        "ln1_w": ones(h), "ln1_b": param(h), "qkv_w": param(3 * h, h), "qkv_b": param(3 * h),
        "proj_w": param(h, h), "proj_b": param(h), "ln2_w": ones(h), "ln2_b": param(h),
        "fc1_w": param(f, h), "fc1_b": param(f), "fc2_w": param(h, f), "fc2_b": param(h),
    }


def causal_bool_mask(s: int) -> torch.Tensor:
    """True above the diagonal.  Megatron builds one per step and every layer shares it."""
    return torch.ones(s, s, dtype=torch.bool).triu(1)


def _gpt_attention(qkv: torch.Tensor, sh: Shape, sdpa: bool, mask: torch.Tensor | None) -> torch.Tensor:
    s, b, a, d = sh.s, sh.b, sh.a, sh.d
    q, k, v = qkv.view(s, b, a, 3 * d).split(d, dim=-1)  # views of the QKV output
    qh, kh, vh = (t.permute(1, 2, 0, 3) for t in (q, k, v))  # [b, a, s, d]
    if sdpa:
        # No attention dropout, so the CPU picks its flash kernel (dropout forces the math path).
        ctx = F.scaled_dot_product_attention(qh, kh, vh, is_causal=True)
    else:
        scores = torch.matmul(qh, kh.transpose(-1, -2)) * (1.0 / math.sqrt(d))
        mask = causal_bool_mask(s) if mask is None else mask
        probs = torch.softmax(scores.masked_fill(mask, float("-inf")), dim=-1)
        ctx = torch.matmul(dropout(probs, sh.dropout), vh)
    return ctx.permute(2, 0, 1, 3).reshape(s, b, sh.h)


def gpt_layer(x: torch.Tensor, p: dict[str, torch.Tensor], sh: Shape, sdpa: bool = False,
              mask: torch.Tensor | None = None) -> torch.Tensor:
    """``mask``: the step's shared causal mask (``causal_bool_mask``); built here when None."""
    ln1 = FusedLayerNorm.apply(x, p["ln1_w"], p["ln1_b"])
    qkv = F.linear(ln1, p["qkv_w"], p["qkv_b"])
    attn = F.linear(_gpt_attention(qkv, sh, sdpa, mask), p["proj_w"], p["proj_b"])
    h1 = x + dropout(attn, sh.dropout)
    ln2 = FusedLayerNorm.apply(h1, p["ln2_w"], p["ln2_b"])
    mlp = F.linear(F.gelu(F.linear(ln2, p["fc1_w"], p["fc1_b"])), p["fc2_w"], p["fc2_b"])
    return h1 + dropout(mlp, sh.dropout)


# Llama as Megatron + Transformer Engine run it -------------------------------------
def llama_params(sh: Shape, fused: bool) -> dict[str, torch.Tensor]:
    """Fused: Megatron's linear_qkv and linear_fc1 (gate and up in one matrix); else HF's separate ones."""
    h, f, q, kv = sh.h, sh.ffn, sh.a * sh.d, sh.g * sh.d
    ones = lambda n: torch.ones(n, dtype=DTYPE, requires_grad=True)  # noqa: E731
    common = {"norm1_w": ones(h), "o_w": param(h, q), "norm2_w": ones(h), "down_w": param(h, f)}
    if fused:
        return common | {"qkv_w": param(q + 2 * kv, h), "gate_up_w": param(2 * f, h)}
    return common | {"q_w": param(q, h), "k_w": param(kv, h), "v_w": param(kv, h),
                     "gate_w": param(f, h), "up_w": param(f, h)}


def llama_fused_layer(x: torch.Tensor, p: dict[str, torch.Tensor], sh: Shape,
                      rope: tuple[torch.Tensor, torch.Tensor]) -> torch.Tensor:
    s, b, a, g, d = sh.s, sh.b, sh.a, sh.g, sh.d
    n1 = FusedRMSNorm.apply(x, p["norm1_w"])
    qkv = F.linear(n1, p["qkv_w"])
    q, k, v = qkv.split((a * d, g * d, g * d), dim=-1)
    q = FusedRoPE.apply(q.reshape(s, b, a, d), *rope)
    k = FusedRoPE.apply(k.reshape(s, b, g, d), *rope)
    out = FlashAttention.apply(q, k, v.view(s, b, g, d))  # v stays a view: the QKV buffer lives on
    h1 = x + F.linear(out.view(s, b, a * d), p["o_w"])
    n2 = FusedRMSNorm.apply(h1, p["norm2_w"])
    if "router_w" in p:
        return h1 + moe_mlp(n2, p)
    gate_up = F.linear(n2, p["gate_up_w"])
    return h1 + F.linear(FusedSwiGLU.apply(gate_up), p["down_w"])


# Mixture of experts (Megatron-style token-choice top-k) -----------------------------
def moe_params(sh: Shape, experts: int, expert_ffn: int) -> dict[str, torch.Tensor]:
    p = llama_params(sh, fused=True)
    del p["gate_up_w"], p["down_w"]
    p["router_w"] = param(experts, sh.h)
    for i in range(experts):
        p[f"e{i}_gate_up_w"] = param(2 * expert_ffn, sh.h)
        p[f"e{i}_down_w"] = param(sh.h, expert_ffn)
    return p


def moe_mlp(x: torch.Tensor, p: dict[str, torch.Tensor], top_k: int = 2) -> torch.Tensor:
    """Router -> fp32 softmax -> top-k; tokens sorted by expert (Megatron's permute), fused-SwiGLU
    experts, outputs weighted by their router probabilities and summed back (unpermute)."""
    experts = p["router_w"].shape[0]
    tokens = x.reshape(-1, x.shape[-1])
    scores = torch.softmax(F.linear(tokens, p["router_w"]).float(), dim=-1)  # saves fp32 [sb, E]
    top_p, top_i = scores.topk(top_k, dim=-1)  # saves the int64 indices [sb, k]
    order = top_i.flatten().argsort(stable=True)
    token_of = order // top_k
    permuted = tokens.index_select(0, token_of)  # saves token_of; the expert inputs [sbk, h]
    counts = torch.bincount(top_i.flatten(), minlength=experts).tolist()
    outputs, start = [], 0
    for i, count in enumerate(counts):
        chunk = permuted[start:start + count]
        act = FusedSwiGLU.apply(F.linear(chunk, p[f"e{i}_gate_up_w"]))
        outputs.append(F.linear(act, p[f"e{i}_down_w"]))
        start += count
    expert_out = torch.cat(outputs)  # [sbk, h], kept for the router probabilities' gradient
    weights = top_p.flatten().index_select(0, order).to(x.dtype)  # saves `order`
    weighted = expert_out * weights[:, None]
    # scatter_add keeps only its index (index_add would also keep `weighted`)
    out = torch.zeros_like(tokens).scatter_add(0, token_of[:, None].expand_as(weighted), weighted)
    return out.view_as(x)


# Llama as Hugging Face transformers (eager) writes it -----------------------------
def hf_rms_norm(x: torch.Tensor, weight: torch.Tensor, eps: float = 1e-6) -> torch.Tensor:
    # transformers LlamaRMSNorm.forward
    input_dtype = x.dtype
    hidden = x.to(torch.float32)
    variance = hidden.pow(2).mean(-1, keepdim=True)
    hidden = hidden * torch.rsqrt(variance + eps)
    return weight * hidden.to(input_dtype)


def _hf_rotate_half(x: torch.Tensor) -> torch.Tensor:
    x1, x2 = x[..., : x.shape[-1] // 2], x[..., x.shape[-1] // 2:]
    return torch.cat((-x2, x1), dim=-1)


def _hf_repeat_kv(x: torch.Tensor, n_rep: int) -> torch.Tensor:
    b, g, s, d = x.shape
    if n_rep == 1:
        return x
    return x[:, :, None, :, :].expand(b, g, n_rep, s, d).reshape(b, g * n_rep, s, d)


def _hf_attention(x: torch.Tensor, p: dict[str, torch.Tensor], sh: Shape,
                  rope: tuple[torch.Tensor, torch.Tensor], mask: torch.Tensor, sdpa: bool) -> torch.Tensor:
    b, s, a, g, d = sh.b, sh.s, sh.a, sh.g, sh.d
    q = F.linear(x, p["q_w"]).view(b, s, a, d).transpose(1, 2)
    k = F.linear(x, p["k_w"]).view(b, s, g, d).transpose(1, 2)
    v = F.linear(x, p["v_w"]).view(b, s, g, d).transpose(1, 2)
    cos, sin = rope
    q = (q * cos) + (_hf_rotate_half(q) * sin)  # apply_rotary_pos_emb
    k = (k * cos) + (_hf_rotate_half(k) * sin)
    if sdpa:
        # sdpa_attention_forward without a padding mask: is_causal, GQA inside the kernel (no repeat_kv)
        out = F.scaled_dot_product_attention(q, k, v, is_causal=True, enable_gqa=True).transpose(1, 2).contiguous()
        return F.linear(out.reshape(b, s, a * d), p["o_w"])
    k, v = _hf_repeat_kv(k, a // g), _hf_repeat_kv(v, a // g)
    weights = torch.matmul(q, k.transpose(2, 3)) * (d ** -0.5) + mask  # eager_attention_forward
    weights = F.softmax(weights, dim=-1, dtype=torch.float32).to(q.dtype)
    weights = dropout(weights, sh.dropout)  # F.dropout(p=attention_dropout), as CUDA runs it
    out = torch.matmul(weights, v).transpose(1, 2).contiguous()
    return F.linear(out.reshape(b, s, a * d), p["o_w"])


def causal_mask(s: int) -> torch.Tensor:
    return torch.zeros(s, s, dtype=DTYPE).masked_fill(torch.ones(s, s, dtype=torch.bool).triu(1), float("-inf"))


def llama_hf_layer(x: torch.Tensor, p: dict[str, torch.Tensor], sh: Shape,
                   rope: tuple[torch.Tensor, torch.Tensor], mask: torch.Tensor, sdpa: bool = False) -> torch.Tensor:
    """``sdpa``: ``attn_implementation="sdpa"`` (the CPU runs its flash kernel) instead of "eager"."""
    h1 = x + _hf_attention(hf_rms_norm(x, p["norm1_w"]), p, sh, rope, mask, sdpa)
    n2 = hf_rms_norm(h1, p["norm2_w"])
    mlp = F.linear(F.silu(F.linear(n2, p["gate_w"])) * F.linear(n2, p["up_w"]), p["down_w"])
    return h1 + mlp
