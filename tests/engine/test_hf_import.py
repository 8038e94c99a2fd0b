"""Offline import: real config.json files, synthetic safetensors and GGUF headers, clear errors."""

from __future__ import annotations

import json
import struct
from pathlib import Path

import pytest

from engine.cli.main import main
from engine.errors import PlanError
from engine.importers.hf_import import inspect_local, model_from_local
from engine.model.params import parameter_count, parameter_counts

# --- real config.json files, as published on the Hugging Face Hub ------------------------------
LLAMA_2_7B = {
    "architectures": ["LlamaForCausalLM"], "bos_token_id": 1, "eos_token_id": 2, "hidden_act": "silu",
    "hidden_size": 4096, "initializer_range": 0.02, "intermediate_size": 11008, "max_position_embeddings": 4096,
    "model_type": "llama", "num_attention_heads": 32, "num_hidden_layers": 32, "num_key_value_heads": 32,
    "pretraining_tp": 1, "rms_norm_eps": 1e-05, "rope_scaling": None, "tie_word_embeddings": False,
    "torch_dtype": "float16", "transformers_version": "4.31.0.dev0", "use_cache": True, "vocab_size": 32000,
}
QWEN2_5_7B = {
    "architectures": ["Qwen2ForCausalLM"], "attention_dropout": 0.0, "bos_token_id": 151643, "eos_token_id": 151643,
    "hidden_act": "silu", "hidden_size": 3584, "initializer_range": 0.02, "intermediate_size": 18944,
    "max_position_embeddings": 131072, "max_window_layers": 28, "model_type": "qwen2", "num_attention_heads": 28,
    "num_hidden_layers": 28, "num_key_value_heads": 4, "rms_norm_eps": 1e-06, "rope_theta": 1000000.0,
    "sliding_window": 131072, "tie_word_embeddings": False, "torch_dtype": "bfloat16", "transformers_version": "4.43.1",
    "use_cache": True, "use_mrope": False, "use_sliding_window": False, "vocab_size": 152064,
}
MIXTRAL_8X7B = {
    "architectures": ["MixtralForCausalLM"], "attention_dropout": 0.0, "bos_token_id": 1, "eos_token_id": 2,
    "hidden_act": "silu", "hidden_size": 4096, "initializer_range": 0.02, "intermediate_size": 14336,
    "max_position_embeddings": 32768, "model_type": "mixtral", "num_attention_heads": 32, "num_experts_per_tok": 2,
    "num_hidden_layers": 32, "num_key_value_heads": 8, "num_local_experts": 8, "output_router_logits": False,
    "rms_norm_eps": 1e-05, "rope_theta": 1000000.0, "router_aux_loss_coef": 0.02, "sliding_window": None,
    "tie_word_embeddings": False, "torch_dtype": "bfloat16", "transformers_version": "4.36.0.dev0", "use_cache": True,
    "vocab_size": 32000,
}
DEEPSEEK_V3 = {
    "architectures": ["DeepseekV3ForCausalLM"], "attention_bias": False, "attention_dropout": 0.0,
    "bos_token_id": 0, "eos_token_id": 1, "ep_size": 1, "first_k_dense_replace": 3, "hidden_act": "silu",
    "hidden_size": 7168, "initializer_range": 0.02, "intermediate_size": 18432, "kv_lora_rank": 512,
    "max_position_embeddings": 163840, "model_type": "deepseek_v3", "moe_intermediate_size": 2048,
    "moe_layer_freq": 1, "n_group": 8, "n_routed_experts": 256, "n_shared_experts": 1, "norm_topk_prob": True,
    "num_attention_heads": 128, "num_experts_per_tok": 8, "num_hidden_layers": 61, "num_key_value_heads": 128,
    "num_nextn_predict_layers": 1, "q_lora_rank": 1536, "qk_nope_head_dim": 128, "qk_rope_head_dim": 64,
    "rms_norm_eps": 1e-06, "rope_theta": 10000, "routed_scaling_factor": 2.5, "scoring_func": "sigmoid",
    "tie_word_embeddings": False, "topk_group": 4, "topk_method": "noaux_tc", "torch_dtype": "bfloat16",
    "transformers_version": "4.33.1", "use_cache": True, "v_head_dim": 128, "vocab_size": 129280,
    "quantization_config": {"activation_scheme": "dynamic", "fmt": "e4m3", "quant_method": "fp8",
                            "weight_block_size": [128, 128]},
}
GPT2 = {
    "activation_function": "gelu_new", "architectures": ["GPT2LMHeadModel"], "attn_pdrop": 0.1,
    "bos_token_id": 50256, "embd_pdrop": 0.1, "eos_token_id": 50256, "initializer_range": 0.02,
    "layer_norm_epsilon": 1e-05, "model_type": "gpt2", "n_ctx": 1024, "n_embd": 768, "n_head": 12, "n_layer": 12,
    "n_positions": 1024, "resid_pdrop": 0.1, "summary_activation": None, "summary_first_dropout": 0.1,
    "summary_proj_to_labels": True, "summary_type": "cls_index", "summary_use_proj": True,
    "task_specific_params": {"text-generation": {"do_sample": True, "max_length": 50}}, "vocab_size": 50257,
}
FALCON_7B = {
    "alibi": False, "apply_residual_connection_post_layernorm": False, "architectures": ["FalconForCausalLM"],
    "attention_dropout": 0.0, "bias": False, "bos_token_id": 11, "eos_token_id": 11, "hidden_dropout": 0.0,
    "hidden_size": 4544, "initializer_range": 0.02, "layer_norm_epsilon": 1e-05, "model_type": "falcon",
    "multi_query": True, "new_decoder_architecture": False, "num_attention_heads": 71, "num_hidden_layers": 32,
    "parallel_attn": True, "torch_dtype": "bfloat16", "transformers_version": "4.27.4", "use_cache": True,
    "vocab_size": 65024,
}
CHATGLM3_6B = {
    "_name_or_path": "THUDM/chatglm3-6b", "model_type": "chatglm", "architectures": ["ChatGLMModel"],
    "add_bias_linear": False, "add_qkv_bias": True, "apply_query_key_layer_scaling": True,
    "apply_residual_connection_post_layernorm": False, "attention_dropout": 0.0, "attention_softmax_in_fp32": True,
    "bias_dropout_fusion": True, "ffn_hidden_size": 13696, "fp32_residual_connection": False, "hidden_dropout": 0.0,
    "hidden_size": 4096, "kv_channels": 128, "layernorm_epsilon": 1e-05, "multi_query_attention": True,
    "multi_query_group_num": 2, "num_attention_heads": 32, "num_layers": 28, "original_rope": True,
    "padded_vocab_size": 65024, "post_layer_norm": True, "rmsnorm": True, "seq_length": 8192, "use_cache": True,
    "torch_dtype": "float16", "transformers_version": "4.30.2", "tie_word_embeddings": False, "eos_token_id": 2,
    "pad_token_id": 0,
}
PYTHIA_1_4B = {
    "architectures": ["GPTNeoXForCausalLM"], "bos_token_id": 0, "eos_token_id": 0, "hidden_act": "gelu",
    "hidden_size": 2048, "initializer_range": 0.02, "intermediate_size": 8192, "layer_norm_eps": 1e-05,
    "max_position_embeddings": 2048, "model_type": "gpt_neox", "num_attention_heads": 16, "num_hidden_layers": 24,
    "rotary_emb_base": 10000, "rotary_pct": 0.25, "tie_word_embeddings": False, "torch_dtype": "float16",
    "transformers_version": "4.24.0", "use_cache": True, "use_parallel_residual": True, "vocab_size": 50304,
}


