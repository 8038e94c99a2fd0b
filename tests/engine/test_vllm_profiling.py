"""vLLM's KV pool by release: what each release subtracts from gpu_memory_utilization × capacity.

Model and helpers as in test_serving: 2 layers, hidden 256, 4 heads x 64, 2 KV heads, gated MLP
512, vocab 1000; bf16 weights 3,385,856 B; KV 1,024 B per token; forward working set per token
3 x 256 + max(768, 3 x 512) = 2,304 elements.
"""

import pytest
from pydantic import ValidationError

from engine.errors import PlanError
from engine.estimate import estimate
from engine.plan.schema import plan_error_from_validation
from engine.serving.config import ServingConfig
from engine.serving.support import nccl_buffers
from engine.serving.vllm_profiling import parse_vllm_version, vllm_profiling
from engine.units import GiB, MiB
from tests.engine.test_serving import plan

CTX = 512 * MiB  # CUDA context (profile constant)
CUBLAS = 32 * MiB  # cuBLAS workspace, allocated by PyTorch: inside PyTorch's peak in every release
GRAPHS = 512 * MiB  # CUDA graphs (profile constant)
NON_TORCH = 512 * MiB  # non-torch memory allocated after start-up (the logs' non_torch_memory)
NCCL = 256 * MiB
BUDGET = 2_147_483_648  # 0.5 x 4 GiB


def _vllm(version: str | None, **kw) -> ServingConfig:
    data = {"context": 4096, "max_model_len": 4096, "runtime": "vllm", "gpu_memory_utilization": 0.5,
            "vllm_version": version, **kw}
    try:
        return ServingConfig.model_validate(data)
    except ValidationError as e:
        raise plan_error_from_validation(e) from None


@pytest.mark.parametrize(("version", "engine", "context", "non_torch", "allreduce", "graphs"), [
    ("0.2.4", "v0", False, False, False, False),  # torch.cuda.max_memory_allocated only
    ("0.2.5", "v0", True, True, True, False),  # mem_get_info after the profile; PR 2151 (0.2.6) not yet
    ("0.2.6", "v0", True, True, False, False),
    ("0.3.1", "v0", False, True, False, False),  # PR 2863: init_gpu_memory baseline, context outside
    ("0.6.4.post1", "v0", False, True, False, False),  # "Memory profiling results ... non_torch_memory="
    ("0.8.5", "v1", True, True, False, False),  # V1 worker: every non-torch byte on the device
    ("0.9.1", "v1", False, True, False, False),  # PR 18974: the start-up baseline in V1 too
    ("0.19.0", "v1", False, True, False, False),  # logs the graphs' estimate, leaves it out (llm-d-planner PR 205)
    ("v0.20.0", "v1", False, True, False, True),  # "equivalent to --gpu-memory-utilization=0.8340" (llmso-study)
])
def test_what_each_release_counts(version, engine, context, non_torch, allreduce, graphs):
    p = vllm_profiling(version, engine)
    assert (p.context, p.non_torch, p.allreduce_inputs, p.graphs) == (context, non_torch, allreduce, graphs)


def test_release_names_its_engine():
    assert _vllm("0.6.4").vllm_engine == "v0"  # V1 became the default in 0.8.0
    assert _vllm("0.8.0").vllm_engine == "v1"
    assert _vllm(None).vllm_engine == "v1"
    with pytest.raises(PlanError, match=r"serving\.vllm_engine.*the V1 engine arrived in 0\.7\.0"):
        _vllm("0.6.4", vllm_engine="v1")
    with pytest.raises(PlanError, match=r"serving\.vllm_version.*a vLLM release such as 0\.6\.4"):
        _vllm("latest")
    assert parse_vllm_version("0.8.5rc1") == (0, 8, 5) and parse_vllm_version("0.10") == (0, 10, 0)


