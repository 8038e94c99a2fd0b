"""vLLM V1's entry point and max_num_seqs in the workload panel: live estimate, one undo step, greyed for V0.

The 6B int4 template (ChatGLM3-6B: hidden 4,096, vocabulary 65,024, 4 sequences) served by vLLM on one
RTX 4090 (below 70 GiB): `vllm serve` profiles 2,048 tokens and warms the sampler up with 256 requests.
"""

from __future__ import annotations

import pytest

from gui.document import PlanDocument
from gui.panels.plan_fields import set_field
from gui.panels.workload_panel import WorkloadPanel
from gui.templates import load_template

VOCAB, HIDDEN, BATCH = 65_024, 4_096, 4
# the newest vLLM's sampler warm-up, without a sort: N x V x 14 B and the Triton kernel's buffer, one fp32 row of V
# per SM (the RTX 4090 has 128) when N >= 128 (engine.serving.vllm_sampler)
WARMUP_256 = 256 * VOCAB * 14 + 128 * VOCAB * 4  # = 266,338,304 B
LOGITS_OF_REQUESTS = (2 + 4) * BATCH * VOCAB  # the forward's: 16-bit logits and their fp32 copy, last tokens


def logits_bytes(document: PlanDocument) -> int:
    return document.estimate.cards[0].breakdown.logits.bytes


@pytest.fixture()
def vllm_panel(qtbot):
    plan = set_field(load_template("6b-rtx4090-int4"), "serving.runtime", "vllm")
    document = PlanDocument(plan)
    panel = WorkloadPanel(document)
    qtbot.addWidget(panel)
    return document, panel


def test_max_num_seqs_edit_is_live_and_one_undo_step(vllm_panel):
    document, panel = vllm_panel
    assert document.plan.serving.max_num_seqs is None  # vLLM's default: 256 on this card
    # the warm-up (266 MB + hidden states 2 B x (2,048 + 256) x 4,096) is above the 2,048-token forward
    assert logits_bytes(document) == WARMUP_256 == 266_338_304
    pool_default = document.estimate.serving.kv_pool_bytes
    steps = document.undo_stack.count()
    spin = panel.bindings["serving.max_num_seqs"].widget
    assert spin.isEnabled()
    spin.setValue(16)
    spin.editingFinished.emit()
    assert document.plan.serving.max_num_seqs == 16 and document.undo_stack.count() == steps + 1
    # 16 requests: 16 x 65,024 x 14 + the buffer's 16 rows x 65,024 x 4 + 2 x (2,048 + 16) x 4,096 = 35,635,200 B,
    # below the forward now (2 B x 2,048 x (3 x 4,096 + 3 x 13,696) = 218,628,096 B and more)
    assert logits_bytes(document) == LOGITS_OF_REQUESTS
    assert document.estimate.serving.kv_pool_bytes > pool_default
    document.undo_stack.undo()
    assert document.plan.serving.max_num_seqs is None and logits_bytes(document) == WARMUP_256


def test_entry_point_changes_the_profiled_chunk(vllm_panel):
    document, panel = vllm_panel
    combo = panel.bindings["serving.vllm_entry"].widget
    assert combo.currentText() == "vllm serve"
    steps = document.undo_stack.count()
    combo.setCurrentIndex(combo.findData("llm"))
    combo.activated.emit(combo.currentIndex())
    assert document.plan.serving.vllm_entry == "llm" and document.undo_stack.count() == steps + 1
    # the LLM class profiles 8,192 tokens on this card, a forward above the 256-request warm-up
    assert logits_bytes(document) == LOGITS_OF_REQUESTS
    assert "8,192 tokens per forward" in document.estimate.cards[0].breakdown.activations.formula


def test_entry_point_is_greyed_for_v0(vllm_panel):
    document, panel = vllm_panel
    combo = panel.bindings["serving.vllm_version"].widget
    combo.setCurrentIndex(combo.findData("0.6.4"))  # V0: its chunk comes from max_model_len, not the entry point
    combo.activated.emit(combo.currentIndex())
    assert document.plan.serving.vllm_engine == "v0"
    assert not panel.bindings["serving.vllm_entry"].widget.isEnabled()
    assert panel.bindings["serving.max_num_seqs"].widget.isEnabled()  # V0 samples its max_num_seqs sequences too


def test_auto_rows_say_what_vllm_picks(vllm_panel):
    document, panel = vllm_panel
    chunk = panel.bindings["serving.prefill_chunk"].widget
    seqs = panel.bindings["serving.max_num_seqs"].widget
    # `vllm serve` on an RTX 4090 (below 70 GiB): 2,048 tokens per chunk, 256 sequences
    assert chunk.specialValueText() == "auto (2,048)" and seqs.specialValueText() == "auto (256)"
    combo = panel.bindings["serving.vllm_entry"].widget
    combo.setCurrentIndex(combo.findData("llm"))
    combo.activated.emit(combo.currentIndex())
    assert chunk.specialValueText() == "auto (8,192)"  # the LLM class's default on that card
    runtime = panel.bindings["serving.runtime"].widget
    runtime.setCurrentIndex(runtime.findData("llamacpp"))
    runtime.activated.emit(runtime.currentIndex())
    assert chunk.specialValueText() == "auto (512)" and seqs.specialValueText() == "auto"  # n_ubatch
