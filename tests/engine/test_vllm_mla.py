"""vLLM's MLA attention keeps a 16-bit copy of a quantized kv_b_proj (W_UK_T / W_UV), and DeepSeek's presets serve
their FP8 release by default.

DeepSeek-R1 (config.json): 61 layers, 128 heads, kv_lora_rank 512, qk_nope_head_dim 128, v_head_dim 128.
vLLM's ``MLACommonImpl.process_weights_after_loading``: "we currently do not have quantized bmm's which are needed
for W_UV and W_UK_T, we just store fp16/bf16 copies" of the dequantized kv_b_proj.  At TP 8 a rank holds 16 heads:
16 x 512 x (128 + 128) x 2 B = 4,194,304 B a layer, x 61 = 255,852,544 B.
"""

from __future__ import annotations

import json

from engine.cli.main import main

ABSORBED_TP8 = 61 * 16 * 512 * (128 + 128) * 2  # = 255,852,544 B


def _weights(capsys, *args: str) -> tuple[int, str]:
    assert main(["infer", "--model", "deepseek-r1", "--gpu", "H200", "--gpus", "8", "--tp", "8", *args, "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    return report["cards"][0]["breakdown"]["weights"], report["serving"]["quant"]


def test_vllm_holds_a_16_bit_copy_of_a_quantized_kv_b_proj(capsys):
    vllm, quant = _weights(capsys, "--runtime", "vllm")
    trtllm, _ = _weights(capsys, "--runtime", "trtllm", "--quant", "fp8")
    assert quant == "fp8"  # the preset's release format
    assert vllm - trtllm == ABSORBED_TP8 == 255_852_544
    # published: 'Model loading took 79.7390 GiB' (vLLM 0.11.2, DeepSeek-R1-0528, TP 8, H200;
    # ashishkamra/vllm-memory-estimator tests/test_validation_db.py)
    assert abs(vllm / 2**30 / 79.739 - 1) < 0.005


def test_a_16_bit_kv_b_proj_is_viewed_not_copied(capsys):
    vllm, _ = _weights(capsys, "--runtime", "vllm", "--quant", "bf16")
    trtllm, _ = _weights(capsys, "--runtime", "trtllm", "--quant", "bf16")
    assert vllm == trtllm


def test_llama_cpp_has_no_fp8_release_to_load(capsys):
    assert main(["infer", "--model", "deepseek-r1", "--gpu", "H200", "--gpus", "8", "--runtime", "llamacpp",
                 "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["serving"]["quant"] == "bf16"


def test_a_checkpoint_keeping_attention_in_16_bit_has_no_copy(capsys):
    vllm, _ = _weights(capsys, "--runtime", "vllm", "--keep-16bit", "self_attn")
    trtllm, _ = _weights(capsys, "--runtime", "trtllm", "--quant", "fp8", "--keep-16bit", "self_attn")
    assert vllm == trtllm
