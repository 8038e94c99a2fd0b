"""MXFP4 (gpt-oss's experts): the format's bytes, the schemes that use it, vLLM's kernels' padding and copies,
and what picks the format (the checkpoint's quantization_config, the preset, a model switch).

MXFP4 (OCP MX v1.0; ggml block_mxfp4): 32 FP4 E2M1 codes (16 B) + one E8M0 scale (1 B) = 17 B per 32 elements.

gpt-oss-20b (config.json): 24 layers, hidden 2,880, 64 heads x 64 (q 4,096), 8 KV heads (k, v 512 each), biases
on q/k/v/o, 32 experts of FFN 2,880 (gate, up, down, each with a bias), a router of 32 x 2,880, vocabulary 201,088,
untied output.  One expert matrix is 2,880 x 2,880 = 8,294,400 elements = 2,880 rows x 90 blocks x 17 B =
4,406,400 B in MXFP4.
"""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from engine.catalog import find_gpu, find_model
from engine.cli.main import main
from engine.importers.hf_config import spec_from_config
from engine.importers.quantization import serving_defaults
from engine.serving.release import quant_for_model, release_quant
from engine.serving.vllm_mxfp4 import FLASHINFER_SM100, MARLIN, ROCM_TRITON, TRITON, mxfp4_backend
from engine.weights import formats as f
from engine.weights.quant import find_scheme, tensor_bytes
from engine.weights.tensors import layer_tensors, outer_tensors

EXPERT_MATRIX = 2_880 * 90 * 17  # = 4,406,400 B
EXPERTS_20B = 24 * 32 * 3 * EXPERT_MATRIX  # = 10,152,345,600 B
# Everything else of gpt-oss-20b, in parameters: per layer q/k/v/o 2,880 x (4,096 + 512 + 512) + 4,096 x 2,880
# = 26,542,080, their biases 4,096 + 512 + 512 + 2,880 = 8,000, the experts' biases 32 x (2 x 2,880 + 2,880)
# = 276,480, the router 32 x 2,880 = 92,160, two norms 5,760: 26,924,480 a layer; outside: embedding and output
# 201,088 x 2,880 = 579,133,440 each, final norm 2,880.
REST_PARAMS_20B = 24 * 26_924_480 + 2 * 579_133_440 + 2_880  # = 1,804,457,280


def _bytes(quant: str, model: str = "gpt-oss-20b") -> int:
    spec = find_model(model).spec
    scheme = find_scheme(quant)
    tensors = [t for layer in layer_tensors(spec) for t in layer] + list(outer_tensors(spec))
    return sum(tensor_bytes(scheme, t, spec) for t in tensors)


def _report(capsys, *args: str) -> dict:
    assert main(["infer", *args, "--json"]) == 0
    return json.loads(capsys.readouterr().out)


def test_mxfp4_block_is_17_bytes_per_32():
    assert f.MXFP4.tensor_bytes(2_880, 2_880) == EXPERT_MATRIX == 4_406_400
    assert f.MXFP4.bits_per_weight == 4.25


def test_gpt_oss_20b_release_is_its_checkpoint():
    # the experts' matrices in MXFP4, the rest (attention, biases, router, norms, embeddings) in bf16:
    # 10,152,345,600 + 2 x 1,804,457,280 = 13,761,260,160 B; Hugging Face lists the three safetensors shards at
    # 4.79 + 4.8 + 4.17 = 13.76 GB (openai/gpt-oss-20b, refs/pr/109 file listing)
    assert _bytes("mxfp4") == EXPERTS_20B + 2 * REST_PARAMS_20B == 13_761_260_160


def test_gpt_oss_20b_mxfp4_moe_gguf():
    # llama-quant.cpp, LLAMA_FTYPE_MOSTLY_MXFP4_MOE: 3-D (expert) tensors MXFP4, other matrices and the output Q8_0
    # (34 B per 32), 1-D tensors and the router F32.
    q8_layer = (4_096 * 90 + 512 * 90 * 2 + 2_880 * 128) * 34  # q, k, v (rows x 90 blocks), o (2,880 x 128 blocks)
    f32_layer = (8_000 + 276_480 + 92_160 + 5_760) * 4  # biases, expert biases, router, norms
    embedding = 201_088 * 90 * 34  # = 615,329,280, the output the same
    expected = EXPERTS_20B + 24 * (q8_layer + f32_layer) + 2 * embedding + 2_880 * 4
    assert _bytes("MXFP4_MOE") == expected == 12_096_549_120
    # published: 'print_info: file size = 11.27 GiB (4.63 BPW)' (ggml-org gpt-oss-20b-mxfp4.gguf,
    # ikawrakow/ik_llama.cpp#822, mainline build 6699)
    assert round(expected / 2**30, 2) == 11.27


