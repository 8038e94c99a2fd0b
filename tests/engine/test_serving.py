"""Serving estimates by hand: runtimes, pools, offload, TP, answers.

Model as in test_quant: 2 layers, hidden 256, 4 heads x 64, 2 KV heads, gated
MLP 512, vocab 1000, untied: 1,692,928 parameters, bf16 weights 3,385,856 B,
KV 512 B per token and layer (2 x 2 heads x 64 x 2 B).
Forward working set per token: 3h (residual, normed copy, the block's output projection) + the larger
block, max(attention (heads + 2 kv) x 64 + heads x 64 = 768, gated MLP 3 ffn = 1536) = 768 + 1536 = 2304
elements.
"""

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from engine.catalog import GpuSpec
from engine.errors import PlanError
from engine.estimate import estimate
from engine.model.spec import ModelSpec
from engine.plan.layout import build_grid
from engine.plan.schema import Plan, plan_error_from_validation, plan_from_json, plan_to_json
from engine.serving.answers import (
    best_quant,
    cheapest_gpu,
    longest_context,
    most_sequences,
    quant_options,
)
from engine.serving.config import ServingConfig
from engine.serving.estimate import Evaluator
from engine.serving.split import split_layers
from engine.units import GiB, MiB

SMALL = ModelSpec(name="small", layers=2, hidden=256, heads=4, kv_heads=2, ffn=512, vocab=1000,
                  gated_mlp=True, norm="rmsnorm", bias=False)
CTX_PLUS_CUBLAS = 512 * MiB + 32 * MiB  # PyTorch runtimes: CUDA context + cuBLAS workspace
CUBLAS = 32 * MiB
VLLM_GRAPHS = 512 * MiB
VLLM_NON_TORCH = 512 * MiB  # non-torch memory vLLM allocates after start-up (its log's non_torch_memory)


def plan(cfg: ServingConfig, capacity: int = 4 * GiB, model: ModelSpec = SMALL, gpu: str = "test", **grid) -> Plan:
    return Plan(name="t", mode="serving", model=model, serving=cfg,
                layout=build_grid(gpu=gpu, capacity_bytes=capacity, **grid))


def test_transformers_single_card_by_hand():
    est = estimate(plan(ServingConfig(context=4096, batch=1, runtime="transformers")))
    bd = est.cards[0].breakdown
    assert bd.weights.bytes == 3_385_856
    assert bd.kv_cache.bytes == 512 * 2 * 4096 == 4_194_304
    # whole prompt in one forward: T = 4,096; 2 B x T x 2,304 + flash LSE 4 B x 4 heads x T
    assert bd.activations.bytes == 2 * 4096 * 2304 + 4 * 4 * 4096 == 18_939_904
    assert bd.logits.bytes == (2 + 4) * 1 * 1000  # last token only
    allocated = 3_385_856 + 4_194_304 + 18_939_904 + 6000
    assert bd.overhead.bytes == CTX_PLUS_CUBLAS + allocated * 5 // 100  # 5% allocator reserve
    assert bd.total_bytes == 598_277_711
    assert est.mode == "serving" and est.serving.kv_bytes_per_token == 1024


def test_a_model_served_in_fp32_computes_in_4_bytes():
    # --quant fp32 (vLLM's --dtype float32): activations of 4 B.  Whole prompt T = 4,096: the layer's working set
    # 4 B x T x 2,304 + flash LSE 4 B x 4 heads x T; the last token's logits in fp32 and their fp32 copy (4 + 4) B x V
    est = estimate(plan(ServingConfig(context=4096, batch=1, runtime="transformers", quant="fp32")))
    bd = est.cards[0].breakdown
    assert bd.activations.bytes == 4 * 4096 * 2304 + 4 * 4 * 4096 == 37_814_272
    assert bd.logits.bytes == (4 + 4) * 1 * 1000
    eager = estimate(plan(ServingConfig(context=1024, runtime="transformers", quant="fp32", flash_attention=False)))
    # eager scores: fp32 scores and their fp32 softmax (4 + 4) B x 4 heads x 1,024 x 1,024
    assert eager.cards[0].breakdown.activations.bytes == 4 * 1024 * 2304 + 8 * 4 * 1024 * 1024


