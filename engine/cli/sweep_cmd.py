"""``vramplan sweep PLAN --knob seq --from 1024 --to 131072``: the heaviest card's peak against one
knob, and the largest value that fits."""

from __future__ import annotations

import argparse

from engine.cli.arg_types import int_in
from engine.cli.output_args import print_json
from engine.compare.sweep import DEFAULT_POINTS, KNOBS, MAX_POINTS, Sweep, sweep
from engine.limits import MAX_CONTEXT
from engine.plan.schema import load_plan
from engine.units import Unit, format_bytes, to_unit


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("sweep", help="the heaviest card's peak against one knob, and the largest value that fits",
                       description="Sweep one knob of a plan: training seq, micro-batch; fine-tuning seq, "
                                   "micro-batch, lora-rank; serving context, batch (concurrent sequences); tp and pp "
                                   "on a uniform grid.  Prints the heaviest card's peak per value against the "
                                   "capacity and the largest value that fits (bisection over every integer).")
    p.add_argument("plan", metavar="PLAN.json", help="a saved plan")
    p.add_argument("--knob", required=True, choices=KNOBS, help="what to vary")
    # argparse stores --from as args.start ("from" is a keyword)
    p.add_argument("--from", dest="start", type=int_in(1, MAX_CONTEXT), metavar="N",
                   help="first value (default: the plan's value / 8; tp, pp: 1)")
    p.add_argument("--to", dest="stop", type=int_in(1, MAX_CONTEXT), metavar="N",
                   help="last value (default: the plan's value x 8; tp: the heads; pp: the layers)")
    p.add_argument("--points", type=int_in(2, MAX_POINTS), default=DEFAULT_POINTS, metavar="N",
                   help=f"values in the series (default {DEFAULT_POINTS})")
    p.add_argument("--scale", choices=["geometric", "linear"], default="geometric", help="spacing of the series")
    p.add_argument("--json", action="store_true", help="machine-readable sweep in bytes")
    p.add_argument("--units", choices=["GB", "GiB"], default="GB", help="units of the table (default GB = 10^9 B)")
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    result = sweep(load_plan(args.plan), args.knob, args.start, args.stop, args.points, args.scale)
    if args.json:
        print_json(result.model_dump(mode="json"))
    else:
        print(render_sweep(result, Unit(args.units)))
    return 0


def render_sweep(s: Sweep, unit: Unit) -> str:
    out = [f"{s.plan}: {s.knob} ({s.field}, now {s.current:,}) from {s.start:,} to {s.stop:,}, {s.scale}; "
           f"capacity {format_bytes(s.capacity_bytes, unit)}",
           f"memory in {unit.value} ({'10^9' if unit is Unit.GB else '2^30'} bytes); stages counted from 1; "
           "peak = the heaviest card, headroom = the tightest card's", ""]
    rows = [[s.knob, "peak", "headroom", "stage", "card", ""]]
    for p in s.points:
        rows.append([f"{p.value:,}", f"{to_unit(p.peak_bytes, unit):.2f}", f"{to_unit(p.headroom_bytes, unit):+.2f}",
                     str(p.peak_stage + 1), str(p.peak_card), "ok" if p.fits else "OVER"])
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    lines = ["  ".join(c.rjust(w) for c, w in zip(r, widths, strict=True)).rstrip() for r in rows]
    lines.insert(1, "  ".join("-" * w for w in widths))
    out += lines
    out.append("")
    answers = [("largest", s.largest_fitting, s.largest_fitting_point),
                ("smallest", s.smallest_fitting, s.smallest_fitting_point)]
    if not s.memory_grows:  # tp, pp: the smallest size that fits is the question
        answers.reverse()
    if s.largest_fitting is None:
        out.append(f"no {s.knob} from {s.start:,} to {s.stop:,} fits")
    for which, value, at in answers[:1] if s.memory_grows else answers:
        if value is None or at is None:
            continue
        out.append(f"{which} {s.knob} that fits: {value:,} (binding: stage {at.binding_stage + 1}, card {at.binding_card}, "
                   f"peak {format_bytes(at.peak_bytes, unit)}, headroom {format_bytes(at.headroom_bytes, unit)})")
    out.append(f"search: {s.search}")
    for e in s.excluded:
        out.append(f"{s.knob} {e.value:,} not allowed: {e.reason}")
    return "\n".join(out)