PHI_2 = {  # microsoft/phi-2 config.json
    "architectures": ["PhiForCausalLM"], "attention_dropout": 0.0, "bos_token_id": 50256, "embd_pdrop": 0.0,
    "eos_token_id": 50256, "hidden_act": "gelu_new", "hidden_size": 2560, "initializer_range": 0.02,
    "intermediate_size": 10240, "layer_norm_eps": 1e-05, "max_position_embeddings": 2048, "model_type": "phi",
    "num_attention_heads": 32, "num_hidden_layers": 32, "num_key_value_heads": 32, "partial_rotary_factor": 0.4,
    "qk_layernorm": False, "resid_pdrop": 0.1, "rope_scaling": None, "rope_theta": 10000.0,
    "tie_word_embeddings": False, "torch_dtype": "float16", "transformers_version": "4.37.0", "use_cache": True,
    "vocab_size": 51200,
}


def write_config(folder: Path, config: dict) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "config.json").write_text(json.dumps(config), encoding="utf-8")
    return folder


def test_llama_2_7b_config(tmp_path):
    spec = model_from_local(write_config(tmp_path / "Llama-2-7b-hf", LLAMA_2_7B))
    # 32 x (4 x 4096^2 + 3 x 4096 x 11008 + 2 x 4096) + 4096 + 2 x 32000 x 4096 = 6,738,415,616 (published exact count)
    assert parameter_count(spec) == 6_738_415_616
    assert spec.name == "Llama-2-7b-hf" and spec.norm == "rmsnorm" and spec.gated_mlp and not spec.bias
    assert spec.max_context == 4096  # max_position_embeddings: caps serving answers


