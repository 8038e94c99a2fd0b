"""The PDF plan summary of small and large plans (issue 15): prints median time and file size, asserts nothing.

Plans are Llama-3-70B shapes on H100s, TP 8 x PP 8 x DP n (the detailed method): 8 cards (TP 8 alone),
1,024 cards (DP 16) and 16,384 cards (DP 256, engine.limits.MAX_CARDS).  Past the PDF's drawing bounds
(gui.pdf.summary) the node diagram is one node per layout and the tables group identical cards, so the
time and size stay flat as the plan grows; before that, 1,024 cards took ~15 s and made a ~100 MB file.
``--all-cards`` times the one-row-per-card table.  A plan with more cards than MAX_CARDS is refused by the
engine before anything is drawn.

    .venv/bin/python bench/bench_pdf.py
    .venv/bin/python bench/bench_pdf.py --repeat 5 --cards 1024 --all-cards
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from engine.model.spec import ModelSpec  # noqa: E402
from engine.plan.layout import build_grid  # noqa: E402
from engine.plan.schema import Plan  # noqa: E402
from engine.training.config import TrainingConfig  # noqa: E402

MODEL = ModelSpec(name="llama-3-70b", layers=80, hidden=8192, heads=64, kv_heads=8, ffn=28672, vocab=128256,
                  gated_mlp=True, norm="rmsnorm", bias=False)
TRAINING = TrainingConfig(seq=8192, distributed_optimizer=True, recompute="selective", sequence_parallel=True,
                          flash_attention=True)


def plan_of(cards: int) -> Plan:
    pp, dp = (1, 1) if cards == 8 else (8, cards // 64)
    return Plan(name=f"70B on {cards:,} cards", model=MODEL, training=TRAINING,
                layout=build_grid(tp=8, pp=pp, dp=dp, gpu="H100 SXM", capacity_bytes=80 * 2**30))


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--cards", type=int, nargs="*", default=[8, 1024, 16384], help="8, or a multiple of 64")
    p.add_argument("--repeat", type=int, default=3, help="exports per size (the median is printed)")
    p.add_argument("--all-cards", action="store_true", help="one table row per card where the PDF allows it")
    args = p.parse_args()
    from gui.pdf import export_pdf
    from gui.qt_app import ensure_app

    ensure_app(headless=True)
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "plan.pdf"
        export_pdf(plan_of(8), path)  # warm-up: fonts, Qt's PDF engine, imports
        for cards in args.cards:
            plan = plan_of(cards)
            samples = []
            for _ in range(args.repeat):
                t0 = time.perf_counter()
                export_pdf(plan, path, all_cards=args.all_cards)
                samples.append(time.perf_counter() - t0)
            size = path.stat().st_size
            print(f"{cards:>6,} cards: median {statistics.median(samples):6.2f} s over {args.repeat}, "
                  f"{size / 1e6:7.2f} MB", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
