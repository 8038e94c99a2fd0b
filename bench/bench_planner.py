"""Speed of the planner (issue 7): prints medians, asserts nothing.

    .venv/bin/python bench/bench_planner.py [--repeat N]

* exhaustive search for the article's 13B model on up to 4,096 A100 80GB cards
  (8 per node, every TP/PP/layer split/VPP/DP/ZeRO/recompute/SP/micro-batch),
  seed and detailed methods, the latter also with flash attention (which opens
  CP): median wall and CPU seconds, each run cold (the engine's breakdown and
  per-layer activation memos cleared);
* evaluated configurations per CPU second on one core.  A configuration is one
  (TP, PP, layer split, VPP, CP, DP, EP, ZeRO, micro-batch, recompute, SP);
  *evaluated* means every heavy card's exact total bytes, the fit against the
  budget and the training time were computed (``SearchStats.evaluated``; the
  ones ruled out by the memory bound or skipped as duplicates are not
  counted).  The rate divides by the CPU time of the whole search: enumeration,
  engine calls, exactness checks, bounds, the Pareto front and its candidate
  objects;
* the same with ``keep_all`` on 256 cards (keeping every layout is refused
  past ``engine.limits.MAX_KEPT_CONFIGURATIONS``): every fitting configuration
  also becomes a ``Candidate`` object in the result;
* DeepSeek-V3 on up to 16,384 H100s (catalog entries, the CLI's defaults:
  ``vramplan plan --model deepseek-v3 --gpu h100 --max-gpus 16384``), the
  largest preset search under ``engine.limits.MAX_SEARCH_CONFIGURATIONS``:
  median wall and CPU seconds of the search and its peak traced memory
  (issue 15: every search answers within a second and 500 MB).
"""

from __future__ import annotations

import argparse
import statistics
import time
import tracemalloc

from engine import GiB, MethodConfig, ModelSpec, TrainingConfig
from engine.catalog import find_gpu, find_model
from engine.planner import Hardware, PlannerRequest, hardware_for_gpu, search
from engine.training.estimate import card_breakdown
from engine.training.memory.activations import layer_activations

MODEL = ModelSpec(params=13_000_000_000, layers=40, hidden=5120, heads=40)


def request(method: str, max_gpus: int, flash: bool = False) -> PlannerRequest:
    hw = Hardware(gpu="A100 80GB", capacity_bytes=80 * GiB, max_gpus=max_gpus, bf16_tflops=312.0,
                  intra_node_gbps=300.0, price_usd_per_hour=1.79)
    return PlannerRequest(model=MODEL, training=TrainingConfig(seq=4096, flash_attention=flash),
                          method=MethodConfig(method=method), hardware=(hw,), margin=0.1)


def measure(req: PlannerRequest, repeat: int, keep_all: bool = False):
    walls, cpus, result = [], [], None
    for _ in range(repeat):
        card_breakdown.cache_clear()  # cold: nothing memoised by a previous run
        layer_activations.cache_clear()
        w0, c0 = time.perf_counter(), time.process_time()
        result = search(req, keep_all=keep_all)
        walls.append(time.perf_counter() - w0)
        cpus.append(time.process_time() - c0)
    return statistics.median(walls), statistics.median(cpus), result


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    print(f"article 13B, A100 80GB, 8 per node; medians of {args.repeat} cold runs on one core")
    for method, flash in (("seed", False), ("detailed", False), ("detailed", True)):
        for gpus in (64, 512, 4096):
            wall, cpu, r = measure(request(method, gpus, flash), args.repeat)
            s = r.stats
            name = method + (" + flash (CP 1-2)" if flash else "")
            print(f"{name:25s} up to {gpus:5,d} cards: {wall:.3f} s wall, {cpu:.3f} s CPU; "
                  f"{s.configurations:,} configurations = {s.evaluated:,} evaluated + {s.pruned:,} pruned by "
                  f"the memory bound + {s.skipped:,} skipped; {s.fitting:,} fit, front {len(r.front):,}; "
                  f"{s.engine_calls:,} engine calls, {s.fallbacks} fallbacks; "
                  f"{s.evaluated / cpu:,.0f} configurations evaluated per CPU second")
    deepseek = PlannerRequest(model=find_model("deepseek-v3").spec,
                              hardware=(hardware_for_gpu(find_gpu("h100"), 16_384),))
    wall, cpu, r = measure(deepseek, args.repeat)
    tracemalloc.start()
    search(deepseek)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    s = r.stats
    print(f"DeepSeek-V3, H100, up to 16,384 cards: {wall:.3f} s wall, {cpu:.3f} s CPU (medians of {args.repeat}); "
          f"{s.configurations:,} configurations in {s.geometries:,} geometries, {s.evaluated:,} evaluated, "
          f"{s.fitting:,} fit, front {len(r.front):,}; peak traced memory {peak / 2**20:.0f} MiB")
    # keep_all is refused past engine.limits.MAX_KEPT_CONFIGURATIONS: searches of 256 cards (512 now count 226,608).
    for method, gpus in (("seed", 256), ("detailed", 256)):
        wall, cpu, r = measure(request(method, gpus), 1, keep_all=True)
        s = r.stats
        print(f"{method:8s} keep_all, {gpus:,} cards: {wall:.3f} s wall, {cpu:.3f} s CPU; {s.evaluated:,} evaluated, "
              f"{len(r.fitting):,} fitting kept as candidates: {s.evaluated / cpu:,.0f} configurations evaluated "
              f"per CPU second")


if __name__ == "__main__":
    main()