def test_granite_config_scales_its_logits(tmp_path):
    # ibm/PowerLM-3b's shape (the PowerLM paper, Table 4) as GraniteForCausalLM writes it, muP multipliers included
    config = {"architectures": ["GraniteForCausalLM"], "model_type": "granite", "hidden_size": 2304,
              "intermediate_size": 9216, "num_hidden_layers": 40, "num_attention_heads": 36,
              "num_key_value_heads": 36, "vocab_size": 49152, "tie_word_embeddings": True,
              "max_position_embeddings": 4096, "logits_scaling": 8.0, "residual_multiplier": 0.22,
              "embedding_multiplier": 12.0, "attention_multiplier": 0.015625}
    spec = model_from_local(write_config(tmp_path / "PowerLM-3b", config))
    # 40 x (4 x 2304^2 + 3 x 2304 x 9216 + 2 x 2304) + 2304 + 49,152 x 2304 (tied) = 3,510,819,072
    assert parameter_count(spec) == 40 * (4 * 2304**2 + 3 * 2304 * 9216 + 2 * 2304) + 2304 + 49152 * 2304 \
        == 3_510_819_072
    assert spec.scaled_logits and spec.tied_embeddings and not spec.bias
    unscaled = model_from_local(write_config(tmp_path / "g1", {**config, "logits_scaling": 1.0}))
    assert not unscaled.scaled_logits
    assert not model_from_local(write_config(tmp_path / "Llama-2-7b-hf", LLAMA_2_7B)).scaled_logits


def test_qwen2_5_7b_config(tmp_path):
    spec = model_from_local(write_config(tmp_path / "q", QWEN2_5_7B))
    # per layer: q 3584^2 + 3584 (bias) ; k, v 2 x (3584 x 512 + 512) ; o 3584^2 ; MLP 3 x 3584 x 18944 ; norms 2 x 3584
    layer = 3584**2 + 3584 + 2 * (3584 * 512 + 512) + 3584**2 + 3 * 3584 * 18944 + 2 * 3584
    assert layer == 233_057_792
    expected = 28 * layer + 3584 + 2 * 152064 * 3584  # + final norm + untied embedding and lm_head
    assert parameter_count(spec) == expected == 7_615_616_512
    # Model card: "Number of Parameters: 7.61B; Non-Embedding: 6.53B" (rounded to 3 significant figures).
    assert abs(parameter_count(spec) - 7.61e9) < 0.001 * 7.61e9
    assert abs(parameter_count(spec) - 2 * 152064 * 3584 - 6.53e9) < 0.001 * 6.53e9
    assert spec.sliding_window is None  # use_sliding_window: false


def test_mixtral_8x7b_config(tmp_path):
    spec = model_from_local(write_config(tmp_path / "m", MIXTRAL_8X7B))
    counts = parameter_counts(spec)
    # per layer: attention 2 x 4096^2 + 2 x 4096 x 1024 ; router 4096 x 8 ; 8 experts x 3 x 4096 x 14336 ; norms 2 x 4096
    layer = 2 * 4096**2 + 2 * 4096 * 1024 + 4096 * 8 + 8 * 3 * 4096 * 14336 + 2 * 4096
    assert counts.total == 32 * layer + 4096 + 2 * 32000 * 4096 == 46_702_792_704
    # Mistral AI: "46.7B total parameters ... 12.9B per token"
    assert abs(counts.total - 46.7e9) < 0.001 * 46.7e9
    assert abs(counts.active_per_token - 12.9e9) < 0.005 * 12.9e9


def test_deepseek_v3_config(tmp_path):
    spec = model_from_local(write_config(tmp_path / "ds", DEEPSEEK_V3))
    assert spec.mla is not None and spec.mla.q_lora_rank == 1536 and spec.mla.kv_lora_rank == 512
    assert spec.moe is not None and (spec.moe.experts, spec.moe.top_k, spec.moe.shared_experts) == (256, 8, 1)
    assert spec.moe.first_dense_layers == 3 and spec.moe_layer_count == 58
    # DeepSeek-V3 technical report: 671B total parameters (the 14B multi-token-prediction module excluded).
    assert abs(parameter_count(spec) - 671e9) < 0.001 * 671e9