def test_eager_attention_scores():
    est = estimate(plan(ServingConfig(context=1024, runtime="transformers", flash_attention=False)))
    # layer 2 B x 1,024 x 2,304 + scores (2 + 4) B x 4 heads x T 1,024 x context 1,024
    assert est.cards[0].breakdown.activations.bytes == 2 * 1024 * 2304 + 6 * 4 * 1024 * 1024


def test_logits_of_every_prompt_token():
    est = estimate(plan(ServingConfig(context=1024, batch=2, runtime="transformers", logits="all")))
    assert est.cards[0].breakdown.logits.bytes == 6 * 2048 * 1000


VLLM = ServingConfig(context=4096, batch=1, runtime="vllm", gpu_memory_utilization=0.5)


def test_vllm_pool_by_hand():
    est = estimate(plan(VLLM))
    # budget 0.5 x 4 GiB = 2,147,483,648.  V1 started by `vllm serve` on a card below 70 GiB profiles one
    # chunk of 2,048 tokens (its default max_num_batched_tokens): activations 2 B x 2,048 x 2,304 + flash LSE
    # 4 B x 4 heads x 2,048 = 9,469,952, with the logits 6,000.  Its sampler warm-up, without a sort since 0.19:
    # 256 requests x V 1,000 x 14 B (16-bit logits 2 + fp32 copy 4 + softmax 4 + noise 4) = 3,584,000, the Triton
    # kernel's buffer at most 256 rows x 1,000 x 4 B = 1,024,000 and the hidden states 2 B x (2,048 + 256) x 256 =
    # 1,179,648 stay below the forward, which is the profile's peak.  The newest vLLM counts PyTorch's peak
    # (weights, that forward, cuBLAS), the non-torch memory allocated since start-up and its CUDA graphs; the
    # CUDA context lives in the margin.
    assert 3_584_000 + 1_024_000 + 1_179_648 < 9_469_952 + 6000
    inside = 3_385_856 + 9_469_952 + 6000 + CUBLAS + VLLM_NON_TORCH + VLLM_GRAPHS  # = 1,120,158,064
    pool = 2_147_483_648 - inside
    assert pool == 1_027_325_584
    # 1,024 B per token (2 layers x 512): 1,003,247 tokens, in whole blocks of 16 -> 1,003,232
    assert est.serving.kv_pool_tokens == 1_003_232
    assert est.serving.kv_pool_bytes == pool
    bd = est.cards[0].breakdown
    assert (bd.activations.bytes, bd.logits.bytes) == (9_469_952, 6000)
    assert bd.kv_cache.bytes == 4096 * 1024  # what the one 4,096-token sequence occupies
    assert est.cards[0].headroom_bytes == pool - 4096 * 1024  # the free part of the pool
    assert est.fits


def test_vllm_longest_context_and_most_sequences_by_hand():
    # one sequence may fill the whole pool: 1,003,232 tokens (above)
    p = plan(VLLM)
    assert longest_context(p) == 1_003_232
    assert estimate(p).serving.max_context_tokens == 1_003_232
    # b sequences of 4,096 tokens (4,194,304 B of KV each).  The forward, 9,469,952 + 6,000 b (the sampled
    # logits), stays above the sampler warm-up (test above) and is the profile's peak; the rest is
    # 3,385,856 + 33,554,432 + 2 x 536,870,912 = 1,110,682,112:
    # b = 244: 1,110,682,112 + 10,933,952 + 1,023,410,176 = 2,145,026,240 <= 2,147,483,648
    # b = 245: 1,110,682,112 + 10,939,952 + 1,027,604,480 = 2,149,226,544 >  2,147,483,648
    assert most_sequences(p) == 244


