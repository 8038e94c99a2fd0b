"""``vramplan plan``: the fewest-GPU, fastest or cheapest layout that fits, with step times.

Workload flags given (``--micro-batch``, ``--recompute``, ``--sequence-parallel``,
``--zero``) fix that knob; absent ones are searched.
"""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

from pydantic import ValidationError

from engine.catalog import find_gpu
from engine.cli.arg_types import LazyChoices, float_in, int_in, parse_int
from engine.cli.compare_cmd import expert_load_lines
from engine.cli.model_args import add_model_arguments, model_from_args
from engine.cli.output_args import print_json
from engine.cli.training_args import (
    add_method_arguments,
    add_workload_arguments,
    card_bytes,
    check_expert_load,
    method_from_args,
    training_from_args,
)
from engine.errors import PlanError
from engine.limits import (
    MAX_BANDWIDTH_GBPS,
    MAX_BATCH,
    MAX_LISTED_CANDIDATES,
    MAX_PARALLEL,
    MAX_PRICE_USD,
    MAX_SEARCH_CHOICES,
    MAX_SEARCH_GPUS,
    MAX_SLOTS_PER_NODE,
    MAX_TFLOPS,
    MAX_VPP,
    MIN_BANDWIDTH_GBPS,
    MIN_TFLOPS,
)
from engine.plan.schema import plan_error_from_validation
from engine.units import Unit, parse_count

if TYPE_CHECKING:  # the planner (and numpy) load when the command runs, not when the CLI registers it
    from engine.planner import Hardware, PlannerRequest, SearchSpace


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("plan", help="search the layouts that fit: fewest GPUs, fastest, cheapest",
                       description="Search every uniform TP x PP x DP x CP layout (ZeRO, recompute, micro-batch, "
                                   "SP, VPP, uneven splits) that fits each card with a safety margin; rank them "
                                   "with a step-time model (docs/planner.md).")
    add_model_arguments(p)
    add_workload_arguments(p)
    add_method_arguments(p)
    g = p.add_argument_group("hardware")
    g.add_argument("--gpu", action="append", metavar="NAME[:COUNT]",
                   help="catalog GPU, repeatable for a set of types; COUNT caps that type (default --max-gpus)")
    g.add_argument("--gpu-memory", metavar="SIZE", help="card memory instead of the catalog's (80GB, 24GiB)")
    g.add_argument("--gpus-per-node", type=int_in(1, MAX_SLOTS_PER_NODE), default=8, metavar="N",
                   help="slots per server (default 8)")
    g.add_argument("--max-gpus", type=int_in(1, MAX_SEARCH_GPUS), default=8, metavar="N", help="card budget (default 8)")
    g.add_argument("--tflops", type=float_in(MIN_TFLOPS, MAX_TFLOPS), metavar="T",
                   help="peak dense BF16 TFLOP/s per card (default: catalog)")
    bandwidth = float_in(MIN_BANDWIDTH_GBPS, MAX_BANDWIDTH_GBPS)
    g.add_argument("--intra-node-bandwidth", type=bandwidth, metavar="GB/s", help="NVLink/PCIe per card (default: catalog)")
    g.add_argument("--inter-node-bandwidth", type=bandwidth, metavar="GB/s", help="network per node (default 50 = 400 Gb/s)")
    g.add_argument("--price", type=float_in(0, MAX_PRICE_USD), metavar="USD", help="per card-hour (default: catalog)")
    s = p.add_argument_group("search")
    s.add_argument("--objective", choices=LazyChoices("engine.planner", "OBJECTIVES"), default="fewest-gpus",
                   metavar="NAME", help="%(choices)s (default %(default)s)")
    s.add_argument("--margin", type=float_in(0, 1), default=0.1, metavar="F", help="fraction of each card kept free (default 0.1)")
    s.add_argument("--zero", type=int, choices=[0, 1, 2, 3], help="fix the ZeRO stage (default: search 0-3)")
    s.add_argument("--micro-batches", metavar="B1,B2,..", help="micro-batch sizes to try (default 1,2,4,8)")
    s.add_argument("--max-tp", type=int_in(1, MAX_PARALLEL), metavar="N", help="largest TP (default: GPUs per node)")
    s.add_argument("--max-cp", type=int_in(1, MAX_PARALLEL), default=8, metavar="N",
                   help="largest CP (detailed + flash attention)")
    s.add_argument("--max-vpp", type=int_in(1, MAX_VPP), default=4, metavar="N", help="most interleaved chunks per stage")
    s.add_argument("--no-uneven-pp", dest="uneven_pp", action="store_false", help="even layer splits only")
    s.add_argument("--partial-nodes", action="store_true", help="allow layouts that fill only part of a node")
    sp = p.add_argument_group("step-time model")
    sp.add_argument("--mfu", type=float_in(0, 1, lo_open=True), default=0.4, metavar="F", help="fraction of peak in the kernels (default 0.4)")
    sp.add_argument("--overlap", type=float_in(0, 1), default=0.5, metavar="F", help="DP/CP traffic hidden (default 0.5)")
    sp.add_argument("--train-tokens", metavar="N", help="tokens to train (default 20 x parameters)")
    o = p.add_argument_group("output")
    o.add_argument("--json", action="store_true", help="machine-readable answer in bytes and seconds")
    o.add_argument("--units", choices=["GB", "GiB"], default="GB", help="units of the table (default GB = 10^9 B)")
    o.add_argument("--top", type=int_in(0, MAX_LISTED_CANDIDATES), default=20, metavar="N",
                   help=f"candidates listed (0: all, up to {MAX_LISTED_CANDIDATES})")
    o.add_argument("--all", action="store_true", help="list every fitting layout, not only the Pareto front")
    p.set_defaults(run=run)