DEEPSEEK_V2_LITE = {  # deepseek-ai/DeepSeek-V2-Lite config.json (the fields that shape the model)
    "architectures": ["DeepseekV2ForCausalLM"], "model_type": "deepseek_v2", "hidden_size": 2048,
    "intermediate_size": 10944, "moe_intermediate_size": 1408, "num_hidden_layers": 27, "num_attention_heads": 16,
    "num_key_value_heads": 16, "n_shared_experts": 2, "n_routed_experts": 64, "num_experts_per_tok": 6,
    "first_k_dense_replace": 1, "moe_layer_freq": 1, "q_lora_rank": None, "kv_lora_rank": 512,
    "qk_nope_head_dim": 128, "qk_rope_head_dim": 64, "v_head_dim": 128, "vocab_size": 102400,
    "tie_word_embeddings": False, "torch_dtype": "bfloat16",
}


def test_deepseek_v2_lite_config_without_query_compression(tmp_path):
    spec = model_from_local(write_config(tmp_path / "v2l", DEEPSEEK_V2_LITE))
    assert spec.mla is not None and spec.mla.q_lora_rank is None  # plain q_proj
    assert spec.moe is not None and spec.moe.shared_experts == 2 and spec.moe_layer_count == 26
    # Model card: "DeepSeek-V2-Lite has 15.7B parameters" (rounded to 3 significant figures)
    assert abs(parameter_count(spec) - 15.7e9) < 0.001 * 15.7e9


QWEN3_30B_A3B = {  # Qwen/Qwen3-30B-A3B config.json (the fields that shape the model)
    "architectures": ["Qwen3MoeForCausalLM"], "model_type": "qwen3_moe", "hidden_size": 2048, "head_dim": 128,
    "intermediate_size": 6144, "moe_intermediate_size": 768, "num_hidden_layers": 48, "num_attention_heads": 32,
    "num_key_value_heads": 4, "num_experts": 128, "num_experts_per_tok": 8, "decoder_sparse_step": 1,
    "mlp_only_layers": [], "attention_bias": False, "tie_word_embeddings": False, "vocab_size": 151936,
    "torch_dtype": "bfloat16",
}


def test_qwen3_moe_config(tmp_path):
    spec = model_from_local(write_config(tmp_path / "q3", QWEN3_30B_A3B))
    assert spec.qk_norm and spec.head_dim_ == 128 and spec.moe is not None and spec.moe.experts == 128
    # per layer: q 2048 x 4096, k+v 2 x 2048 x 512, o 4096 x 2048, q/k norms 2 x 128, router 2048 x 128,
    # 128 experts x 3 x 2048 x 768, 2 RMSNorms 2 x 2048
    layer = 2048 * 4096 + 2 * 2048 * 512 + 4096 * 2048 + 2 * 128 + 2048 * 128 + 128 * 3 * 2048 * 768 + 2 * 2048
    assert parameter_count(spec) == 48 * layer + 2048 + 2 * 151936 * 2048
    # Model card: "Number of Parameters: 30.5B in total and 3.3B activated"
    assert abs(parameter_count(spec) - 30.5e9) < 0.002 * 30.5e9
    # "3.3B activated": the engine also counts the input embedding rows as active, so allow 0.1B
    assert abs(parameter_counts(spec).active_per_token - 3.3e9) < 0.1e9


def test_gpt2_config(tmp_path):
    spec = model_from_local(write_config(tmp_path / "gpt2", GPT2))
    # 12 x (12 x 768^2 + 13 x 768) + 50257 x 768 (tied) + 1024 x 768 (positions) + 2 x 768 (final LayerNorm)
    #   = 12 x 7,087,872 + 38,597,376 + 786,432 + 1,536 = 124,439,808 ("124M", OpenAI GPT-2 small)
    assert parameter_count(spec) == 124_439_808


def test_falcon_7b_config(tmp_path):
    spec = model_from_local(write_config(tmp_path / "f", FALCON_7B))
    assert (spec.kv_heads_, spec.norms_per_layer, spec.tied_embeddings) == (1, 1, True)
    assert spec.parallel_residual  # parallel_attn
    # Multi-query attention, parallel block with one LayerNorm, no biases, lm_head tied (FalconConfig default):
    #   32 x (4544 x (71 + 2) x 64 + 4544^2 + 2 x 4544 x 18176 + 2 x 4544) + 2 x 4544 + 65024 x 4544
    expected = 32 * (4544 * 73 * 64 + 4544**2 + 2 * 4544 * 18176 + 2 * 4544) + 2 * 4544 + 65024 * 4544
    assert parameter_count(spec) == expected == 6_921_720_704
    # The model card's "7B" rounds to one significant figure.
    assert 6.5e9 <= parameter_count(spec) < 7.5e9


