"""The model's tensors with their shapes, class and tensor-parallel split.

Quantized formats treat tensor classes differently (GGUF keeps 1-D tensors in
F32 and bumps ``attn_v`` / ``ffn_down``; GPTQ keeps the embeddings and the
output layer in 16 bit), so the serving engine works per tensor.  Shapes are
``(rows, cols)`` with ``cols`` the input dimension, as PyTorch's ``nn.Linear``
and GGUF's row-major blocks store them.  The tensors sum exactly to
:func:`engine.model.params.parameter_count`.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import Literal

from engine.model.params import parameter_counts
from engine.model.spec import ModelSpec

# Name prefix of the routed experts' stacked tensors (weights and biases) of a MoE layer.
EXPERTS_PREFIX = "experts."

# column: rows split over TP; row: cols split over TP; replicated: whole on every TP rank.
Split = Literal["column", "row", "replicated"]
TensorClass = Literal[
    "embedding", "position", "output", "norm", "bias", "router",
    "attn_q", "attn_k", "attn_v", "attn_output", "attn_latent",
    "ffn_gate", "ffn_up", "ffn_down",
]


@dataclass(frozen=True, slots=True)
class Tensor:
    name: str
    cls: TensorClass
    rows: int
    cols: int
    split: Split
    count: int = 1  # identical tensors (routed experts)
    layer: int | None = None  # None: outside the transformer layers

    @property
    def elements(self) -> int:
        return self.rows * self.cols * self.count

    @property
    def is_matrix(self) -> bool:
        return self.rows > 1 and self.cls not in ("norm", "bias")

    @property
    def is_routed_expert(self) -> bool:
        """One of a MoE layer's routed-expert stacks (weights or biases), not its router or shared experts."""
        return self.name.startswith(EXPERTS_PREFIX)

    def shard(self, tp: int) -> tuple[int, int]:
        """(rows, cols) one TP rank holds (ceiling: a shard never holds a fraction of a row)."""
        if self.split == "column":
            return -(-self.rows // tp), self.cols
        if self.split == "row":
            return self.rows, -(-self.cols // tp)
        return self.rows, self.cols


def _vec(name: str, cls: TensorClass, n: int, layer: int | None) -> Tensor:
    return Tensor(name, cls, 1, n, "replicated", 1, layer)


def _attention(spec: ModelSpec, i: int) -> list[Tensor]:
    h = spec.hidden
    if spec.mla is not None:
        m = spec.mla
        qk = m.qk_nope_head_dim + m.qk_rope_head_dim
        out = []
        if m.q_lora_rank is None:
            out.append(Tensor("q_proj", "attn_q", spec.heads * qk, h, "column", 1, i))
        else:
            out += [Tensor("q_a_proj", "attn_latent", m.q_lora_rank, h, "replicated", 1, i),
                    _vec("q_a_norm", "norm", m.q_lora_rank, i),
                    Tensor("q_b_proj", "attn_q", spec.heads * qk, m.q_lora_rank, "column", 1, i)]
        out += [Tensor("kv_a_proj", "attn_latent", m.kv_lora_rank + m.qk_rope_head_dim, h, "replicated", 1, i),
                _vec("kv_a_norm", "norm", m.kv_lora_rank, i),
                Tensor("kv_b_proj", "attn_v", spec.heads * (m.qk_nope_head_dim + m.v_head_dim), m.kv_lora_rank,
                       "column", 1, i),
                Tensor("o_proj", "attn_output", h, spec.heads * m.v_head_dim, "row", 1, i)]
        return out
    d = spec.head_dim_
    q, kv = spec.heads * d, spec.kv_heads_ * d
    out = [Tensor("q_proj", "attn_q", q, h, "column", 1, i), Tensor("k_proj", "attn_k", kv, h, "column", 1, i),
           Tensor("v_proj", "attn_v", kv, h, "column", 1, i), Tensor("o_proj", "attn_output", h, q, "row", 1, i)]
    if spec.qkv_bias_:
        out.append(Tensor("qkv_bias", "bias", 1, q + 2 * kv, "column", 1, i))
    if spec.bias:
        out.append(_vec("o_bias", "bias", h, i))
    if spec.qk_norm:
        out.append(_vec("qk_norm", "norm", 2 * d, i))
    return out


def _mlp(spec: ModelSpec, ffn: int, i: int, count: int, prefix: str) -> list[Tensor]:
    h = spec.hidden
    out = [Tensor(f"{prefix}up_proj", "ffn_up", ffn, h, "column", count, i),
           Tensor(f"{prefix}down_proj", "ffn_down", h, ffn, "row", count, i)]
    if spec.gated_mlp:
        out.insert(0, Tensor(f"{prefix}gate_proj", "ffn_gate", ffn, h, "column", count, i))
    if spec.bias:
        up_bias = (2 if spec.gated_mlp else 1) * ffn
        out += [Tensor(f"{prefix}up_bias", "bias", 1, up_bias * count, "column", 1, i),
                Tensor(f"{prefix}down_bias", "bias", 1, h * count, "replicated", 1, i)]
    return out


def _layer(spec: ModelSpec, i: int) -> list[Tensor]:
    norm_size = spec.hidden * (2 if spec.norm == "layernorm" else 1)
    out = _attention(spec, i)
    moe = spec.moe
    if moe is not None and spec.is_moe_layer(i):
        out.append(Tensor("router", "router", moe.experts, spec.hidden, "replicated", 1, i))
        out += _mlp(spec, moe.expert_ffn, i, moe.experts, EXPERTS_PREFIX)
        if moe.shared_experts:
            out += _mlp(spec, moe.shared_expert_ffn or moe.expert_ffn, i, moe.shared_experts, "shared.")
    else:
        out += _mlp(spec, spec.ffn_, i, 1, "")
    out.append(_vec("layer_norms", "norm", spec.norms_per_layer * norm_size, i))
    return out


@lru_cache(maxsize=256)  # bounded: a long GUI session or a soak run must not grow it
def layer_tensors(spec: ModelSpec) -> tuple[tuple[Tensor, ...], ...]:
    """Tensors of each transformer layer.  Article-level models whose declared count is
    smaller than the layers' (scaled layers) get one pseudo-matrix per layer."""
    counts = parameter_counts(spec)
    out = []
    for i, lp in enumerate(counts.layers):
        tensors = _layer(spec, i)
        if sum(t.elements for t in tensors) != lp.total:
            tensors = [Tensor("layer", "attn_q", max(1, lp.total // spec.hidden), spec.hidden, "column", 1, i),
                       _vec("layer_rest", "norm", lp.total % spec.hidden, i)]
        out.append(tuple(t for t in tensors if t.elements))
    return tuple(out)


@lru_cache(maxsize=256)  # bounded: a long GUI session or a soak run must not grow it
def outer_tensors(spec: ModelSpec) -> tuple[Tensor, ...]:
    """Embedding, learned positions, final norm and output layer."""
    counts = parameter_counts(spec)
    h = spec.hidden
    out = []
    if counts.embedding:
        rows = spec.vocab if spec.vocab else max(1, counts.embedding // h)
        rest = counts.embedding - rows * h
        out.append(Tensor("embed_tokens", "embedding", rows, h, "column"))
        if rest:
            out.append(_vec("embed_rest", "embedding", rest, None))
    if counts.position_embedding:
        out.append(Tensor("embed_positions", "position", spec.max_position, h, "replicated"))
    if counts.final_norm:
        out.append(_vec("final_norm", "norm", counts.final_norm, None))
    if counts.output_layer:
        out.append(Tensor("lm_head", "output", spec.vocab or 1, h, "column"))
    return tuple(out)


def output_matrix(spec: ModelSpec) -> Tensor | None:
    """The output layer's matrix: ``lm_head``, or for tied embeddings the token embedding in the output layer's
    class (what a runtime holding the output layer apart from the embedding keeps: llama.cpp's ``output`` copy,
    quantized as an output tensor); None for a model without one."""
    outer = outer_tensors(spec)
    for t in outer:
        if t.cls == "output":
            return t
    for t in outer:
        if t.cls == "embedding" and t.rows > 1:
            return Tensor("lm_head", "output", t.rows, t.cols, t.split)
    return None