def _gpu_names(args: argparse.Namespace) -> list[tuple[str | None, int]]:
    if not args.gpu:
        return [(None, args.max_gpus)]
    out = []
    for item in args.gpu:
        name, _, count = item.rpartition(":") if ":" in item else (item, "", "")
        n = parse_count(count, "--gpu COUNT") if count else args.max_gpus
        if n > MAX_SEARCH_GPUS:
            raise PlanError("--gpu COUNT", count, f"a card count from 1 to {MAX_SEARCH_GPUS:,}")
        out.append((name, n))
    return out


def hardware_from_args(args: argparse.Namespace) -> tuple[Hardware, ...]:
    from engine.planner import Hardware, hardware_for_gpu

    capacity = card_bytes(args.gpu_memory) if args.gpu_memory else None
    out = []
    for name, count in _gpu_names(args):
        bandwidth = {"intra_node_gbps": args.intra_node_bandwidth, "inter_node_gbps": args.inter_node_bandwidth,
                     "price_usd_per_hour": args.price, "bf16_tflops": args.tflops}
        try:
            gpu = find_gpu(name) if name else None
        except PlanError:
            if capacity is None or args.tflops is None:
                raise
            gpu = None
        if gpu is not None:
            out.append(hardware_for_gpu(gpu, count, capacity_bytes=capacity, **bandwidth))
            continue
        if capacity is None or args.tflops is None:
            raise PlanError("--gpu", name, "a catalog GPU, or --gpu-memory SIZE with --tflops T")
        out.append(Hardware(gpu=name or f"custom {args.gpu_memory}", capacity_bytes=capacity, max_gpus=count,
                            bf16_tflops=args.tflops, intra_node_gbps=args.intra_node_bandwidth or 32.0,
                            inter_node_gbps=args.inter_node_bandwidth or 50.0, price_usd_per_hour=args.price))
    return tuple(out)


def _int_list(text: str, field: str) -> tuple[int, ...]:
    parts = text.split(",")
    allowed = f"at most {MAX_SEARCH_CHOICES} comma-separated integers from 1 to {MAX_BATCH:,}, e.g. 1,2,4"
    if len(parts) > MAX_SEARCH_CHOICES:
        raise PlanError(field, text, allowed)
    try:
        return tuple(parse_int(x, 1, MAX_BATCH) for x in parts)
    except argparse.ArgumentTypeError:
        raise PlanError(field, text, allowed) from None


def space_from_args(args: argparse.Namespace) -> SearchSpace:
    from engine.planner import SearchSpace

    fixed: dict[str, tuple] = {}
    if args.micro_batch is not None:
        fixed["micro_batches"] = (args.micro_batch,)
    elif args.micro_batches:
        fixed["micro_batches"] = _int_list(args.micro_batches, "--micro-batches")
    if args.recompute is not None:
        fixed["recompute"] = (args.recompute,)
    if args.sequence_parallel is not None:
        fixed["sequence_parallel"] = (args.sequence_parallel,)
    if args.zero is not None:
        fixed["zero_stages"] = (args.zero,)
    return SearchSpace.model_validate({
        "gpus_per_node": args.gpus_per_node, "max_tp": args.max_tp, "max_cp": args.max_cp, "max_vpp": args.max_vpp,
        "uneven_pp": args.uneven_pp, "whole_nodes": not args.partial_nodes, **fixed})


def request_from_args(args: argparse.Namespace) -> PlannerRequest:
    from engine.planner import PlannerRequest, SpeedModel

    for flag, value in (("--max-gpus", args.max_gpus), ("--gpus-per-node", args.gpus_per_node)):
        if value < 1:
            raise PlanError(flag, value, "a positive integer")
    if not 0 <= args.margin < 1:
        raise PlanError("--margin", args.margin, "a fraction from 0 to below 1, e.g. 0.1")
    if not 0 < args.mfu <= 1:
        raise PlanError("--mfu", args.mfu, "a fraction above 0 and at most 1, e.g. 0.4")
    if not 0 <= args.overlap <= 1:
        raise PlanError("--overlap", args.overlap, "a fraction from 0 to 1")
    tokens = parse_count(args.train_tokens, "--train-tokens") if args.train_tokens else None
    model = model_from_args(args)
    check_expert_load(args, model)
    try:
        return PlannerRequest(
            model=model, training=training_from_args(args), method=method_from_args(args),
            hardware=hardware_from_args(args), space=space_from_args(args),
            speed=SpeedModel(mfu=args.mfu, overlap=args.overlap, train_tokens=tokens),
            margin=args.margin, objective=args.objective)
    except ValidationError as e:
        raise plan_error_from_validation(e) from None


def run(args: argparse.Namespace) -> int:
    from engine.compare import expert_load_summary
    from engine.planner import search
    from engine.planner.explain import candidate_plan
    from engine.planner.report import result_to_json
    from engine.planner.table import render_plan_table

    request = request_from_args(args)
    result = search(request, keep_all=args.all)
    top = None if args.top == 0 else args.top
    report = result_to_json(result, top, "fitting" if args.all else "front")
    load = None
    if request.model.moe is not None:  # the best layout's busiest and average expert-parallel rank
        best = result.best.get(request.objective)
        load = None if best is None else expert_load_summary(candidate_plan(request, best))
        report["expert_load"] = None if load is None else load.model_dump(mode="json")
    if args.json:
        print_json(report)
        return 0
    print(render_plan_table(report, args.units))
    if load is not None:
        print("\n".join(expert_load_lines(load, Unit(args.units), "the best layout")))
    return 0
