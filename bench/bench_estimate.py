"""Speed of one estimate (issue 2): prints medians, asserts nothing.

    .venv/bin/python bench/bench_estimate.py

* one estimate of a uniform 1,024-card plan (TP 8 x PP 8 x DP 16, 13B, detailed)
  - warm: the same plan again (the GUI's steady state: per-context breakdowns memoised)
  - cold: breakdown memo cleared before every call
* uniform configurations per second on one core through the engine's memoised
  per-stage lookups (card_breakdown of the first and last stage's contexts).
  The planner itself evaluates configurations with an exact array search that is
  much faster; ``bench/bench_planner.py`` times that.
"""

from __future__ import annotations

import statistics
import time

from engine import GiB, MethodConfig, ModelSpec, Plan, TrainingConfig, build_grid, estimate
from engine.training.estimate import card_breakdown
from engine.training.memory.context import CardContext
from engine.training.memory.schedule import in_flight_chunks

MODEL = ModelSpec(params=13_000_000_000, layers=40, hidden=5120, heads=40)


def median_seconds(fn, repeat: int = 200, setup=None) -> float:
    samples = []
    for _ in range(repeat):
        if setup:
            setup()
        t0 = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - t0)
    return statistics.median(samples)


def main() -> None:
    plan = Plan(model=MODEL, training=TrainingConfig(zero=1, global_batch=1024),
                method=MethodConfig(method="detailed"),
                layout=build_grid(tp=8, pp=8, dp=16, gpu="A100 80GB", capacity_bytes=80 * GiB))
    estimate(plan)
    warm = median_seconds(lambda: estimate(plan))
    cold = median_seconds(lambda: estimate(plan), setup=card_breakdown.cache_clear)
    print(f"estimate, uniform 1,024-card plan: median {warm * 1e3:.3f} ms warm, {cold * 1e3:.3f} ms cold")

    training, method = TrainingConfig(zero=1), MethodConfig(method="detailed")
    configs = [(tp, pp, dp) for tp in (1, 2, 4, 8) for pp in (1, 2, 4, 5, 8, 10, 20, 40) for dp in range(1, 65)]

    def one_pass() -> None:
        for tp, pp, dp in configs:
            worst = 0
            per_stage = MODEL.layers // pp
            for stage in (0, pp - 1):
                ctx = CardContext(MODEL, training, method, stage, pp, 1,
                                  tuple(range(stage * per_stage, (stage + 1) * per_stage)), tp, dp, 1, 1,
                                  in_flight_chunks(stage, pp, pp, 1), tp * pp * dp)
                worst = max(worst, card_breakdown(ctx).total_bytes)

    card_breakdown.cache_clear()
    one_pass()  # fill the memo as the planner's first pass would
    secs = median_seconds(one_pass, repeat=15)
    print(f"uniform configurations per second through memoised card_breakdown lookups (one core): "
          f"{len(configs) / secs:,.0f} (median of 15 passes over {len(configs):,} configs)")


if __name__ == "__main__":
    main()