def test_vllm_request_larger_than_pool_does_not_fit():
    est = estimate(plan(VLLM.model_copy(update={"context": 1_100_000})))  # above the 1,001,840-token pool
    assert not est.fits
    assert any(w.code == "over-capacity" for w in est.warnings)


def test_tp_splits_weights_and_kv():
    est = estimate(plan(ServingConfig(context=1000, runtime="vllm"), tp=2))
    assert len(est.cards) == 2
    bd = est.cards[1].breakdown
    # per rank: q 128x256, k,v 64x256, o 256x128, gate/up 256x256, down 256x256, norms 512 whole, in bf16
    per_layer = (32_768 + 16_384 + 16_384 + 32_768 + 3 * 65_536) * 2 + 512 * 2  # 590,848
    outer = (128_000 + 128_000 + 256) * 2  # vocab-parallel embedding and output, final norm whole
    assert bd.weights.bytes == 2 * per_layer + outer == 1_694_208
    assert bd.kv_cache.bytes == 2 * 256 * 1008  # one KV head per rank; 1,000 tokens paged to 1,008


def test_llamacpp_partial_offload_output_layer_first_by_hand():
    # llama.cpp since PR 18148 (December 2025): -ngl 1 offloads the output layer, unit n_layer, before any block.
    est = estimate(plan(ServingConfig(context=1000, quant="Q8_0", runtime="llamacpp", gpu_layers=1)))
    bd = est.cards[0].breakdown
    # the output layer Q8_0 1,000 x 256 = 256,000 / 32 x 34 = 272,000 + the F32 final norm 256 x 4 = 1,024
    assert bd.weights.bytes == 272_000 + 1_024 == 273_024
    assert bd.kv_cache.bytes == 0  # no block on the card
    # compute buffer: residual + FFN 4 B x 512 x (256 + 512) = 1,572,864 (the blocks' ops run here from RAM) +
    # max(logits 4 B x 512 x 1,000 = 2,048,000, the largest block matrix staged 512 x 256 = 131,072 / 32 x 34 = 139,264)
    assert bd.activations.bytes == 1_572_864 + 2_048_000 == 3_620_864
    # host: both blocks (628,736 each), the Q8_0 embedding 272,000, the blocks' KV 2 x 512 B x 1,000
    assert est.serving.host_bytes == 2 * 628_736 + 272_000 + 2 * 512 * 1000 == 2_553_472
    assert split_layers(2, 1, pp_layers=None, shares=None, capacities=(1,), llamacpp=True, gpu_layers=1).host_layers == (0, 1)


def test_llamacpp_partial_offload_by_hand():
    # builds before PR 18148: -ngl 1 offloads the last block, and the output layer only with every block
    est = estimate(plan(ServingConfig(context=1000, quant="Q8_0", runtime="llamacpp", gpu_layers=1,
                                      output_layer_first=False)))
    bd = est.cards[0].breakdown
    layer = 589_824 // 32 * 34 + 512 * 4  # Q8_0 matrices + F32 norms = 628,736
    assert bd.weights.bytes == layer  # only the last layer is offloaded
    assert bd.kv_cache.bytes == 512 * 1000
    # llama.cpp's compute buffer, reserved for n_ubatch = 512 tokens: f32 residual + FFN 4 B x 512 x (256 + 512)
    # = 1,572,864; flash attention (no KQ).  The output layer stays in RAM with n_gpu_layers <= n_layer, but its
    # matmul (512 rows >= 32) runs on the card with the weight copied in (ggml-org/llama.cpp PR 6083), beside the
    # f32 logits it writes: Q8_0 1,000 x 256 = 256,000 / 32 x 34 = 272,000 + 4 B x 512 x 1,000 = 2,320,000, more
    # than layer 0's largest matrix (512 x 256 = 131,072 / 32 x 34 = 139,264)
    assert bd.activations.bytes == 4 * 512 * (256 + 512) + 272_000 + 4 * 512 * 1000 == 3_892_864
    assert bd.logits.bytes == 0
    assert bd.overhead.bytes == 256 * MiB + 32 * MiB
    # host: layer 0, the Q8_0 embedding, the output (Q8_0) with the F32 final norm, layer 0's KV
    host = layer + 256_000 // 32 * 34 + (256_000 // 32 * 34 + 256 * 4) + 512 * 1000
    assert est.serving.host_bytes == host == 1_685_760
    assert any(w.code == "host-offload" for w in est.warnings)


