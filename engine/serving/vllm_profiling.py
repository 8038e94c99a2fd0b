"""What vLLM subtracts from its ``gpu_memory_utilization`` budget before it sizes the KV pool, by release.

vLLM runs one profile forward pass, then gives the KV pool
``total_memory × gpu_memory_utilization`` minus what it measured.  What it measures changed
several times; the rest of the card's non-KV memory lives in the ``1 − gpu_memory_utilization``
margin instead.  Every release counts PyTorch's allocated peak of the profile (weights,
activations, logits, the cuBLAS workspace, which PyTorch allocates through its caching allocator).
Beyond that:

* before 0.2.5: nothing else (``torch.cuda.max_memory_allocated``);
* 0.2.5 (vllm-project/vllm PR 2031, "Fix peak memory profiling"): everything in use on the device
  after the profile (``total − free`` from ``torch.cuda.mem_get_info``): the CUDA context, NCCL, the
  kernels loaded during the profile.  At TP > 1 this release also kept every all-reduce input of the
  profile allocated: ``torch.distributed.all_reduce`` records the input on NCCL's stream, so the
  caching allocator cannot reuse it until the collective has finished, and the CPU queues the whole
  forward long before the GPU finishes it (issue 2150, "when using TP, the activation memory for all
  reduce is not reused"; fixed in 0.2.6 by PR 2151 with ``TORCH_NCCL_AVOID_RECORD_STREAMS=1``);
* 0.2.6 to 0.3.0: as 0.2.5 without the all-reduce inputs;
* 0.3.1 to 0.6.3 (PR 2863, "Fix memory profiling when GPU is used by multiple processes"): the
  device memory used since the worker started (``init_gpu_memory − free``), so the CUDA context,
  created before that first reading, is no longer inside the budget; NCCL (initialised after it)
  and the kernels loaded during the profile still are;
* 0.6.4 onward in V0 (the "Memory profiling results: ... non_torch_memory=" log line): PyTorch's
  peak plus the non-torch memory allocated since start-up; the same split;
* V1 before 0.9.1: PyTorch's peak plus every non-torch byte on the device after the profile
  (``mem_get_info`` total − free − PyTorch's allocated bytes), the CUDA context included
  (``vllm/v1/worker/gpu_worker.py``; PR 18974 "Fix memory profiling bug" moved V1 to the start-up
  baseline, June 2025);
* V1 0.9.1 to 0.19: PyTorch's peak plus the non-torch memory allocated since start-up (0.19.0 measures
  and logs the graphs' estimate but leaves it out: "Total non KV cache memory: 17.12GiB; torch peak
  memory increase: 1.89GiB; non-torch forward increase memory: 0.25GiB; weights memory: 14.99GiB",
  beside "Estimated CUDA graph memory: 0.84 GiB total", llm-d-incubation/llm-d-planner PR 205);
* 0.20 onward: also the estimated CUDA graph memory.  The log says "CUDA graph memory profiling is
  enabled (default since v0.21.0)", but a 0.20.0 start-up already subtracts it: "The current
  --gpu-memory-utilization=0.8500 is equivalent to --gpu-memory-utilization=0.8340 without CUDA graph
  memory profiling", 0.016 × 11.99 GiB = its "Estimated CUDA graph memory: 0.19 GiB total"
  (men16922/llmso-study, ``labs/wsl2-vllm-baseline/results/b-direct-v0200-startup.txt``).

Until 0.20 vLLM captures its CUDA graphs after it has allocated the KV pool, so the graphs come out
of the margin; a margin too small for the CUDA context and the graphs makes vLLM fail at start-up.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from engine.releases import parse_release
from engine.units import MiB

# Non-torch memory a vLLM worker allocates after start-up at TP = 1: the kernels loaded lazily during
# the profile (CUDA_MODULE_LOADING=LAZY), the cuBLAS / cuBLASLt handles.  vLLM prints it as
# "non_torch_memory=" (0.6.4+): 0.35 GiB on an RTX 3090 (vllm-project/vllm issue 10517), 0.34 to
# 0.73 GiB in other start-up logs (A6000 / L40S-class 44 GiB cards, an H200), 0.15 to 0.47 GiB on
# 8 GiB cards; 512 MiB sits above most of them.
VLLM_NON_TORCH_GROWTH_BYTES = 512 * MiB

@dataclass(frozen=True, slots=True)
class VllmProfiling:
    """Which parts of a vLLM card the release counts inside its ``gpu_memory_utilization`` budget."""

    label: str  # the releases it covers, as the formulas show it
    context: bool  # the CUDA context (memory in use before the worker's first reading)
    non_torch: bool  # non-torch memory allocated after start-up: NCCL, kernels loaded during the profile
    allreduce_inputs: bool  # at TP > 1, every all-reduce input of the profile stays allocated (0.2.5)
    graphs: bool  # the estimated CUDA graph memory (0.20+); before, graphs come out of the margin


_BEFORE_025 = VllmProfiling("vLLM < 0.2.5 (PyTorch's allocated peak)", False, False, False, False)
_V025 = VllmProfiling("vLLM 0.2.5 (device memory in use, all-reduce inputs kept)", True, True, True, False)
_V026 = VllmProfiling("vLLM 0.2.6-0.3.0 (device memory in use)", True, True, False, False)
_V0_BASELINE = VllmProfiling("vLLM V0 0.3.1+ (memory allocated since start-up)", False, True, False, False)
_V1_EARLY = VllmProfiling("vLLM V1 < 0.9.1 (non-torch memory on the device)", True, True, False, False)
_V1 = VllmProfiling("vLLM V1 0.9.1-0.19 (memory allocated since start-up)", False, True, False, False)
_V1_GRAPHS = VllmProfiling("vLLM 0.20+ (memory allocated since start-up and CUDA graphs)", False, True, False, True)


# One release of each accounting, newest first: what the GUI offers (a plan may name any release).
VLLM_RELEASES = ("0.20.0", "0.19.0", "0.15.1", "0.8.5", "0.6.4", "0.4.1", "0.3.0", "0.2.5", "0.2.4")


def parse_vllm_version(text: str) -> tuple[int, int, int]:
    """``"0.6.4.post1"`` or ``"v0.10"`` -> ``(0, 6, 4)``; anything else is a :class:`PlanError`."""
    return parse_release(text, "serving.vllm_version", "a vLLM release such as 0.6.4, 0.8.5.post1 or 0.10")


@lru_cache(maxsize=256)  # bounded: versions are a handful of strings
def vllm_profiling(version: str | None, engine: str) -> VllmProfiling:
    """The accounting of vLLM ``version`` (None: the newest) with engine ``v0`` or ``v1``."""
    if version is None:
        return _V0_BASELINE if engine == "v0" else _V1_GRAPHS
    v = parse_vllm_version(version)
    if v >= (0, 20, 0):
        return _V1_GRAPHS
    if engine == "v1":
        return _V1_EARLY if v < (0, 9, 1) else _V1
    if v < (0, 2, 5):
        return _BEFORE_025
    if v < (0, 2, 6):
        return _V025
    if v < (0, 3, 1):
        return _V026
    return _V0_BASELINE


def default_vllm_engine(version: str | None) -> str:
    """vLLM's default engine for ``version``: V1 from 0.8.0 (opt-in from 0.7.0), V0 before."""
    if version is None:
        return "v1"
    return "v1" if parse_vllm_version(version) >= (0, 8, 0) else "v0"