def test_gpt_oss_120b_mxfp4_moe_gguf_matches_its_published_size():
    # 'print_info: file size = 59.02 GiB (4.34 BPW)' (lmstudio-community gpt-oss-120b MXFP4, ggml-org/llama.cpp#15253)
    assert round(_bytes("MXFP4_MOE", "gpt-oss-120b") / 2**30, 2) == 59.02


def test_mxfp4_schemes_leave_dense_models_unquantized():
    spec = find_model("llama-3.1-8b").spec
    tensors = [t for layer in layer_tensors(spec) for t in layer] + list(outer_tensors(spec))
    assert sum(tensor_bytes(find_scheme("mxfp4"), t, spec) for t in tensors) == \
        sum(tensor_bytes(find_scheme("bf16"), t, spec) for t in tensors)


@pytest.mark.parametrize(("gpu", "version", "backend"), [
    ("A100 80GB", None, MARLIN), ("RTX 4090", None, MARLIN), ("RTX 5090", None, MARLIN),
    ("H100 SXM", None, TRITON), ("H100 SXM", (0, 14, 1), TRITON), ("H100 SXM", (0, 10, 1), MARLIN),
    ("B200", None, FLASHINFER_SM100), ("MI300X", None, ROCM_TRITON),
])
def test_vllm_mxfp4_backend_by_card_and_release(gpu, version, backend):
    assert mxfp4_backend(find_gpu(gpu), version) == backend


# gpt-oss-120b on one H100: 36 layers of 128 experts.  Per layer, outside the experts' matrices, in bf16:
# attention 26,542,080 + biases 8,000 + router 128 x 2,880 = 368,640 + norms 5,760 = 26,924,480 parameters,
# and the experts' biases 128 x 8,640 = 1,105,920 (vLLM keeps them bf16, unpadded here); outside the layers the
# embedding and output 2 x 579,133,440 and the final norm 2,880.
REST_LAYER_120B = (26_924_480 + 1_105_920) * 2  # = 56,060,800 B
OUTER_120B = (2 * 579_133_440 + 2_880) * 2  # = 2,316,539,520 B


def _weights(capsys, *args: str) -> int:
    return _report(capsys, "--model", "gpt-oss-120b", "--runtime", "vllm", "--gpu", "H100 SXM",
                   *args)["cards"][0]["breakdown"]["weights"]


def test_vllm_marlin_pads_experts(capsys):
    # Marlin: FFN 2,880 -> 2,944 (128), hidden 2,880 -> 3,072 (256); per expert codes 2 x 2,944 x 3,072 / 2 +
    # 3,072 x 2,944 / 2 = 13,565,952 and scales 2 x 2,944 x 96 + 3,072 x 92 = 847,872
    expert = 13_565_952 + 847_872
    expected = 36 * (128 * expert + REST_LAYER_120B) + OUTER_120B
    assert _weights(capsys, "--vllm-version", "0.10.1") == expected == 70_753_629_312
    # published: 'Model loading took 65.9651 GiB' (vLLM 0.10.1, one H100, Marlin; vllm-project/vllm#23278)
    assert abs(expected / 2**30 / 65.9651 - 1) < 0.005


def test_vllm_triton_keeps_scale_copies_and_fp32_biases(capsys):
    # Triton: FFN padded to 64 (2,880 stays): the checkpoint's 13,219,200 B an expert (4,406,400 x 3 codes and
    # scales), plus per layer the swizzled scales (rows to 256: 5,888 x 90 + 3,072 x 90 = 806,400 an expert) and
    # the biases' fp32 upcast ((5,760 + 2,880) x 2 B = 17,280 an expert)
    resident = 128 * (806_400 + 17_280)
    expected = 36 * (128 * 3 * EXPERT_MATRIX + REST_LAYER_120B + resident) + OUTER_120B
    assert _weights(capsys, "--vllm-version", "0.14.1") == expected == 69_044_319_360
    # published: 'Model loading took 64.38 GiB' (vLLM 0.14.1, one H100, 'Using Triton backend'; vllm-project/vllm#33155)
    assert abs(expected / 2**30 / 64.38 - 1) < 0.005


