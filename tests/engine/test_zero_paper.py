"""ZeRO paper (Rajbhandari et al. 2020, "ZeRO: Memory Optimizations Toward Training
Trillion Parameter Models", Figure 1): Psi = 7.5B, N_d = 64, K = 12, mixed-precision Adam.

| sharding | formula                 | paper  |
| none     | (2 + 2 + K) Psi          | 120 GB |
| P_os     | 2Psi + 2Psi + K Psi/N_d  | 31.4 GB |
| P_os+g   | 2Psi + (2 + K) Psi/N_d   | 16.6 GB |
| P_os+g+p | (2 + 2 + K) Psi/N_d      | 1.9 GB |
"""

import pytest

from engine import GB, GiB, MethodConfig, ModelSpec, Plan, TrainingConfig, build_grid, estimate

PSI = 7_500_000_000
N_D = 64


def model_states(zero: int, precision: str = "fp16") -> int:
    # the paper's mixed precision is fp16 (bf16 without ZeRO runs DeepSpeed's BF16_Optimizer: see below)
    plan = Plan(
        model=ModelSpec(params=PSI, layers=32, hidden=4096, heads=32),
        training=TrainingConfig(zero=zero, precision=precision),
        method=MethodConfig(method="detailed", framework="deepspeed"),
        layout=build_grid(dp=N_D, gpu="A100 80GB", capacity_bytes=80 * GiB),
    )
    bd = estimate(plan).cards[0].breakdown
    return bd.weights.bytes + bd.gradients.bytes + bd.optimizer_states.bytes


@pytest.mark.parametrize(
    ("zero", "exact", "paper_gb"),
    [
        (0, 16 * PSI, 120),  # 120,000,000,000
        (1, 4 * PSI + 12 * PSI // N_D, 31.4),  # 30e9 + 1.40625e9 = 31,406,250,000
        (2, 2 * PSI + 14 * PSI // N_D, 16.6),  # 15e9 + 1.640625e9 = 16,640,625,000
        (3, 16 * PSI // N_D, 1.9),  # 1,875,000,000
    ],
)
def test_zero_paper_figure_1(zero, exact, paper_gb):
    assert model_states(zero) == exact
    assert round(exact / GB, 1) == paper_gb


def test_bf16_without_zero_is_deepspeeds_bf16_optimizer():
    # BF16_Optimizer: bf16 weights 2 Psi + bf16 grads 2 Psi + the unsharded fp32 gradient buffer 4 Psi, and the
    # fp32 master weights and Adam moments sharded over DP like ZeRO-1: 12 Psi / N_d
    assert model_states(0, "bf16") == 8 * PSI + 12 * PSI // N_D == 60_000_000_000 + 1_406_250_000
    # with ZeRO on, bf16 is the paper's accounting again (ZeRO keeps its own fp32 partitions)
    assert model_states(1, "bf16") == 4 * PSI + 12 * PSI // N_D


def test_zero3_gather_buffer_agrees_with_deepspeeds_estimator():
    # DeepSpeed estimate_zero3_model_states_mem_needs (no offload):
    #   gpu_mem = 4 * largest_layer_params + 18 * total_params / total_gpus
    # with largest_layer_params = the largest module's own parameters.  Here the largest module
    # is the embedding, 1,000 x 64 = 64,000 (the MLP matrices are 64 x 256 = 16,384).
    # The engine's gather buffer is the same 4 * largest_layer_params; its model states use the
    # ZeRO paper's 16 B/param where the estimator's 18 also books an fp32 gradient partition.
    spec = ModelSpec(layers=2, hidden=64, heads=4, vocab=1000, bias=False)
    plan = Plan(model=spec, training=TrainingConfig(seq=16, zero=3),
                method=MethodConfig(method="detailed", framework="deepspeed"),
                layout=build_grid(dp=8, gpu="g", capacity_bytes=GiB))
    bd = estimate(plan).cards[0].breakdown
    assert bd.communication.bytes == 4 * 64_000
