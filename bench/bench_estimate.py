"""Speed of one estimate (issue 2): prints medians, asserts nothing.

    .venv/bin/python bench/bench_estimate.py

* one estimate of a uniform 1,024-card plan (TP 8 x PP 8 x DP 16, 13B, detailed)
  - warm: the same plan again (the GUI's steady state: per-context breakdowns memoised)
  - cold: breakdown memo cleared before every call
* the allocator replay (``--fragmentation replay``) of a Megatron-LM 2021 plan, cold: BigScience's
  18B on 16 V100s, and a 40-layer stage with 64 micro-batches (TP 4 x PP 2); and of a PEFT
  fine-tuning card, cold: Mistral-7B LoRA and QLoRA at 4 x 4,096 tokens
* uniform configurations per second on one core through the engine's memoised
  per-stage lookups (card_breakdown of the first and last stage's contexts).
  The planner itself evaluates configurations with an exact array search that is
  much faster; ``bench/bench_planner.py`` times that.
"""

from __future__ import annotations

import statistics
import time

from engine import (
    GiB,
    MethodConfig,
    ModelSpec,
    OverheadConfig,
    Plan,
    TrainingConfig,
    build_grid,
    estimate,
)
from engine.catalog import find_model
from engine.finetune.config import FinetuneConfig
from engine.finetune.hf_trainer_replay import trainer_replay
from engine.training.estimate import card_breakdown
from engine.training.memory.context import CardContext
from engine.training.memory.megatron2021_replay import clear_replay_cache
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

    bench_replay()
    bench_trainer_replay()

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


def bench_replay() -> None:
    gpt = ModelSpec(layers=40, hidden=6144, heads=32, ffn=24576, vocab=50688, position_embedding="learned",
                    max_position=1024, norm="layernorm", bias=True, tied_embeddings=True, dropout=0.1)
    method = MethodConfig(framework="megatron-2021", overhead=OverheadConfig(fragmentation_model="replay"))
    cases = {  # name: (layers, global batch, PP); TP 4, micro-batch 1
        "18B, TP 4 x PP 4, 4 micro-batches": (40, 4, 4),
        "40-layer stages, TP 4 x PP 2, 64 micro-batches": (80, 64, 2),
    }
    for name, (layers, global_batch, pp) in cases.items():
        training = TrainingConfig(seq=1024, micro_batch=1, global_batch=global_batch, precision="fp16",
                                  recompute="full")
        plan = Plan(model=gpt.model_copy(update={"layers": layers}), training=training, method=method,
                    layout=build_grid(tp=4, pp=pp, dp=1, gpu="V100 32GB", capacity_bytes=32 * GiB))

        def cold() -> None:
            card_breakdown.cache_clear()
            clear_replay_cache()

        secs = median_seconds(lambda plan=plan: estimate(plan), repeat=5, setup=cold)
        print(f"estimate with the allocator replay, {name}: median {secs * 1e3:.0f} ms cold")



def bench_trainer_replay() -> None:
    spec = find_model("mistral-7b").spec
    for method in ("lora", "qlora", "full"):
        cfg = FinetuneConfig(method=method, rank=16, target_modules=("q", "k", "v", "o"), seq=4096, micro_batch=4,
                             gradient_checkpointing=True)
        secs = median_seconds(lambda cfg=cfg: trainer_replay(spec, cfg), repeat=5, setup=trainer_replay.cache_clear)
        print(f"Trainer allocator replay, Mistral-7B {method} 4 x 4,096 tokens: median {secs * 1e3:.0f} ms cold")


if __name__ == "__main__":
    main()
