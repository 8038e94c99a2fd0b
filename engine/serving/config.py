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
    cpu_moe_layers: int | None = Field(
        None, ge=0, description="llama.cpp --n-cpu-moe: the routed experts of the first N layers stay in system RAM "
        "(their ffn_*_exps tensors; attention, router and shared experts stay on the card); None: none")
    output_layer_first: bool = Field(
        True, description="llama.cpp: n_gpu_layers offloads the output layer first, then the last blocks (builds "
        "since ggml-org/llama.cpp PR 18148, December 2025); off: the last blocks first, and the output layer only "
        "when every block is on a card (earlier builds, and runners built on them)")
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
        "max(max_model_len, 2048) tokens unless chunked prefill is on (its default only above 32,768); "
        "default: v0 when vllm_version is before 0.8")
    vllm_version: str | None = Field(
        None, max_length=32, description="vLLM release, e.g. 0.6.4: what it subtracts before sizing the KV pool "
        "(CUDA context, non-torch memory, CUDA graphs) changed by release; default: the newest")
    enforce_eager: bool = Field(False, description="vLLM --enforce-eager: no CUDA graphs")
    vllm_entry: Literal["serve", "llm"] = Field(
        "serve", description="how vLLM V1 is started: serve (the OpenAI-compatible server) or llm (the Python LLM "
        "class); its default max_num_batched_tokens and max_num_seqs depend on it and on the card")
    max_num_seqs: int | None = Field(None, gt=0, description="vLLM --max-num-seqs: the most sequences "
                                     "it schedules at once and the requests its profile's sampler warm-up samples (default: "
                                     "vLLM's for the card and entry point, raised to batch when batch is larger)")
    prefill_chunk: int | None = Field(None, gt=0, description="tokens per forward pass during prefill "
                                                              "(default: runtime's; transformers: the whole prompt)")
    flash_attention: bool = Field(True, description="flash / memory-efficient attention (no s² scores)")
    swa_full: bool = Field(False, description="llama.cpp --swa-full: sliding-window layers keep the whole context "
                           "(as every build before May 2025 did) instead of the window plus one ubatch")
    logits: Logits = Field("last", description="logits of the last token per sequence, or of every prompt token")
    cuda_context_bytes: int | None = Field(None, ge=0, description="override the runtime's CUDA context constant")
    library_workspace_bytes: int | None = Field(None, ge=0, description="override the runtime's cuBLAS workspace")
    cuda_graph_bytes: int | None = Field(None, ge=0, description="override the runtime's CUDA graph memory (vLLM)")
    fragmentation_percent: float | None = Field(None, ge=0, le=100, description="override the allocator reserve")

    @field_validator("tensor_split")
    @classmethod
    def _split(cls, v: tuple[float, ...] | None) -> tuple[float, ...] | None:
        if v is not None and (not v or any(x < 0 for x in v) or sum(v) <= 0):
            raise PlanError("serving.tensor_split", ",".join(map(str, v)), "non-negative shares with a positive sum")
        return v

    @model_validator(mode="before")
    @classmethod
    def _engine_of_version(cls, data: object) -> object:
        """Without an explicit engine, a vLLM release before 0.8 runs V0 (its default then)."""
        if isinstance(data, dict) and isinstance(data.get("vllm_version"), str) and "vllm_engine" not in data:
            from engine.serving.vllm_profiling import default_vllm_engine

            return {**data, "vllm_engine": default_vllm_engine(data["vllm_version"])}
        return data

    @model_validator(mode="after")
    def _check(self) -> ServingConfig:
        if self.gpu_layers is not None and self.runtime != "llamacpp":
            raise PlanError("serving.gpu_layers", self.gpu_layers, "only with runtime llamacpp (n_gpu_layers)")
        if self.cpu_moe_layers is not None and self.runtime != "llamacpp":
            raise PlanError("serving.cpu_moe_layers", self.cpu_moe_layers, "only with runtime llamacpp (--n-cpu-moe)")
        if self.max_model_len is not None and self.context > self.max_model_len:
            raise PlanError("serving.context", self.context, f"at most max_model_len={self.max_model_len}")
        from engine.serving.kv_cache import kv_format
        from engine.weights.quant import find_scheme

        if self.vllm_version is not None:
            from engine.serving.vllm_profiling import parse_vllm_version

            if self.vllm_engine == "v1" and parse_vllm_version(self.vllm_version) < (0, 7, 0):
                raise PlanError("serving.vllm_engine", self.vllm_engine,
                                f"v0 with vLLM {self.vllm_version} (the V1 engine arrived in 0.7.0)")
        find_scheme(self.quant, self.group_size, self.double_quant, self.keep_modules)
        kv_format(self.kv_dtype)
        return self
