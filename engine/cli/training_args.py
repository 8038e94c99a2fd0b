"""Workload, method and layout flags of ``vramplan estimate`` (and ``plan``)."""

from __future__ import annotations

import argparse
import re

from pydantic import ValidationError

from engine.catalog import find_gpu
from engine.cli.arg_types import int_in, percent_or_replay
from engine.errors import PlanError
from engine.limits import (
    MAX_BATCH,
    MAX_CARD_BYTES,
    MAX_GLOBAL_BATCH,
    MAX_LAYERS,
    MAX_OVERHEAD_BYTES,
    MAX_PARALLEL,
    MAX_PP,
    MAX_SEQ,
    MAX_SLOTS_PER_NODE,
    MAX_VPP,
)
from engine.model.spec import ModelSpec
from engine.plan.layout import Layout, build_grid
from engine.plan.schema import plan_error_from_validation
from engine.training.config import ExpertLoad, MethodConfig, OverheadConfig, TrainingConfig
from engine.units import parse_bytes


def add_workload_arguments(parser: argparse.ArgumentParser) -> None:
    g = parser.add_argument_group("workload")
    g.add_argument("--seq", type=int_in(1, MAX_SEQ), metavar="TOKENS", help="sequence length (default 4096)")
    g.add_argument("--micro-batch", type=int_in(1, MAX_BATCH), metavar="N", help="samples per micro-batch (default 1)")
    g.add_argument("--global-batch", type=int_in(1, MAX_GLOBAL_BATCH), metavar="N",
                   help="samples per step (default: fill the pipeline)")
    g.add_argument("--precision", choices=["bf16", "fp16", "fp32"])
    g.add_argument("--optimizer", choices=["adam", "adamw", "sgd"])
    g.add_argument("--recompute", choices=["none", "selective", "full"])
    g.add_argument("--flash-attention", action=argparse.BooleanOptionalAction, default=None)
    g.add_argument("--sequence-parallel", action=argparse.BooleanOptionalAction, default=None)
    g.add_argument("--expert-load", metavar="KIND[:FACTOR]",
                   help="MoE: tokens the busiest expert-parallel rank receives; every card is sized as that rank: "
                        f"{EXPERT_LOAD_FORMS} (default balanced)")


TRANSFORMERS_VERSION_HELP = ("transformers release (huggingface framework, PEFT fine-tuning): 4.46 to 4.48 copy the "
                             "shifted fp32 logits at the loss (default: a current release)")


def add_method_arguments(parser: argparse.ArgumentParser) -> None:
    g = parser.add_argument_group("method")
    g.add_argument("--method", choices=["seed", "detailed"], help="seed: the article's rules; detailed (default)")
    g.add_argument("--framework", choices=["megatron", "megatron-2021", "deepspeed", "huggingface"],
                   help="megatron (fused kernels), deepspeed (ZeRO paper accounting), huggingface (transformers eager)")
    g.add_argument("--gradient-accumulation-fusion", action=argparse.BooleanOptionalAction, default=None,
                   help="megatron: weight gradients go straight into the fp32 main_grad (default on); off: the "
                        "16-bit weight gradient exists before it is accumulated")
    g.add_argument("--deepspeed-fp16-optimizer", choices=["fused", "unfused"],
                   help="deepspeed, fp16 without ZeRO: fused (FP16_Optimizer: DeepSpeed FusedAdam, apex FusedAdam "
                        "since DeepSpeed 0.5; default) or unfused (FP16_UnfusedOptimizer: any other optimizer)")
    g.add_argument("--transformers-version", metavar="X.Y.Z", help=TRANSFORMERS_VERSION_HELP)
    g.add_argument("--cuda-context", metavar="SIZE", help="CUDA context per card (default 512MiB)")
    g.add_argument("--nccl-memory", metavar="SIZE", help="NCCL buffers per card (default 256MiB)")
    g.add_argument("--fragmentation", type=percent_or_replay, metavar="PERCENT|replay|auto",
                   help="allocator reserve: %% of allocated, replay: PyTorch's caching allocator replayed over the "
                   "card's iterations (framework megatron-2021; finetune: the Hugging Face Trainer on one card or under --fsdp), or "
                   "auto (default): replay where it applies, else 5 %%")


