"""A model released quantized (gpt-oss: MXFP4 experts) brings its format into a serving plan: from the preset
list, from a local config.json's quantization_config, and across a runtime switch; each is one undo step."""

from __future__ import annotations

import json

from engine.catalog import find_model
from gui.document import PlanDocument
from gui.panels.model_panel import ModelPanel
from gui.panels.plan_fields import set_field, with_model
from gui.templates import load_template

GPT_OSS_CONFIG = {
    "model_type": "gpt_oss", "num_hidden_layers": 24, "hidden_size": 2880, "num_attention_heads": 64,
    "num_key_value_heads": 8, "head_dim": 64, "intermediate_size": 2880, "num_local_experts": 32,
    "num_experts_per_tok": 4, "vocab_size": 201088, "attention_bias": True, "tie_word_embeddings": False,
    "sliding_window": 128, "layer_types": ["sliding_attention", "full_attention"] * 12,
    "quantization_config": {"quant_method": "mxfp4",
                            "modules_to_not_convert": ["model.layers.*.self_attn", "lm_head"]},
}


def _serving(qtbot):
    document = PlanDocument(load_template("70b-4xh100-vllm"))
    panel = ModelPanel(document)
    qtbot.addWidget(panel)
    return document, panel


def test_choosing_gpt_oss_serves_its_mxfp4_release_in_one_undo_step(qtbot):
    document, panel = _serving(qtbot)
    assert document.plan.serving.quant == "bf16"
    steps = document.undo_stack.count()
    index = panel.preset.findData("gpt-oss-20b")
    panel.preset.setCurrentIndex(index)
    panel.preset.activated.emit(index)  # what a user's pick sends
    assert document.plan.model.name == "gpt-oss-20b" and document.plan.serving.quant == "mxfp4"
    assert document.undo_stack.count() == steps + 1
    # the checkpoint's 13,761,260,160 B (MXFP4 experts, bf16 rest: tests/engine/test_mxfp4.py) and what vLLM's
    # Triton kernel keeps beside them on an H100: 24 layers x 32 experts x (806,400 B of swizzled scales + 17,280 B
    # of fp32 bias upcast) = 632,586,240 B; the bf16 release would be 41,829,509,760 B
    assert document.estimate.serving.weight_bytes == 13_761_260_160 + 632_586_240
    document.undo_stack.undo()
    assert document.plan.serving.quant == "bf16" and document.plan.model.name != "gpt-oss-20b"


def test_the_release_format_follows_the_runtime_and_leaves_with_the_model():
    plan = with_model(load_template("70b-4xh100-vllm"), find_model("gpt-oss-20b").spec)
    assert set_field(plan, "serving.runtime", "llamacpp").serving.quant == "MXFP4_MOE"
    back = with_model(plan, find_model("llama-3.1-8b").spec)
    assert back.serving.quant == "bf16"
    chosen = with_model(set_field(plan, "serving.quant", "int4-awq"), find_model("qwen3-30b-a3b").spec)
    assert chosen.serving.quant == "int4-awq"  # the user's own choice stays


def test_a_local_checkpoint_brings_its_quantization_config(qtbot, tmp_path):
    document, panel = _serving(qtbot)
    folder = tmp_path / "gpt-oss-20b-local"
    folder.mkdir()
    (folder / "config.json").write_text(json.dumps(GPT_OSS_CONFIG), encoding="utf-8")
    steps = document.undo_stack.count()
    assert panel.load_config(folder)
    assert document.plan.serving.quant == "mxfp4" and document.undo_stack.count() == steps + 1
    assert document.plan.model.moe is not None and document.plan.model.moe.experts == 32
