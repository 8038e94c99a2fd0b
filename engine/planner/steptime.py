"""The step-time model used to rank layouts (derivation and sources: docs/planner.md).

step = compute + bubble + TP traffic + exposed CP traffic + exposed DP traffic

* compute: tokens x FLOPs per token / (cards x peak x MFU), paced by the
  stage holding the most layers.  FLOPs per token: 6N + 12·L·d_attn·s
  (Kaplan et al. 2020 for 6N; PaLM, Chowdhery et al. 2022, App. B for the
  attention term); full recompute replays the forward: 8N + 16·L·d_attn·s;
  selective recompute replays the attention core only: 6N + 16·L·d_attn·s
  (Korthikanti et al. 2022).
* bubble: compute x (PP - 1) / (m · VPP) (Narayanan et al. 2021, sec. 2.2).
* TP: 4 all-reduces of s·b·h elements per layer and micro-batch (2 forward,
  2 backward; 6 with full recompute), ring traffic 2(t-1)/t each, over the
  intra-node link, not overlapped (Megatron-LM, Shoeybi et al. 2019).
* CP: ring attention passes K and V blocks (CP - 1) times forward and twice
  that backward, over the intra-node link when TP x CP fits in a node.
* DP: gradient all-reduce 2(d-1)/d x grads (plain DP), reduce-scatter of
  grads + all-gather of weights (ZeRO-1/2, distributed optimizer), plus a
  second weight all-gather (ZeRO-3) (Rajbhandari et al. 2020), over the node's
  network link shared by its cards when the DP group spans nodes.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, NamedTuple, overload

from engine.model.params import parameter_counts
from engine.model.spec import ModelSpec
from engine.planner.request import Hardware, SpeedModel
from engine.training.config import MethodConfig, TrainingConfig

if TYPE_CHECKING:
    import numpy as np

GB_PER_S = 1e9
TFLOPS = 1e12


class StepTime(NamedTuple):
    compute_s: float
    bubble_s: float
    tp_s: float
    cp_s: float
    dp_s: float
    step_s: float
    tokens_per_step: int


@dataclass(frozen=True, slots=True)
class StepTimeModel:
    """Constants of one request and one GPU type."""

    params: int  # parameters a token touches (MoE: active)
    layers: int
    hidden: int
    attn_dim: int  # heads x head_dim (query width)
    kv_dim: int  # kv_heads x head_dim
    seq: int
    act_bytes: int  # bytes per activation element sent by TP/CP
    grad_bytes: int  # bytes per gradient element reduced over DP
    weight_bytes: int  # bytes per weight element gathered by ZeRO
    peak_flops: float  # per card, FLOP/s
    mfu: float
    overlap: float
    intra_bps: float  # bytes/s per card inside a node
    inter_node_bps: float  # bytes/s per node
    gpus_per_node: int

    @classmethod
    def of(cls, model: ModelSpec, training: TrainingConfig, method: MethodConfig, hw: Hardware,
           speed: SpeedModel, gpus_per_node: int) -> StepTimeModel:
        e = 4 if training.precision == "fp32" else 2
        kv_heads = model.heads if model.mla is not None else model.kv_heads_
        return cls(
            params=parameter_counts(model).active_per_token, layers=model.layers, hidden=model.hidden,
            attn_dim=model.heads * model.head_dim_, kv_dim=kv_heads * model.head_dim_, seq=training.seq,
            act_bytes=e, grad_bytes=4 if method.framework.startswith("megatron") or e == 4 else 2, weight_bytes=e,
            peak_flops=hw.bf16_tflops * TFLOPS, mfu=speed.mfu, overlap=speed.overlap,
            intra_bps=hw.intra_node_gbps * GB_PER_S, inter_node_bps=hw.inter_node_gbps * GB_PER_S,
            gpus_per_node=gpus_per_node,
        )

    def flops_per_token(self, recompute: str) -> float:
        dense = 8 if recompute == "full" else 6
        attention = 12 if recompute == "none" else 16
        return dense * self.params + attention * self.layers * self.attn_dim * self.seq

    def _link_bps(self, group_span: int) -> float:
        """Per-card bandwidth of a group spanning ``group_span`` consecutive ranks."""
        if group_span <= self.gpus_per_node:
            return self.intra_bps
        return self.inter_node_bps / self.gpus_per_node

    def dp_bytes(self, zero: int, shard: int, card_params: int) -> float:
        """Bytes one card sends per step for gradient reduction and ZeRO weight gathers."""
        if shard == 1:
            return 0.0
        f = (shard - 1) / shard
        if zero == 0:
            return 2 * f * card_params * self.grad_bytes
        gathers = 2 if zero == 3 else 1
        return f * card_params * (self.grad_bytes + gathers * self.weight_bytes)

    @overload
    def pipeline_parts(self, *, tp: int, pp: int, vpp: int, cp: int, dp: int, micro_batch: int, microbatches: int,
                       recompute: str, max_stage_layers: int) -> tuple[float, float, float, float, int]: ...

    @overload
    def pipeline_parts(self, *, tp: int, pp: int, vpp: int, cp: int, dp: int, micro_batch: np.ndarray,
                       microbatches: np.ndarray, recompute: str,
                       max_stage_layers: int) -> tuple[np.ndarray, np.ndarray, Any, Any, np.ndarray]: ...

    def pipeline_parts(self, *, tp, pp, vpp, cp, dp, micro_batch, microbatches, recompute, max_stage_layers):
        """(compute, bubble, TP, exposed CP seconds, tokens per step): everything but DP traffic.

        ``micro_batch`` and ``microbatches`` may be numpy arrays of Python ints (dtype object): every
        element then takes exactly the steps of the scalar call (exact integers, the same floats)."""
        gpus = tp * pp * cp * dp
        tokens = micro_batch * dp * microbatches * self.seq
        pace = max_stage_layers * pp / self.layers
        compute = tokens * self.flops_per_token(recompute) / (gpus * self.peak_flops * self.mfu) * pace
        bubble = compute * (pp - 1) / (microbatches * vpp)
        s_local = self.seq // cp
        passes = max_stage_layers * microbatches
        tp_s = 0.0
        if tp > 1:
            message = s_local * micro_batch * self.hidden * self.act_bytes
            reduces = 6 if recompute == "full" else 4
            tp_s = passes * reduces * 2 * (tp - 1) / tp * message / self._link_bps(tp)
        cp_s = 0.0
        if cp > 1:
            block = 2 * s_local * micro_batch * (self.kv_dim // tp) * self.act_bytes  # K and V
            cp_s = passes * 3 * (cp - 1) * block / self._link_bps(tp * cp) * (1 - self.overlap)
        return compute, bubble, tp_s, cp_s, tokens

    def dp_seconds(self, *, tp: int, cp: int, dp: int, zero: int, card_params: int) -> float:
        """Exposed DP/ZeRO traffic per step."""
        return self.dp_bytes(zero, dp * cp, card_params) / self._link_bps(tp * cp * dp) * (1 - self.overlap)

    def step(self, *, tp: int, pp: int, vpp: int, cp: int, dp: int, micro_batch: int, microbatches: int,
             recompute: str, zero: int, max_stage_layers: int, card_params: int) -> StepTime:
        compute, bubble, tp_s, cp_s, tokens = self.pipeline_parts(
            tp=tp, pp=pp, vpp=vpp, cp=cp, dp=dp, micro_batch=micro_batch, microbatches=microbatches,
            recompute=recompute, max_stage_layers=max_stage_layers)
        dp_s = self.dp_seconds(tp=tp, cp=cp, dp=dp, zero=zero, card_params=card_params)
        return StepTime(compute, bubble, tp_s, cp_s, dp_s, compute + bubble + tp_s + cp_s + dp_s, tokens)
