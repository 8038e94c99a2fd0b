"""PyTorch FSDP (``FULL_SHARD``) as the Hugging Face Trainer runs it through accelerate: what a card holds
unsharded, moment by moment.

Sharded, every card keeps 1/N of each unit's flat parameter (padded to a multiple of N), of its gradient
and of the optimizer states; the model-state figures divide by N as ZeRO-3 does.  What FSDP adds are the
units it gathers whole while they compute (FSDP1, ``torch/distributed/fsdp/_runtime_utils.py`` in
torch 2.4):

* **Units.**  accelerate's ``TRANSFORMER_BASED_WRAP`` makes every decoder layer a unit; the root unit keeps
  the rest (the embeddings, the final norm, the output layer).  With PEFT, transformers' Trainer replaces
  the policy with ``peft.utils.other.fsdp_auto_wrap_policy`` (``Trainer._fsdp_qlora_plugin_updates``),
  which wraps every adapter matrix as a unit of its own, so a decoder unit holds the frozen base only.
* **Forward.**  A unit is all-gathered before its forward and freed after it (``reshard_after_forward``),
  except the root: ``_post_forward_reshard`` keeps the root's parameters unsharded from its forward to the
  end of the backward ("Do not free the root's parameters in the post-forward for FULL_SHARD with the
  intention that they are immediately used for backward computation").
* **Backward.**  ``BACKWARD_PRE`` prefetch gathers the next unit while one back-propagates: two decoder
  units, the root, and the back-propagating unit's full gradient until its reduce-scatter (plus the
  root's whole flat gradient, from the output layer's backward to the root's post-backward).  At the
  first decoder layer's backward (the ``backward end`` moment) the next unit is the root, already
  whole: one decoder unit.
* **Optimizer step.**  Every unit is resharded: nothing unsharded.

The adapters' own units (a rank-r matrix each) are a few hundred KiB and left out.
"""

from __future__ import annotations

from dataclasses import dataclass

from engine.report.formatting import ceil_div, n
from engine.report.records import Figure, Moment, figure, with_part
from engine.training.memory.caching_allocator import rounded_size, segment_size

GATHER_POOL_UNITS = 3  # decoder units the all-gathers' stream keeps: computing, prefetched, resharded but pending

# What the published FSDP runs reserve beyond their allocated peak (docs/validation.md, the fms-*-fsdp2-*-nvidia cases)
FSDP_RESERVE_WARNING = (
    "FSDP's reserved memory: in fms-acceleration's FSDP runs (two A100s; full fine-tuning, LoRA and QLoRA of "
    "PowerLM-3B, Mistral-7B, Mixtral-8x7B and Llama-2-70B) nvidia-smi stood 3.8-18.6 GiB (14-55 %) above the "
    "allocated peak. This estimate adds 5 % and, in closed form, what FSDP's own streams keep (the all-gathers' "
    "segments for the root and three decoder units, and idle gradient shards); the rest of the compute stream's "
    "segments is not rebuilt (fine-tuning under the Trainer replays it). Keep that much free")


def gathered(numel_bytes: int, element: int, shards: int) -> int:
    """Bytes of one unit's unsharded flat parameter: ``numel_bytes`` of parameters padded to a multiple of
    ``shards`` elements of ``element`` bytes (FSDP1 ``FlatParamHandle`` pads the flat parameter so that
    every rank's shard has the same size)."""
    elements = ceil_div(numel_bytes, element)
    return ceil_div(elements, shards) * shards * element


