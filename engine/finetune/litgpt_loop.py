"""What LitGPT's training loop still holds of the previous micro-batch.

``litgpt/finetune/lora.py`` binds the model's output, ``logits = model(...)``, and keeps it until the
next micro-batch's forward returns, so the previous micro-batch's autograd graph lives that long: through
the optimizer step and the next forward.  The backward has released what its ops saved with
``save_for_backward``; what remains is the fp32 logit chunks the name refers to and, with bitsandbytes
before 0.43.2, every 4-bit linear's input, which ``MatMul4Bit`` keeps on ``ctx``
(:mod:`engine.finetune.bitsandbytes`).  The card's timeline gets the moment at the end of that next
forward ("next forward") and the optimizer step holds the same graph.
"""

from __future__ import annotations

import dataclasses

from engine.finetune.base_format import base_scheme
from engine.finetune.bitsandbytes import qlora_keeps_inputs
from engine.finetune.config import FinetuneConfig
from engine.finetune.litgpt_block import litgpt_matmul4bit_input_bytes
from engine.finetune.loss import ForwardEnd, litgpt_forward_end
from engine.model.spec import ModelSpec
from engine.report.formatting import n
from engine.report.records import Figure, Moment, figure


@dataclasses.dataclass(frozen=True, slots=True)
class PreviousMicroBatch:
    """LitGPT: what the previous micro-batch's graph still holds while the loop's ``logits`` refers to it
    (through the optimizer step and the next micro-batch's forward)."""

    activations: int  # its 4-bit linears' inputs (bitsandbytes before 0.43.2), on ctx: backward keeps them
    text: str
    forward_end: ForwardEnd  # the next forward's logits end, with the previous fp32 chunks (0 without lm_head)

    def held(self) -> tuple[tuple[str, int], ...]:
        return ("activations", self.activations), ("logits", self.forward_end.held)

    def next_forward(self, base_live: tuple[tuple[str, int], ...], kept: int) -> Moment:
        end = self.forward_end
        return Moment("end of the next micro-batch's forward, the previous one's graph still referenced",
                      (*base_live, ("activations", kept + self.activations), ("logits", end.logits),
                       ("transient", end.transient)), "next forward")

    def formulas(self, peak: str, act_text: str, logits_text: str) -> tuple[str, str]:
        """The activations' and logits' formulas when the card peaks at ``peak`` (a moment's short name)."""
        if peak == "next forward":
            return (f"{act_text}; + {self.text}" if self.activations else act_text), self.forward_end.text
        if peak == "optimizer step":
            return (self.text or "0 (no micro-batch's activations alive)",
                    f"the previous micro-batch's fp32 logit chunks, {n(self.forward_end.held)} B")
        return act_text, logits_text

    def transient(self) -> Figure:
        return figure("transient", "4-bit lm_head dequantized", self.forward_end.transient, self.forward_end.text)


def previous_micro_batch(spec: ModelSpec, cfg: FinetuneConfig, layers: tuple[int, ...], last: bool,
                         e: int) -> PreviousMicroBatch:
    """LitGPT's loop (``logits = model(...)``, litgpt/finetune/lora.py) keeps the previous micro-batch's
    outputs, and so its autograd graph, until the next forward returns.  The backward released the tensors
    saved with ``save_for_backward``; what a 4-bit linear put on ``ctx`` stays (:mod:`engine.finetune.bitsandbytes`).
    With gradient checkpointing the forward keeps checkpoints instead (what a checkpoint implementation
    leaves on ``ctx`` is not modelled).  ``e``: bytes per element of the compute dtype."""
    tokens = cfg.seq * cfg.micro_batch
    inputs, text = 0, ""
    if qlora_keeps_inputs(cfg.method, cfg.bnb_version) and not cfg.gradient_checkpointing:
        dense = len([i for i in layers if not spec.is_moe_layer(i)]) if spec.mla is None else 0
        width = litgpt_matmul4bit_input_bytes(spec, 1, 1)  # elements per token of one block's 4-bit inputs
        head = spec.hidden if last and base_scheme(cfg).quantize_output else 0  # the 4-bit lm_head's input
        inputs = e * tokens * (width * dense + head)
        text = (f"the previous micro-batch's 4-bit linear inputs (bitsandbytes {cfg.bnb_version} keeps them on ctx): "
                f"{e} B × {n(tokens)} tokens × ({n(width)} per layer × {dense} layers"
                + (f" + lm_head input {n(head)}" if head else "") + f") = {n(inputs)} B")
    end = litgpt_forward_end(cfg, spec) if last and spec.vocab else ForwardEnd(0, 0, 0, "0 (output layer on another card)")
    return PreviousMicroBatch(inputs, text, end)
