"""PyTorch FSDP on a card of a PEFT fine-tuning run: what the card keeps of the frozen base, what FSDP
gathers whole (:mod:`engine.training.memory.fsdp` has the moments), and which plans it applies to."""

from __future__ import annotations

from engine.errors import PlanError
from engine.finetune.base_format import DTYPE_BYTES, base_scheme
from engine.finetune.config import FinetuneConfig
from engine.plan.checks import check_stages
from engine.plan.schema import Plan
from engine.report.formatting import ceil_div, n
from engine.training.memory.fsdp import FsdpUnits, gathered
from engine.weights.quant import tensor_bytes, tensor_format
from engine.weights.tensors import layer_tensors

# What the published FSDP runs of PEFT say about this count (docs/validation.md, fms-* fsdp2 cases)
PEFT_FSDP_WARNING = (
    "LoRA and QLoRA under FSDP: with transformers 4.48 and accelerate 1.0 the published runs (fms-acceleration's A100 "
    "table, two cards) peaked above this estimate: LoRA on Mistral-7B by 8-9 % (Mixtral-8x7B within 2 %), QLoRA by "
    "5-10 % on Mistral-7B and Mixtral-8x7B and by 22 % on Llama-2-70B, which ran out of memory at 4 sequences per "
    "card where this count fits; with transformers 4.45 and accelerate 0.34 (PowerLM-3B) within 0.4 %. The sharded "
    "states match all of them; what the newer stack adds is not identified. Keep that much headroom")


def check_fsdp(plan: Plan, cfg: FinetuneConfig) -> None:
    """FSDP shards over data-parallel cards of one stage, as the Trainer runs it (PEFT's stack)."""
    if not cfg.fsdp:
        return
    if cfg.framework != "peft":
        raise PlanError("finetune.fsdp", True, "false with framework litgpt (FSDP is modelled as the Hugging "
                        "Face Trainer runs it), or framework peft")
    stages = check_stages(plan.layout).stages
    if stages > 1:
        raise PlanError("finetune.fsdp", True, f"false with {stages} pipeline stages (a device_map layer split "
                        "runs on one process), or a layout of one stage whose cards FSDP shards over")


def fsdp_shards(plan: Plan, cfg: FinetuneConfig) -> int:
    """Cards FSDP shards the model states over: the data-parallel cards with ``fsdp``, else 1."""
    return check_stages(plan.layout).dp_for_batch if cfg.fsdp else 1


def quant_state_bytes(plan: Plan, cfg: FinetuneConfig, layers: tuple[int, ...]) -> int:
    """Bytes of the 4-bit matrices' quantization state (absmax and their constants) on a card's layers."""
    if cfg.method != "qlora":
        return 0
    spec, scheme = plan.model, base_scheme(cfg)
    total = 0
    for i in layers:
        for t in layer_tensors(spec)[i]:
            fmt = tensor_format(scheme, t, spec)
            if t.is_matrix and fmt is scheme.base:
                total += tensor_bytes(scheme, t, spec) - t.count * ceil_div(t.rows * t.cols * fmt.bits, 8)
    return total


def sharded_base(plan: Plan, cfg: FinetuneConfig, layers: tuple[int, ...], base: int, shards: int) -> tuple[int, str]:
    """The frozen base (``base`` bytes whole) a card keeps under FSDP: 1/N of the flat parameters and every
    4-bit matrix's quantization state (bitsandbytes keeps the absmax and its constants in
    ``Params4bit.quant_state``, an attribute FSDP does not flatten, so each rank holds all of it)."""
    if shards == 1:
        return base, f"base {base_scheme(cfg).name} {n(base)} B"
    state = quant_state_bytes(plan, cfg, layers)
    kept = ceil_div(base - state, shards) + state
    text = f"base {base_scheme(cfg).name} ({n(base - state)} B ÷ {shards} FSDP shards"
    return kept, text + (f" + the 4-bit quantization state {n(state)} B, whole on every card)" if state else ")")


def peft_fsdp_units(plan: Plan, cfg: FinetuneConfig, layers: tuple[int, ...], layer_bytes: dict[int, int], root: int,
                    shards: int) -> FsdpUnits:
    """What FSDP gathers whole on a card of a PEFT run: the decoder units' frozen base (``layer_bytes`` of each
    layer; the adapters are units of their own) and the root unit (``root`` bytes: embeddings, final norm,
    output layer), in the base's storage: 16-bit elements, the 4-bit weights packed into them (transformers
    sets ``bnb_4bit_quant_storage`` to the model's dtype for FSDP) without their quantization state, which FSDP
    does not flatten."""
    element = DTYPE_BYTES[cfg.base_dtype]
    largest = max(layer_bytes[i] - quant_state_bytes(plan, cfg, (i,)) for i in layers)
    return FsdpUnits(root=gathered(root, element, shards), layer=gathered(largest, element, shards),
                     layers=len(layers), layer_grad=0, root_grad=0)