def test_chatglm3_6b_config(tmp_path):
    spec = model_from_local(write_config(tmp_path / "c", CHATGLM3_6B))
    assert spec.name == "chatglm3-6b" and spec.kv_heads_ == 2 and spec.head_dim_ == 128
    # per layer: q 4096^2, k+v 2 x 4096 x 256, qkv bias 4096 + 512, o 4096^2, SwiGLU 3 x 4096 x 13696, 2 RMSNorms
    layer = 4096**2 + 2 * 4096 * 256 + 4096 + 512 + 4096**2 + 3 * 4096 * 13696 + 2 * 4096
    assert parameter_count(spec) == 28 * layer + 4096 + 2 * 65024 * 4096 == 6_243_584_000  # Hub: "6.24B params"


def test_pythia_gpt_neox_config(tmp_path):
    spec = model_from_local(write_config(tmp_path / "p", PYTHIA_1_4B))
    assert parameter_count(spec) == 1_414_647_808  # Pythia paper, Table 1
    assert spec.parallel_residual and spec.norms_per_layer == 2  # use_parallel_residual, two LayerNorms
    sequential = model_from_local(write_config(tmp_path / "s", {**PYTHIA_1_4B, "use_parallel_residual": False}))
    assert not sequential.parallel_residual


def test_phi_2_config(tmp_path):
    spec = model_from_local(write_config(tmp_path / "phi", PHI_2))
    assert spec.parallel_residual and spec.norms_per_layer == 1 and spec.norm == "layernorm" and spec.bias
    # per layer: QKV 3 x 2560^2 + 3 x 2560 bias, dense 2560^2 + 2560, fc1 2560 x 10240 + 10240, fc2 10240 x 2560
    # + 2560, one LayerNorm 2 x 2560 = 78,671,360; embedding and lm_head 51,200 x 2,560 each, final LayerNorm
    layer = 3 * 2560**2 + 3 * 2560 + 2560**2 + 2560 + 2 * 2560 * 10240 + 10240 + 2560 + 2 * 2560
    assert layer == 78_671_360
    # the checkpoint's lm_head also has a bias (51,200 values, 2,779,683,840 in all), which the engine does not count
    assert parameter_count(spec) == 32 * layer + 2 * 51_200 * 2_560 + 2 * 2_560 == 2_779_683_840 - 51_200


def test_config_json_path_works_like_the_folder(tmp_path):
    folder = write_config(tmp_path / "x", GPT2)
    assert model_from_local(folder / "config.json") == model_from_local(folder)


# --- safetensors ---------------------------------------------------------------------------------
def write_safetensors(path: Path, tensors: dict[str, tuple[str, list[int]]]) -> int:
    """Header + zero bytes, as the safetensors format lays them out; returns the data size."""
    itemsize = {"BF16": 2, "F16": 2, "F32": 4, "I32": 4}
    header, offset = {"__metadata__": {"format": "pt"}}, 0
    for name, (dtype, shape) in tensors.items():
        n = itemsize[dtype]
        for d in shape:
            n *= d
        header[name] = {"dtype": dtype, "shape": shape, "data_offsets": [offset, offset + n]}
        offset += n
    raw = json.dumps(header).encode()
    raw += b" " * (-len(raw) % 8)  # the format pads the header with spaces to 8 bytes
    path.write_bytes(len(raw).to_bytes(8, "little") + raw + bytes(offset))
    return offset


TINY = {  # model_type llama, 1 layer, hidden 8, 2 heads, 1 KV head, ffn 16, vocab 10, untied
    "model_type": "llama", "num_hidden_layers": 1, "hidden_size": 8, "num_attention_heads": 2,
    "num_key_value_heads": 1, "intermediate_size": 16, "vocab_size": 10, "torch_dtype": "bfloat16",
}
TINY_TENSORS = {
    "model.embed_tokens.weight": ("BF16", [10, 8]),  # 80
    "model.layers.0.input_layernorm.weight": ("F32", [8]),  # 8
    "model.layers.0.self_attn.q_proj.weight": ("BF16", [8, 8]),  # 64
    "model.layers.0.self_attn.k_proj.weight": ("BF16", [4, 8]),  # 32
    "model.layers.0.self_attn.v_proj.weight": ("BF16", [4, 8]),  # 32
    "model.layers.0.self_attn.o_proj.weight": ("BF16", [8, 8]),  # 64
    "model.layers.0.self_attn.rotary_emb.inv_freq": ("F32", [2]),  # a buffer, not a parameter
    "model.layers.0.post_attention_layernorm.weight": ("F32", [8]),  # 8
    "model.layers.0.mlp.gate_proj.weight": ("BF16", [16, 8]),  # 128
    "model.layers.0.mlp.up_proj.weight": ("BF16", [16, 8]),  # 128
    "model.layers.0.mlp.down_proj.weight": ("BF16", [8, 16]),  # 128
    "model.norm.weight": ("F32", [8]),  # 8
    "lm_head.weight": ("BF16", [10, 8]),  # 80
}


