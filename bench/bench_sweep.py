"""Speed of a 200-point sweep on a 64-card plan (issue 14): prints medians, asserts nothing.

    .venv/bin/python bench/bench_sweep.py

The GUI redraws the sweep plot in under 100 ms, so the engine's part must be well under that.
Plan: Llama-2-13B, detailed method, TP 2 x PP 4 x DP 8 = 64 cards (H100 80GB), ZeRO-1, flash
attention; knob ``seq`` from 1,024 to 131,072, 200 geometric points (4 distinct card contexts per
point) plus the bisection for the largest fitting value.

* warm: the same plan again (a redraw: every point hits ``card_breakdown``'s memo);
* after an edit: a plan with equal settings in new objects (what a GUI edit elsewhere in the plan
  gives: the id-keyed memos miss, the value-keyed per-layer figures hit);
* cold: every engine cache cleared before each sweep.
"""

from __future__ import annotations

import statistics
import time

from engine import GiB, MethodConfig, Plan, TrainingConfig, build_grid
from engine.catalog import find_model
from engine.compare.sweep import clear_memo, sweep
from engine.training.estimate import card_breakdown
from engine.training.memory.activations import layer_activations

POINTS = 200


def plan() -> Plan:
    return Plan(name="13b-64", model=find_model("llama-2-13b").spec,
                training=TrainingConfig(seq=4096, zero=1, flash_attention=True),
                method=MethodConfig(method="detailed"),
                layout=build_grid(tp=2, pp=4, dp=8, gpu="H100 80GB", capacity_bytes=80 * GiB))


def median_ms(fn, repeat: int, setup=None) -> float:
    samples = []
    for _ in range(repeat):
        arg = setup() if setup else None
        t0 = time.perf_counter()
        fn(arg)
        samples.append(time.perf_counter() - t0)
    return statistics.median(samples) * 1e3


def main() -> None:
    p = plan()
    assert len(p.layout.cards) == 64

    def run(q: Plan | None) -> None:
        sweep(q or p, "seq", 1024, 131072, points=POINTS)

    first = sweep(p, "seq", 1024, 131072, points=POINTS)
    warm = median_ms(run, 30)

    def edited() -> Plan:  # equal settings, new objects
        return p.model_copy(update={"training": TrainingConfig(**p.training.model_dump())})

    after_edit = median_ms(run, 15, setup=edited)

    def cleared() -> Plan:
        card_breakdown.cache_clear()
        layer_activations.cache_clear()
        clear_memo()
        return edited()

    cold = median_ms(run, 15, setup=cleared)
    print(f"sweep of seq, {len(first.points)} points + bisection (largest fitting {first.largest_fitting:,}) "
          f"on a 64-card plan: median {warm:.1f} ms warm, {after_edit:.1f} ms after an edit, {cold:.1f} ms cold")


if __name__ == "__main__":
    main()
