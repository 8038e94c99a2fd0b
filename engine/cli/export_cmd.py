"""``vramplan export`` (launch configs from a plan) and ``vramplan import`` (a pasted config -> a plan)."""

from __future__ import annotations

import argparse
import sys

from engine.cli.arg_types import LazyChoices, int_in
from engine.errors import PlanError
from engine.limits import (
    MAX_CARDS,
    MAX_CONFIG_BYTES,
    MAX_LAUNCH_CONFIG_BYTES,
    MAX_PARALLEL,
    MAX_PP,
    MAX_SEQ,
    MAX_SLOTS_PER_NODE,
)
from engine.plan import files
from engine.plan.schema import load_plan, plan_to_json, save_plan


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("export", help="launch config (Megatron-LM, DeepSpeed, vLLM, llama.cpp) from a plan",
                       description="Print what you would otherwise type by hand to launch the plan.")
    p.add_argument("--format", required=True, choices=LazyChoices("engine.export", "EXPORT_FORMATS"),
                   metavar="FORMAT", help="%(choices)s")
    p.add_argument("plan", metavar="PLAN.json")
    p.add_argument("-o", "--output", metavar="FILE", help="write to FILE instead of stdout")
    p.set_defaults(run=run_export)

    q = sub.add_parser("import", help="a Megatron-LM argument list or a DeepSpeed config -> a plan",
                       description="Read pasted Megatron-LM arguments (or a torchrun line) or a DeepSpeed "
                                   "config JSON and print the plan (or save it with --save-plan).")
    q.add_argument("--format", required=True, choices=LazyChoices("engine.export", "IMPORT_FORMATS"),
                   metavar="FORMAT", help="%(choices)s")
    q.add_argument("file", metavar="FILE", help="the arguments / config file; - reads stdin")
    q.add_argument("--gpu", metavar="NAME", help="catalog GPU of every card")
    q.add_argument("--gpu-memory", metavar="SIZE", help="card memory instead of --gpu (80GB, 24GiB)")
    q.add_argument("--gpus-per-node", type=int_in(1, MAX_SLOTS_PER_NODE), default=8, metavar="N")
    q.add_argument("--world-size", type=int_in(1, MAX_CARDS), metavar="N",
                   help="cards in all (megatron: default from torchrun flags)")
    q.add_argument("--model", metavar="NAME|PATH", help="model preset or config.json (required for deepspeed)")
    q.add_argument("--tp", type=int_in(1, MAX_PARALLEL), default=1, metavar="N",
                   help="deepspeed: tensor parallel size of the script")
    q.add_argument("--pp", type=int_in(1, MAX_PP), default=1, metavar="N",
                   help="deepspeed: pipeline parallel size of the script")
    q.add_argument("--seq", type=int_in(1, MAX_SEQ), metavar="TOKENS", help="deepspeed: sequence length")
    q.add_argument("--name", metavar="TEXT", help="plan name")
    q.add_argument("--save-plan", metavar="OUT.json", help="save the plan instead of printing it")
    q.set_defaults(run=run_import)


def run_export(args: argparse.Namespace) -> int:
    from engine.export import export_text

    text = export_text(load_plan(args.plan), args.format)
    if args.output:
        files.atomic_write_text(args.output, text, field="--output")
    else:
        sys.stdout.write(text)
    return 0


def _read(path: str, limit: int) -> str:
    """The pasted config: a file (or stdin) of at most ``limit`` bytes, UTF-8."""
    if path == "-":
        data = sys.stdin.buffer.read(limit + 1) if hasattr(sys.stdin, "buffer") else sys.stdin.read(limit + 1).encode()
        if len(data) > limit:
            raise PlanError("file", "-", f"at most {limit // 2**20} MiB on stdin")
        return files.decode_text(data, "file")
    return files.read_text(path, "file", limit)


def run_import(args: argparse.Namespace) -> int:
    from engine.cli.model_args import base_model
    from engine.cli.training_args import gpu_from_args
    from engine.export import plan_from_deepspeed, plan_from_megatron

    gpu, capacity = gpu_from_args(args)
    model = base_model(args.model) if args.model else None
    text = _read(args.file, MAX_LAUNCH_CONFIG_BYTES if args.format == "megatron" else MAX_CONFIG_BYTES)
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