def test_llamacpp_tensor_split_upper_bound():
    # 4 layers + output = 5 units, split 3:1 -> cumulative (0.75, 1.0); unit j goes to the first
    # card whose cumulative share exceeds j/5: 0, .2, .4, .6 -> card 0; .8 -> card 1 (the output)
    s = split_layers(4, 2, pp_layers=None, shares=(3, 1), capacities=(1, 1), llamacpp=True, gpu_layers=None)
    assert s.layers == ((0, 1, 2, 3), ()) and s.output_stage == 1 and s.embedding_stage is None
    # 8 layers split 1:1 -> 9 units: j/9 < 0.5 for j <= 4 -> layers 0-4 on card 0, 5-7 and the output on card 1
    s = split_layers(8, 2, pp_layers=None, shares=(1, 1), capacities=(1, 1), llamacpp=True, gpu_layers=None)
    assert s.layers == ((0, 1, 2, 3, 4), (5, 6, 7)) and s.output_stage == 1


def test_mixed_cards_default_split_follows_capacity():
    mixed = build_grid(pp=2, gpu="big", capacity_bytes=3 * GiB)
    cards = (mixed.cards[0], mixed.cards[1].model_copy(update={"gpu": "small", "capacity_bytes": GiB}))
    p = Plan(mode="serving", model=SMALL.model_copy(update={"layers": 4}), layout=mixed.model_copy(update={"cards": cards}),
             serving=ServingConfig(runtime="llamacpp", quant="Q4_0", context=512))
    est = estimate(p)
    assert est.cards[0].breakdown.kv_cache.bytes == 4 * 512 * 512  # all 4 layers on the 3 GiB card (as 3:1)
    assert est.cards[1].breakdown.kv_cache.bytes == 0
    # the output-only card: the compute buffer holds the f32 residual 4 B x 512 x 256 and the f32 logits of every
    # ubatch token 4 B x 512 x V 1,000 (llama.cpp reserves one output per ubatch token)
    assert est.cards[1].breakdown.activations.bytes == 4 * 512 * 256 + 4 * 512 * 1000 == 2_572_288
    assert est.cards[1].breakdown.logits.bytes == 0


def test_even_layer_split_for_pipeline_runtimes():
    s = split_layers(5, 2, pp_layers=None, shares=None, capacities=(1, 1), llamacpp=False, gpu_layers=None)
    assert s.layers == ((0, 1, 2), (3, 4)) and s.embedding_stage == 0 and s.output_stage == 1


def test_best_quant_and_cheapest_gpu():
    # 512 MiB budget of pure weights: bf16 (3.4 MB) fits easily -> the least aggressive format wins
    p = plan(ServingConfig(context=256, runtime="transformers"), capacity=1 * GiB)
    options = quant_options(p)
    assert options[0].quant == "fp32" and best_quant(p).quant == "fp32"
    assert all(o.fits for o in options)
    gpus = (
        GpuSpec(name="tiny", memory_bytes=256 * MiB, price_usd_per_hour=0.1, source="test"),
        GpuSpec(name="mid", memory_bytes=2 * GiB, price_usd_per_hour=0.5, source="test"),
        GpuSpec(name="cheap-big", memory_bytes=8 * GiB, price_usd_per_hour=0.3, source="test"),
        GpuSpec(name="unpriced", memory_bytes=GiB, source="test"),
    )
    # tiny cannot hold the 544 MiB of CUDA context + cuBLAS; cheap-big is the cheapest that fits
    assert cheapest_gpu(p, gpus=gpus).gpu.name == "cheap-big"
    assert cheapest_gpu(p, gpus=gpus[:1]) is None


