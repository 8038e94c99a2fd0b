"""``vramplan report PLAN.json -o plan.pdf``: the PDF plan summary, offscreen, no window."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from engine.cli.main import OneLineParser
from engine.compare.sweep import KNOBS
from engine.errors import PlanError


def build_parser() -> argparse.ArgumentParser:
    p = OneLineParser(prog="vramplan report", description="Write the PDF summary of a saved plan.")
    p.add_argument("plan", metavar="PLAN.json", help="a saved plan (the app's .json)")
    p.add_argument("-o", "--output", required=True, metavar="FILE.pdf")
    p.add_argument("--page-size", choices=["A4", "Letter"], default="A4")
    p.add_argument("--all-cards", action="store_true", help="one table row per card instead of grouping identical cards")
    p.add_argument("--units", choices=["GB", "GiB"], default="GB", help="GB = 10^9 bytes (default), GiB = 2^30 bytes")
    p.add_argument("--baseline", metavar="BASELINE.json",
                   help="a second plan, listed first among the alternatives considered (with the figure that decides)")
    p.add_argument("--sweep", metavar="KNOB", choices=KNOBS,
                   help="add the sweep plot of one knob (default range: the plan's value / 8 to x 8; tp, pp: every size)")
    return p


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    from engine.compare import sweep
    from engine.plan.schema import load_plan

    try:
        plan = load_plan(args.plan)
        baseline = (load_plan(args.baseline), Path(args.baseline).name) if args.baseline else None
        swept = sweep(plan, args.sweep) if args.sweep else None
        from gui.pdf import export_pdf

        export_pdf(plan, args.output, page_size=args.page_size, all_cards=args.all_cards, units=args.units,
                   baseline=baseline, sweep=swept)
    except PlanError as e:
        sys.stderr.write(f"vramplan report: error: {e}\n")
        return 2
    except OSError as e:
        sys.stderr.write(f"vramplan report: error: cannot write {args.output}: {e.strerror}\n")
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
