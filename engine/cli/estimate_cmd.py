"""``vramplan estimate``: per-card training memory for a plan file or flags."""

from __future__ import annotations

import argparse

from engine.cli.compare_cmd import expert_load_lines
from engine.cli.model_args import add_model_arguments, model_from_args
from engine.cli.output_args import add_output_arguments, emit_report
from engine.cli.training_args import (
    add_fsdp_argument,
    add_layout_arguments,
    add_method_arguments,
    add_workload_arguments,
    any_layout_flag,
    check_expert_load,
    layout_from_args,
    method_from_args,
    training_from_args,
)
from engine.compare import expert_load_summary
from engine.errors import PlanError
from engine.estimate import estimate
from engine.plan.schema import Plan, load_plan, with_changes


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("estimate", help="per-card training memory of a layout",
                       description="Per-card training memory: from --plan FILE.json or from flags.")
    p.add_argument("--plan", metavar="FILE", help="a saved plan (the GUI's .json)")
    p.add_argument("--plan-name", metavar="TEXT", help="name of the plan")
    add_model_arguments(p)
    add_workload_arguments(p)
    add_method_arguments(p)
    add_layout_arguments(p)
    add_fsdp_argument(p)
    add_output_arguments(p)
    p.set_defaults(run=run)


def plan_from_args(args: argparse.Namespace) -> Plan:
    plan = _plan_from_args(args)
    check_expert_load(args, plan.model)
    return plan


def _plan_from_args(args: argparse.Namespace) -> Plan:
    if args.plan:
        base = load_plan(args.plan)
        if any_layout_flag(args):
            raise PlanError("--plan", args.plan, "a plan file without layout flags (--gpu/--tp/--pp/--dp ...); "
                                                 "edit the plan's layout in the GUI or drop --plan")
        model = model_from_args(args, base=base.model)
        return with_changes(base, model=model, training=training_from_args(args, base.training),
                            method=method_from_args(args, base.method), name=args.plan_name or base.name)
    model = model_from_args(args)
    return Plan(
        name=args.plan_name or model.name,
        model=model,
        training=training_from_args(args),
        method=method_from_args(args),
        layout=layout_from_args(args),
    )


def run(args: argparse.Namespace) -> int:
    plan = plan_from_args(args)
    est = estimate(plan)
    load = expert_load_summary(plan, est)  # MoE training: the busiest and the average expert-parallel rank
    if load is None:
        return emit_report(args, plan, est)
    return emit_report(args, plan, est, extra_lines=lambda _est, unit: expert_load_lines(load, unit),
                       extra_json={"expert_load": load.model_dump(mode="json")})