def test_v0_baseline_pool_by_hand():
    est = estimate(plan(_vllm("0.6.4")))
    # V0 profiles max(max_model_len 4,096, 2,048) tokens: 2 B x 4,096 x 2,304 + flash LSE 4 B x 4 heads x 4,096
    act = 2 * 4096 * 2304 + 4 * 4 * 4096
    assert act == 18_939_904 == est.cards[0].breakdown.activations.bytes
    # inside the budget: PyTorch's peak (weights, activations, the last token's logits, cuBLAS) and the
    # non-torch memory allocated since start-up; the context and the graphs (captured after the pool) are not
    inside = 3_385_856 + act + 6 * 1000 + CUBLAS + NON_TORCH
    assert est.serving.kv_pool_bytes == BUDGET - inside == 1_554_726_544
    assert est.serving.kv_pool_tokens == 1_554_726_544 // 1024 // 16 * 16 == 1_518_272
    details = {d.key: d.bytes for d in est.cards[0].breakdown.details}
    # the margin (0.5 x 4 GiB) holds the context and the graphs; what is left is unreserved
    assert details["unreserved"] == 4 * GiB - BUDGET - CTX - GRAPHS
    assert details["cuda_graphs"] == GRAPHS and details["non_torch"] == NON_TORCH
    assert est.cards[0].headroom_bytes == est.serving.kv_pool_bytes - 4096 * 1024  # the pool's free part


def test_v025_keeps_every_allreduce_input_at_tp2():
    est = estimate(plan(_vllm("0.2.5"), tp=2))
    bd = est.cards[0].breakdown
    # per rank: 3 x 256 + max((4 + 4) x 64 + 4 x 64 = 768 / 2, 3 x 512 / 2) = 1,536 elements per token,
    # flash LSE 4 B x 2 heads x 4,096; plus 2 all-reduces per layer and the embedding's, 2 B x 4,096 x 256 each
    layer = 2 * 4096 * 1536 + 4 * 2 * 4096
    pending = (2 * 2 + 1) * 4096 * 256 * 2
    assert bd.activations.bytes == layer + pending == 12_615_680 + 10_485_760
    # 0.2.5 subtracts everything in use on the device: context, NCCL, non-torch memory; graphs come later
    inside = 1_694_208 + layer + pending + 6 * 1000 + CTX + CUBLAS + NCCL + NON_TORCH
    assert est.serving.kv_pool_bytes == BUDGET - inside
    assert estimate(plan(_vllm("0.2.6"), tp=2)).cards[0].breakdown.activations.bytes == layer  # fixed by PR 2151


def test_newest_release_counts_graphs_and_enforce_eager_drops_them():
    # V1 started by `vllm serve` on a card below 70 GiB profiles one chunk of 2,048 tokens (its default
    # max_num_batched_tokens): 2 B x 2,048 x 2,304 + flash LSE 4 B x 4 heads x 2,048 = 9,469,952 B with the
    # logits 6,000 B.  The newest release's sampler warm-up, without a sort, stays below it (test_serving); 0.8.5's,
    # 256 requests x V 1,000 x 38 B = 9,728,000 B beside the hidden states 2 B x (2,048 + 256) x 256 =
    # 1,179,648 B, is that release's profile peak
    forward, peak = 9_469_952 + 6000, 9_728_000 + 1_179_648
    assert peak > forward
    newest = estimate(plan(_vllm(None)))
    assert newest.serving.kv_pool_bytes == BUDGET - (3_385_856 + forward + CUBLAS + NON_TORCH + GRAPHS)
    eager = estimate(plan(_vllm(None, enforce_eager=True)))
    assert eager.serving.kv_pool_bytes - newest.serving.kv_pool_bytes == GRAPHS
    assert {d.key: d.bytes for d in eager.cards[0].breakdown.details}.get("cuda_graphs") is None
    early_v1 = estimate(plan(_vllm("0.8.5")))  # the context counted, the graphs not
    assert early_v1.serving.kv_pool_bytes == BUDGET - (3_385_856 + peak + CUBLAS + NON_TORCH + CTX)


def test_margin_too_small_for_context_and_graphs_does_not_fit():
    # 0.99 x 4 GiB leaves 42,949,673 B; 0.6.4 keeps the context and the graphs (1 GiB) there
    cfg = _vllm("0.6.4", gpu_memory_utilization=0.99)
    est = estimate(plan(cfg))
    assert not est.fits
    warning = next(w for w in est.warnings if w.code == "vllm-margin")
    assert "fails at start-up" in warning.message
    # vLLM allocates the whole pool anyway: the card needs the budget plus what sits outside it
    assert est.cards[0].breakdown.total_bytes == int(4 * GiB * 0.99) + CTX + GRAPHS
    assert estimate(plan(cfg.model_copy(update={"gpu_memory_utilization": 0.7}))).fits


