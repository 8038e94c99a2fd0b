"""The engine's ``detailed`` prediction for a measured configuration, through ``estimate``.

Each configuration becomes a one-card, one-layer plan; the engine's per-layer
activation figure (``activations_per_layer``) is what the measurement is held to.
"""

from __future__ import annotations

from engine.estimate import estimate
from engine.model.spec import ModelSpec, MoESpec
from engine.plan.layout import Card, Layout, Node
from engine.plan.schema import Plan
from engine.report.records import Breakdown
from engine.training.config import MethodConfig, TrainingConfig
from fidelity.layers import Shape

CARD_BYTES = 2**40  # 1 TiB: large enough that nothing is over capacity, within the plan limits


def one_card_layout() -> Layout:
    node = Node(id="n0")
    return Layout(nodes=(node,), cards=(Card(id="c0", node="n0", gpu="test", capacity_bytes=CARD_BYTES),))


def gpt_spec(sh: Shape, layers: int = 1, vocab: int = 1000) -> ModelSpec:
    return ModelSpec(layers=layers, hidden=sh.h, heads=sh.a, ffn=sh.ffn, vocab=vocab, norm="layernorm",
                     bias=True, position_embedding="learned", max_position=sh.s, dropout=sh.dropout)


def llama_spec(sh: Shape, layers: int = 1, vocab: int = 1000, moe: MoESpec | None = None) -> ModelSpec:
    return ModelSpec(layers=layers, hidden=sh.h, heads=sh.a, kv_heads=sh.g, ffn=sh.ffn, vocab=vocab,
                     gated_mlp=True, norm="rmsnorm", bias=False, position_embedding="rope",
                     dropout=sh.dropout, moe=moe)


def breakdown(spec: ModelSpec, sh: Shape, framework: str = "megatron", flash: bool = False,
              precision: str = "bf16") -> Breakdown:
    plan = Plan(
        model=spec, layout=one_card_layout(),
        training=TrainingConfig(seq=sh.s, micro_batch=sh.b, global_batch=sh.b, precision=precision,
                                flash_attention=flash),
        method=MethodConfig(method="detailed", framework=framework),
    )
    return estimate(plan).cards[0].breakdown


def predicted_layer_bytes(spec: ModelSpec, sh: Shape, framework: str = "megatron", flash: bool = False) -> int:
    details = [f for f in breakdown(spec, sh, framework, flash).details if f.key == "activations_per_layer"]
    return details[0].bytes
