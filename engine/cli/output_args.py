"""Output flags shared by the commands that print reports."""

from __future__ import annotations

import argparse
import json
import sys

from engine.units import Unit


def add_output_arguments(parser: argparse.ArgumentParser) -> None:
    g = parser.add_argument_group("output")
    g.add_argument("--json", action="store_true", help="machine-readable report in bytes")
    g.add_argument("--units", choices=["GB", "GiB"], default="GB", help="units of the table (default GB = 10^9 B)")
    g.add_argument("--all-cards", action="store_true", help="one table row per card instead of grouping identical cards")
    g.add_argument("--save-plan", metavar="FILE", help="write the plan the flags describe (for the GUI and reports)")


LONG_LIST = 256  # a top-level list longer than this (cards of a large plan) prints one compact item per line


def print_json(data: object) -> None:
    """Indented JSON on stdout, written in batches (json.dump writes each of millions of pieces on its
    own; json.dumps holds the whole text, hundreds of MB for a 16,384-card report).

    Python's indenting encoder is pure Python: 1.1 s for a 16,384-card report.  A report with a long
    top-level list (its cards) keeps the top level indented and writes each item of that list on one
    line with the C encoder: the same JSON, a quarter of the time."""
    if isinstance(data, dict) and any(isinstance(v, list) and len(v) > LONG_LIST for v in data.values()):
        _print_long_lists(data)
        return
    pieces: list[str] = []
    for piece in json.JSONEncoder(indent=2).iterencode(data):
        pieces.append(piece)
        if len(pieces) >= 16_384:
            sys.stdout.write("".join(pieces))
            pieces.clear()
    pieces.append("\n")
    sys.stdout.write("".join(pieces))


def _print_long_lists(data: dict) -> None:
    out = sys.stdout
    out.write("{")
    for i, (key, value) in enumerate(data.items()):
        out.write(("," if i else "") + "\n  " + json.dumps(key) + ": ")
        if isinstance(value, list) and len(value) > LONG_LIST:
            out.write("[")
            batch: list[str] = []
            for j, item in enumerate(value):
                batch.append(("," if j else "") + "\n    " + json.dumps(item))
                if len(batch) >= 1024:
                    out.write("".join(batch))
                    batch.clear()
            out.write("".join(batch) + "\n  ]")
        else:
            out.write(json.dumps(value, indent=2).replace("\n", "\n  "))
    out.write("\n}\n")


def unit_of(args: argparse.Namespace) -> Unit:
    return Unit(args.units)


def emit_report(args: argparse.Namespace, plan, est, extra_lines=None, extra_json: dict | None = None) -> int:
    """Save the plan if asked, then print the JSON report (plus ``extra_json``'s keys, each documented in
    ``ReportModel``) or the table (plus any summary lines)."""
    from engine.cli.table import render_table
    from engine.plan.schema import save_plan
    from engine.report.json_report import estimate_to_json

    if args.save_plan:
        save_plan(plan, args.save_plan)
    if args.json:
        print_json({**estimate_to_json(est), **(extra_json or {})})
        return 0
    unit = unit_of(args)
    print(render_table(est, unit, args.all_cards))
    if extra_lines is not None:
        print("\n".join(extra_lines(est, unit)))
    return 0

