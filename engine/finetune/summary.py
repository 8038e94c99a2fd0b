"""Plan-wide fine-tuning figures (``finetune`` in the JSON report)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class FinetuneSummary:
    method: str  # full, lora, qlora
    trainable_parameters: int
    base_weight_bytes: int  # the whole frozen base in its format (full: the trained weights)
    adapter_weight_bytes: int  # whole model's adapters (0 for full fine-tuning)
    seq: int
    micro_batch: int
    rank: int | None
    target_modules: tuple[str, ...]
    optimizer: str
    gradient_checkpointing: bool
    fsdp_shards: int  # cards FSDP shards the model states over; 1: each card holds the whole model
