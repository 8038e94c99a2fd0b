"""Side panels: every edit is one undo step through the document; bad values show inline."""

from __future__ import annotations

import json

import pytest

from engine.catalog import model_catalog
from gui.document import PlanDocument
from gui.panels.model_panel import ModelPanel
from gui.panels.plan_fields import even_layer_split, set_field
from gui.panels.stages_panel import StagesPanel
from gui.panels.workload_panel import WorkloadPanel
from gui.templates import default_plan


@pytest.fixture
def document():
    return PlanDocument(default_plan())


@pytest.fixture
def workload(qtbot, document):
    panel = WorkloadPanel(document)
    qtbot.addWidget(panel)
    return panel


@pytest.fixture
def model_panel(qtbot, document):
    panel = ModelPanel(document)
    qtbot.addWidget(panel)
    return panel


def test_set_field_validates_and_names_the_field(document):
    plan = document.plan
    assert set_field(plan, "training.seq", 8192).training.seq == 8192
    assert plan.training.seq == 4096  # plans are immutable
    with pytest.raises(Exception) as info:
        set_field(plan, "training.offload_params", True)  # only with ZeRO-3
    assert info.value.field == "training.offload_params"
    with pytest.raises(Exception) as info:
        set_field(plan, "model.kv_heads", 7)  # 40 heads are not divisible by 7
    assert info.value.field == "model.kv_heads"


def test_even_layer_split_puts_the_remainder_first():
    assert even_layer_split(40, 4) == (10, 10, 10, 10)
    assert even_layer_split(42, 4) == (11, 11, 10, 10)  # 42 = 4 x 10 + 2


def test_combo_and_check_edits_are_single_undo_steps(workload, document):
    zero = workload.bindings["training.zero"].widget
    zero.setCurrentIndex(zero.findData(2))
    zero.activated.emit(zero.currentIndex())
    assert document.plan.training.zero == 2
    workload.bindings["training.flash_attention"].widget.setChecked(True)
    assert document.plan.training.flash_attention is True
    assert document.undo_stack.count() == 2
    assert document.undo_stack.text(0).startswith("Set ZeRO stage")
    document.undo_stack.undo()
    assert workload.bindings["training.flash_attention"].widget.isChecked() is False
    document.undo_stack.undo()
    assert zero.currentData() == 1


def test_rejected_value_shows_inline_and_changes_nothing(workload, document):
    before = document.plan
    workload.bindings["training.offload_params"].widget.setChecked(True)  # ZeRO is 1, needs 3
    error = workload.bindings["training.offload_params"].error
    assert not error.isHidden() and error.text() == "Not accepted: expected only with ZeRO stage (3)."
    assert not workload.bindings["training.offload_params"].widget.isChecked()  # shows the plan, not the refusal
    assert document.plan is before and document.undo_stack.count() == 0


def test_engine_error_marks_its_field(workload, document):
    binding = workload.bindings["training.global_batch"]
    binding.widget.setValue(3)  # micro 1 x DP 2 does not divide 3
    assert document.error is not None
    assert binding.error.isHidden()  # the message shows once, above the diagram; the field is marked
    assert binding.widget.property("invalid") is True and "color" in binding.row_label.styleSheet()
    assert "multiple of micro-batch × DP" in binding.row_label.toolTip()
    binding.widget.setValue(4)
    assert document.error is None and binding.widget.property("invalid") is False
    assert binding.row_label.styleSheet() == "" and binding.row_label.toolTip() == ""


def test_global_batch_minimum_means_auto(workload, document):
    spin = workload.bindings["training.global_batch"].widget
    spin.setValue(16)
    assert document.plan.training.global_batch == 16
    spin.setValue(spin.minimum())
    assert document.plan.training.global_batch is None
    assert spin.text() == "auto (fill the pipeline)"


def test_method_switch_enables_framework(workload, document):
    framework = workload.bindings["method.framework"].widget
    assert not framework.isEnabled()  # seed method: no framework overheads
    method = workload.bindings["method.method"].widget
    method.setCurrentIndex(method.findData("detailed"))
    method.activated.emit(method.currentIndex())
    assert document.plan.method.method == "detailed" and framework.isEnabled()


