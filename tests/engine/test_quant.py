"""Weight bytes per format, derived by hand on a small model, and published GGUF file sizes.

The small model: 2 layers, hidden 256, 4 heads of 64, 2 KV heads (GQA), gated
MLP of 512, vocab 1000, RMSNorm, no biases, untied output.
Per layer: q 256x256 = 65,536; k, v 128x256 = 32,768 each; o 65,536;
gate, up 512x256 = 131,072 each; down 256x512 = 131,072; norms 2 x 256 = 512.
  matrices per layer = 65,536 x 2 + 32,768 x 2 + 131,072 x 3 = 589,824
Outside the layers: embedding 1000 x 256 = 256,000, output 256,000, final norm 256.
Total = 2 x (589,824 + 512) + 512,000 + 256 = 1,692,928 parameters.
"""

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from engine.errors import PlanError
from engine.model.params import parameter_count
from engine.model.spec import ModelSpec
from engine.weights import formats as f
from engine.weights.quant import find_scheme, tensor_bytes, tensor_format
from engine.weights.tensors import layer_tensors, outer_tensors

SMALL = ModelSpec(name="small", layers=2, hidden=256, heads=4, kv_heads=2, ffn=512, vocab=1000,
                  gated_mlp=True, norm="rmsnorm", bias=False)
# 16-bit parts the Hugging Face formats keep: embedding + output + norms (2 x 512 + 256) elements x 2 B
HF_KEPT_BYTES = (256_000 + 256_000 + 2 * 512 + 256) * 2  # = 1,026,560


def model_bytes(quant: str, spec: ModelSpec = SMALL, **kw) -> int:
    scheme = find_scheme(quant, **kw)
    tensors = [t for layer in layer_tensors(spec) for t in layer] + list(outer_tensors(spec))
    return sum(tensor_bytes(scheme, t, spec) for t in tensors)


def test_small_model_parameter_count():
    assert parameter_count(SMALL) == 1_692_928


def test_float_formats():
    assert model_bytes("fp32") == 4 * 1_692_928
    assert model_bytes("bf16") == 2 * 1_692_928 == 3_385_856
    assert model_bytes("fp16") == 3_385_856


def test_fp8_per_tensor_scale():
    # 14 linear matrices (7 per layer): 1,179,648 elements x 1 B + 14 fp32 scales x 4 B
    assert model_bytes("fp8") == 1_179_648 + 14 * 4 + HF_KEPT_BYTES == 2_206_264


def test_int8_weight_only_per_channel_fp16_scale():
    # rows per layer: q 256 + k 128 + v 128 + o 256 + gate 512 + up 512 + down 256 = 2,048; x 2 layers x 2 B
    assert model_bytes("int8") == 1_179_648 + 4_096 * 2 + HF_KEPT_BYTES == 2_214_400


def test_llm_int8_fp32_row_absmax():
    assert model_bytes("llm-int8") == 1_179_648 + 4_096 * 4 + HF_KEPT_BYTES


def test_gptq_group_128():
    # bits = elements x 4 + groups x (16-bit scale + 4-bit zero); groups = rows x cols/128
    q = (65_536 * 4 + 256 * 2 * 20) // 8  # 34,048 B (o the same)
    kv = (32_768 * 4 + 128 * 2 * 20) // 8  # 17,024 B each
    gate = (131_072 * 4 + 512 * 2 * 20) // 8  # 68,096 B (up the same)
    down = (131_072 * 4 + 256 * 4 * 20) // 8  # 68,096 B: 512 cols = 4 groups per row
    per_layer = 2 * q + 2 * kv + 2 * gate + down
    assert per_layer == 306_432
    assert model_bytes("int4-gptq") == 2 * per_layer + HF_KEPT_BYTES == 1_639_424
    assert model_bytes("int4-awq") == 1_639_424


