"""Model architecture: what the user plans for.

Two levels of detail are accepted:

* the article's level: a declared parameter count with layers, hidden size and
  heads (``ModelSpec(params=13_000_000_000, layers=40, hidden=5120, heads=40)``);
* a full architecture (vocab, FFN size, GQA, gated MLP, norms, biases, MoE,
  MLA ...), from which :mod:`engine.model.params` derives the count per component.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from engine.errors import PlanError
from engine.limits import (
    MAX_CONTEXT,
    MAX_EXPERTS,
    MAX_FFN,
    MAX_HEAD_DIM,
    MAX_HEADS,
    MAX_HIDDEN,
    MAX_LAYERS,
    MAX_NAME_CHARS,
    MAX_PARAMETERS,
    MAX_RANK,
    MAX_VOCAB,
)

NormType = Literal["layernorm", "rmsnorm"]
PositionEmbedding = Literal["rope", "learned", "alibi", "none"]


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class MoESpec(_Frozen):
    """Mixture of experts.  Layers ``first_dense_layers`` .. are MoE every ``layer_freq``."""

    experts: int = Field(gt=0, le=MAX_EXPERTS, description="routed experts per MoE layer")
    top_k: int = Field(gt=0, le=MAX_EXPERTS, description="experts each token is routed to")
    expert_ffn: int = Field(gt=0, le=MAX_FFN, description="FFN size of one routed expert")
    shared_experts: int = Field(0, ge=0, le=MAX_EXPERTS, description="always-active shared experts")
    shared_expert_ffn: int | None = Field(None, gt=0, le=MAX_FFN, description="FFN size of one shared expert (default expert_ffn)")
    first_dense_layers: int = Field(0, ge=0, le=MAX_LAYERS, description="leading layers with a dense MLP (DeepSeek first_k_dense_replace)")
    layer_freq: int = Field(1, gt=0, le=MAX_LAYERS, description="every n-th layer after the dense ones is MoE")

    @model_validator(mode="after")
    def _check(self) -> MoESpec:
        if self.top_k > self.experts:
            raise PlanError("model.moe.top_k", self.top_k, f"at most experts={self.experts}")
        return self


class MLASpec(_Frozen):
    """DeepSeek-V2/V3 multi-head latent attention."""

    q_lora_rank: int | None = Field(None, gt=0, le=MAX_RANK, description="query compression rank (None: plain q_proj)")
    kv_lora_rank: int = Field(gt=0, le=MAX_RANK, description="compressed KV latent size")
    qk_nope_head_dim: int = Field(gt=0, le=MAX_HEAD_DIM)
    qk_rope_head_dim: int = Field(gt=0, le=MAX_HEAD_DIM)
    v_head_dim: int = Field(gt=0, le=MAX_HEAD_DIM)


class ModelSpec(_Frozen):
    name: str = Field("custom", max_length=MAX_NAME_CHARS)
    params: int | None = Field(
        None,
        gt=0,
        le=MAX_PARAMETERS,
        description="declared total parameter count; used as the count when the architecture is incomplete (no vocab)",
    )
    layers: int = Field(gt=0, le=MAX_LAYERS)
    hidden: int = Field(gt=0, le=MAX_HIDDEN)
    heads: int = Field(gt=0, le=MAX_HEADS)
    kv_heads: int | None = Field(None, gt=0, le=MAX_HEADS, description="KV heads (GQA/MQA); default: heads")
    head_dim: int | None = Field(None, gt=0, le=MAX_HEAD_DIM, description="default: hidden / heads")
    ffn: int | None = Field(None, gt=0, le=MAX_FFN, description="dense MLP size; default 4 * hidden")
    vocab: int | None = Field(None, gt=0, le=MAX_VOCAB, description="vocabulary size; None: article-level model")
    gated_mlp: bool = Field(False, description="SwiGLU/GeGLU: three MLP matrices instead of two")
    norm: NormType = "layernorm"
    bias: bool = Field(True, description="biases on the linear layers")
    qkv_bias: bool | None = Field(None, description="bias on Q/K/V only (Qwen2); default: follows bias")
    tied_embeddings: bool = False
    position_embedding: PositionEmbedding = "rope"
    max_position: int = Field(0, ge=0, le=MAX_CONTEXT, description="rows of a learned position embedding")
    norms_per_layer: int = Field(2, ge=1, le=4, description="1 for a parallel block sharing one norm (GPT-J, Falcon-7B)")
    parallel_residual: bool = Field(
        False, description="attention and MLP both read the layer input and add to it together (GPT-J, GPT-NeoX, "
        "Falcon, phi); implied by norms_per_layer = 1")
    qk_norm: bool = Field(False, description="per-head norm on Q and K (Qwen3, OLMo2)")
    scaled_logits: bool = Field(
        False, description="the forward divides the logits by a constant (Granite's logits_scaling: "
        "`logits = logits / config.logits_scaling`), a new logits-sized tensor beside lm_head's output for an "
        "instant; it changes the allocator's segments (the Trainer replay), never the allocated peak")
    dropout: float = Field(0.0, ge=0.0, lt=1.0, allow_inf_nan=False, description="hidden and attention dropout probability")
    max_context: int | None = Field(
        None, gt=0, le=MAX_CONTEXT, description="context length the model was trained for (config max_position_embeddings); caps serving answers")
    sliding_window: int | None = Field(None, gt=0, le=MAX_CONTEXT, description="attention window (tokens) of sliding-window layers")
    sliding_window_layers: int | None = Field(None, ge=0, le=MAX_LAYERS, description="how many layers use the window (default: all)")
    moe: MoESpec | None = None
    mla: MLASpec | None = None

    @model_validator(mode="after")
    def _check(self) -> ModelSpec:
        kv = self.kv_heads or self.heads
        if self.heads % kv:
            raise PlanError("model.kv_heads", kv, f"a divisor of heads={self.heads}")
        if self.head_dim is None and self.hidden % self.heads:
            raise PlanError("model.heads", self.heads, f"a divisor of hidden={self.hidden}, or give head_dim")
        if self.vocab is None and self.params is None:
            raise PlanError("model.params", None, "a parameter count when vocab is not given (article-level model)")
        if self.position_embedding == "learned" and self.max_position == 0 and self.vocab is not None:
            raise PlanError("model.max_position", 0, "the number of learned positions (> 0)")
        if self.moe and self.moe.first_dense_layers > self.layers:
            raise PlanError("model.moe.first_dense_layers", self.moe.first_dense_layers, f"at most layers={self.layers}")
        return self

    # Derived shapes -----------------------------------------------------
    @property
    def kv_heads_(self) -> int:
        return self.kv_heads or self.heads

    @property
    def head_dim_(self) -> int:
        return self.head_dim or self.hidden // self.heads

    @property
    def ffn_(self) -> int:
        return self.ffn or 4 * self.hidden

    @property
    def parallel_(self) -> bool:
        """A parallel block: attention and MLP read the same layer input (a shared norm implies it)."""
        return self.parallel_residual or self.norms_per_layer == 1

    @property
    def qkv_bias_(self) -> bool:
        return self.bias if self.qkv_bias is None else self.qkv_bias

    @property
    def complete(self) -> bool:
        """True when the architecture alone determines the parameter count."""
        return self.vocab is not None

    def is_moe_layer(self, index: int) -> bool:
        moe = self.moe
        if moe is None or index < moe.first_dense_layers:
            return False
        return (index - moe.first_dense_layers) % moe.layer_freq == 0

    @property
    def moe_layer_count(self) -> int:
        return sum(1 for i in range(self.layers) if self.is_moe_layer(i))