def config_error(**kw) -> PlanError:
    with pytest.raises(ValidationError) as e:
        ServingConfig(**kw)
    return plan_error_from_validation(e.value)


def test_gpu_layers_only_with_llamacpp():
    assert config_error(runtime="vllm", gpu_layers=10).field == "serving.gpu_layers"


def test_tp_must_divide_heads():
    with pytest.raises(PlanError) as e:
        estimate(plan(ServingConfig(runtime="vllm"), tp=3))
    assert e.value.field == "layout.tp"


def test_tensor_split_length_checked():
    with pytest.raises(PlanError) as e:
        estimate(plan(ServingConfig(runtime="llamacpp", tensor_split=(1, 1, 1)), pp=2))
    assert e.value.field == "serving.tensor_split"


def test_context_above_max_model_len():
    assert config_error(runtime="vllm", context=5000, max_model_len=4096).field == "serving.context"
    assert config_error(quant="int3").field == "serving.quant"


def test_serving_plan_round_trips():
    p = plan(ServingConfig(quant="Q4_K_M", runtime="llamacpp", tensor_split=(3.0, 1.0)), pp=2)
    assert plan_from_json(plan_to_json(p)) == p


def test_trtllm_kv_grows_in_64_token_blocks():
    p = plan(ServingConfig(runtime="trtllm", context=1024))
    totals = [estimate(p.model_copy(update={"serving": p.serving.model_copy(update={"context": c})}))
              .cards[0].breakdown.kv_cache.bytes for c in (1, 64, 65, 1024, 4096)]
    assert totals == sorted(totals)
    assert totals[1] == 64 * 1024 and totals[2] == 128 * 1024  # whole 64-token TensorRT-LLM blocks


@settings(max_examples=60, deadline=None)
@given(runtime=st.sampled_from(["transformers", "vllm", "llamacpp", "trtllm"]),
       context=st.integers(1, 300_000), batch=st.integers(1, 64), capacity_mib=st.integers(400, 4096),
       flash=st.booleans())
def test_search_shortcut_agrees_with_the_breakdown(runtime, context, batch, capacity_mib, flash):
    """The answer searches use a figure-free verdict; it must match the full breakdown's."""
    p = plan(ServingConfig(runtime=runtime, context=context, batch=batch, flash_attention=flash,
                           quant="Q4_K_M" if runtime == "llamacpp" else "bf16"), capacity=capacity_mib * MiB)
    ev = Evaluator(p, p.serving)
    full = ev.results(context, batch)
    assert ev.fits(context, batch) == all(r.breakdown.total_bytes <= k[2] for k, r in full.items())
    est = estimate(p)
    if est.fits:
        assert est.serving.max_context_tokens >= context and est.serving.max_batch >= batch
    else:
        assert est.serving.max_context_tokens < context and est.serving.max_batch < batch


def test_longest_context_stops_at_the_trained_context():
    # The same plan as above fits 979,584 tokens by memory, but a model trained for 32,768 tokens
    # answers 32,768; asking for more context warns (runtimes refuse it without RoPE scaling).
    trained = SMALL.model_copy(update={"max_context": 32_768})
    assert longest_context(plan(VLLM, model=trained)) == 32_768
    est = estimate(plan(VLLM.model_copy(update={"context": 65_536}), model=trained))
    assert any(w.code == "context-beyond-training" for w in est.warnings)