def test_synthetic_safetensors_exact_count_and_dtype(tmp_path):
    folder = write_config(tmp_path / "tiny", TINY)
    write_safetensors(folder / "model.safetensors", TINY_TENSORS)
    info = inspect_local(folder)
    # BF16: 80 + 64 + 32 + 32 + 64 + 128 * 3 + 80 = 736 ; F32: 8 + 8 + 8 = 24 ; inv_freq skipped
    assert info.parameters_by_dtype == {"BF16": 736, "F32": 24}
    assert info.weights_parameters == 760 and info.stored_dtype == "BF16"
    assert info.stored_bytes == 736 * 2 + 24 * 4 == 1568
    # The architecture gives the same count: attention 64 + 2*32 + 64, MLP 3 * 8 * 16, norms 2 * 8,
    # final norm 8, embedding and head 2 * 10 * 8 -> 192 + 384 + 16 + 8 + 160 = 760
    assert parameter_count(info.spec) == 760


def test_sharded_safetensors_with_index(tmp_path):
    folder = write_config(tmp_path / "sharded", TINY)
    names = list(TINY_TENSORS)
    first = {n: TINY_TENSORS[n] for n in names[:6]}
    second = {n: TINY_TENSORS[n] for n in names[6:]}
    size = write_safetensors(folder / "model-00001-of-00002.safetensors", first)
    size += write_safetensors(folder / "model-00002-of-00002.safetensors", second)
    weight_map = {n: "model-00001-of-00002.safetensors" for n in first}
    weight_map.update({n: "model-00002-of-00002.safetensors" for n in second})
    (folder / "model.safetensors.index.json").write_text(json.dumps({"metadata": {"total_size": size}, "weight_map": weight_map}))
    assert inspect_local(folder).weights_parameters == 760
    # Without one shard: no exact count, but the index's total_size still gives the bytes.
    (folder / "model-00002-of-00002.safetensors").unlink()
    info = inspect_local(folder / "model.safetensors.index.json")
    assert info.weights_parameters is None and info.stored_bytes == size and "absent" in info.notes[0]
    assert info.stored_dtype == "BF16"  # from config.json torch_dtype


def test_truncated_safetensors_names_the_file(tmp_path):
    folder = write_config(tmp_path / "bad", TINY)
    (folder / "model.safetensors").write_bytes((10**6).to_bytes(8, "little") + b"{}")
    with pytest.raises(PlanError) as e:
        inspect_local(folder)
    assert e.value.field == "model.safetensors:header"


# --- GGUF ----------------------------------------------------------------------------------------
def _s(text: str) -> bytes:
    b = text.encode()
    return struct.pack("<Q", len(b)) + b


def _kv(key: str, vtype: int, payload: bytes) -> bytes:
    return _s(key) + struct.pack("<I", vtype) + payload


GGUF_TENSORS = [  # (name, dims as GGUF stores them: ne0 first, ggml type number)
    ("token_embd.weight", (8, 600), 12),  # Q4_K
    *[(f"blk.{i}.{n}", d, t) for i in range(2) for n, d, t in (
        ("attn_norm.weight", (8,), 0), ("attn_q.weight", (8, 8), 12), ("attn_k.weight", (8, 4), 12),
        ("attn_v.weight", (8, 4), 14), ("attn_output.weight", (8, 8), 12), ("ffn_norm.weight", (8,), 0),
        ("ffn_gate.weight", (8, 16), 12), ("ffn_up.weight", (8, 16), 12), ("ffn_down.weight", (16, 8), 14))],
    ("output_norm.weight", (8,), 0),  # F32
    ("output.weight", (8, 600), 14),  # Q6_K
]


