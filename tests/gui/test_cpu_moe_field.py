"""llama.cpp's --n-cpu-moe and output-layer-first rows in the workload panel, driven through the real widgets."""

from __future__ import annotations

import pytest

from engine.model.spec import ModelSpec, MoESpec
from gui.document import PlanDocument
from gui.panels.plan_fields import set_field, with_model
from gui.panels.workload_panel import WorkloadPanel
from gui.templates import load_template

# 4 layers of h 256 with 8 routed experts of FFN 128: one layer's experts are three stacks of 8 x 128 x 256 =
# 262,144 elements, in Q8_0 (34 B per 32) 3 x 278,528 = 835,584 B.
TINY_MOE = ModelSpec(name="tiny-moe", layers=4, hidden=256, heads=4, kv_heads=2, head_dim=64, ffn=512, vocab=64,
                     gated_mlp=True, norm="rmsnorm", bias=False, moe=MoESpec(experts=8, top_k=2, expert_ffn=128))
LAYER_EXPERTS = 3 * (262_144 // 32 * 34)


@pytest.fixture
def workload(qtbot):
    plan = load_template("6b-rtx4090-int4")
    plan = set_field(set_field(plan, "model", TINY_MOE), "serving.runtime", "llamacpp")
    plan = set_field(set_field(plan, "serving.quant", "Q8_0"), "serving.batch", 1)
    document = PlanDocument(plan)
    panel = WorkloadPanel(document)
    qtbot.addWidget(panel)
    return document, panel


def test_experts_in_ram_is_one_undo_step_and_moves_their_bytes(workload):
    document, panel = workload
    spin = panel.bindings["serving.cpu_moe_layers"].widget
    assert spin.isEnabled() and spin.text() == "none" and document.plan.serving.cpu_moe_layers is None
    weights = document.estimate.cards[0].breakdown.weights.bytes
    steps = document.undo_stack.count()

    spin.setValue(3)
    spin.editingFinished.emit()
    assert document.plan.serving.cpu_moe_layers == 3 and document.undo_stack.count() == steps + 1
    assert weights - document.estimate.cards[0].breakdown.weights.bytes == 3 * LAYER_EXPERTS == 2_506_752

    document.undo_stack.undo()
    assert document.plan.serving.cpu_moe_layers is None and spin.text() == "none"
    assert document.estimate.cards[0].breakdown.weights.bytes == weights


def test_rows_are_greyed_where_they_do_nothing(workload):
    document, panel = workload
    spin = panel.bindings["serving.cpu_moe_layers"].widget
    first = panel.bindings["serving.output_layer_first"].widget
    assert not first.isEnabled()  # every layer on the card: which unit -ngl takes first does not matter
    document.apply(set_field(document.plan, "serving.gpu_layers", 2), "layers")
    assert first.isEnabled() and first.isChecked()
    document.apply(set_field(document.plan, "serving.cpu_moe_layers", 3), "experts")
    # a dense model: the row greys and its value goes with the switch (the engine would refuse it), one undo step
    document.apply(set_field(document.plan, "model", TINY_MOE.model_copy(update={"moe": None})), "dense")
    assert not spin.isEnabled() and document.plan.serving.cpu_moe_layers is None
    document.undo_stack.undo()
    assert document.plan.serving.cpu_moe_layers == 3 and spin.isEnabled()
    # fewer layers: at most the model's
    document.apply(with_model(document.plan, TINY_MOE.model_copy(update={"layers": 2})), "2 layers")
    assert document.plan.serving.cpu_moe_layers == 2
    document.apply(set_field(document.plan, "model", TINY_MOE), "moe")
    # another runtime: the llama.cpp rows grey out and their values go with the switch (vLLM would refuse them)
    document.apply(set_field(document.plan, "serving.runtime", "vllm"), "vllm")
    assert not spin.isEnabled() and not first.isEnabled()
    assert document.plan.serving.gpu_layers is None and document.plan.serving.cpu_moe_layers is None
