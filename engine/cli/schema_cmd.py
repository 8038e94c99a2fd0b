"""``vramplan schema``: JSON Schemas of the plan file and of the JSON report."""

from __future__ import annotations

import argparse

from engine.cli.output_args import print_json
from engine.plan.schema import Plan
from engine.report.json_report import ReportModel


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("schema", help="JSON Schemas of the plan file and the report",
                       description="JSON Schemas: the plan file, the estimate report, validate, compare and sweep "
                                   "output, and the expert_load record of estimate and plan (MoE).")
    p.add_argument("which", nargs="?", choices=["plan", "report", "validate", "compare", "sweep", "expert-load", "all"], default="all")
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from pydantic import TypeAdapter

    from engine.compare import ExpertLoadSummary, PlanComparison, Sweep
    from engine.validation.check import ValidationRecord

    schemas = {"plan": Plan.model_json_schema(), "report": ReportModel.model_json_schema(),
               "validate": TypeAdapter(list[ValidationRecord]).json_schema(),
               "compare": PlanComparison.model_json_schema(), "sweep": Sweep.model_json_schema(),
               # `expert_load` of `vramplan estimate --json` (also in "report") and of `vramplan plan --json`
               "expert-load": ExpertLoadSummary.model_json_schema()}
    print_json(schemas if args.which == "all" else schemas[args.which])
    return 0