def add_layout_arguments(parser: argparse.ArgumentParser, *, grid: bool = True) -> None:
    g = parser.add_argument_group("layout")
    g.add_argument("--gpu", metavar="NAME", help="catalog GPU (a100-80gb, 'A100 80GB', rtx4090 ...)")
    g.add_argument("--gpu-memory", metavar="SIZE", help="card memory instead of --gpu (24GiB, 80GB)")
    g.add_argument("--gpus-per-node", type=int_in(1, MAX_SLOTS_PER_NODE), metavar="N", help="slots per server (default 8)")
    if grid:
        for flag, hi in (("--tp", MAX_PARALLEL), ("--pp", MAX_PP), ("--dp", MAX_PARALLEL), ("--cp", MAX_PARALLEL),
                         ("--ep", MAX_PARALLEL), ("--vpp", MAX_VPP)):
            g.add_argument(flag, type=int_in(1, hi), metavar="N")
        g.add_argument("--pp-layers", metavar="L1,L2,...", help="uneven layers per stage, e.g. 11,10,10,9")
    g.add_argument("--zero", type=int, choices=[0, 1, 2, 3], help="ZeRO stage")
    g.add_argument("--distributed-optimizer", action=argparse.BooleanOptionalAction, default=None)
    g.add_argument("--offload-optimizer", action=argparse.BooleanOptionalAction, default=None)
    g.add_argument("--offload-params", action=argparse.BooleanOptionalAction, default=None)
    g.add_argument("--partition-activations", action=argparse.BooleanOptionalAction, default=None,
                   help="full recompute: each TP rank keeps 1/TP of every layer checkpoint (DeepSpeed)")
    g.add_argument("--cpu-checkpointing", action=argparse.BooleanOptionalAction, default=None,
                   help="full recompute: the partitioned checkpoints live in CPU memory (DeepSpeed; "
                        "Megatron-DeepSpeed --checkpoint-in-cpu)")


FSDP_HELP = ("ZeRO-3 as PyTorch FSDP (FULL_SHARD) runs it under the Hugging Face Trainer: decoder-layer units "
             "gathered while they compute, the root (embeddings, output layer) whole from its forward to the end "
             "of the backward, nothing gathered at the optimizer step")


def add_fsdp_argument(p: argparse.ArgumentParser) -> None:
    """``--fsdp``: a single layout's ZeRO-3 run by PyTorch FSDP (``estimate``; the layout search prices
    DeepSpeed's ZeRO, so ``plan`` has no such flag)."""
    p.add_argument("--fsdp", action=argparse.BooleanOptionalAction, default=None, help=FSDP_HELP + " (needs --zero 3)")


_TRAINING_FLAGS = ("seq", "micro_batch", "global_batch", "precision", "optimizer", "recompute", "flash_attention",
                   "sequence_parallel", "zero", "fsdp", "distributed_optimizer", "offload_optimizer", "offload_params",
                   "partition_activations", "cpu_checkpointing")
LAYOUT_FLAGS = ("gpu", "gpu_memory", "gpus_per_node", "tp", "pp", "dp", "cp", "ep", "vpp", "pp_layers")


def validated(cls, data: dict, prefix: str):
    """``cls`` built from ``data``; a pydantic error becomes the PlanError of its first field (under ``prefix``)."""
    try:
        return cls.model_validate(data)
    except ValidationError as e:
        raise plan_error_from_validation(e, prefix) from None


def training_from_args(args: argparse.Namespace, base: TrainingConfig | None = None) -> TrainingConfig:
    data = base.model_dump() if base else {}
    data.update({f: getattr(args, f) for f in _TRAINING_FLAGS if getattr(args, f, None) is not None})
    if getattr(args, "expert_load", None) is not None:
        data["expert_load"] = parse_expert_load(args.expert_load)
    return validated(TrainingConfig, data, "training")


# --expert-load KIND[:FACTOR]: the names users type for engine.training.config.ExpertLoad's kinds
_LOAD_KINDS = {"balanced": "balanced", "capacity-factor": "capacity-factor", "capacity": "capacity-factor",
               "measured": "measured", "dropless-worst-case": "dropless-worst-case", "dropless": "dropless-worst-case"}
EXPERT_LOAD_FORMS = ("balanced, dropless (the drop-less worst case), capacity:C (Megatron's "
                     "--moe-expert-capacity-factor) or measured:R (busiest / mean tokens, at least 1)")


def parse_expert_load(text: str) -> ExpertLoad:
    """``balanced``, ``dropless``, ``capacity:1.25`` or ``measured:1.6`` -> an ExpertLoad (PlanError naming
    --expert-load, or the factor's field, otherwise)."""
    kind, _, factor = text.partition(":")
    allowed = "balanced, dropless, capacity:C or measured:R (e.g. capacity:1.25, measured:1.6)"
    if kind.strip().lower() not in _LOAD_KINDS:
        raise PlanError("--expert-load", text, allowed)
    try:
        value = float(factor) if factor.strip() else None
    except ValueError:
        raise PlanError("--expert-load", text, allowed) from None
    try:
        return ExpertLoad(kind=_LOAD_KINDS[kind.strip().lower()], factor=value)  # type: ignore[arg-type]
    except ValidationError as e:
        raise plan_error_from_validation(e, "training.expert_load") from None