def test_rtx3090_profile_peak_matches_the_log():
    """vllm-project/vllm issue 10517 (RTX 3090, Llama-3.1-8B, vLLM 0.6.4-format log): peak_torch_memory
    17.06 GiB at max_model_len 20,000 and 17.98 GiB at 29,000, with 14.9888 GiB of weights."""
    for max_len, peak_gib in ((20_000, 17.06), (29_000, 17.98)):
        p = plan(ServingConfig(runtime="vllm", context=max_len, max_model_len=max_len, vllm_version="0.6.4"),
                 capacity=24 * GiB, model=_llama31_8b())
        act = estimate(p).cards[0].breakdown.activations.bytes
        # 2 B x T x (3 x 4,096 + 3 x 14,336) + flash LSE 4 B x 32 heads x T
        assert act == 2 * max_len * 55_296 + 4 * 32 * max_len
        assert abs(14.9888 + act / GiB - peak_gib) < 0.01  # the log rounds to 0.01 GiB


def _llama31_8b():
    from engine.catalog import find_model

    return find_model("llama-3.1-8b").spec


@pytest.mark.parametrize(("version", "chunk"), [("0.6.4", 512), ("0.6.5", 2048), (None, 2048)])
def test_v0_chunks_long_contexts_by_release(version, chunk):
    # above max_model_len 32,768 V0 turns chunked prefill on: 512-token chunks until vllm-project/vllm PR 10544
    # (0.6.5) made them 2,048.  The 256-sequence sampler warm-up (256 x V 1,000 x 38 B = 9,728,000 B) is above
    # the forward either way, so the activations are the hidden states it holds: 2 B x (chunk + 256) x 256
    est = estimate(plan(_vllm(version, vllm_engine="v0", context=40_000, max_model_len=40_000)))
    bd = est.cards[0].breakdown
    assert bd.logits.bytes == 9_728_000
    assert bd.activations.bytes == 2 * (chunk + 256) * 256


def test_nccl_buffers_at_tp_above_one_on_nvlink4_by_hand():
    # vLLM at TP > 1 on an NVLink 4 card (H100 SXM): 1.8 GiB per card, int(1.8 x 2^30) = 1,932,735,283 B, the growth
    # vLLM's start-up logs show over TP 1 (engine/serving/runtimes.py); anything else multi-card: 256 MiB
    assert nccl_buffers("vllm", "H100 SXM", 2, 2)[0] == 1_932_735_283
    assert nccl_buffers("vllm", "H200", 4, 4)[0] == 1_932_735_283
    assert nccl_buffers("vllm", "H100 SXM", 2, 1)[0] == 256 * MiB  # pipeline stages only
    assert nccl_buffers("vllm", "A100 80GB", 2, 2)[0] == 256 * MiB  # NVLink 3
    assert nccl_buffers("trtllm", "H100 SXM", 2, 2)[0] == 256 * MiB
    assert nccl_buffers("vllm", "test", 2, 2)[0] == 256 * MiB  # not in the catalog
    assert nccl_buffers("vllm", "H100 SXM", 1, 1) == (0, "0 (single card)")
    # both inside the 0.19 budget: the pool on two H100s is 1,932,735,283 - 268,435,456 = 1,664,299,827 B smaller than
    # on two cards of the same size the catalog does not know
    cfg = _vllm("0.19.0")
    h100 = estimate(plan(cfg, tp=2, gpu="H100 SXM"))
    other = estimate(plan(cfg, tp=2))
    assert other.serving.kv_pool_bytes - h100.serving.kv_pool_bytes == 1_932_735_283 - 268_435_456


def test_pipeline_stages_after_the_first_hold_receive_buffers_by_hand():
    # vLLM V1: a stage after the first receives the hidden states and residual into buffers of max_num_batched_tokens
    # rows (2,048 with `vllm serve` on a card under 70 GiB): 2 x 2 B x 2,048 x h 256 = 2,097,152 B; the first stage none
    est = estimate(plan(_vllm("0.19.0"), pp=2))
    first, second = (c.breakdown for c in est.cards)
    assert "receives hidden states" not in first.activations.formula
    assert "2 × 2 B × T 2,048 × h 256 = 2,097,152 B" in second.activations.formula
    # the last stage has the output layer: its sampler warm-up (256 x 1,000 x 14 + the Triton buffer) stays below its
    # forward (one layer: 2 B x 2,048 x 2,304 + LSE 4 x 4 x 2,048 = 9,469,952, logits 6,000), so the stage reads
    # forward + buffers
    assert second.activations.bytes == 9_469_952 + 2_097_152
    # V0 is not modelled with them
    v0 = estimate(plan(_vllm("0.6.4", max_model_len=4096), pp=2))
    assert "receives hidden states" not in v0.cards[1].breakdown.activations.formula
