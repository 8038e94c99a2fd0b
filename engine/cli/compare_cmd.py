"""``vramplan compare A.json B.json``: two plans side by side (stage peaks, headroom, categories,
step time and cost, warnings); ``vramplan compare PLAN.json --expert-load [KIND[:FACTOR]]``: a MoE
plan's average expert-parallel rank against its busiest."""

from __future__ import annotations

import argparse
from pathlib import Path

from engine.cli.output_args import print_json
from engine.cli.training_args import EXPERT_LOAD_FORMS, parse_expert_load
from engine.compare import (
    ExpertLoadSummary,
    PlanComparison,
    StageSide,
    compare_plans,
    expert_load_comparison,
)
from engine.errors import PlanError
from engine.plan.schema import load_plan, with_changes
from engine.units import Unit, format_bytes, to_unit


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("compare", help="two plans side by side: stage peaks, headroom, step time, warnings",
                       description="Compare plan B with plan A (the baseline), stage by stage.  With --expert-load "
                                   "and one plan: its average expert-parallel rank against its busiest.")
    p.add_argument("a", metavar="A.json", help="the baseline plan")
    p.add_argument("b", metavar="B.json", nargs="?", help="the plan compared with it")
    p.add_argument("--expert-load", metavar="KIND[:FACTOR]", nargs="?", const="plan",
                   help="MoE: compare A's average EP rank with its busiest, under A's training.expert_load or "
                        f"this one: {EXPERT_LOAD_FORMS}")
    p.add_argument("--json", action="store_true", help="machine-readable comparison in bytes")
    p.add_argument("--units", choices=["GB", "GiB"], default="GB", help="units of the table (default GB = 10^9 B)")
    p.set_defaults(run=run)


def comparison_from_args(args: argparse.Namespace) -> PlanComparison:
    a = load_plan(args.a)
    if args.expert_load is not None:
        if args.b is not None:
            raise PlanError("--expert-load", args.expert_load, "one plan file (it compares that plan's average and "
                                                              "busiest expert-parallel rank)")
        if args.expert_load != "plan":
            a = with_changes(a, training=a.training.model_copy(update={"expert_load": parse_expert_load(args.expert_load)}))
        return expert_load_comparison(a)
    if args.b is None:
        raise PlanError("B.json", None, "a second plan file, or --expert-load to compare one MoE plan's average and "
                                        "busiest expert-parallel rank")
    return compare_plans(a, load_plan(args.b), label_a=Path(args.a).name, label_b=Path(args.b).name)


def run(args: argparse.Namespace) -> int:
    comparison = comparison_from_args(args)
    if args.json:
        print_json(comparison.model_dump(mode="json"))
    else:
        print(render_comparison(comparison, Unit(args.units)))
    return 0


# --- the table ---------------------------------------------------------------------------------------
def _fmt(n: int | None, unit: Unit, sign: bool = False) -> str:
    if n is None:
        return "-"
    return f"{to_unit(n, unit):+.2f}" if sign else f"{to_unit(n, unit):.2f}"


def _side_cells(s: StageSide | None, unit: Unit) -> tuple[str, str, str, str]:
    if s is None:
        return "-", "-", "-", "-"
    return str(s.cards), _fmt(s.peak_bytes, unit), _fmt(s.headroom_bytes, unit, sign=True), "ok" if s.fits else "OVER"


def _columns(rows: list[list[str]]) -> list[str]:
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    lines = ["  ".join(c.rjust(w) for c, w in zip(r, widths, strict=True)).rstrip() for r in rows]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return lines


def render_comparison(c: PlanComparison, unit: Unit) -> str:
    a, b = c.a, c.b
    out = [f"A: {a.label} ({a.name}; {a.mode}, {a.method}, {a.cards} cards, {'fits' if a.fits else 'DOES NOT FIT'})",
           f"B: {b.label} ({b.name}; {b.mode}, {b.method}, {b.cards} cards, {'fits' if b.fits else 'DOES NOT FIT'})",
           f"memory per card in {unit.value} ({'10^9' if unit is Unit.GB else '2^30'} bytes); stages counted from 1; "
           "peak = the stage's heaviest card, headroom = its tightest card; delta = B - A", ""]
    rows = [["stage", "cards A", "cards B", "peak A", "peak B", "delta", "headroom A", "headroom B", "A", "B"]]
    for r in c.stages:
        na, pa, ha, fa = _side_cells(r.a, unit)
        nb, pb, hb, fb = _side_cells(r.b, unit)
        rows.append([str(r.stage + 1), na, nb, pa, pb, _fmt(r.delta_bytes, unit, sign=True), ha, hb, fa, fb])
    rows.append(["all", str(a.cards), str(b.cards), _fmt(a.peak_bytes, unit), _fmt(b.peak_bytes, unit),
                 _fmt(c.peak_delta_bytes, unit, sign=True), _fmt(a.headroom_bytes, unit, sign=True),
                 _fmt(b.headroom_bytes, unit, sign=True), "ok" if a.fits else "OVER", "ok" if b.fits else "OVER"])
    out += _columns(rows)
    diffs = [f"  stage {r.stage + 1}: " + ", ".join(f"{d.key.replace('_', ' ')} {_fmt(d.delta_bytes, unit, sign=True)}"
                                                   for d in r.categories)
             for r in c.stages if r.categories]
    if diffs:
        out += ["", f"categories that differ (heaviest card of each stage, B - A, {unit.value}):", *diffs]
    out += ["", "step time and cost (the planner's model: MFU 0.4, overlap 0.5, 20 tokens per parameter):"]
    for s in (a, b):
        if s.step is None:
            out.append(f"  {s.label}: n/a: {s.step_note}")
            continue
        t = s.step
        cost = f"{t.cost:,.0f} USD" if t.cost_unit == "USD" else f"{t.cost:,.0f} GPU-hours"
        out.append(f"  {s.label}: {t.step_s:.3f} s/step ({t.tokens_per_step:,} tokens), "
                   f"{t.tokens_per_s_per_gpu:,.0f} tokens/s/GPU, {t.days_to_train:,.1f} days and {cost} "
                   f"for {t.train_tokens:,} tokens on {t.gpus} x {t.gpu}")
    for title, warnings in (("warnings that appear in B", c.warnings_added),
                            ("warnings that disappear in B", c.warnings_removed)):
        if warnings:
            out += ["", f"{title}:", *(f"  {w.code}: {w.message}" for w in warnings)]
    return "\n".join(out)


def expert_load_lines(s: ExpertLoadSummary, unit: Unit, what: str = "this layout") -> list[str]:
    """What ``vramplan estimate`` and ``vramplan plan`` print under their table for a MoE plan."""
    def side(peak: int, card: int, activations: int, fits: bool) -> str:
        return (f"card {card} peak {format_bytes(peak, unit)} (activations {format_bytes(activations, unit)}), "
                f"{'fits' if fits else 'DOES NOT FIT'}")

    return ["", f"MoE expert load {s.label}: every card is sized as the busiest expert-parallel rank ({what}, EP {s.ep})",
            f"  busiest EP rank: {side(s.busiest_peak_bytes, s.busiest_peak_card, s.busiest_activation_bytes, s.busiest_fits)}",
            f"  average EP rank (balanced routing): "
            f"{side(s.average_peak_bytes, s.average_peak_card, s.average_activation_bytes, s.average_fits)}"]