def test_mxfp4_on_a_card_vllm_cannot_serve_it(capsys):
    report = _report(capsys, "--model", "gpt-oss-20b", "--runtime", "vllm", "--gpu", "T4")
    refused = [w for w in report["warnings"] if w["code"] == "format-unsupported"]
    assert refused and "compute capability 8.0" in refused[0]["message"]


def test_checkpoint_quantization_config_names_mxfp4():
    assert serving_defaults({"quantization_config": {"quant_method": "mxfp4", "modules_to_not_convert": [
        "model.layers.*.self_attn", "model.layers.*.mlp.router", "model.embed_tokens", "lm_head"]}})["quant"] == "mxfp4"


def test_gpt_oss_config_imports_as_the_preset():
    layer_types = ["sliding_attention", "full_attention"] * 12
    config = {"model_type": "gpt_oss", "num_hidden_layers": 24, "hidden_size": 2880, "num_attention_heads": 64,
              "num_key_value_heads": 8, "head_dim": 64, "intermediate_size": 2880, "num_local_experts": 32,
              "num_experts_per_tok": 4, "vocab_size": 201088, "attention_bias": True, "tie_word_embeddings": False,
              "sliding_window": 128, "layer_types": layer_types, "max_position_embeddings": 131072}
    assert spec_from_config(config, "gpt-oss-20b") == find_model("gpt-oss-20b").spec


def test_a_preset_released_quantized_is_served_in_its_format(capsys):
    assert release_quant("gpt-oss-20b", "vllm") == "mxfp4"
    assert release_quant("gpt-oss-20b", "llamacpp") == "MXFP4_MOE"
    assert release_quant("llama-3.1-8b", "vllm") is None
    args = ("--model", "gpt-oss-20b", "--gpu", "H100 SXM")
    assert _report(capsys, *args, "--runtime", "vllm")["serving"]["quant"] == "mxfp4"
    assert _report(capsys, *args, "--runtime", "llamacpp")["serving"]["quant"] == "MXFP4_MOE"
    assert _report(capsys, *args, "--runtime", "vllm", "--quant", "bf16")["serving"]["quant"] == "bf16"


def test_a_model_switch_carries_the_release_format_unless_the_user_chose_one():
    oss, llama = find_model("gpt-oss-20b").spec, find_model("llama-3.1-8b").spec
    assert quant_for_model(llama, oss, "bf16", "vllm") == "mxfp4"
    assert quant_for_model(oss, llama, "mxfp4", "vllm") == "bf16"
    assert quant_for_model(oss, llama, "MXFP4_MOE", "llamacpp") == "bf16"
    assert quant_for_model(llama, oss, "int4-awq", "vllm") == "int4-awq"
    assert quant_for_model(oss, find_model("qwen3-30b-a3b").spec, "mxfp4", "vllm") == "bf16"


def test_format_options_skip_experts_only_formats_for_dense_models(tmp_path, capsys):
    from engine.plan.schema import load_plan
    from engine.serving.answers import quant_options

    names = {}
    for model in ("llama-3.1-8b", "gpt-oss-20b"):
        path = tmp_path / f"{model}.json"
        assert main(["infer", "--model", model, "--runtime", "vllm", "--gpu", "H100 SXM", "--save-plan", str(path)]) == 0
        capsys.readouterr()
        names[model] = {o.quant for o in quant_options(load_plan(path))}
    assert "mxfp4" not in names["llama-3.1-8b"] and "bf16" in names["llama-3.1-8b"]
    assert "mxfp4" in names["gpt-oss-20b"]