def write_gguf(path: Path, *, drop_key: str | None = None, magic: bytes = b"GGUF") -> None:
    tokens = b"".join(_s(f"tok{i}") for i in range(600))
    kvs = [
        _kv("general.architecture", 8, _s("llama")),
        _kv("general.name", 8, _s("tiny-gguf")),
        _kv("general.file_type", 4, struct.pack("<I", 15)),  # 15 = MOSTLY_Q4_K_M
        _kv("llama.block_count", 4, struct.pack("<I", 2)),
        _kv("llama.embedding_length", 4, struct.pack("<I", 8)),
        _kv("llama.feed_forward_length", 4, struct.pack("<I", 16)),
        _kv("llama.attention.head_count", 4, struct.pack("<I", 2)),
        _kv("llama.attention.head_count_kv", 4, struct.pack("<I", 1)),
        _kv("llama.rope.freq_base", 6, struct.pack("<f", 10000.0)),
        _kv("tokenizer.ggml.tokens", 9, struct.pack("<IQ", 8, 600) + tokens),  # array of 600 strings
        _kv("tokenizer.ggml.scores", 9, struct.pack("<IQ", 6, 600) + bytes(4 * 600)),  # array of 600 float32
    ]
    kvs = [kv for kv in kvs if drop_key is None or _s(drop_key) not in kv[: len(drop_key) + 8]]
    infos = b"".join(_s(n) + struct.pack("<I", len(d)) + struct.pack(f"<{len(d)}Q", *d) + struct.pack("<IQ", t, 0)
                     for n, d, t in GGUF_TENSORS)
    header = magic + struct.pack("<IQQ", 3, len(GGUF_TENSORS), len(kvs)) + b"".join(kvs) + infos
    path.write_bytes(header + bytes(32))


def test_synthetic_gguf_header(tmp_path):
    path = tmp_path / "tiny-Q4_K_M.gguf"
    write_gguf(path)
    info = inspect_local(path)
    assert info.architecture == "llama" and info.gguf_file_type == "Q4_K_M"
    # embedding 8 x 600 = 4800 ; per block: norms 8 + 8, q 64, k 32, v 32, o 64, MLP 3 x 128 = 592 ; x 2 = 1184
    # output norm 8 ; output 8 x 600 = 4800  ->  4800 + 1184 + 8 + 4800 = 10,792
    assert info.weights_parameters == 10_792
    # by type: Q4_K = 4800 + 2 x (64 + 32 + 64 + 128 + 128) = 5632 ; Q6_K = 2 x (32 + 128) + 4800 = 5120 ; F32 = 40
    assert info.parameters_by_dtype == {"Q4_K": 5632, "Q6_K": 5120, "F32": 40}
    spec = info.spec
    assert (spec.layers, spec.hidden, spec.heads, spec.kv_heads_, spec.ffn, spec.vocab) == (2, 8, 2, 1, 16, 600)
    assert not spec.tied_embeddings and spec.norms_per_layer == 2 and spec.name == "tiny-gguf"
    assert parameter_count(spec) == 10_792  # the architecture agrees with the tensor shapes
    assert model_from_local(tmp_path) == spec  # a folder with one .gguf


def test_gguf_missing_key_and_bad_magic(tmp_path):
    path = tmp_path / "nokey.gguf"
    write_gguf(path, drop_key="llama.block_count")
    with pytest.raises(PlanError) as e:
        inspect_local(path)
    assert e.value.field == "nokey.gguf:llama.block_count"
    bad = tmp_path / "bad.gguf"
    write_gguf(bad, magic=b"GGML")
    with pytest.raises(PlanError) as e:
        inspect_local(bad)
    assert e.value.field == "bad.gguf:magic"
    cut = tmp_path / "cut.gguf"
    write_gguf(cut)
    cut.write_bytes(cut.read_bytes()[:200])
    with pytest.raises(PlanError) as e:
        inspect_local(cut)
    assert "truncated" in str(e.value)


# --- malformed input -----------------------------------------------------------------------------
def _without(config: dict, key: str) -> dict:
    return {k: v for k, v in config.items() if k != key}


