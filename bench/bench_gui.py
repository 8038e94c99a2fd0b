"""Median time of one edit in the desktop app: engine + full repaint, for 64 and 1,024 cards.

The real main window (1600 x 1000, offscreen, every panel and dock) shows a
70B plan on A100 80GB cards: TP 8 x PP 4 x DP 2 (64 cards) and TP 8 x PP 8 x
DP 16 (1,024 cards, the whole diagram in view).  Each round, wall clock:

1. ``document.apply``: one undo command (the sequence length alternates
   4096 / 4608, so every round really re-runs the engine and every card's
   figures change); the document's signals update the diagram items, the
   chart's data, the panels and the warnings synchronously.
2. ``+ processEvents``: the window's own repaint of what changed (as the user
   sees it: the event loop paints the dirty regions of every widget).
3. ``+ full viewport grabs``: ``grab()`` of the diagram's and the chart's
   viewports, which re-renders each whole view through its ``paintEvent``
   (the pessimistic figure, as if both were fully exposed).  The views use
   their normal caches, exactly as on screen: card faces, nodes and TP
   outlines as Qt device-coordinate pixmaps, one drawing per distinct memory
   bar (cards with the same breakdown share it), the legend as a pixmap, and
   pyqtgraph's cached axes.  A cache that is stale after the edit is redrawn
   inside the timed round.

Prints the median of each cumulative figure over ``--rounds`` rounds (after
three warm-up rounds), plus the median process CPU time of a whole round (on
a shared machine wall time includes waiting for a core).  Targets (issue 4):
64 cards within one 60 Hz frame (16 ms), 1,024 cards within 100 ms.

    .venv/bin/python bench/bench_gui.py [--rounds N]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from engine.model.spec import ModelSpec  # noqa: E402
from engine.plan.layout import build_grid  # noqa: E402
from engine.plan.schema import Plan  # noqa: E402
from engine.training.config import MethodConfig, TrainingConfig  # noqa: E402

GIB80 = 80 * 2**30
MODEL_70B = ModelSpec(name="70B", params=70_000_000_000, layers=80, hidden=8192, heads=64, kv_heads=8)


def plan_of(tp: int, pp: int, dp: int) -> Plan:
    return Plan(name=f"bench {tp * pp * dp} cards", model=MODEL_70B,
                training=TrainingConfig(distributed_optimizer=True, flash_attention=True),
                method=MethodConfig(method="detailed"),
                layout=build_grid(tp=tp, pp=pp, dp=dp, gpu="A100 80GB", capacity_bytes=GIB80))


def measure(plan: Plan, rounds: int) -> dict[str, float]:
    from gui.app import _make_window
    from gui.panels.plan_fields import set_field
    from gui.qt_app import ensure_app

    app = ensure_app(headless=True)
    window = _make_window(plan, None, "GB", (1600, 1000))
    window.show()
    app.processEvents()
    document = window.document
    viewport = window.diagram.viewport() if hasattr(window.diagram, "viewport") else window.diagram
    variants = [set_field(plan, "training.seq", 4096), set_field(plan, "training.seq", 4608)]
    engine_ms, events_ms, total_ms, cpu_ms = [], [], [], []
    for i in range(-3, rounds):  # three warm-up rounds, not recorded
        cpu_start = time.process_time()
        start = time.perf_counter()
        document.apply(variants[i % 2], "bench")
        applied = time.perf_counter()
        app.processEvents()
        painted = time.perf_counter()
        viewport.grab()
        window.chart.plot.viewport().grab()
        end = time.perf_counter()
        if i < 0:
            continue
        cpu_ms.append((time.process_time() - cpu_start) * 1e3)
        engine_ms.append((applied - start) * 1e3)
        events_ms.append((painted - start) * 1e3)
        total_ms.append((end - start) * 1e3)
    document.undo_stack.setClean()
    window.close()
    return {"apply": statistics.median(engine_ms), "apply+events": statistics.median(events_ms),
            "apply+repaint": statistics.median(total_ms), "cpu": statistics.median(cpu_ms)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=40)
    args = parser.parse_args()
    for (tp, pp, dp), target in (((8, 4, 2), 16.0), ((8, 8, 16), 100.0)):
        result = measure(plan_of(tp, pp, dp), args.rounds)
        cards = tp * pp * dp
        print(f"{cards:5d} cards: median document.apply {result['apply']:6.2f} ms, "
              f"+ processEvents {result['apply+events']:6.2f} ms, "
              f"+ full viewport grabs {result['apply+repaint']:6.2f} ms (target {target:.0f} ms); "
              f"CPU time of a round {result['cpu']:6.2f} ms")


if __name__ == "__main__":
    main()