def test_vllm_fused_moe_keeps_every_routed_expert_output():
    # the test model with MoE layers: 8 experts of FFN 128, top-2.  vLLM's fused_experts allocates the gate-up
    # output (2 x 2 x 128 per token), the activation's (2 x 128) and the down projection's output of every
    # routed (token, expert) pair in full width, (T, top_k, h), before moe_sum adds them: 2 x 256 per token.
    from engine.model.spec import MoESpec

    moe = SMALL.model_copy(update={"moe": MoESpec(experts=8, top_k=2, expert_ffn=128)})
    # a 256-token profile forward, on a release before the persistent MoE workspace (test below)
    cfg = dict(context=256, runtime="vllm", prefill_chunk=256, max_num_seqs=1, vllm_version="0.15.1")
    # T = 256; per token 3 x 256 + max(attention 768, MLP 3 x 256 + 2 x 256 = 1,280) = 2,048 elements;
    # flash log-sum-exp 4 B x 4 heads x 256
    est = estimate(plan(ServingConfig(**cfg), model=moe))
    assert est.cards[0].breakdown.activations.bytes == 2 * 256 * 2048 + 4 * 4 * 256 == 1_052_672
    # at TP 2 the experts' FFN halves but their outputs do not: 3 x 128 + 2 x 256 = 896 against attention 384
    est = estimate(plan(ServingConfig(**cfg), model=moe, tp=2))
    assert est.cards[0].breakdown.activations.bytes == 2 * 256 * (768 + 896) + 4 * 2 * 256 == 854_016
    # transformers runs its experts one by one: no such buffer (MLP 3 x 256 = 768, as large as attention)
    est = estimate(plan(ServingConfig(context=256, runtime="transformers"), model=moe))
    assert est.cards[0].breakdown.activations.bytes == 2 * 256 * 1536 + 4 * 4 * 256 == 790_528


def test_vllm_persistent_moe_workspace_by_hand():
    # from 0.19 TritonExperts takes its caches from vLLM's persistent WorkspaceManager: workspace13 (T, top_k,
    # max(N/2, h)) and workspace2 (T, top_k, max(N, h)), N = 2 x 128 = 256 (gate-up): 2 B x 256 x 2 x (256 + 256)
    # = 524,288 B, kept beside whatever peaks.  The forward's MoE layer then holds no routed caches of its own:
    # per token 3 x 256 + max(attention 768, shared experts 0) = 1,536 -> 2 B x 256 x 1,536 + LSE 4 x 4 x 256 = 790,528
    from engine.model.spec import MoESpec
    from engine.serving.vllm_moe_workspace import has_moe_workspace, moe_workspace_bytes

    moe = SMALL.model_copy(update={"moe": MoESpec(experts=8, top_k=2, expert_ffn=128)})
    assert moe_workspace_bytes(moe, (0, 1), 1, 256)[0] == 2 * 256 * 2 * (256 + 256) == 524_288
    # at TP 2: N = 2 x 64 = 128 per rank, each width at least h: 2 B x 256 x 2 x (256 + 256), the same
    assert moe_workspace_bytes(moe, (0, 1), 2, 256)[0] == 524_288
    # a wide expert (FFN 1,024, N = 2,048): 2 B x 256 x 2 x (1,024 + 2,048) = 3,145,728 B
    wide = SMALL.model_copy(update={"moe": MoESpec(experts=8, top_k=2, expert_ffn=1024)})
    assert moe_workspace_bytes(wide, (0, 1), 1, 256)[0] == 2 * 256 * 2 * (1024 + 2048) == 3_145_728
    assert moe_workspace_bytes(SMALL, (0, 1), 1, 256) == (0, "")  # no MoE layer
    assert has_moe_workspace(None) and has_moe_workspace((0, 19, 0)) and not has_moe_workspace((0, 18, 2))
    cfg = ServingConfig(context=256, runtime="vllm", prefill_chunk=256, max_num_seqs=1)
    act = estimate(plan(cfg, model=moe)).cards[0].breakdown.activations
    assert act.bytes == 790_528 + 524_288 == 1_314_816
    assert "persistent MoE workspace" in act.formula
