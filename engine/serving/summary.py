"""Plan-wide serving figures (the top-level keys of ``vramplan infer --json``)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class ServingSummary:
    runtime: str
    quant: str
    bits_per_weight: float  # nominal bits of the scheme's base format
    kv_dtype: str
    context: int
    batch: int
    weight_bytes: int  # whole model in the chosen format, no split
    kv_bytes_per_token: int  # whole model, all layers, before any split
    host_bytes: int  # system RAM used by offload (llama.cpp CPU layers, embedding, their KV)
    max_context_tokens: int  # longest context that fits at this batch (0: not even one token)
    max_batch: int  # most concurrent sequences at this context (0: none)
    kv_pool_tokens: int | None  # tokens the runtime's KV pool holds (vLLM, TensorRT-LLM)
    kv_pool_bytes: int | None
