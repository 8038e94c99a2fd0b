"""Runtime profiles: how each inference runtime spends memory beyond weights and KV.

Constants are typical figures, each overridable in :class:`ServingConfig`:

* ``TORCH_CUDA_CONTEXT_BYTES`` (512 MiB): a PyTorch process on CUDA 12 holds a
  few hundred MiB before its first tensor (driver context, kernels loaded
  lazily, cuBLAS/cuDNN handles); the training engine uses the same default
  (:class:`engine.training.config.OverheadConfig`).
* ``LLAMACPP_CUDA_CONTEXT_BYTES`` (256 MiB): ggml's CUDA backend loads no cuDNN
  and only its own kernels; about half of PyTorch's context.
* ``CUBLAS_WORKSPACE_BYTES`` (32 MiB): cuBLAS's default workspace, 8 buffers of
  4 MiB (``CUBLAS_WORKSPACE_CONFIG=:4096:8``, cuBLAS documentation, "Results
  reproducibility").
* ``VLLM_CUDA_GRAPH_BYTES`` (512 MiB): vLLM captures CUDA graphs for its decode
  batch sizes after the profile run; its start-up log reports "Graph capturing
  finished ... took" a few hundred MiB to about 1 GiB (none with ``enforce_eager``).
  Which of these vLLM counts inside its ``gpu_memory_utilization`` budget depends on
  its release: :mod:`engine.serving.vllm_profiling`.
* ``NCCL_BYTES`` (256 MiB): NCCL communicator buffers when cards talk (TP / PP),
  as in the training engine.
* ``VLLM_NVLINK4_NCCL_BYTES`` (1.8 GiB): what vLLM's communicators take at TP > 1 on
  NVLink 4 cards (H100 SXM, H200, H800, H20).  NCCL's buffers grow with the channels it
  opens to reach a link's bandwidth ("we'll use more memory to reach H100 peak NVLink
  bandwidth ... The memory usage is linearly tied to the number of channels", sjeaugey in
  NVIDIA/nccl issue 986).  vLLM's start-up logs show it as the non-torch memory TP > 1 adds
  over TP 1 on the same card: +1.79 GiB at TP 2 (Meta-Llama-3-8B on an H100, vllm-project/vllm
  PR 10511: "non_torch_memory 1.79GiB" at TP 1, "3.58GiB" at TP 2) and +1.81 to +1.96 GiB at
  TP 2 and 4 (fifteen vLLM 0.19.0 runs on H100 SXM, llm-d-incubation/llm-d-planner PR 205:
  "non-torch forward increase memory" 2.06-2.21 GiB against 0.24-0.27 GiB at TP 1).
  Pipeline stages alone do not add it (0.07 GiB at PP 2 in the same logs); other cards keep
  ``NCCL_BYTES`` (an A100 NVLink 3 run in the validation table shows no such growth).
* Default prefill chunk: TensorRT-LLM's ``max_num_tokens`` (8,192), llama.cpp's
  ``n_ubatch`` (512); vLLM's ``max_num_batched_tokens`` depends on its engine, the card
  and the entry point (:mod:`engine.serving.vllm_batch`), so its profile has none.
* Paged KV blocks: vLLM ``block_size`` 16, TensorRT-LLM ``tokens_per_block`` 64.
"""

from __future__ import annotations

from dataclasses import dataclass

from engine.units import GiB, MiB

TORCH_CUDA_CONTEXT_BYTES = 512 * MiB
LLAMACPP_CUDA_CONTEXT_BYTES = 256 * MiB
CUBLAS_WORKSPACE_BYTES = 32 * MiB
VLLM_CUDA_GRAPH_BYTES = 512 * MiB
NCCL_BYTES = 256 * MiB
VLLM_NVLINK4_NCCL_BYTES = int(1.8 * GiB)


@dataclass(frozen=True, slots=True)
class RuntimeProfile:
    name: str
    cuda_context_bytes: int
    library_workspace_bytes: int  # cuBLAS workspace
    fragmentation_percent: float  # caching-allocator reserve on what is allocated dynamically
    prefill_chunk: int | None  # tokens per prefill forward; None: the whole prompt at once
    paged_block: int | None  # KV block size (tokens)
    kv_pool: str  # "dynamic" (grows with use), "utilization" (vLLM) or "free_fraction" (TensorRT-LLM)
    embedding_on_host: bool  # llama.cpp keeps token_embd in system RAM
    description: str
    cuda_graph_bytes: int = 0  # CUDA graphs captured after the profile (vLLM)


PROFILES = {
    "transformers": RuntimeProfile(
        "transformers", TORCH_CUDA_CONTEXT_BYTES, CUBLAS_WORKSPACE_BYTES, 5.0, None, None, "dynamic", False,
        "PyTorch + Hugging Face transformers: DynamicCache grows with the sequence; whole prompt in one forward"),
    "vllm": RuntimeProfile(
        "vllm", TORCH_CUDA_CONTEXT_BYTES, CUBLAS_WORKSPACE_BYTES, 0.0, None, 16,  # chunk: vllm_batch
        "utilization", False,
        "vLLM: reserves gpu_memory_utilization × capacity; the KV pool takes what weights, the profiled "
        "activation peak and (by release) non-torch memory and CUDA graphs leave",
        cuda_graph_bytes=VLLM_CUDA_GRAPH_BYTES),
    "llamacpp": RuntimeProfile(
        "llamacpp", LLAMACPP_CUDA_CONTEXT_BYTES, CUBLAS_WORKSPACE_BYTES, 0.0, 512, None, "dynamic", True,
        "llama.cpp: KV for n_ctx allocated at start, compute buffer sized for n_ubatch tokens; "
        "token embedding in system RAM"),
    "trtllm": RuntimeProfile(
        "trtllm", TORCH_CUDA_CONTEXT_BYTES, CUBLAS_WORKSPACE_BYTES, 0.0, 8192, 64, "free_fraction", False,
        "TensorRT-LLM: KV pool = kv_cache_free_gpu_mem_fraction of the memory left after the engine loads"),
}


def profile(name: str) -> RuntimeProfile:
    return PROFILES[name]
