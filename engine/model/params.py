"""Parameter counts per component, derived from the architecture.

Each layer's parameters are split into the parts that tensor parallelism
shards (column/row-parallel matrices), the parts every TP rank replicates
(norms, row-parallel biases, the MoE router, MLA down-projections, which
Megatron keeps duplicated) and the routed experts (sharded by expert
parallelism).  Formulas follow Megatron-LM's
``theoretical_memory_usage.compute_weight_and_optimizer_memory``; where this
module is more precise (biases, qk-norms, the MLA q/kv norms, learned position
embeddings) the term is named below.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from engine.model.spec import ModelSpec


@dataclass(frozen=True, slots=True)
class LayerParams:
    """One transformer layer's parameters, grouped by how parallelism shards them."""

    attention: int  # all attention parameters (matrices, biases, qk/latent norms)
    attention_replicated: int  # part of `attention` every TP rank keeps whole
    mlp: int  # dense MLP, or shared experts of a MoE layer
    mlp_replicated: int  # row-parallel bias of the MLP
    norms: int  # the layer's input norms (replicated on TP ranks)
    router: int  # MoE router (replicated)
    experts: int  # routed experts (sharded by EP, then by expert-TP)

    @property
    def total(self) -> int:
        return self.attention + self.mlp + self.norms + self.router + self.experts

    def per_tp_rank(self, tp: int, ep: int = 1, expert_tp: int = 1) -> int:
        """Parameters one rank holds when this layer is split over ``tp`` and ``ep``.

        Split parts use ceiling division: a shard never holds a fraction of a parameter.
        """
        split = (self.attention - self.attention_replicated) + (self.mlp - self.mlp_replicated)
        replicated = self.attention_replicated + self.mlp_replicated + self.norms + self.router
        return -(-split // tp) + replicated + -(-self.experts // (ep * expert_tp))


@dataclass(frozen=True, slots=True)
class ParameterCounts:
    embedding: int  # input word embeddings (vocab-parallel over TP)
    position_embedding: int  # learned positions (replicated)
    layers: tuple[LayerParams, ...]
    final_norm: int
    output_layer: int  # 0 when tied to the input embedding
    declared: int | None  # the user's declared total, if any

    @property
    def transformer(self) -> int:
        return sum(layer.total for layer in self.layers) + self.final_norm

    @property
    def derived_total(self) -> int:
        return self.embedding + self.position_embedding + self.transformer + self.output_layer

    @property
    def total(self) -> int:
        """The count the engine uses: the architecture's, or the declared one for article-level models."""
        return self.derived_total

    inactive_expert_params: int = 0  # routed-expert parameters a token does not touch

    @property
    def active_per_token(self) -> int:
        """Parameters a token touches (MoE: top-k of the routed experts)."""
        return self.derived_total - self.inactive_expert_params


def _norm_size(spec: ModelSpec, width: int) -> int:
    return width * (2 if spec.norm == "layernorm" else 1)


def _attention_params(spec: ModelSpec) -> tuple[int, int]:
    """(all attention parameters, the part replicated over TP)."""
    h = spec.hidden
    if spec.mla is not None:
        m = spec.mla
        qk_head = m.qk_nope_head_dim + m.qk_rope_head_dim
        if m.q_lora_rank is None:
            q_split, q_repl = h * spec.heads * qk_head, 0
        else:
            # q_a_proj (h -> q_lora) and its RMSNorm are duplicated on TP ranks in Megatron's MLA.
            q_repl = h * m.q_lora_rank + m.q_lora_rank
            q_split = m.q_lora_rank * spec.heads * qk_head
        # kv_a_proj_with_mqa (h -> kv_lora + rope) and kv_a_layernorm are duplicated too.
        kv_repl = h * (m.kv_lora_rank + m.qk_rope_head_dim) + m.kv_lora_rank
        kv_split = m.kv_lora_rank * spec.heads * (m.qk_nope_head_dim + m.v_head_dim)
        o_split = spec.heads * m.v_head_dim * h
        repl = q_repl + kv_repl
        return q_split + kv_split + o_split + repl, repl
    d = spec.head_dim_
    q_dim, kv_dim = spec.heads * d, spec.kv_heads_ * d
    matrices = h * q_dim + 2 * h * kv_dim + q_dim * h
    qkv_bias = (q_dim + 2 * kv_dim) if spec.qkv_bias_ else 0
    o_bias = h if spec.bias else 0  # row-parallel bias: added after the all-reduce, replicated
    qk_norm = 2 * d if spec.qk_norm else 0  # per-head-dim weights shared by all heads: replicated
    return matrices + qkv_bias + o_bias + qk_norm, o_bias + qk_norm


def _mlp_params(spec: ModelSpec, ffn: int) -> tuple[int, int]:
    """(MLP parameters for one FFN of size ``ffn``, the replicated row-parallel bias)."""
    h = spec.hidden
    matrices = (3 if spec.gated_mlp else 2) * h * ffn
    if not spec.bias:
        return matrices, 0
    up_bias = (2 if spec.gated_mlp else 1) * ffn
    return matrices + up_bias + h, h


def _layer_params(spec: ModelSpec, index: int) -> LayerParams:
    attention, attention_repl = _attention_params(spec)
    norms = spec.norms_per_layer * _norm_size(spec, spec.hidden)
    moe = spec.moe
    if moe is not None and spec.is_moe_layer(index):
        one_expert, _ = _mlp_params(spec, moe.expert_ffn)
        shared_ffn = moe.shared_expert_ffn or moe.expert_ffn
        shared, shared_repl = _mlp_params(spec, shared_ffn) if moe.shared_experts else (0, 0)
        return LayerParams(
            attention=attention,
            attention_replicated=attention_repl,
            mlp=shared * moe.shared_experts,
            mlp_replicated=shared_repl * moe.shared_experts,
            norms=norms,
            router=spec.hidden * moe.experts,
            experts=one_expert * moe.experts,
        )
    mlp, mlp_repl = _mlp_params(spec, spec.ffn_)
    return LayerParams(attention, attention_repl, mlp, mlp_repl, norms, 0, 0)


@lru_cache(maxsize=256)  # bounded: a long GUI session or a soak run must not grow it
def parameter_counts(spec: ModelSpec) -> ParameterCounts:
    """Parameter counts per component.

    For an article-level model (no vocab) the layers use the default shapes
    (FFN 4h, MHA) and whatever the declared total leaves over is attributed
    to the input embedding, so that the components still sum to the declared
    count the article computes with.
    """
    layers = tuple(_layer_params(spec, i) for i in range(spec.layers))
    final_norm = _norm_size(spec, spec.hidden)
    if spec.complete:
        vocab = spec.vocab or 0
        embedding = vocab * spec.hidden
        output = 0 if spec.tied_embeddings else vocab * spec.hidden
        positions = spec.max_position * spec.hidden if spec.position_embedding == "learned" else 0
    else:
        declared = spec.params or 0
        body = sum(layer.total for layer in layers) + final_norm
        embedding, output, positions = max(0, declared - body), 0, 0
        if declared < body:
            # The declared total is smaller than the layers alone: scale nothing, keep the
            # declared count authoritative by shrinking the layers proportionally.
            layers = _scaled_layers(layers, declared - final_norm)
    inactive = 0
    if spec.moe is not None:
        for layer in layers:
            if layer.experts:
                inactive += layer.experts * (spec.moe.experts - spec.moe.top_k) // spec.moe.experts
    return ParameterCounts(
        embedding=embedding,
        position_embedding=positions,
        layers=layers,
        final_norm=final_norm,
        output_layer=output,
        declared=spec.params,
        inactive_expert_params=inactive,
    )


def _scaled_layers(layers: tuple[LayerParams, ...], budget: int) -> tuple[LayerParams, ...]:
    n = len(layers)
    each = max(budget, 0) // n
    remainder = max(budget, 0) - each * n
    out = []
    for i in range(n):
        count = each + (1 if i < remainder else 0)
        attention = count // 3
        out.append(LayerParams(attention, 0, count - attention, 0, 0, 0, 0))
    return tuple(out)


def parameter_count(spec: ModelSpec) -> int:
    """Total parameter count the engine computes with."""
    return parameter_counts(spec).total
