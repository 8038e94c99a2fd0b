"""Which weight formats a card can run, and why not.

Each rule is the runtime's own check or the hardware's instruction set:

* **bf16** needs compute capability 8.0 (Ampere): vLLM refuses an explicit bfloat16 below it ("Bfloat16 is
  only supported on GPUs with compute capability of at least 8.0 ... You can use float16 instead",
  ``_check_if_gpu_supports_dtype`` in vLLM's GPU worker) and runs a bf16 checkpoint as float16 (the same
  bytes); PyTorch emulates bf16 slowly elsewhere.
* **FP8** tensor cores exist from compute capability 8.9 (Ada, Hopper, Blackwell; AMD MI300, gfx942).
  vLLM runs FP8 checkpoints on 8.0-8.6 as weight-only W8A16 through its FP8 Marlin kernel (its
  FP8 documentation); below 8.0 there is no kernel.
* **AWQ** kernels need compute capability 7.5 in vLLM (``AWQConfig.get_min_capability``); GPTQ runs from 6.0
  (exllama kernels), Marlin from 8.0.
* **bitsandbytes** (LLM.int8, NF4, FP4), GPTQ, AWQ and FP8 are CUDA / ROCm kernels: Apple and Qualcomm
  devices serve GGUF through llama.cpp (Metal, Vulkan, CPU) or plain 16-bit weights.
* **MXFP4** (gpt-oss's experts) needs compute capability 8.0 in vLLM (``Mxfp4Config.get_min_capability``;
  Marlin below 9.0).  transformers keeps it only from 7.5 with triton 3.4 and the ``kernels`` package
  (``Mxfp4HfQuantizer.validate_environment``) and otherwise dequantizes the experts to bf16 on load.
* **GGUF** formats run wherever llama.cpp runs.

Unknown cards (user-defined, no compute capability in the catalog) are never ruled out.
"""

from __future__ import annotations

from dataclasses import dataclass

from engine.catalog import GpuSpec, gpu_catalog, lookup_gpu
from engine.report.formatting import n
from engine.serving.runtimes import NCCL_BYTES, VLLM_NVLINK4_NCCL_BYTES
from engine.weights.quant import QuantScheme

BF16_MIN_CC = 8.0
FP8_NATIVE_MIN_CC = 8.9
FP8_MARLIN_MIN_CC = 8.0
AWQ_MIN_CC = 7.5
MXFP4_VLLM_MIN_CC = 8.0
MXFP4_TRANSFORMERS_MIN_CC = 7.5
GPTQ_MIN_CC = 6.0
FP8_AMD_ARCHS = ("gfx942", "gfx950")
NON_CUDA_ARCHS = ("apple", "qualcomm")


@dataclass(frozen=True, slots=True)
class Support:
    ok: bool
    note: str = ""  # why not, or the caveat when it runs differently than the name says


def format_support(gpu: GpuSpec | None, scheme: QuantScheme, runtime: str) -> Support:
    """Whether ``scheme`` runs on ``gpu`` under ``runtime`` (and the caveat when it runs emulated)."""
    if gpu is None or scheme.family == "gguf":
        return Support(True)
    name = scheme.name
    if gpu.arch in NON_CUDA_ARCHS and scheme.family == "hf":
        return Support(False, f"{name} needs CUDA/ROCm kernels; {gpu.name} serves GGUF (llama.cpp) or 16-bit weights")
    if gpu.arch.startswith("gfx") and name.startswith("fp8"):
        ok = gpu.arch in FP8_AMD_ARCHS
        return Support(ok, "" if ok else f"FP8 needs MI300-class hardware (gfx942); {gpu.name} is {gpu.arch}")
    if gpu.compute_capability is None:
        return Support(True)
    cc = float(gpu.compute_capability)
    where = f"{gpu.name} has compute capability {gpu.compute_capability}"
    if name == "bf16" and cc < BF16_MIN_CC:
        if runtime == "vllm":
            return Support(True, f"no bfloat16 below compute capability 8.0 ({where}): vLLM serves the weights as "
                                 "float16 (the same bytes; an explicit --dtype bfloat16 is refused)")
        return Support(True, f"bfloat16 is emulated below compute capability 8.0 ({where}); fp16 is faster")
    if name.startswith("fp8"):
        if cc >= FP8_NATIVE_MIN_CC:
            return Support(True)
        if cc >= FP8_MARLIN_MIN_CC and runtime == "vllm":
            return Support(True, f"no FP8 tensor cores ({where}, they need 8.9): vLLM runs the FP8 weights as "
                                 "W8A16 through its FP8 Marlin kernel")
        return Support(False, f"no FP8 tensor cores ({where}; they need 8.9)"
                              + ("" if cc >= FP8_MARLIN_MIN_CC else ", and vLLM's FP8 Marlin fallback needs 8.0"))
    if name == "mxfp4" and runtime == "vllm" and cc < MXFP4_VLLM_MIN_CC:
        return Support(False, f"vLLM's MXFP4 kernels need compute capability 8.0 ({where})")
    if name == "mxfp4" and runtime == "transformers":
        why = f"below compute capability 7.5 ({where})" if cc < MXFP4_TRANSFORMERS_MIN_CC else \
            "without triton 3.4 and the kernels package"
        return Support(True, f"transformers dequantizes the MXFP4 experts to bf16 {why}: then the bf16 size")
    if name == "int4-awq" and cc < AWQ_MIN_CC:
        return Support(False, f"AWQ kernels need compute capability 7.5 ({where})")
    if name == "int4-gptq" and cc < GPTQ_MIN_CC:
        return Support(False, f"GPTQ kernels need compute capability 6.0 ({where})")
    return Support(True)


def catalog_gpu(name: str) -> GpuSpec | None:
    """The catalog entry of a card's GPU name, or None for a user-defined or unknown card."""
    return lookup_gpu(name)


def nccl_buffers(runtime: str, gpu: str, cards: int, tp: int) -> tuple[int, str]:
    """(bytes, formula) of the NCCL buffers on each of ``cards`` cards of GPU ``gpu`` at tensor-parallel size ``tp``:
    vLLM at TP > 1 on NVLink 4 cards takes what its start-up logs measure, any other multi-card plan the profile
    constant (:mod:`engine.serving.runtimes`)."""
    if cards <= 1:
        return 0, "0 (single card)"
    card = catalog_gpu(gpu)
    if runtime == "vllm" and tp > 1 and card is not None and card.interconnect == "NVLink 4":
        return VLLM_NVLINK4_NCCL_BYTES, (f"{n(VLLM_NVLINK4_NCCL_BYTES)} B (vLLM at TP {tp} on NVLink 4: the non-torch "
                                         "memory its start-up logs show TP > 1 adding on H100s)")
    return NCCL_BYTES, f"{n(NCCL_BYTES)} B (profile constant)"


def streaming_multiprocessors(name: str) -> int:
    """The SM count of the card ``name`` (vLLM's Triton sampler keeps a buffer row per SM): the catalog's, or for
    a card without one (user-defined, or not NVIDIA) the largest in the catalog, so that buffer is not undercounted."""
    gpu = catalog_gpu(name)
    if gpu is not None and gpu.sm_count is not None:
        return gpu.sm_count
    return max(g.sm_count for g in gpu_catalog() if g.sm_count is not None)
