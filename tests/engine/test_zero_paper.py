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


def model_states(zero: int) -> int:
    plan = Plan(
        model=ModelSpec(params=PSI, layers=32, hidden=4096, heads=32),
        training=TrainingConfig(zero=zero),
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