def test_a_gguf_of_gpt_oss_keeps_the_experts_mxfp4(capsys):
    # bartowski's gpt-oss-20b quants (llama.cpp b6096): "All quants keep the feed forward networks at mxfp4".
    # Q6_K: the experts 10,152,345,600 B as released; q, k, v (2,880-wide rows, not a multiple of 256) fall back
    # to Q8_0: (4,096 + 512 + 512) x 90 x 34 = 15,667,200 a layer; attn_output (4,096 wide) Q6_K: 2,880 x 16
    # blocks x 210 = 9,676,800; token embedding and output (2,880 wide) Q8_0 615,329,280 each; F32 as in MXFP4_MOE
    f32 = 24 * (8_000 + 276_480 + 92_160 + 5_760) * 4 + 2_880 * 4
    expected = EXPERTS_20B + 24 * (15_667_200 + 9_676_800) + 2 * 615_329_280 + f32
    report = _report(capsys, "--model", "gpt-oss-20b", "--quant", "Q6_K", "--runtime", "llamacpp", "--gpu", "RTX 4090")
    assert report["weight_bytes"] == expected == 12_027_982_080
    # published: 'gpt-oss-20b-Q6_K.gguf ... 12.04GB ... Q6_K with all FFN kept at MXFP4_MOE' (the model card)
    assert abs(expected / 1e9 - 12.04) < 0.02


def test_the_catalog_lists_each_preset_release_format(capsys):
    assert main(["catalog", "models"]) == 0
    rows = {line.split()[0]: line.split()[-1] for line in capsys.readouterr().out.splitlines() if line.strip()}
    assert rows["gpt-oss-20b"] == "mxfp4" and rows["deepseek-r1"] == "fp8" and rows["llama-3.1-8b"] == "16-bit"


def test_mxfp4_under_llama_cpp_says_which_gguf_it_is(capsys):
    report = _report(capsys, "--model", "gpt-oss-20b", "--quant", "mxfp4", "--runtime", "llamacpp", "--gpu", "RTX 4090")
    assert any(w["code"] == "mxfp4-gguf" and "MXFP4_MOE" in w["message"] for w in report["warnings"])


@settings(max_examples=60, deadline=None)
@given(layers=st.integers(1, 6), hidden=st.sampled_from([256, 512, 2880, 4096]), experts=st.integers(2, 16),
       expert_ffn=st.sampled_from([128, 704, 1408, 2880]), tp=st.sampled_from([1, 2, 4]))
def test_mxfp4_bounds_and_padding_never_shrink(layers, hidden, experts, expert_ffn, tp):
    from dataclasses import replace

    from engine.model.spec import ModelSpec, MoESpec
    from engine.serving.vllm_mxfp4 import MARLIN, TRITON

    spec = ModelSpec(name="moe", layers=layers, hidden=hidden, heads=8, kv_heads=2, head_dim=64, ffn=4 * hidden,
                     vocab=1024, gated_mlp=True, norm="rmsnorm", bias=False,
                     moe=MoESpec(experts=experts, top_k=2, expert_ffn=expert_ffn))
    tensors = [t for layer in layer_tensors(spec) for t in layer] + list(outer_tensors(spec))

    def total(scheme) -> int:
        return sum(tensor_bytes(scheme, t, spec, tp) for t in tensors)

    mx, bf16 = find_scheme("mxfp4"), find_scheme("bf16")
    rest = sum(tensor_bytes(bf16, t, spec, tp) for t in tensors if not t.is_routed_expert)
    experts_bf16 = total(bf16) - rest
    # the experts shrink to 17/32 of a byte per element (within a block's rounding), the rest stays bf16
    assert rest < total(mx) < total(bf16)
    assert total(mx) - rest <= experts_bf16 * 17 // 64 + experts * 3 * 2 * hidden
    # a kernel's padding adds bytes, never removes them; Marlin pads at least as much as Triton
    plain, triton, marlin = total(mx), total(replace(mx, expert_pad=TRITON.pad)), total(replace(mx, expert_pad=MARLIN.pad))
    assert plain <= triton <= marlin


def test_the_text_report_says_the_release_format_was_chosen(capsys):
    assert main(["infer", "--model", "gpt-oss-20b", "--gpu", "RTX 4090", "--runtime", "vllm"]) == 0
    assert "gpt-oss-20b is served as released, in mxfp4" in capsys.readouterr().out
    assert main(["infer", "--model", "gpt-oss-20b", "--gpu", "RTX 4090", "--runtime", "vllm", "--quant", "mxfp4"]) == 0
    assert "served as released" not in capsys.readouterr().out  # the user chose it
