"""LoRA adapters: which matrices get one and how many parameters they add.

An adapter on a ``rows x cols`` matrix (``cols`` the input) is ``A`` (r x cols)
and ``B`` (rows x r): ``r · (rows + cols)`` parameters (Hu et al. 2021).  Target
names follow PEFT's usual Llama names: q, k, v, o (``q_proj`` ... ``o_proj``),
gate, up, down (the MLP, and a MoE layer's shared experts).  Routed experts are
not targeted (PEFT matches ``nn.Linear`` names; fused expert weights are not).
MLA models: q targets ``q_proj`` / ``q_b_proj``, v targets ``kv_b_proj``.
"""

from __future__ import annotations

from functools import cache

from engine.model.spec import ModelSpec
from engine.weights.tensors import Tensor, layer_tensors

TARGET_TENSORS = {
    "q": ("q_proj", "q_b_proj"),
    "k": ("k_proj",),
    "v": ("v_proj", "kv_b_proj"),
    "o": ("o_proj",),
    "gate": ("gate_proj", "shared.gate_proj"),
    "up": ("up_proj", "shared.up_proj"),
    "down": ("down_proj", "shared.down_proj"),
}


def adapted(spec: ModelSpec, layer: int, targets: tuple[str, ...]) -> tuple[Tensor, ...]:
    names = {name for t in targets for name in TARGET_TENSORS[t]}
    return tuple(t for t in layer_tensors(spec)[layer] if t.name in names)


@cache
def layer_adapter_params(spec: ModelSpec, layer: int, targets: tuple[str, ...], rank: int) -> int:
    return sum(t.count * rank * (t.rows + t.cols) for t in adapted(spec, layer, targets))


def adapter_params(spec: ModelSpec, layers: tuple[int, ...] | range, targets: tuple[str, ...], rank: int) -> int:
    return sum(layer_adapter_params(spec, i, targets, rank) for i in layers)


def adapter_activation_bytes(spec: ModelSpec, layer: int, targets: tuple[str, ...], rank: int,
                             tokens: int, e: int) -> int:
    """The rank-r intermediate ``x A`` each adapter saves for B's gradient (16-bit)."""
    return sum(t.count * e * tokens * rank for t in adapted(spec, layer, targets))
