"""Serving and fine-tuning estimate timings (medians; run: .venv/bin/python bench/bench_serving.py).

Each estimate includes the two answer searches (longest context, most
sequences).  Timings are printed, never asserted.
"""

from __future__ import annotations

import statistics
import time

from engine.catalog import find_model
from engine.estimate import estimate
from engine.finetune.config import FinetuneConfig
from engine.model.spec import MLASpec, ModelSpec, MoESpec
from engine.plan.layout import build_grid
from engine.plan.schema import Plan
from engine.serving.answers import best_quant, fewest_cpu_moe_layers
from engine.serving.config import ServingConfig

LLAMA2_7B = ModelSpec(name="llama-2-7b", layers=32, hidden=4096, heads=32, ffn=11008, vocab=32000, gated_mlp=True,
                      norm="rmsnorm", bias=False)
LLAMA3_70B = ModelSpec(name="llama-3-70b", layers=80, hidden=8192, heads=64, kv_heads=8, ffn=28672, vocab=128256,
                       gated_mlp=True, norm="rmsnorm", bias=False)
DEEPSEEK_V3 = ModelSpec(name="deepseek-v3", layers=61, hidden=7168, heads=128, vocab=129280, gated_mlp=True,
                        norm="rmsnorm", bias=False, ffn=18432,
                        mla=MLASpec(q_lora_rank=1536, kv_lora_rank=512, qk_nope_head_dim=128, qk_rope_head_dim=64,
                                    v_head_dim=128),
                        moe=MoESpec(experts=256, top_k=8, expert_ffn=2048, shared_experts=1, first_dense_layers=3))


def serving(model: ModelSpec, cfg: ServingConfig, **grid) -> Plan:
    return Plan(name=model.name, mode="serving", model=model, serving=cfg, layout=build_grid(**grid))


CASES = {
    "7B Q4_K_M llama.cpp, 1 x 24 GB": serving(LLAMA2_7B, ServingConfig(quant="Q4_K_M", runtime="llamacpp"),
                                             gpu="RTX 4090", capacity_bytes=25_757_220_864),
    "70B AWQ vLLM, TP 2 x 80 GB": serving(LLAMA3_70B, ServingConfig(quant="int4-awq", runtime="vllm", batch=8),
                                          tp=2, gpu="A100 80GB", capacity_bytes=85_899_345_920),
    "DeepSeek-V3 FP8 vLLM, TP 8 x 141 GB": serving(DEEPSEEK_V3, ServingConfig(quant="fp8", runtime="vllm", batch=16),
                                                   tp=8, gpu="H200", capacity_bytes=150_754_820_096),
    "gpt-oss-120b MXFP4 vLLM (Triton), 1 x 80 GB": serving(
        find_model("gpt-oss-120b").spec, ServingConfig(quant="mxfp4", runtime="vllm", context=65536),
        gpu="H100 SXM", capacity_bytes=85_045_477_376),
    "30B-A3B Q4_K_M llama.cpp, n-cpu-moe 30": serving(
        find_model("qwen3-30b-a3b").spec, ServingConfig(quant="Q4_K_M", runtime="llamacpp", context=32768,
                                                        cpu_moe_layers=30),
        gpu="RTX 3060 12GB", capacity_bytes=12_587_106_304),
    "7B LoRA, 1 x 24 GB": Plan(mode="finetune", model=LLAMA2_7B, finetune=FinetuneConfig(seq=2048, micro_batch=4),
                               layout=build_grid(gpu="RTX 4090", capacity_bytes=25_757_220_864)),
    "7B full, FSDP 2 x 80 GB": Plan(mode="finetune", model=LLAMA2_7B,
                                    finetune=FinetuneConfig(method="full", seq=4096, micro_batch=2, fsdp=True),
                                    layout=build_grid(dp=2, gpu="A100 80GB", capacity_bytes=85_100_068_864)),
}


def median_ms(fn, repeats: int = 15) -> tuple[float, float]:
    first = time.perf_counter()
    fn()
    cold = (time.perf_counter() - first) * 1000
    times = []
    for _ in range(repeats):
        t = time.perf_counter()
        fn()
        times.append((time.perf_counter() - t) * 1000)
    return cold, statistics.median(times)


def main() -> None:
    for name, plan in CASES.items():
        cold, warm = median_ms(lambda p=plan: estimate(p))
        print(f"estimate  {name:40s} first {cold:7.1f} ms   median {warm:7.2f} ms")
    plan = CASES["7B Q4_K_M llama.cpp, 1 x 24 GB"]
    cold, warm = median_ms(lambda: best_quant(plan), repeats=5)
    print(f"best_quant {'7B on 1 x 24 GB, llama.cpp formats':39s} first {cold:7.1f} ms   median {warm:7.2f} ms")
    plan = CASES["30B-A3B Q4_K_M llama.cpp, n-cpu-moe 30"]
    cold, warm = median_ms(lambda: fewest_cpu_moe_layers(plan), repeats=5)
    print(f"fewest_cpu_moe {'Qwen3-30B-A3B on 12 GB (bisection)':35s} first {cold:7.1f} ms   median {warm:7.2f} ms")


if __name__ == "__main__":
    main()