def test_gptq_group_size_changes_scales():
    # g = 64 doubles the groups: 20 bits more per 64 elements than per 128 -> 20 x (n/64 - n/128) bits
    extra_bits = 20 * (1_179_648 // 64 - 1_179_648 // 128)
    assert model_bytes("int4-gptq", group=64) - model_bytes("int4-gptq") == extra_bits // 8


def test_nf4_double_quant():
    # flat blocks of 64: 4 bits + 8-bit absmax per block + fp32 per 256 blocks + one fp32 offset per tensor
    q = (65_536 * 4 + 1_024 * 8 + 4 * 32 + 32) // 8  # 33,812 (1,024 blocks, 4 groups of 256)
    kv = (32_768 * 4 + 512 * 8 + 2 * 32 + 32) // 8  # 16,908
    big = (131_072 * 4 + 2_048 * 8 + 8 * 32 + 32) // 8  # 67,620 (gate, up, down)
    assert (q, kv, big) == (33_812, 16_908, 67_620)
    assert model_bytes("nf4") == 2 * (2 * q + 2 * kv + 3 * big) + HF_KEPT_BYTES == 1_635_160


def test_nf4_without_double_quant():
    # fp32 absmax per 64: 4 + 32/64 = 4.5 bits per weight exactly
    assert model_bytes("nf4", double_quant=False) == 1_179_648 * 9 // 16 + HF_KEPT_BYTES


def test_qlora_paper_bits_per_weight():
    # Dettmers et al. 2023: double quantization cuts 32/64 = 0.5 to 8/64 + 32/(64*256) = 0.127 bits
    assert f.bnb_4bit("NF4", True).bits_per_weight == pytest.approx(4 + 8 / 64 + 32 / (64 * 256))
    assert f.bnb_4bit("NF4", False).bits_per_weight == 4.5


@pytest.mark.parametrize(("fmt", "block_bytes", "block"), [
    (f.Q8_0, 34, 32), (f.Q4_0, 18, 32), (f.Q4_1, 20, 32), (f.Q5_0, 22, 32), (f.Q5_1, 24, 32),
    (f.Q2_K, 84, 256), (f.Q3_K, 110, 256), (f.Q4_K, 144, 256), (f.Q5_K, 176, 256), (f.Q6_K, 210, 256),
    (f.IQ4_XS, 136, 256), (f.IQ4_NL, 18, 32),
])
def test_gguf_block_sizes(fmt, block_bytes, block):
    # sizeof(block_*) in ggml-common.h, e.g. block_q4_K = 2 x fp16 + 12 scale bytes + 128 code bytes = 144
    assert fmt.tensor_bytes(1, block) == block_bytes
    assert fmt.tensor_bytes(3, 2 * block) == 6 * block_bytes


def test_q8_0():
    # every matrix and the embedding Q8_0 (34 B / 32); output stays Q8_0; norms F32
    matrices = 2 * 589_824 // 32 * 34  # 1,253,376
    assert model_bytes("Q8_0") == matrices + 2 * 256_000 // 32 * 34 + (2 * 512 + 256) * 4 == 1_802_496


def test_q4_0():
    # matrices and embedding Q4_0 (18 B / 32), output Q6_K (210 B / 256), norms F32
    assert model_bytes("Q4_0") == 2 * 589_824 // 32 * 18 + 256_000 // 32 * 18 + 1_000 * 210 + 1_280 * 4 == 1_022_672


def test_q4_k_m_bumps_attn_v_and_ffn_down_on_use_more_bits_layers():
    # use_more_bits(i, n=2): i < 0 or i >= 7*2//8 = 1 or (i - 0) % 3 == 2  ->  layer 1 only.
    layer0 = 589_824 // 256 * 144  # all Q4_K: 331,776
    v, down = 32_768 // 256 * 210, 131_072 // 256 * 210  # layer 1 attn_v and ffn_down in Q6_K
    layer1 = v + down + (589_824 - 32_768 - 131_072) // 256 * 144  # 374,016
    outer = 256_000 // 256 * 144 + 256_000 // 256 * 210 + 1_280 * 4  # embedding Q4_K, output Q6_K, norms F32
    assert model_bytes("Q4_K_M") == layer0 + layer1 + outer == 1_064_912


def test_q4_k_s_and_q5_k_m_rules():
    v1 = next(t for t in layer_tensors(SMALL)[1] if t.name == "v_proj")
    assert tensor_format(find_scheme("Q4_K_S"), v1, SMALL) is f.Q5_K  # i_attention_wv < 4
    assert tensor_format(find_scheme("Q5_K_M"), v1, SMALL) is f.Q6_K
    assert tensor_format(find_scheme("Q5_K_S"), v1, SMALL) is f.Q5_K
    assert tensor_format(find_scheme("Q2_K"), v1, SMALL) is f.Q3_K  # GQA 2 < 4
    gqa8 = SMALL.model_copy(update={"heads": 8, "head_dim": 32})
    v1_8 = next(t for t in layer_tensors(gqa8)[1] if t.name == "v_proj")
    assert tensor_format(find_scheme("Q2_K"), v1_8, gqa8) is f.Q4_K  # GQA 4 -> Q4_K
    assert tensor_format(find_scheme("IQ4_XS"), v1_8, gqa8) is f.Q5_K


def test_gguf_fallback_when_rows_do_not_divide_the_block():
    # ffn 384: ffn_down rows have 384 elements, not a multiple of 256 -> Q4_K falls back to Q5_0
    spec = SMALL.model_copy(update={"ffn": 384})
    down0 = next(t for t in layer_tensors(spec)[0] if t.name == "down_proj")
    assert tensor_format(find_scheme("Q4_K_M"), down0, spec) is f.Q5_0
    assert tensor_bytes(find_scheme("Q4_K_M"), down0, spec) == 256 * 384 // 32 * 22


def test_gguf_tied_embedding_takes_the_output_type():
    tied = SMALL.model_copy(update={"tied_embeddings": True})
    emb = next(t for t in outer_tensors(tied) if t.cls == "embedding")
    assert tensor_format(find_scheme("Q4_K_M"), emb, tied) is f.Q6_K


# Published: TheBloke/Llama-2-7B-GGUF model card, "Provided files" (file sizes in GB, two decimals).
# Q2_K is left out: the card's file predates llama.cpp's current Q2_K recipe.
LLAMA2_7B = ModelSpec(name="llama-2-7b", layers=32, hidden=4096, heads=32, ffn=11008, vocab=32000,
                      gated_mlp=True, norm="rmsnorm", bias=False)


@pytest.mark.parametrize(("quant", "published_gb"), [
    ("Q3_K_M", 3.30), ("Q4_0", 3.83), ("Q4_K_S", 3.86), ("Q4_K_M", 4.08), ("Q5_0", 4.65),
    ("Q5_K_S", 4.65), ("Q5_K_M", 4.78), ("Q6_K", 5.53), ("Q8_0", 7.16),
])
def test_llama2_7b_gguf_file_sizes(quant, published_gb):
    # the file adds a few hundred kB of metadata (tokenizer); the card rounds to 0.01 GB
    assert model_bytes(quant, LLAMA2_7B) / 1e9 == pytest.approx(published_gb, abs=0.01)


def test_unknown_quant_names_the_field():
    with pytest.raises(PlanError) as e:
        find_scheme("int3")
    assert e.value.field == "serving.quant"


@settings(max_examples=40, deadline=None)
@given(layers=st.integers(1, 6), heads=st.sampled_from([2, 4, 8]), kv_div=st.sampled_from([1, 2]),
       head_dim=st.sampled_from([16, 32, 64]), ffn=st.integers(1, 64).map(lambda x: 32 * x),
       vocab=st.integers(1, 500), gated=st.booleans(), bias=st.booleans(), tied=st.booleans())
def test_tensors_sum_to_the_parameter_count(layers, heads, kv_div, head_dim, ffn, vocab, gated, bias, tied):
    spec = ModelSpec(layers=layers, hidden=heads * head_dim, heads=heads, kv_heads=heads // kv_div, ffn=ffn,
                     vocab=vocab, gated_mlp=gated, bias=bias, tied_embeddings=tied)
    tensors = [t for layer in layer_tensors(spec) for t in layer] + list(outer_tensors(spec))
    assert sum(t.elements for t in tensors) == parameter_count(spec)
    # 16-bit is exactly two bytes per parameter; every quantized format is smaller than fp32
    assert model_bytes("bf16", spec) == 2 * parameter_count(spec)
    assert model_bytes("Q4_K_M", spec) < model_bytes("fp32", spec)