@pytest.mark.parametrize(("config", "field", "needle"), [
    (_without(LLAMA_2_7B, "num_attention_heads"), "config.json:num_attention_heads", "missing"),
    ({**LLAMA_2_7B, "model_type": "xyz"}, "config.json:model_type", "deepseek_v3"),
    (_without(LLAMA_2_7B, "model_type"), "config.json:model_type", "llama"),
    ({**LLAMA_2_7B, "hidden_size": "4096"}, "config.json:hidden_size", "positive integer"),
    ({**LLAMA_2_7B, "tie_word_embeddings": "yes"}, "config.json:tie_word_embeddings", "true or false"),
    ({**LLAMA_2_7B, "num_key_value_heads": 5}, "config.json -> model.kv_heads", "divisor"),
    (_without(DEEPSEEK_V3, "kv_lora_rank"), "config.json:kv_lora_rank", "missing"),
    (_without(CHATGLM3_6B, "ffn_hidden_size"), "config.json:ffn_hidden_size", "missing"),
])
def test_malformed_configs_name_the_field(tmp_path, config, field, needle):
    with pytest.raises(PlanError) as e:
        model_from_local(write_config(tmp_path / "m", config))
    assert e.value.field == field and needle in str(e.value)


def test_invalid_json_and_missing_paths(tmp_path):
    (tmp_path / "config.json").write_text("{ not json")
    with pytest.raises(PlanError, match="config.json='line 1 column 3"):
        model_from_local(tmp_path)
    with pytest.raises(PlanError, match="an existing config.json"):
        model_from_local(tmp_path / "nowhere")
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(PlanError, match="a folder holding config.json or a .gguf file"):
        model_from_local(empty)


def test_cli_estimate_with_a_malformed_config_is_one_line_exit_2(tmp_path, capsys):
    folder = write_config(tmp_path / "m", _without(LLAMA_2_7B, "num_attention_heads"))
    assert main(["estimate", "--model", str(folder), "--gpu", "a100-80gb"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "config.json:num_attention_heads" in err and "Traceback" not in err


def test_cli_estimate_and_inspect_a_local_folder(tmp_path, capsys):
    folder = write_config(tmp_path / "tiny", TINY)
    write_safetensors(folder / "model.safetensors", TINY_TENSORS)
    assert main(["catalog", "inspect", str(folder), "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["weights_parameters"] == 760 and report["parameters"] == 760
    assert main(["estimate", "--model", str(write_config(tmp_path / "l2", LLAMA_2_7B)), "--gpu", "a100-80gb",
                 "--method", "seed", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["parameters"] == 6_738_415_616


def test_cli_add_model_from_a_folder_uses_the_exact_weight_count(tmp_path, capsys):
    folder = write_config(tmp_path / "tiny", TINY)
    write_safetensors(folder / "model.safetensors", TINY_TENSORS)
    assert main(["catalog", "add-model", "--from", str(folder), "--name", "tiny-local", "--alias", "tl"]) == 0
    capsys.readouterr()
    from engine.catalog import find_model, reload_catalogs

    reload_catalogs()
    preset = find_model("tl")
    assert preset.published_params == 760 and preset.spec.name == "tiny-local"
    assert "imported offline" in preset.source


# GLM-4.5-Air (zai-org/GLM-4.5-Air config.json, the fields llama.cpp PR 15026 transcribes)
GLM_4_5_AIR = {
    "architectures": ["Glm4MoeForCausalLM"], "model_type": "glm4_moe", "attention_bias": True,
    "first_k_dense_replace": 1, "head_dim": 128, "hidden_size": 4096, "intermediate_size": 10944,
    "max_position_embeddings": 131072, "moe_intermediate_size": 1408, "n_group": 1, "n_routed_experts": 128,
    "n_shared_experts": 1, "norm_topk_prob": True, "num_attention_heads": 96, "num_experts_per_tok": 8,
    "num_hidden_layers": 46, "num_key_value_heads": 8, "num_nextn_predict_layers": 1, "partial_rotary_factor": 0.5,
    "rms_norm_eps": 1e-05, "rope_theta": 1000000, "routed_scaling_factor": 1.0, "tie_word_embeddings": False,
    "topk_group": 1, "use_qk_norm": False, "vocab_size": 151552,
}


def test_glm4_moe_config_imports_as_the_preset(tmp_path):
    from engine.catalog import find_model

    (tmp_path / "config.json").write_text(json.dumps(GLM_4_5_AIR), encoding="utf-8")
    spec = model_from_local(tmp_path)
    assert spec.model_copy(update={"name": "glm-4.5-air"}) == find_model("glm-4.5-air").spec
    # the qk-norm of GLM-4.5 (use_qk_norm true) adds 2 x 128 per layer
    (tmp_path / "config.json").write_text(json.dumps({**GLM_4_5_AIR, "use_qk_norm": True}), encoding="utf-8")
    assert parameter_count(model_from_local(tmp_path)) == parameter_count(spec) + 46 * 2 * 128
