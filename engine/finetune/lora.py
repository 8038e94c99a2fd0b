"""LoRA adapters: which matrices get one and how many parameters they add.

An adapter on a ``rows x cols`` matrix (``cols`` the input) is ``A`` (r x cols)
and ``B`` (rows x r): ``r · (rows + cols)`` parameters (Hu et al. 2021).  Target
names follow PEFT's usual Llama names: q, k, v, o (``q_proj`` ... ``o_proj``),
gate, up, down (the MLP, and a MoE layer's shared experts).  Routed experts are
not targeted (PEFT matches ``nn.Linear`` names; fused expert weights are not).
MLA models: q targets ``q_proj`` / ``q_b_proj``, v targets ``kv_b_proj``.  ``head`` is the output layer
(``lm_head``), on the card that holds it.
"""

from __future__ import annotations

from functools import lru_cache

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
    "head": (),  # the output layer, outside the layers: head_adapter_params
}


def adapted(spec: ModelSpec, layer: int, targets: tuple[str, ...]) -> tuple[Tensor, ...]:
    names = {name for t in targets for name in TARGET_TENSORS[t]}
    return tuple(t for t in layer_tensors(spec)[layer] if t.name in names)


@lru_cache(maxsize=16384)  # bounded: a long GUI session or a soak run must not grow it
def layer_adapter_params(spec: ModelSpec, layer: int, targets: tuple[str, ...], rank: int) -> int:
    return sum(t.count * rank * (t.rows + t.cols) for t in adapted(spec, layer, targets))


def adapter_params(spec: ModelSpec, layers: tuple[int, ...] | range, targets: tuple[str, ...], rank: int, *,
                   output_layer: bool = False) -> int:
    """Adapter parameters of ``layers``, and of the output layer's adapter when the card holds it."""
    head = head_adapter_params(spec, targets, rank) if output_layer else 0
    return sum(layer_adapter_params(spec, i, targets, rank) for i in layers) + head


def head_adapter_params(spec: ModelSpec, targets: tuple[str, ...], rank: int) -> int:
    """An adapter on the output layer (PEFT's ``lm_head`` target, LitGPT's ``lora_head``): r · (V + h)."""
    return rank * (spec.vocab + spec.hidden) if "head" in targets and spec.vocab else 0


def head_adapter_activation_bytes(spec: ModelSpec, targets: tuple[str, ...], rank: int, tokens: int, e: int, a: int,
                                  dropout: bool, input_kept: bool) -> int:
    """What an adapter on the output layer keeps: the dropout output and mask of the final norm's output (or,
    without dropout, that output itself unless something keeps it already: ``input_kept``) and the rank output."""
    if "head" not in targets or not spec.vocab:
        return 0
    h = spec.hidden
    own = (a + 1) * h if dropout else (0 if input_kept and a == e else a * h)
    return (own + a * rank) * tokens


def adapter_activation_bytes(spec: ModelSpec, layer: int, targets: tuple[str, ...], rank: int,
                             tokens: int, e: int, a: int, dropout: bool) -> int:
    """What each adapter saves for its own backward, per adapted matrix of ``cols`` inputs.

    PEFT's ``lora.Linear.forward`` (``peft/tuners/lora/layer.py``) casts the input to the
    adapters' dtype (``a`` B; a copy when that is not the compute dtype ``e``), applies
    ``lora_dropout`` (a new tensor plus a 1-byte mask when p > 0; LitGPT's ``LoRALinear`` does
    the same on the 16-bit input), and ``lora_A`` saves that input for A's gradient;
    ``lora_B`` saves the rank-r intermediate ``x A`` (``a`` B) for B's gradient.  Without
    dropout and with adapters in the compute dtype, A's input is the layer input already saved.
    """
    total = 0
    for t in adapted(spec, layer, targets):
        if dropout:
            own_input = (a + 1) * tokens * t.cols
        elif a != e:
            own_input = a * tokens * t.cols
        else:
            own_input = 0
        total += t.count * (own_input + a * tokens * rank)
    return total
