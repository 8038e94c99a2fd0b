"""Soak: 100,000 estimates of ever-different plans; memory must stay flat (issue 15).

Every estimate differs from the ones before it (sequence length, micro-batch,
layout, model, mode), so every engine cache keeps seeing new keys: an unbounded
cache grows with each one (100,000 estimates used to add 393 MB).  Prints the
resident set size after the warm-up and at the end, and the growth between
them; prints, never asserts.

    .venv/bin/python bench/bench_soak.py               # 100,000 estimates (a few minutes)
    .venv/bin/python bench/bench_soak.py --n 20000     # quicker
"""

from __future__ import annotations

import argparse
import gc
import itertools
import os
import resource
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from engine.catalog import find_model  # noqa: E402
from engine.estimate import estimate  # noqa: E402
from engine.finetune.config import FinetuneConfig  # noqa: E402
from engine.plan.layout import build_grid  # noqa: E402
from engine.plan.schema import Plan  # noqa: E402
from engine.serving.config import ServingConfig  # noqa: E402
from engine.training.config import TrainingConfig  # noqa: E402

MODELS = ("llama-2-7b", "llama-2-13b", "llama-3-70b", "mixtral-8x7b", "qwen2.5-7b", "deepseek-v3")
A100 = ("A100 80GB", 85_899_345_920)


def rss_mb() -> float:
    """Current resident set size (Linux /proc; elsewhere the peak from getrusage)."""
    try:
        with open("/proc/self/statm", encoding="ascii") as f:
            return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20
    except OSError:
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        return peak / 2**20 if sys.platform == "darwin" else peak / 2**10


def plans():
    """An endless stream of distinct plans: the (i)-th differs in its sequence length at least."""
    specs = []
    for name in MODELS:
        try:
            specs.append(find_model(name).spec)
        except ValueError:
            continue
    layouts = [build_grid(tp=tp, pp=pp, dp=dp, gpu=A100[0], capacity_bytes=A100[1])
               for tp, pp, dp in ((1, 1, 1), (2, 2, 2), (8, 4, 2), (4, 1, 8))]
    for i in itertools.count():
        spec = specs[i % len(specs)]
        layout = layouts[(i // len(specs)) % len(layouts)]
        seq = 256 + 8 * (i % 4096)  # a new sequence length for 4,096 plans in a row
        mb = 1 + (i // 4096) % 8
        mode = ("training", "serving", "finetune")[(i // 7) % 3]
        if mode == "training":
            pp = len({c.stage for c in layout.cards})
            if spec.layers % pp:
                layout = layouts[0]
            yield Plan(name="soak", model=spec, layout=layout, training=TrainingConfig(seq=seq, micro_batch=mb))
        elif mode == "serving":
            yield Plan(name="soak", mode="serving", model=spec, layout=layouts[0],
                       serving=ServingConfig(context=seq, batch=mb))
        else:
            yield Plan(name="soak", mode="finetune", model=spec, layout=layouts[0],
                       finetune=FinetuneConfig(seq=seq, micro_batch=mb, rank=4 + i % 61))


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--n", type=int, default=100_000, help="estimates in all (default 100,000)")
    p.add_argument("--warmup", type=int, default=10_000, help="estimates before the first reading")
    args = p.parse_args()
    stream = plans()
    start = time.perf_counter()
    errors = 0
    first = None
    for i in range(args.n):
        plan = next(stream)
        try:
            estimate(plan)
        except ValueError:  # a plan the engine refuses (e.g. a layout the model cannot split) still counts
            errors += 1
        if i + 1 == args.warmup:
            gc.collect()
            first = rss_mb()
            print(f"after {i + 1:,} estimates (warm-up): RSS {first:.1f} MB", flush=True)
        elif (i + 1) % 20_000 == 0:
            print(f"  {i + 1:,} estimates: RSS {rss_mb():.1f} MB", flush=True)
    gc.collect()
    end = rss_mb()
    elapsed = time.perf_counter() - start
    print(f"after {args.n:,} estimates: RSS {end:.1f} MB ({elapsed:.0f} s, {elapsed / args.n * 1e3:.2f} ms each, "
          f"{errors:,} refused)")
    if first is not None:
        print(f"growth after the warm-up: {end - first:+.1f} MB over {args.n - args.warmup:,} estimates")
    return 0


if __name__ == "__main__":
    sys.exit(main())
