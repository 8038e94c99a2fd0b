"""Workload and method settings of a training plan."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from engine.errors import PlanError
from engine.releases import parse_release
from engine.units import MiB

Precision = Literal["bf16", "fp16", "fp32"]
Optimizer = Literal["adam", "adamw", "sgd"]
Recompute = Literal["none", "selective", "full"]
Method = Literal["seed", "detailed"]
# megatron: Megatron-LM / Megatron-Core today (contiguous fp32 grad buffer); megatron-2021: Megatron-LM of
# 2021 (fp16 with the local DDP: fp16 .grad plus a never-freed fp32 main_param.grad, flattened all-reduce);
# huggingface: eager transformers code.
Framework = Literal["megatron", "megatron-2021", "deepspeed", "huggingface"]
DeepSpeedFp16Optimizer = Literal["fused", "unfused"]
ModelCode = Literal["framework", "litgpt"]
FragmentationModel = Literal["auto", "percent", "replay"]
FRAGMENTATION_MODEL_FIELD = "method.overhead.fragmentation_model"  # the replay's refusals name it


def parse_transformers_version(text: str) -> tuple[int, int, int]:
    """``"4.48.1"`` -> ``(4, 48, 1)``; anything else is a :class:`PlanError` naming ``method.transformers_version``."""
    return parse_release(text, "method.transformers_version", "a transformers release such as 4.48.1")


ExpertLoadKind = Literal["balanced", "capacity-factor", "measured", "dropless-worst-case"]
MAX_EXPERT_LOAD_FACTOR = 4096.0  # engine.limits.MAX_EXPERTS: beyond it the drop-less bound caps any factor


class ExpertLoad(BaseModel):
    """Tokens the busiest expert-parallel (EP) rank receives in a MoE layer.

    Router decisions are not balanced: one EP rank can receive more routed token copies than the
    average (``T·k`` for ``T`` tokens per rank and top-k routing).  The busiest rank's expert inputs,
    expert FFN activations and their gradients scale with what it receives
    (``engine.training.memory.activations.routed_copies``):

    * ``balanced``: every rank receives the average ``T·k`` (the estimate of a perfectly balanced router);
    * ``capacity-factor``: Megatron-Core ``--moe-expert-capacity-factor c`` drops tokens beyond
      ``ceil(T·k / E · c)`` per expert on each source rank (``get_capacity`` in
      ``megatron/core/transformer/moe/moe_utils.py``; the Switch Transformer's capacity factor,
      Fedus et al. 2021, sec. 2.2), so a rank with ``E/EP`` experts receives at most
      ``EP · E/EP · ceil(T·k·c/E)``;
    * ``measured``: a measured ratio of the busiest rank's tokens to the mean (``factor`` >= 1);
    * ``dropless-worst-case``: drop-less routing (no capacity factor, Megatron-Core's default):
      every token of the EP group may pick experts on one rank, ``EP · T · min(k, E/EP)`` copies.

    Every case is capped by the drop-less worst case; with EP = 1 a rank holds every expert and
    receives exactly ``T·k`` whatever the router does.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    kind: ExpertLoadKind = "balanced"
    factor: float | None = Field(
        None, gt=0, le=MAX_EXPERT_LOAD_FACTOR, allow_inf_nan=False,
        description="capacity-factor: Megatron's --moe-expert-capacity-factor; measured: busiest EP rank's tokens "
        "/ the mean (>= 1); none for balanced and dropless-worst-case")

    @model_validator(mode="after")
    def _check(self) -> ExpertLoad:
        needs = self.kind in ("capacity-factor", "measured")
        if needs and self.factor is None:
            raise PlanError("training.expert_load.factor", None, f"a number for kind={self.kind}")
        if not needs and self.factor is not None:
            raise PlanError("training.expert_load.factor", self.factor,
                            f"no factor for kind={self.kind} (only capacity-factor and measured take one)")
        if self.kind == "measured" and self.factor is not None and self.factor < 1:
            raise PlanError("training.expert_load.factor", self.factor,
                            "a measured busiest/mean ratio of at least 1")
        return self

    def average(self) -> ExpertLoad:
        """The average EP rank under the same routing rule: balanced, or with a capacity factor below 1
        every expert full (each rank receives the capped share)."""
        if self.kind == "capacity-factor" and self.factor is not None and self.factor < 1:
            return self
        return BALANCED_LOAD

    @property
    def label(self) -> str:
        return self.kind if self.factor is None else f"{self.kind} {self.factor:g}"


BALANCED_LOAD = ExpertLoad()


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
    fsdp: bool = Field(
        False, description="ZeRO-3 as PyTorch FSDP (FULL_SHARD) runs it under the Hugging Face Trainer and "
        "accelerate: one unit per decoder layer gathered while it computes, the root unit (embeddings, final "
        "norm, output layer) whole from its forward to the end of the backward, nothing gathered at the "
        "optimizer step (engine.training.memory.fsdp); needs zero=3")
    distributed_optimizer: bool = Field(False, description="Megatron's distributed optimizer (ZeRO-1 over DP x CP)")
    master_weights: bool = Field(
        True, description="mixed precision keeps fp32 master weights and fp32 Adam moments; false: pure 16-bit "
        "training (weights, gradients and moments in the training precision: LitGPT bf16-true, torchtune, "
        "transformers with torch_dtype=bfloat16)")
    recompute: Recompute = "none"
    flash_attention: bool = False
    sequence_parallel: bool = False
    offload_optimizer: bool = Field(False, description="optimizer states live in CPU memory (DeepSpeed ZeRO-Offload)")
    offload_params: bool = Field(False, description="ZeRO-3 parameters live in CPU memory (ZeRO-Infinity)")
    partition_activations: bool = Field(
        False, description="full recompute: each TP rank keeps 1/TP of every checkpointed layer input (DeepSpeed "
        "activation checkpointing partition_activations)")
    cpu_checkpointing: bool = Field(
        False, description="full recompute: the partitioned checkpoints live in CPU memory (DeepSpeed "
        "activation checkpointing cpu_checkpointing / Megatron-DeepSpeed --checkpoint-in-cpu)")
    expert_load: ExpertLoad = Field(BALANCED_LOAD, description="MoE: tokens the busiest expert-parallel rank receives "
                                    "(balanced, capacity factor, measured ratio or the drop-less worst case)")

    @model_validator(mode="after")
    def _check(self) -> TrainingConfig:
        if self.offload_params and self.zero != 3:
            raise PlanError("training.offload_params", True, "only with zero=3")
        if self.fsdp and self.zero != 3:
            raise PlanError("training.fsdp", True, f"only with zero=3 (FSDP FULL_SHARD shards the weights, "
                            f"gradients and optimizer states), not zero={self.zero}")
        if (self.partition_activations or self.cpu_checkpointing) and self.recompute != "full":
            key = "partition_activations" if self.partition_activations else "cpu_checkpointing"
            raise PlanError(f"training.{key}", True, "only with recompute=full (it acts on the layer checkpoints)")
        if self.cpu_checkpointing and not self.partition_activations:
            raise PlanError("training.cpu_checkpointing", True,
                            "only with partition_activations (DeepSpeed offloads the partitioned checkpoints)")
        return self

    def searched(self, zero: int, micro_batch: int, recompute: str, sequence_parallel: bool) -> TrainingConfig:
        """This workload with the knobs a layout search varies.  DeepSpeed's checkpoint switches act on full
        recompute only, so another recompute turns them off (the result stays a valid plan).  The search
        prices ZeRO stages as DeepSpeed runs them (its closed forms, ``engine.planner.memory``), so a searched
        layout is not an FSDP one."""
        update: dict[str, object] = {"zero": zero, "micro_batch": micro_batch, "recompute": recompute,
                                     "sequence_parallel": sequence_parallel}
        if recompute != "full":
            update.update(partition_activations=False, cpu_checkpointing=False)
        update["fsdp"] = False
        return self.model_copy(update=update)

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
      Megatron's own estimate adds 5% (``overhead_factor = 1.05``).  For Megatron-LM 2021 plans,
      ``fragmentation_model`` replay runs the allocator's rules over the card's requests instead
      (:mod:`engine.training.memory.megatron2021_replay`; for fine-tuning under the Hugging Face
      Trainer :mod:`engine.finetune.hf_trainer_replay`, and :mod:`engine.finetune.fsdp_replay` for the
      cards FSDP shards over).
    * Library workspaces (cuBLAS per thread, Transformer Engine) are the exception: PyTorch's
      allocator holds them, so they count in its peak (:mod:`engine.training.memory.workspace`).
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    cuda_context_bytes: int = Field(512 * MiB, ge=0)
    nccl_bytes: int = Field(256 * MiB, ge=0)
    fragmentation_percent: float = Field(5.0, ge=0, le=100)
    fragmentation_model: FragmentationModel = Field(
        "auto", description="percent: the allocator reserves fragmentation_percent of what it allocates; replay: "
        "PyTorch's caching allocator replayed over the card's allocations, iteration by iteration (training with the "
        "megatron-2021 framework: engine.training.memory.megatron2021_replay; fine-tuning under the Hugging Face Trainer "
        "on one card or FSDP-sharded cards, LoRA or QLoRA under PEFT or full fine-tuning in pure 16 bits: "
        "engine.finetune.hf_trainer_replay, engine.finetune.fsdp_replay); "
        "auto (the default): replay where the plan is one the replay rebuilds, else percent (engine.replay_scope). "
        "Against nvidia-smi in fms-acceleration's Trainer runs the replay is within -7 to +9 % on one card, a flat 5 % "
        "low by 5 to 25 %; under FSDP on two cards 2.5-6.5 % low, a flat 5 % 15-31 % low")
    library_workspace_bytes: int | None = Field(
        None, ge=0, description="cuBLAS / Transformer Engine workspaces PyTorch's allocator holds (allocator-visible); "
        "default by framework: engine.training.memory.workspace")


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
    model_code: ModelCode = Field(
        "framework", description="whose modules and training loop run the model: framework (the profile's own) "
        "or litgpt (LitGPT's block and loop under the huggingface profile, as `finetune --framework litgpt "
        "--method full` sets it: every linear and norm keeps what its weight gradient reads, GQA's K and V are "
        "expanded to every head, and the loop keeps the last micro-batch's fp32 logits bound until the next "
        "forward returns)")
    transformers_version: str | None = Field(
        None, max_length=32, description="the transformers release of the huggingface profile and of PEFT fine-tuning, "
        "e.g. 4.48.1: from 4.46 to 4.48 ForCausalLMLoss copies the shifted fp32 logits (logits[..., :-1, :]"
        ".contiguous()), one more vocabulary-sized buffer at the loss (14 B per token and vocabulary entry in bf16, "
        "against 12 B for the cross-entropy's backward since 4.49, which pads the labels instead); default: a current "
        "release")

    @field_validator("transformers_version")
    @classmethod
    def _transformers_version(cls, v: str | None) -> str | None:
        if v is not None:
            parse_transformers_version(v)
        return v

    deepspeed_fp16_optimizer: DeepSpeedFp16Optimizer = Field(
        "fused", description="DeepSpeed fp16 without ZeRO: which wrapper converts the fp16 gradients to fp32 for "
        "the step.  fused: FP16_Optimizer (DeepSpeed's FusedAdam, and apex FusedAdam since DeepSpeed 0.5) "
        "flattens per-parameter fp32 copies into one buffer (8 B/param at once); unfused: FP16_UnfusedOptimizer "
        "(any other optimizer; apex FusedAdam before 0.5) gives each parameter its own fp32 .grad (4 B/param)")

