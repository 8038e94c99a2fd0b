"""Run the full CPU fidelity grid and write its table into docs/fidelity.md.

    .venv/bin/pip install torch==2.13.0      # the [validate] extra; a CPU build
    .venv/bin/python bench/fidelity/run_grid.py [--fast] [--no-write]

Each row: a configuration, the bytes measured with PyTorch (saved for backward,
or the allocation peak for the output layer, or model states / KV cache held),
the engine's ``detailed`` prediction and the error (predicted - measured) /
measured.  Exits 1 if any |error| exceeds 1%.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

from fidelity.grid import Row, fast_cases, full_cases, measure  # noqa: E402

from engine.plan.schema import atomic_write_text  # noqa: E402

DOC = ROOT / "docs" / "fidelity.md"
START, END = "<!-- fidelity-table:start -->", "<!-- fidelity-table:end -->"
TOLERANCE = 0.01


def table(rows: list[Row]) -> str:
    lines = ["| configuration | measured (B) | predicted (B) | error |", "|---|---:|---:|---:|"]
    lines += [f"| {r.case.label} | {r.measured:,} | {r.predicted:,} | {r.error:+.3%} |" for r in rows]
    return "\n".join(lines)


def summary(rows: list[Row]) -> str:
    worst = max(rows, key=lambda r: abs(r.error))
    within = sum(1 for r in rows if abs(r.error) <= TOLERANCE)
    return (f"{len(rows)} configurations, {within} within ±1%; largest |error| {abs(worst.error):.3%} "
            f"({worst.case.label}).")


def by_kind(rows: list[Row]) -> str:
    kinds: dict[str, list[Row]] = {}
    for r in rows:
        kinds.setdefault(r.case.kind, []).append(r)
    lines = ["| kind | configurations | largest abs(error) |", "|---|---:|---:|"]
    lines += [f"| {k} | {len(rs)} | {max(abs(r.error) for r in rs):.3%} |" for k, rs in kinds.items()]
    return "\n".join(lines)


def write_doc(rows: list[Row]) -> None:
    text = DOC.read_text(encoding="utf-8")
    head, rest = text.split(START, 1)
    _, tail = rest.split(END, 1)
    atomic_write_text(DOC, f"{head}{START}\n{summary(rows)}\n\n{by_kind(rows)}\n\n{table(rows)}\n{END}{tail}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--fast", action="store_true", help="only the CI subset")
    parser.add_argument("--no-write", action="store_true", help="print, do not update docs/fidelity.md")
    args = parser.parse_args()
    start = time.perf_counter()
    rows = [measure(c) for c in (fast_cases() if args.fast else full_cases())]
    print(table(rows))
    print(by_kind(rows))
    print(summary(rows), f"({time.perf_counter() - start:.1f} s)")
    if not args.no_write and not args.fast:
        write_doc(rows)
        print(f"wrote {DOC.relative_to(ROOT)}")
    return 0 if all(abs(r.error) <= TOLERANCE for r in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
