"""What a serving plan asks: format, context, concurrency, runtime and its knobs."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from engine.errors import PlanError

Runtime = Literal["transformers", "vllm", "llamacpp", "trtllm"]
Logits = Literal["last", "all"]


class ServingConfig(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    quant: str = Field("bf16", description="weight format: bf16, fp8, int8, int4-gptq, int4-awq, nf4, Q4_K_M ...")
    group_size: int = Field(128, gt=0, description="GPTQ/AWQ group size g")
    double_quant: bool = Field(True, description="bitsandbytes NF4/FP4 double quantization of the absmax")
    keep_modules: tuple[str, ...] = Field(
        (), max_length=4096, description="module-name fragments the checkpoint keeps in 16 bit (config.json "
        "quantization_config modules_to_not_convert / ignore), e.g. self_attn or model.layers.0.")
    kv_dtype: str = Field("fp16", description="KV cache element type: fp16, bf16, fp8, q8_0, q4_0")
    context: int = Field(4096, gt=0, description="tokens per sequence (prompt + generated)")
    batch: int = Field(1, gt=0, description="concurrent sequences")
    runtime: Runtime = "transformers"
    gpu_layers: int | None = Field(None, ge=0, description="llama.cpp n_gpu_layers (None: everything on GPU)")
    tensor_split: tuple[float, ...] | None = Field(
        None, description="share of the layers per card / stage, e.g. (3, 1); llama.cpp --tensor-split")
    gpu_memory_utilization: float = Field(0.9, gt=0, le=1, description="vLLM: share of each card it may use")
    kv_free_fraction: float = Field(0.9, gt=0, le=1,
                                    description="TensorRT-LLM kv_cache_free_gpu_mem_fraction: share of the memory left")
    max_model_len: int | None = Field(None, gt=0, description="vLLM --max-model-len (default: context)")
    paged_block_size: int | None = Field(None, gt=0, description="KV block size in tokens (default: 16 for vLLM, "
                                                                 "64 for TensorRT-LLM, none otherwise)")
    vllm_engine: Literal["v0", "v1"] = Field(
        "v1", description="vLLM's engine: v1 (default since vLLM 0.8) always chunks prefill; v0 profiles a batch of "
        "max(max_model_len, 2048) tokens unless chunked prefill is on (its default only above 32,768)")
    prefill_chunk: int | None = Field(None, gt=0, description="tokens per forward pass during prefill "
                                                              "(default: runtime's; transformers: the whole prompt)")
    flash_attention: bool = Field(True, description="flash / memory-efficient attention (no s² scores)")
    swa_full: bool = Field(False, description="llama.cpp --swa-full: sliding-window layers keep the whole context "
                           "(as every build before May 2025 did) instead of the window plus one ubatch")
    logits: Logits = Field("last", description="logits of the last token per sequence, or of every prompt token")
    cuda_context_bytes: int | None = Field(None, ge=0, description="override the runtime's CUDA context constant")
    library_workspace_bytes: int | None = Field(None, ge=0,
                                                description="override the runtime's cuBLAS workspace / CUDA graphs")
    fragmentation_percent: float | None = Field(None, ge=0, le=100, description="override the allocator reserve")

    @field_validator("tensor_split")
    @classmethod
    def _split(cls, v: tuple[float, ...] | None) -> tuple[float, ...] | None:
        if v is not None and (not v or any(x < 0 for x in v) or sum(v) <= 0):
            raise PlanError("serving.tensor_split", ",".join(map(str, v)), "non-negative shares with a positive sum")
        return v

    @model_validator(mode="after")
    def _check(self) -> ServingConfig:
        if self.gpu_layers is not None and self.runtime != "llamacpp":
            raise PlanError("serving.gpu_layers", self.gpu_layers, "only with runtime llamacpp (n_gpu_layers)")
        if self.max_model_len is not None and self.context > self.max_model_len:
            raise PlanError("serving.context", self.context, f"at most max_model_len={self.max_model_len}")
        from engine.serving.kv_cache import kv_format
        from engine.weights.quant import find_scheme

        find_scheme(self.quant, self.group_size, self.double_quant, self.keep_modules)
        kv_format(self.kv_dtype)
        return self
