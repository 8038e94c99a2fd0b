"""Workload and method settings of a training plan."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from engine.errors import PlanError
from engine.units import MiB

Precision = Literal["bf16", "fp16", "fp32"]
Optimizer = Literal["adam", "adamw", "sgd"]
Recompute = Literal["none", "selective", "full"]
Method = Literal["seed", "detailed"]
# megatron: Megatron-LM / Megatron-Core today (contiguous fp32 grad buffer); megatron-2021: Megatron-LM of
# 2021 (fp16 with the local DDP: fp16 .grad plus a never-freed fp32 main_param.grad, flattened all-reduce);
# huggingface: eager transformers code.
Framework = Literal["megatron", "megatron-2021", "deepspeed", "huggingface"]


class TrainingConfig(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    seq: int = Field(4096, gt=0, description="sequence length in tokens")
    micro_batch: int = Field(1, gt=0, description="samples per micro-batch on one replica")
    global_batch: int | None = Field(
        None,
        gt=0,
        description="samples per optimizer step; None: enough micro-batches to fill the pipeline",
    )
    precision: Precision = "bf16"
    optimizer: Optimizer = "adamw"
    zero: int = Field(0, ge=0, le=3, description="ZeRO stage 0-3")
    distributed_optimizer: bool = Field(False, description="Megatron's distributed optimizer (ZeRO-1 over DP x CP)")
    recompute: Recompute = "none"
    flash_attention: bool = False
    sequence_parallel: bool = False
    offload_optimizer: bool = Field(False, description="optimizer states live in CPU memory (DeepSpeed ZeRO-Offload)")
    offload_params: bool = Field(False, description="ZeRO-3 parameters live in CPU memory (ZeRO-Infinity)")

    @model_validator(mode="after")
    def _check(self) -> TrainingConfig:
        if self.offload_params and self.zero != 3:
            raise PlanError("training.offload_params", True, "only with zero=3")
        return self

    @property
    def shards_optimizer(self) -> bool:
        return self.zero >= 1 or self.distributed_optimizer


class OverheadConfig(BaseModel):
    """Memory the framework's allocator does not see.  All zero in the ``seed`` method.

    Defaults are typical figures, overridable per plan:
    * CUDA context: PyTorch on CUDA 12 with lazy module loading holds a few
      hundred MiB per process before the first tensor (cuBLAS/cuDNN handles
      included); 512 MiB is a round middle of what ``nvidia-smi`` shows on A100/H100.
    * NCCL: each communicator keeps per-channel buffers (``NCCL_BUFFSIZE`` = 4 MiB
      times channels and peers); 256 MiB covers a TP + DP pair of communicators.
    * Fragmentation: PyTorch's caching allocator reserves more than it allocates;
      Megatron's own estimate adds 5% (``overhead_factor = 1.05``).
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    cuda_context_bytes: int = Field(512 * MiB, ge=0)
    nccl_bytes: int = Field(256 * MiB, ge=0)
    fragmentation_percent: float = Field(5.0, ge=0, le=100)


class MethodConfig(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    method: Method = "detailed"
    framework: Framework = "megatron"
    overhead: OverheadConfig = OverheadConfig()
    gradient_accumulation_fusion: bool = Field(
        True, description="Megatron-LM writes weight gradients straight into the fp32 main_grad (its default "
        "with the fused kernel); false: the 16-bit weight gradient exists before it is accumulated")
    deepspeed_reduce_bucket_elements: int = Field(
        500_000_000, ge=0, description="DeepSpeed reduce_bucket_size (elements), the ZeRO-2 gradient bucket"
    )