@dataclass(frozen=True, slots=True)
class FsdpUnits:
    """The unsharded bytes FSDP holds on a card (bytes)."""

    root: int  # the root unit's flat parameter: embeddings, final norm, output layer
    layer: int  # the largest decoder-layer unit's flat parameter
    layers: int  # decoder units on the card
    layer_grad: int  # one decoder unit's full gradient before its reduce-scatter (trainable parameters only)
    root_grad: int  # the root's full gradient from the output layer's backward on (trainable parameters only)

    def at(self, short: str) -> int:
        """Bytes alive at the timeline moment named ``short`` (``Moment.short``): the units whole then and, in a
        layer's backward, the full gradients before their reduce-scatter."""
        grads = self.layer_grad + self.root_grad if short.startswith("backward") else 0
        return self.gathered_at(short) + grads

    def formula(self, short: str) -> str:
        root = f"root unit (embeddings, final norm, output layer) {n(self.root)} B"
        if short.startswith("forward") or short == "next forward":
            return f"FSDP: {root} + the decoder unit computing {n(self.layer)} B"
        if short == "loss":
            return f"FSDP: {root}, unsharded from its forward to the end of the backward"
        if short.startswith("backward"):
            first = short == "backward end"
            units = min(1 if first else 2, self.layers)
            which = ("the first layer's; BACKWARD_PRE's next unit is the root" if first
                     else "the one back-propagating and the one BACKWARD_PRE prefetches")
            text = f"FSDP: {root} + {units} decoder unit{'s' if units > 1 else ''} ({which}) × {n(self.layer)} B"
            if self.layer_grad:
                text += f" + its full gradient {n(self.layer_grad)} B"
            if self.root_grad:
                text += f" + the root's gradient {n(self.root_grad)} B"
            return text
        return "0 (FSDP: every unit sharded)"

    def gathered_at(self, short: str) -> int:
        """Bytes of the units whole at the moment ``short`` (their flat parameters only): the root from its
        forward to the end of the backward, the decoder unit computing, in a layer's backward that unit and the
        one ``BACKWARD_PRE`` prefetches (at the first layer, ``backward end``, the next unit is the root, already
        whole); at the step start, the gradient all-reduce and the optimizer step every unit is sharded."""
        if short.startswith("forward") or short == "next forward":
            return self.root + self.layer
        if short == "loss":
            return self.root
        if short == "backward end":
            return self.root + min(1, self.layers) * self.layer
        if short.startswith("backward"):
            return self.root + min(2, self.layers) * self.layer
        return 0

    def side_streams(self, short: str, idle_gradient_shards: int) -> Figure:
        """What FSDP's own streams keep reserved beyond what is allocated at the moment ``short``, for a reserve
        that is not replayed (:mod:`engine.finetune.fsdp_replay` rebuilds it where it can).  PyTorch's caching
        allocator gives a stream's cached blocks only to that stream: the all-gathers' stream keeps segments for
        the root and three decoder units (in the backward the one computing, the one prefetched and a resharded
        one the card has not yet passed, ``limit_all_gathers`` letting the CPU run two units ahead), less those
        whole at the moment; the reduce-scatter's stream keeps the gradient shards it allocated in the backward
        (``idle_gradient_shards``: those not alive at the moment)."""
        units = min(GATHER_POOL_UNITS, self.layers)
        pool = segment_size(rounded_size(self.root)) + units * segment_size(rounded_size(self.layer))
        idle = max(0, pool - self.gathered_at(short))
        return figure("fsdp_side_streams", "FSDP's side streams", idle + idle_gradient_shards,
                      f"all-gathers' pool (root {n(self.root)} B + {units} decoder unit{'s' * (units != 1)} × "
                      f"{n(self.layer)} B, in 2 MiB segments: {n(pool)} B) − units whole at this moment "
                      f"{n(self.gathered_at(short))} B + idle gradient shards {n(idle_gradient_shards)} B")

    def figure(self, short: str) -> Figure:
        """The ``communication`` part at the moment named ``short``: what FSDP holds unsharded then."""
        return figure("communication", "FSDP unsharded units", self.at(short), self.formula(short))

    def across(self, moments) -> tuple[Moment, ...]:
        """``moments`` with each one's ``communication`` part what FSDP holds unsharded at that moment."""
        return tuple(with_part(m, "communication", self.at(m.short)) for m in moments)
