"""``vramplan validate``: every published observation in resources/validation/ against the engine."""

from __future__ import annotations

import argparse

from engine.cli.output_args import print_json


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("validate", help="compare the engine with published runs (resources/validation/)")
    p.add_argument("--category", choices=["training", "finetune", "vllm", "llamacpp", "verdict"],
                   help="only this category")
    p.add_argument("--case", metavar="ID", help="only the case with this id")
    p.add_argument("--markdown", action="store_true", help="the table as Markdown (docs/validation.md)")
    p.add_argument("--json", action="store_true", help="one record per case")
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from engine.validation.cases import load_cases
    from engine.validation.check import check
    from engine.validation.table import render_markdown, render_text

    cases = [c for c in load_cases() if (args.category in (None, c.category)) and (args.case in (None, c.id))]
    results = [check(c) for c in cases]
    if args.json:
        print_json([r.record().model_dump() for r in results])
    else:
        print(render_markdown(results) if args.markdown else render_text(results))
    unexpected = [r for r in results if r.ok == bool(r.case.open_gap)]
    return 1 if unexpected else 0
