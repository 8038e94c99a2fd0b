"""KV cache bytes derived by hand: MHA, GQA, MQA, MLA, quantized caches, windows, paging, TP."""

import pytest

from engine.errors import PlanError
from engine.model.params import parameter_count
from engine.model.spec import MLASpec, ModelSpec
from engine.serving.kv_cache import (
    is_sliding,
    kv_format,
    kv_use,
    layer_bytes_per_token,
    model_bytes_per_token,
)
from engine.weights.tensors import layer_tensors, outer_tensors


def spec(kv_heads: int, **kw) -> ModelSpec:
    return ModelSpec(layers=2, hidden=256, heads=4, kv_heads=kv_heads, ffn=512, vocab=1000, gated_mlp=True,
                     norm="rmsnorm", bias=False, **kw)


FP16 = kv_format("fp16")


def test_mha_gqa_mqa_per_token():
    # 2 (K and V) x kv_heads x head_dim 64 x 2 B, per layer; x 2 layers for the model
    assert layer_bytes_per_token(spec(4), FP16) == 2 * 4 * 64 * 2 == 1024  # MHA
    assert layer_bytes_per_token(spec(2), FP16) == 2 * 2 * 64 * 2 == 512  # GQA
    assert layer_bytes_per_token(spec(1), FP16) == 2 * 1 * 64 * 2 == 256  # MQA
    assert model_bytes_per_token(spec(4), FP16) == 2 * 1024


def test_llama2_7b_half_a_mebibyte_per_token():
    # 2 x 32 layers x 32 heads x 128 x 2 B = 524,288 B (the often-quoted 0.5 MB per token)
    llama = ModelSpec(layers=32, hidden=4096, heads=32, ffn=11008, vocab=32000, gated_mlp=True)
    assert model_bytes_per_token(llama, FP16) == 524_288


def test_dtypes():
    gqa = spec(2)  # one row of K = 2 heads x 64 = 128 elements per token and layer
    assert layer_bytes_per_token(gqa, kv_format("fp8")) == 2 * 128 * 1 == 256
    assert layer_bytes_per_token(gqa, kv_format("q8_0")) == 2 * (128 // 32) * 34 == 272
    assert layer_bytes_per_token(gqa, kv_format("q4_0")) == 2 * (128 // 32) * 18 == 144
    assert layer_bytes_per_token(gqa, kv_format("fp32")) == 2 * 128 * 4


def test_tp_splits_kv_heads():
    assert layer_bytes_per_token(spec(2), FP16, tp=2) == 2 * 1 * 64 * 2 == 256


DEEPSEEK_V3 = ModelSpec(layers=61, hidden=7168, heads=128, vocab=129280, gated_mlp=True, norm="rmsnorm",
                        bias=False, ffn=18432,
                        mla=MLASpec(q_lora_rank=1536, kv_lora_rank=512, qk_nope_head_dim=128,
                                    qk_rope_head_dim=64, v_head_dim=128))


def test_mla_latent_plus_rope_key():
    # DeepSeek-V2 paper, Table 1: MLA caches (d_c + d_h^R) x l elements per token, d_c = 512, d_h^R = 64
    assert layer_bytes_per_token(DEEPSEEK_V3, FP16) == (512 + 64) * 2 == 1152
    assert model_bytes_per_token(DEEPSEEK_V3, FP16) == 61 * 1152 == 70_272
    # the latent is not split over TP ranks
    assert layer_bytes_per_token(DEEPSEEK_V3, FP16, tp=8) == 1152


def test_mla_tensors_sum_to_parameter_count():
    tensors = [t for layer in layer_tensors(DEEPSEEK_V3) for t in layer] + list(outer_tensors(DEEPSEEK_V3))
    assert sum(t.elements for t in tensors) == parameter_count(DEEPSEEK_V3)


def test_batch_context_and_paging():
    gqa = spec(2)
    # 512 B per token per layer x 2 layers x 1,000 tokens x 3 sequences
    assert kv_use(gqa, (0, 1), FP16, 1, 1000, 3, None).bytes == 512 * 2 * 1000 * 3
    # vLLM blocks of 16: 1,000 tokens occupy 63 blocks = 1,008 token slots
    assert kv_use(gqa, (0, 1), FP16, 1, 1000, 3, 16).bytes == 512 * 2 * 1008 * 3
    # one stage holding only layer 1
    assert kv_use(gqa, (1,), FP16, 1, 1000, 1, None).bytes == 512 * 1000


def test_sliding_window_layers():
    # 1 of 2 layers uses a 100-token window: layer i slides when (i+1)*1//2 > i*1//2 -> layer 1
    windowed = spec(2, sliding_window=100, sliding_window_layers=1)
    assert [is_sliding(windowed, i) for i in range(2)] == [False, True]
    assert kv_use(windowed, (0, 1), FP16, 1, 1000, 1, None).bytes == 512 * (1000 + 100)
    # all layers windowed (Mistral-7B v0.1 style)
    all_window = spec(2, sliding_window=100)
    assert kv_use(all_window, (0, 1), FP16, 1, 1000, 2, None).bytes == 512 * 2 * 100 * 2
    # below the window the cap does nothing
    assert kv_use(all_window, (0, 1), FP16, 1, 60, 1, None).bytes == 512 * 2 * 60


def test_unknown_kv_dtype():
    with pytest.raises(PlanError) as e:
        kv_format("int3")
    assert e.value.field == "serving.kv_dtype"


def test_llamacpp_iswa_keeps_the_window_plus_one_ubatch_padded_to_256():
    """llama-kv-cache-iswa.cpp: a window layer holds GGML_PAD(min(n_ctx, n_swa + n_ubatch), 256) cells per stream."""
    from engine.serving.kv_cache import LLAMACPP_SWA_PAD, WindowPolicy

    # gpt-oss-20b: 24 layers, 12 with a 128-token window, 8 KV heads x 64 (2,048 B per token and layer)
    oss = ModelSpec(layers=24, hidden=2880, heads=64, kv_heads=8, head_dim=64, ffn=2880, vocab=201088,
                    gated_mlp=True, sliding_window=128, sliding_window_layers=12)
    iswa = WindowPolicy(extra=512, pad=LLAMACPP_SWA_PAD)
    use = kv_use(oss, tuple(range(24)), FP16, 1, 131_072, 1, None, iswa)
    # window layers: pad(min(131072, 128 + 512), 256) = 768 cells -> 12 x 768 x 2,048 B = 18 MiB (the log's 18.00)
    assert use.window_bytes == 12 * 768 * 2048 == 18 * 2**20
    # full layers: 12 x 131,072 x 2,048 B = 3,072 MiB; together the log's 3,072 + 18 MiB
    assert use.bytes == 12 * 131_072 * 2048 + 18 * 2**20 == 3090 * 2**20
    # --swa-full: every layer keeps the context
    assert kv_use(oss, tuple(range(24)), FP16, 1, 131_072, 1, None, WindowPolicy(full=True)).bytes == 24 * 131_072 * 2048
    # the padding is applied after the minimum: a 300-token context gets pad(min(300, 640), 256) = 512 cells
    assert kv_use(oss, (1,), FP16, 1, 300, 1, None, iswa).bytes == 512 * 2048
    # vLLM and the others keep the window itself: 128 tokens
    assert kv_use(oss, (1,), FP16, 1, 131_072, 1, None).bytes == 128 * 2048
