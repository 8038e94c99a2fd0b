"""``vramplan finetune``: per-card memory of full fine-tuning, LoRA or QLoRA."""

from __future__ import annotations

import argparse

from engine.cli.arg_types import float_in, int_in, percent_or_replay
from engine.cli.model_args import add_model_arguments, model_from_args
from engine.cli.output_args import add_output_arguments, emit_report
from engine.cli.training_args import (
    TRANSFORMERS_VERSION_HELP,
    fragmentation_from_args,
    gpu_from_args,
    validated,
)
from engine.errors import PlanError
from engine.estimate import estimate
from engine.finetune.config import TARGET_MODULES, FinetuneConfig
from engine.limits import MAX_BATCH, MAX_CARDS, MAX_PP, MAX_RANK, MAX_SEQ
from engine.plan.layout import build_grid
from engine.plan.schema import Plan, load_plan, with_changes
from engine.report.records import Estimate
from engine.training.config import MethodConfig
from engine.units import Unit, format_bytes

_FLAGS = ("method", "rank", "alpha", "target_modules", "seq", "micro_batch", "gradient_accumulation",
          "gradient_checkpointing", "flash_attention", "optimizer", "base_dtype", "adapter_dtype", "quant",
          "double_quant", "lora_dropout", "framework", "mixed_precision", "bnb_version", "fsdp")


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("finetune", help="per-card memory of full fine-tuning, LoRA or QLoRA",
                       description="Fine-tuning memory per card: frozen base, adapters, their gradients and "
                                   "optimizer states, activations, logits, overhead.")
    p.add_argument("--plan", metavar="FILE", help="a saved fine-tuning plan")
    p.add_argument("--plan-name", metavar="TEXT")
    add_model_arguments(p)
    g = p.add_argument_group("fine-tuning")
    g.add_argument("--method", choices=["full", "lora", "qlora"], help="default lora")
    g.add_argument("--rank", type=int_in(1, MAX_RANK), metavar="R", help="LoRA rank (default 8)")
    g.add_argument("--alpha", type=float_in(0, 1e6, lo_open=True), metavar="A", help="LoRA alpha (no memory effect)")
    g.add_argument("--target", dest="target_modules", metavar="M,M", help="adapted matrices from "
                   + ",".join(TARGET_MODULES) + " (default q,v)")
    g.add_argument("--seq", type=int_in(1, MAX_SEQ), metavar="TOKENS", help="tokens per sample (default 2048)")
    g.add_argument("--micro-batch", type=int_in(1, MAX_BATCH), metavar="N", help="samples per micro-batch (default 1)")
    g.add_argument("--gradient-accumulation", type=int_in(1, MAX_BATCH), metavar="N",
                   help="micro-batches per optimizer step (default 1: zero_grad frees the gradients between steps)")
    g.add_argument("--gradient-checkpointing", action=argparse.BooleanOptionalAction, default=None)
    g.add_argument("--flash-attention", action=argparse.BooleanOptionalAction, default=None)
    g.add_argument("--optimizer", choices=["adamw", "adamw-8bit", "paged-adamw", "paged-adamw-8bit", "sgd"])
    g.add_argument("--base-dtype", choices=["bf16", "fp16", "fp32"])
    g.add_argument("--adapter-dtype", choices=["fp32", "bf16"])
    g.add_argument("--quant", choices=["nf4", "fp4"], help="QLoRA base format (default nf4)")
    g.add_argument("--lora-dropout", type=float_in(0, 1), metavar="P", help="dropout on the adapter inputs (default 0.05)")
    g.add_argument("--framework", choices=["peft", "litgpt"], help="peft (transformers, default) or litgpt")
    g.add_argument("--mixed-precision", action=argparse.BooleanOptionalAction, default=None,
                   help="full fine-tuning with fp32 master weights and moments (default: pure 16-bit)")
    g.add_argument("--double-quant", action=argparse.BooleanOptionalAction, default=None)
    g.add_argument("--bnb-version", metavar="X.Y.Z",
                   help="bitsandbytes release (QLoRA): before 0.43.2 each 4-bit linear keeps its input for the "
                        "backward (default: a current release)")
    g.add_argument("--transformers-version", metavar="X.Y.Z", help=TRANSFORMERS_VERSION_HELP)
    g.add_argument("--fragmentation", type=percent_or_replay, metavar="PERCENT|replay|auto",
                   help="allocator reserve: %% of allocated, replay: PyTorch's caching allocator replayed over "
                        "Trainer steps (one card or --fsdp: LoRA or QLoRA under PEFT, or full fine-tuning in pure 16 bits, one "
                        "micro-batch per step), or auto (default): replay where it applies, else 5 %%")
    lay = p.add_argument_group("cards")
    lay.add_argument("--gpu", metavar="NAME", help="catalog GPU")
    lay.add_argument("--gpu-memory", metavar="SIZE", help="card memory instead of --gpu (24GiB)")
    lay.add_argument("--gpus", type=int_in(1, MAX_CARDS), metavar="N", help="data-parallel cards (default 1)")
    lay.add_argument("--pp", type=int_in(1, MAX_PP), metavar="N", help="layer split over N cards (device_map)")
    lay.add_argument("--fsdp", action=argparse.BooleanOptionalAction, default=None,
                     help="shard weights, gradients and optimizer states over the --gpus cards with PyTorch FSDP "
                          "(FULL_SHARD under the Hugging Face Trainer and accelerate; default: each card holds the "
                          "whole model, DDP)")
    add_output_arguments(p)
    p.set_defaults(run=run)


