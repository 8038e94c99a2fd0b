"""Library workspaces: GEMM scratch memory PyTorch's allocator holds from the first step to the last.

* PyTorch gives every cuBLAS handle a workspace per stream, allocated through its caching
  allocator, so ``torch.cuda.max_memory_allocated`` counts it (``aten/src/ATen/cuda/
  CublasHandlePool.cpp``: ``cublas_handle_stream_to_workspace``; default size 32 MiB on Hopper,
  ``:4096:2:16:8`` = 8 MiB + 128 KiB before it).  Handles are per thread: the forward runs on the
  Python thread and the backward on autograd's device thread, so a training step holds two.
* Transformer Engine keeps one more cuBLAS workspace for its GEMMs (``get_cublas_workspace_size_bytes``:
  32 MiB from compute capability 9.0, 4 MiB before), allocated with ``torch.empty``.

The engine takes the Hopper sizes whatever the card (an A100 holds about 48 MiB less: the safe side).
Megatron-LM today builds its layers with Transformer Engine; the 2021 profile ran PyTorch 1.8, whose
cuBLAS allocated its workspace itself (inside the CUDA context, not in PyTorch's statistics).
"""

from __future__ import annotations

from engine.training.config import MethodConfig
from engine.units import MiB

PYTORCH_CUBLAS_WORKSPACE_BYTES = 32 * MiB  # per cuBLAS handle and stream (Hopper default)
TE_CUBLAS_WORKSPACE_BYTES = 32 * MiB  # Transformer Engine's own (compute capability >= 9.0)
TRAINING_THREADS = 2  # the forward's thread and autograd's backward thread, one cuBLAS handle each


def library_workspace_bytes(method: MethodConfig, transformer_engine: bool | None = None) -> tuple[int, str]:
    """(bytes, formula) of the library workspaces a training or fine-tuning run keeps on each card.

    ``transformer_engine``: None decides by the framework (Megatron-LM's current profile uses it).
    """
    override = method.overhead.library_workspace_bytes
    if override is not None:
        return override, f"{override:,} B (set in the plan)"
    if method.method == "seed":
        return 0, "0 (seed method)"
    if method.framework == "megatron-2021":
        return 0, "0 (PyTorch 1.8: cuBLAS allocates its workspace inside the CUDA context)"
    te = method.framework == "megatron" if transformer_engine is None else transformer_engine
    torch_part = TRAINING_THREADS * PYTORCH_CUBLAS_WORKSPACE_BYTES
    if not te:
        return torch_part, f"cuBLAS workspace {PYTORCH_CUBLAS_WORKSPACE_BYTES:,} B × {TRAINING_THREADS} threads"
    total = torch_part + TE_CUBLAS_WORKSPACE_BYTES
    return total, (f"cuBLAS workspace {PYTORCH_CUBLAS_WORKSPACE_BYTES:,} B × {TRAINING_THREADS} threads + "
                   f"Transformer Engine {TE_CUBLAS_WORKSPACE_BYTES:,} B = {total:,} B")