def check_expert_load(args: argparse.Namespace, model: ModelSpec) -> None:
    """--expert-load only with a mixture-of-experts model (a dense one has no expert-parallel ranks)."""
    if getattr(args, "expert_load", None) is not None and model.moe is None:
        raise PlanError("--expert-load", args.expert_load, "a mixture-of-experts model (e.g. --model mixtral-8x7b "
                                                           "or --moe-experts N); this model has no experts")


def method_from_args(args: argparse.Namespace, base: MethodConfig | None = None) -> MethodConfig:
    data = base.model_dump() if base else {}
    for f in ("method", "framework", "gradient_accumulation_fusion", "deepspeed_fp16_optimizer", "transformers_version"):
        if getattr(args, f, None) is not None:
            data[f] = getattr(args, f)
    overhead = dict(data.get("overhead") or OverheadConfig().model_dump())
    if args.cuda_context is not None:
        overhead["cuda_context_bytes"] = overhead_bytes(args.cuda_context, "--cuda-context")
    if args.nccl_memory is not None:
        overhead["nccl_bytes"] = overhead_bytes(args.nccl_memory, "--nccl-memory")
    overhead.update(fragmentation_from_args(args))
    data["overhead"] = overhead
    return validated(MethodConfig, data, "method")


def fragmentation_from_args(args: argparse.Namespace) -> dict[str, object]:
    """The overhead fields ``--fragmentation PERCENT|replay|auto`` sets (none when the flag is absent)."""
    if args.fragmentation in ("replay", "auto"):
        return {"fragmentation_model": args.fragmentation}
    if args.fragmentation is not None:
        return {"fragmentation_percent": args.fragmentation, "fragmentation_model": "percent"}
    return {}


def overhead_bytes(text: str, field: str) -> int:
    """A per-card constant (CUDA context, NCCL buffers, workspace): ``0`` or a size up to MAX_OVERHEAD_BYTES."""
    if text.strip() == "0":
        return 0
    value = parse_bytes(text, field)
    if value > MAX_OVERHEAD_BYTES:
        raise PlanError(field, text, f"a size up to {MAX_OVERHEAD_BYTES // 2**40} TiB, e.g. 512MiB")
    return value


def card_bytes(text: str, field: str = "--gpu-memory") -> int:
    """A card's memory from ``24GiB`` / ``80GB`` / bytes: at least one byte, at most MAX_CARD_BYTES."""
    value = parse_bytes(text, field)
    if not 1 <= value <= MAX_CARD_BYTES:
        raise PlanError(field, text, f"a card memory from 1 byte to {MAX_CARD_BYTES // 2**40} TiB, e.g. 24GiB or 80GB")
    return value


def gpu_from_args(args: argparse.Namespace) -> tuple[str, int]:
    """(GPU name, capacity in bytes) from --gpu or --gpu-memory."""
    if args.gpu_memory is not None:
        capacity = card_bytes(args.gpu_memory)
        return (args.gpu or f"custom {args.gpu_memory}"), capacity
    if args.gpu is None:
        raise PlanError("--gpu", None, "a catalog GPU name (e.g. a100-80gb) or --gpu-memory SIZE")
    gpu = find_gpu(args.gpu)
    return gpu.name, gpu.memory_bytes


_COUNT = re.compile(r"\s*[0-9]{1,9}\s*")


def parse_layers(text: str | None, field: str = "--pp-layers") -> tuple[int, ...] | None:
    if text is None:
        return None
    parts = text.split(",")
    allowed = f"at most {MAX_LAYERS:,} comma-separated layer counts from 1 to {MAX_LAYERS:,}, e.g. 11,10,10,9"
    if len(parts) > MAX_LAYERS or not all(_COUNT.fullmatch(p) for p in parts):
        raise PlanError(field, text, allowed)
    values = tuple(int(p) for p in parts)
    if not all(1 <= v <= MAX_LAYERS for v in values):
        raise PlanError(field, text, allowed)
    return values


def layout_from_args(args: argparse.Namespace) -> Layout:
    gpu, capacity = gpu_from_args(args)
    pp_layers = parse_layers(args.pp_layers)
    pp = args.pp or (len(pp_layers) if pp_layers else 1)
    return build_grid(
        tp=args.tp or 1, pp=pp, dp=args.dp or 1, cp=args.cp or 1, ep=args.ep or 1,
        gpus_per_node=args.gpus_per_node or 8, gpu=gpu, capacity_bytes=capacity,
        pp_layers=pp_layers, vpp=args.vpp or 1,
    )


def any_layout_flag(args: argparse.Namespace) -> bool:
    return any(getattr(args, f, None) is not None for f in LAYOUT_FLAGS)
