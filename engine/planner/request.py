"""What the planner is asked: the workload, the hardware, the search space, the speed model.

Every field is a plain value so a request can be saved, compared and sent to a
worker thread.  ``hardware_for_gpu`` fills a :class:`Hardware` from the GPU
catalog (peak BF16 TFLOPs, NVLink/PCIe bandwidth, price).
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from engine.catalog import GpuSpec
from engine.errors import PlanError
from engine.limits import (
    MAX_BANDWIDTH_GBPS,
    MAX_BATCH,
    MAX_CARD_BYTES,
    MAX_LAYERS,
    MAX_NAME_CHARS,
    MAX_PARALLEL,
    MAX_PRICE_USD,
    MAX_SEARCH_CHOICES,
    MAX_SEARCH_GPUS,
    MAX_SEQ,
    MAX_SLOTS_PER_NODE,
    MAX_TFLOPS,
    MAX_VPP,
    MIN_BANDWIDTH_GBPS,
    MIN_TFLOPS,
    check_method_limits,
    check_model_size,
    check_training_limits,
)
from engine.model.params import parameter_count
from engine.model.spec import ModelSpec
from engine.training.config import (
    FRAGMENTATION_MODEL_FIELD,
    MethodConfig,
    Recompute,
    TrainingConfig,
)

Objective = Literal["fewest-gpus", "fastest", "cheapest"]
OBJECTIVES: tuple[Objective, ...] = ("fewest-gpus", "fastest", "cheapest")

DEFAULT_INTER_NODE_GBPS = 50.0  # 400 Gb/s per node = 50 GB/s (one 400G NIC per server)
DEFAULT_PCIE_GBPS = 32.0  # PCIe 4.0 x16, per direction
MAX_TRAIN_TOKENS = 10**18  # 36 T tokens trained Llama 4; 10^18 keeps every time finite


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Hardware(_Frozen):
    """One GPU type the planner may use, with how many cards of it are available."""

    gpu: str = Field(max_length=MAX_NAME_CHARS)
    capacity_bytes: int = Field(gt=0, le=MAX_CARD_BYTES, description="memory the driver reports, in bytes")
    max_gpus: int = Field(gt=0, le=MAX_SEARCH_GPUS, description="cards of this type available (the card budget)")
    bf16_tflops: float = Field(ge=MIN_TFLOPS, le=MAX_TFLOPS, allow_inf_nan=False,
                               description="dense BF16 peak per card, TFLOP/s")
    intra_node_gbps: float = Field(ge=MIN_BANDWIDTH_GBPS, le=MAX_BANDWIDTH_GBPS, allow_inf_nan=False,
                                   description="GPU-to-GPU bandwidth inside a node (NVLink or PCIe), GB/s per direction")
    inter_node_gbps: float = Field(DEFAULT_INTER_NODE_GBPS, ge=MIN_BANDWIDTH_GBPS, le=MAX_BANDWIDTH_GBPS,
                                   allow_inf_nan=False, description="network bandwidth per node, GB/s")
    price_usd_per_hour: float | None = Field(None, ge=0, le=MAX_PRICE_USD, allow_inf_nan=False,
                                             description="per card; None: cost is reported in GPU-hours")


class SearchSpace(_Frozen):
    """The knobs the planner enumerates; a one-element tuple fixes a knob."""

    gpus_per_node: int = Field(8, gt=0, le=MAX_SLOTS_PER_NODE)
    max_tp: int | None = Field(None, gt=0, le=MAX_PARALLEL, description="default: GPUs per node (TP stays inside a node)")
    max_cp: int = Field(8, gt=0, le=MAX_PARALLEL, description="context parallel (detailed method with flash attention only)")
    min_cp_tokens: int = Field(2048, gt=0, le=MAX_SEQ,
                               description="CP only while every CP rank keeps at least this many tokens")
    max_vpp: int = Field(4, gt=0, le=MAX_VPP, description="interleaved chunks per stage")
    micro_batches: tuple[Annotated[int, Field(ge=1, le=MAX_BATCH)], ...] = Field((1, 2, 4, 8), max_length=MAX_SEARCH_CHOICES)
    recompute: tuple[Recompute, ...] = Field(("none", "selective", "full"), max_length=MAX_SEARCH_CHOICES)
    zero_stages: tuple[int, ...] = Field((0, 1, 2, 3), max_length=MAX_SEARCH_CHOICES)
    sequence_parallel: tuple[bool, ...] = Field((False, True), max_length=MAX_SEARCH_CHOICES)
    uneven_pp: bool = Field(True, description="also try balanced uneven layer splits")
    max_uneven_pp: int = Field(16, gt=1, le=MAX_LAYERS, description="deepest pipeline tried with an uneven split")
    whole_nodes: bool = Field(True, description="layouts larger than one node use whole nodes")

    @model_validator(mode="after")
    def _check(self) -> SearchSpace:
        for name in ("micro_batches", "recompute", "zero_stages", "sequence_parallel"):
            if not getattr(self, name):
                raise PlanError(f"planner.{name}", (), "at least one value")
        if any(b < 1 for b in self.micro_batches):
            raise PlanError("planner.micro_batches", self.micro_batches, "positive micro-batch sizes")
        if any(z not in (0, 1, 2, 3) for z in self.zero_stages):
            raise PlanError("planner.zero_stages", self.zero_stages, "ZeRO stages from 0, 1, 2, 3")
        return self


class SpeedModel(_Frozen):
    """Parameters of the step-time model (docs/planner.md)."""

    mfu: float = Field(0.4, gt=0, le=1, allow_inf_nan=False,
                       description="fraction of peak the kernels reach (bubble and exposed traffic excluded)")
    overlap: float = Field(0.5, ge=0, le=1, allow_inf_nan=False, description="fraction of DP and CP traffic hidden behind compute")
    train_tokens: int | None = Field(None, gt=0, le=MAX_TRAIN_TOKENS,
                                     description="tokens to train; default 20 x parameters (Chinchilla)")


class PlannerRequest(_Frozen):
    model: ModelSpec
    training: TrainingConfig = TrainingConfig()
    method: MethodConfig = MethodConfig()
    hardware: tuple[Hardware, ...] = Field(max_length=MAX_SEARCH_CHOICES)
    space: SearchSpace = SearchSpace()
    speed: SpeedModel = SpeedModel()
    margin: float = Field(0.1, ge=0, lt=1, allow_inf_nan=False, description="fraction of each card's capacity kept free")
    objective: Objective = "fewest-gpus"

    @model_validator(mode="after")
    def _check(self) -> PlannerRequest:
        if not self.hardware:
            raise PlanError("planner.hardware", (), "at least one GPU type")
        check_model_size(self.model, parameter_count(self.model))
        check_training_limits(self.training)
        check_method_limits(self.method)
        if self.method.overhead.fragmentation_model == "replay":
            raise PlanError(FRAGMENTATION_MODEL_FIELD, "replay",
                            "percent for a search (the planner prices each layout in closed form); estimate the "
                            "layout it finds with the allocator replay")
        return self


def searchable_method(method: MethodConfig) -> MethodConfig:
    """``method`` with the percentage reserve the planner prices layouts with, where a plan asks for the
    allocator replay (which replays one layout at a time)."""
    if method.overhead.fragmentation_model == "percent":
        return method
    return method.model_copy(update={"overhead": method.overhead.model_copy(update={"fragmentation_model": "percent"})})


def hardware_for_gpu(gpu: GpuSpec, max_gpus: int, *, capacity_bytes: int | None = None,
                     bf16_tflops: float | None = None, intra_node_gbps: float | None = None,
                     inter_node_gbps: float | None = None, price_usd_per_hour: float | None = None) -> Hardware:
    """A :class:`Hardware` from a catalog entry; explicit arguments override the catalog."""
    tflops = bf16_tflops or gpu.bf16_tflops
    if not tflops:
        raise PlanError("--tflops", None, f"the peak BF16 TFLOP/s of {gpu.name} (the catalog has none)")
    intra = intra_node_gbps or gpu.interconnect_gbps or gpu.pcie_gbps or DEFAULT_PCIE_GBPS
    try:
        return Hardware(
            gpu=gpu.name, capacity_bytes=capacity_bytes or gpu.memory_bytes, max_gpus=max_gpus,
            bf16_tflops=tflops, intra_node_gbps=intra, inter_node_gbps=inter_node_gbps or DEFAULT_INTER_NODE_GBPS,
            price_usd_per_hour=price_usd_per_hour if price_usd_per_hour is not None else gpu.price_usd_per_hour,
        )
    except ValidationError as e:
        from engine.plan.schema import plan_error_from_validation

        raise plan_error_from_validation(e, "planner.hardware") from None


def request_for_plan(plan, gpu_name: str, *, gpus_per_node: int, max_gpus: int, objective: str,
                     margin: float, mfu: float = 0.4) -> PlannerRequest:
    """A request searching layouts for ``plan``'s model, workload and method on a catalog GPU.

    The plan's ZeRO stage, micro-batch, recompute and sequence parallel are searched, not kept; its
    allocator reserve is priced as a percentage (:func:`searchable_method`).
    """
    from engine.catalog import find_gpu
    from engine.plan.schema import plan_error_from_validation

    try:
        return PlannerRequest(
            model=plan.model, training=plan.training, method=searchable_method(plan.method),
            hardware=(hardware_for_gpu(find_gpu(gpu_name), max_gpus),),
            space=SearchSpace(gpus_per_node=gpus_per_node), speed=SpeedModel(mfu=mfu), margin=margin,
            objective=objective)  # type: ignore[arg-type]  # pydantic checks it against OBJECTIVES
    except ValidationError as e:
        raise plan_error_from_validation(e, "planner") from None