def test_mode_switch_to_serving_shows_the_serving_group(workload, document):
    workload.show()
    assert "serving.context" not in workload.bindings  # a training plan's panel: built when first needed
    mode = workload.bindings["mode"].widget
    mode.setCurrentIndex(mode.findData("serving"))
    mode.activated.emit(mode.currentIndex())
    assert document.plan.mode == "serving" and document.plan.serving is not None
    assert not workload.bindings["training.seq"].widget.isVisibleTo(workload)
    context = workload.bindings["serving.context"].widget
    assert context.isVisibleTo(workload) and context.value() == document.plan.serving.context
    assert not workload.bindings["serving.context"].error.isVisibleTo(workload)


def test_model_numbers_and_parameter_count(model_panel, document):
    model_panel.bindings["model.layers"].widget.setValue(48)  # 48 layers still split over PP = 4
    assert document.plan.model.layers == 48
    model_panel.params_edit.setText("7B")
    model_panel.params_edit.editingFinished.emit()
    assert document.plan.model.params == 7_000_000_000
    assert model_panel.params_used.text() == "7,000,000,000"
    model_panel.bindings["model.kv_heads"].widget.setValue(7)
    error = model_panel.bindings["model.kv_heads"].error
    assert not error.isHidden() and "divisor of attention heads (40)" in error.text()
    model_panel.params_edit.setText("lots")
    model_panel.params_edit.editingFinished.emit()
    assert not model_panel.params_error.isHidden()


def test_preset_picker_sets_the_catalog_model(model_panel, document):
    preset = model_catalog()[0]
    combo = model_panel.preset
    combo.setCurrentIndex(combo.findData(preset.name))
    combo.activated.emit(combo.currentIndex())
    assert document.plan.model == preset.spec
    document.undo_stack.undo()
    assert combo.currentIndex() == 0  # the article's 13B is not a preset: "Custom"


def test_local_config_json_sets_the_model(model_panel, document, tmp_path):
    config = tmp_path / "config.json"
    config.write_text(json.dumps({
        "architectures": ["LlamaForCausalLM"], "model_type": "llama", "hidden_size": 4096,
        "intermediate_size": 11008, "num_hidden_layers": 32, "num_attention_heads": 32,
        "num_key_value_heads": 32, "vocab_size": 32000, "rms_norm_eps": 1e-6, "tie_word_embeddings": False,
        "max_position_embeddings": 4096}), encoding="utf-8")
    assert model_panel.load_config(config)
    assert document.plan.model.layers == 32 and document.plan.model.hidden == 4096
    assert document.undo_stack.count() == 1
    assert not model_panel.load_config(tmp_path / "missing.json")
    assert not model_panel.file_error.isHidden()


def test_stage_layer_split_editor(qtbot, document):
    panel = StagesPanel(document)
    qtbot.addWidget(panel)
    assert [s.value() for s in panel.spins] == [10, 10, 10, 10]
    assert all(not s.isEnabled() for s in panel.spins)
    panel.even.setChecked(False)
    assert document.plan.layout.pp_layers == (10, 10, 10, 10)
    panel.spins[0].setValue(9)  # stage 2 takes the layer: 9 + 11 + 10 + 10 = 40, never a split the engine refuses
    assert document.plan.layout.pp_layers == (9, 11, 10, 10) and document.error is None
    panel.spins[3].setValue(12)  # the last stage trades with the one before: 9 + 11 + 8 + 12
    assert document.plan.layout.pp_layers == (9, 11, 8, 12)
    assert panel.spins[0].maximum() == 9 + 11 - 1  # stage 2 keeps at least one layer
    assert document.error is None and panel.error.isHidden()
    assert document.undo_stack.count() == 2  # "edit split" + one merged scrub
    panel.even.setChecked(True)
    assert document.plan.layout.pp_layers is None


def test_serving_context_edit_keeps_chart_equal_to_engine(qtbot):
    from gui.chart import MemoryChart
    from gui.templates import load_template
    from tests.gui.test_chart import assert_chart_matches_engine

    document = PlanDocument(load_template("6b-rtx4090-int4"))
    panel, chart = WorkloadPanel(document), MemoryChart(document)
    qtbot.addWidget(panel)
    qtbot.addWidget(chart)
    assert panel.bindings["serving.gpu_layers"].widget.isEnabled() is False  # llama.cpp only
    panel.bindings["serving.context"].widget.setValue(16384)
    assert document.plan.serving.context == 16384
    assert_chart_matches_engine(chart, document)
    document.undo_stack.undo()
    assert document.plan.serving.context == 8192
    assert_chart_matches_engine(chart, document)
