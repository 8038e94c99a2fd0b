"""``vramplan export`` (launch configs from a plan) and ``vramplan import`` (a pasted config -> a plan)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from engine.errors import PlanError
from engine.export import (
    EXPORT_FORMATS,
    IMPORT_FORMATS,
    export_text,
    plan_from_deepspeed,
    plan_from_megatron,
)
from engine.plan.schema import atomic_write_text, load_plan, plan_to_json, save_plan


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("export", help="launch config (Megatron-LM, DeepSpeed, vLLM, llama.cpp) from a plan",
                       description="Print what you would otherwise type by hand to launch the plan.")
    p.add_argument("--format", required=True, choices=EXPORT_FORMATS)
    p.add_argument("plan", metavar="PLAN.json")
    p.add_argument("-o", "--output", metavar="FILE", help="write to FILE instead of stdout")
    p.set_defaults(run=run_export)

    q = sub.add_parser("import", help="a Megatron-LM argument list or a DeepSpeed config -> a plan",
                       description="Read pasted Megatron-LM arguments (or a torchrun line) or a DeepSpeed "
                                   "config JSON and print the plan (or save it with --save-plan).")
    q.add_argument("--format", required=True, choices=IMPORT_FORMATS)
    q.add_argument("file", metavar="FILE", help="the arguments / config file; - reads stdin")
    q.add_argument("--gpu", metavar="NAME", help="catalog GPU of every card")
    q.add_argument("--gpu-memory", metavar="SIZE", help="card memory instead of --gpu (80GB, 24GiB)")
    q.add_argument("--gpus-per-node", type=int, default=8, metavar="N")
    q.add_argument("--world-size", type=int, metavar="N", help="cards in all (megatron: default from torchrun flags)")
    q.add_argument("--model", metavar="NAME|PATH", help="model preset or config.json (required for deepspeed)")
    q.add_argument("--tp", type=int, default=1, metavar="N", help="deepspeed: tensor parallel size of the script")
    q.add_argument("--pp", type=int, default=1, metavar="N", help="deepspeed: pipeline parallel size of the script")
    q.add_argument("--seq", type=int, metavar="TOKENS", help="deepspeed: sequence length")
    q.add_argument("--name", metavar="TEXT", help="plan name")
    q.add_argument("--save-plan", metavar="OUT.json", help="save the plan instead of printing it")
    q.set_defaults(run=run_import)


def run_export(args: argparse.Namespace) -> int:
    text = export_text(load_plan(args.plan), args.format)
    if args.output:
        atomic_write_text(args.output, text)
    else:
        sys.stdout.write(text)
    return 0


def _read(path: str) -> str:
    if path == "-":
        return sys.stdin.read()
    try:
        return Path(path).read_text(encoding="utf-8")
    except OSError as e:
        raise PlanError("file", path, f"a readable file ({e.strerror})") from None


def run_import(args: argparse.Namespace) -> int:
    from engine.cli.model_args import base_model
    from engine.cli.training_args import gpu_from_args

    for flag in ("gpus_per_node", "world_size", "tp", "pp", "seq"):
        value = getattr(args, flag)
        if value is not None and value < 1:
            raise PlanError(f"--{flag.replace('_', '-')}", value, "a positive integer")
    gpu, capacity = gpu_from_args(args)
    model = base_model(args.model) if args.model else None
    text = _read(args.file)
    if args.format == "megatron":
        result = plan_from_megatron(text, gpu=gpu, capacity_bytes=capacity, gpus_per_node=args.gpus_per_node,
                                    world_size=args.world_size, base_model=model, name=args.name)
    else:
        if model is None:
            raise PlanError("--model", None, "a model preset or config.json (a DeepSpeed config names no model)")
        result = plan_from_deepspeed(text, model=model, gpu=gpu, capacity_bytes=capacity, tp=args.tp, pp=args.pp,
                                     gpus_per_node=args.gpus_per_node, seq=args.seq, name=args.name)
    if result.ignored:
        sys.stderr.write(f"note: not used for memory: {' '.join(result.ignored)}\n")
    if args.save_plan:
        save_plan(result.plan, args.save_plan)
    else:
        sys.stdout.write(plan_to_json(result.plan))
    return 0
