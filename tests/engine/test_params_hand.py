"""Parameter counts per component, derived by hand (and published exact counts)."""

from engine import ModelSpec, parameter_count, parameter_counts


def test_gpt2_small_is_124_439_808():
    # Hugging Face gpt2 (published exact count 124,439,808): V=50257, 1024 learned positions,
    # h=768, 12 layers, ffn 3072, LayerNorm with bias, biases everywhere, tied output layer.
    spec = ModelSpec(layers=12, hidden=768, heads=12, vocab=50257, position_embedding="learned",
                     max_position=1024, tied_embeddings=True, norm="layernorm", bias=True)
    c = parameter_counts(spec)
    assert c.embedding == 50257 * 768 == 38_597_376
    assert c.position_embedding == 1024 * 768 == 786_432
    # attention: 4 h^2 + qkv bias 3h + out bias h = 2,359,296 + 3,072
    assert c.layers[0].attention == 4 * 768 * 768 + 3 * 768 + 768 == 2_362_368
    # MLP: 2 h f + f + h = 4,718,592 + 3,840
    assert c.layers[0].mlp == 2 * 768 * 3072 + 3072 + 768 == 4_722_432
    assert c.layers[0].norms == 2 * 2 * 768
    assert c.final_norm == 2 * 768
    assert c.output_layer == 0
    assert parameter_count(spec) == 38_597_376 + 786_432 + 12 * (2_362_368 + 4_722_432 + 3_072) + 1_536
    assert parameter_count(spec) == 124_439_808


def test_llama2_7b_is_6_738_415_616():
    # meta-llama/Llama-2-7b-hf: 6,738,415,616 parameters.
    # embedding + output 2 x 32000 x 4096 = 262,144,000
    # per layer: attention 4 x 4096^2 = 67,108,864; MLP 3 x 4096 x 11008 = 135,266,304; 2 RMSNorms 8,192
    # 32 layers x 202,383,360 = 6,476,267,520; final norm 4,096
    spec = ModelSpec(layers=32, hidden=4096, heads=32, ffn=11008, vocab=32000, gated_mlp=True,
                     norm="rmsnorm", bias=False)
    assert parameter_counts(spec).layers[0].total == 67_108_864 + 135_266_304 + 8_192
    assert parameter_count(spec) == 262_144_000 + 32 * 202_383_360 + 4_096 == 6_738_415_616


def test_gqa_layer_with_qkv_bias_only():
    # Qwen2-style: h=64, 4 heads of 16, 2 KV heads, ffn 172, SwiGLU, RMSNorm, bias on Q/K/V only.
    spec = ModelSpec(layers=2, hidden=64, heads=4, kv_heads=2, ffn=172, vocab=100, gated_mlp=True,
                     norm="rmsnorm", bias=False, qkv_bias=True)
    layer = parameter_counts(spec).layers[0]
    # q 64x64 + k 64x32 + v 64x32 + o 64x64 = 12,288 ; qkv bias 64 + 32 + 32 = 128
    assert layer.attention == 12_288 + 128
    assert layer.attention_replicated == 0
    assert layer.mlp == 3 * 64 * 172 == 33_024
    assert layer.norms == 2 * 64
    # TP = 2 halves the matrices and the QKV bias; norms stay whole: (12,416 + 33,024) / 2 + 128
    assert layer.per_tp_rank(2) == (12_416 + 33_024) // 2 + 128


def test_moe_layers_and_active_parameters():
    # 4 layers, first one dense; 8 experts of ffn 32, top-2, one shared expert of ffn 32, SwiGLU, no bias.
    spec = ModelSpec(layers=4, hidden=16, heads=2, ffn=64, vocab=10, gated_mlp=True, norm="rmsnorm", bias=False,
                     moe={"experts": 8, "top_k": 2, "expert_ffn": 32, "shared_experts": 1, "first_dense_layers": 1})
    c = parameter_counts(spec)
    one_expert = 3 * 16 * 32  # 1,536
    assert c.layers[0].experts == 0 and c.layers[0].mlp == 3 * 16 * 64
    assert c.layers[1].experts == 8 * one_expert == 12_288
    assert c.layers[1].router == 16 * 8
    assert c.layers[1].mlp == one_expert  # the shared expert
    # a token touches 2 of 8 routed experts: 6 x 1,536 idle per MoE layer, 3 MoE layers
    assert c.inactive_expert_params == 3 * 6 * one_expert
    # EP = 4 holds 2 experts per rank: 3,072 of the 12,288
    assert c.layers[1].per_tp_rank(1, ep=4) == c.layers[1].total - 12_288 + 3_072


def test_deepseek_v3_total_and_active_match_the_paper():
    # DeepSeek-V3 technical report: 671B total, 37B activated per token (main model, without MTP).
    spec = ModelSpec(layers=61, hidden=7168, heads=128, ffn=18432, vocab=129280, gated_mlp=True, norm="rmsnorm",
                     bias=False, moe={"experts": 256, "top_k": 8, "expert_ffn": 2048, "shared_experts": 1,
                                      "first_dense_layers": 3},
                     mla={"q_lora_rank": 1536, "kv_lora_rank": 512, "qk_nope_head_dim": 128,
                          "qk_rope_head_dim": 64, "v_head_dim": 128})
    c = parameter_counts(spec)
    # MLA per layer: q_a 7168x1536 + norm 1536 + q_b 1536x(128x192) + kv_a 7168x576 + norm 512
    #                + kv_b 512x(128x256) + o 16384x7168
    assert c.layers[0].attention == 11_010_048 + 1_536 + 37_748_736 + 4_128_768 + 512 + 16_777_216 + 117_440_512
    assert abs(c.total - 671e9) / 671e9 < 0.01
    assert abs(c.active_per_token - 37e9) / 37e9 < 0.03  # the report rounds to 37B


def test_article_level_model_keeps_the_declared_count():
    spec = ModelSpec(params=13_000_000_000, layers=40, hidden=5120, heads=40)
    assert parameter_count(spec) == 13_000_000_000