def finetune_from_args(args: argparse.Namespace, base: FinetuneConfig | None = None) -> FinetuneConfig:
    data = base.model_dump() if base else {}
    for f in _FLAGS:
        value = getattr(args, f, None)
        if value is not None:
            data[f] = tuple(v.strip() for v in value.split(",")) if f == "target_modules" else value
    return validated(FinetuneConfig, data, "finetune")


def plan_from_args(args: argparse.Namespace) -> Plan:
    if args.plan:
        base = load_plan(args.plan)
        if any(getattr(args, f, None) is not None for f in ("gpu", "gpu_memory", "gpus", "pp")):
            raise PlanError("--plan", args.plan, "a plan file without card flags (--gpu/--gpus/--pp)")
        return with_changes(base, mode="finetune", model=model_from_args(args, base=base.model),
                            finetune=finetune_from_args(args, base.finetune), name=args.plan_name or base.name,
                            method=_method(args, base.method))
    model = model_from_args(args)
    gpu, capacity = gpu_from_args(args)
    layout = build_grid(dp=args.gpus or 1, pp=args.pp or 1, gpu=gpu, capacity_bytes=capacity)
    return Plan(name=args.plan_name or model.name, mode="finetune", model=model, layout=layout,
                finetune=finetune_from_args(args), method=_method(args, MethodConfig()))


def _method(args: argparse.Namespace, base: MethodConfig) -> MethodConfig:
    """``base`` with the method flags ``finetune`` takes: the allocator reserve and the transformers release."""
    data = base.model_dump()
    data["overhead"].update(fragmentation_from_args(args))
    if args.transformers_version is not None:
        data["transformers_version"] = args.transformers_version
    return validated(MethodConfig, data, "method")


def summary_lines(est: Estimate, unit: Unit) -> list[str]:
    s = est.finetune
    if s is None:
        return []
    lines = [f"{s.method}: {s.trainable_parameters:,} trainable parameters; base weights "
             f"{format_bytes(s.base_weight_bytes, unit)}"]
    if s.adapter_weight_bytes:
        lines.append(f"adapters (rank {s.rank} on {','.join(s.target_modules)}): "
                     f"{format_bytes(s.adapter_weight_bytes, unit)}")
    return lines


def run(args: argparse.Namespace) -> int:
    plan = plan_from_args(args)
    return emit_report(args, plan, estimate(plan), summary_lines)
