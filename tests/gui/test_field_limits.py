"""Every field takes the engine's range, and a value past a limit is refused at its field (issue 15).

Ranges come from one place, engine.limits (FIELD_BOUNDS, else the engine model's own field bounds);
a typed number past the range says the field, the value and the range under the field; a value inside
its range that takes the plan past a plan-wide limit (the parameter count) is refused there too, with the
plan unchanged, instead of turning up as the estimate's error.  Driven through real widgets.
"""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QDoubleSpinBox, QSpinBox

from engine.limits import FIELD_BOUNDS, MAX_LAYERS, MAX_LORA_ALPHA, MAX_PARAMETERS, MAX_PP
from engine.model.params import parameter_count
from gui.diagram.grid_dialog import GridDialog
from gui.document import PlanDocument
from gui.panels.model_panel import ModelPanel
from gui.panels.plan_fields import field_range, set_field, set_mode
from gui.panels.workload_panel import WorkloadPanel
from gui.templates import default_plan, load_template


def spins(panel) -> dict:
    return {p: b for p, b in panel.bindings.items() if isinstance(b.widget, QSpinBox | QDoubleSpinBox)}


@pytest.mark.parametrize("template", [None, "6b-rtx3060-int4"])
def test_every_spin_box_takes_the_engines_range(qtbot, template):
    plan = default_plan() if template is None else load_template(template)
    document = PlanDocument(plan)
    panels = [ModelPanel(document), WorkloadPanel(document)]
    if template is None:  # the fine-tuning rows are built when the plan first shows them
        document.apply(set_mode(document.plan, "finetune"), "fine-tune")
    checked = 0
    for panel in panels:
        qtbot.addWidget(panel)
        for path, b in spins(panel).items():
            spin = b.widget
            decimals = spin.decimals() if isinstance(spin, QDoubleSpinBox) else 0
            low, high = field_range(path, decimals)
            floor = spin.minimum() + (1 if spin.specialValueText() else 0)  # "auto" below the lowest number
            assert (floor, spin.maximum()) == (pytest.approx(max(low, floor)), pytest.approx(min(high, 2**31 - 1))), path
            if path in FIELD_BOUNDS:
                assert spin.maximum() == pytest.approx(min(FIELD_BOUNDS[path][1], 2**31 - 1)), path
            checked += 1
    assert checked >= 10


def test_lora_alpha_takes_the_engines_bound(qtbot):
    document = PlanDocument(load_template("6b-rtx3060-int4"))
    panel = WorkloadPanel(document)
    qtbot.addWidget(panel)
    document.apply(set_mode(document.plan, "finetune"), "fine-tune")
    alpha = panel.bindings["finetune.alpha"].widget
    assert alpha.maximum() == MAX_LORA_ALPHA  # was 10^9: 2 x 10^6 then failed in the estimate


def test_a_typed_number_past_the_range_names_field_value_and_range(qtbot):
    document = PlanDocument(default_plan())
    panel = ModelPanel(document)
    qtbot.addWidget(panel)
    panel.show()
    binding = panel.bindings["model.layers"]
    spin = binding.widget
    spin.setFocus()
    spin.lineEdit().selectAll()
    qtbot.keyClicks(spin.lineEdit(), "5000")
    qtbot.keyClick(spin.lineEdit(), Qt.Key.Key_Return)
    assert binding.error.text() == (f"Layers: 5,000 is out of range (allowed: 1 to {MAX_LAYERS:,}); "
                                    f"set to {MAX_LAYERS}.")
    assert not binding.error.isHidden()


def big_model_plan():
    """A complete model whose parameter count nears MAX_PARAMETERS = 10^15 as layers grow:
    per layer, attention 4 x 131,072 x (1,024 x 4,096) and a 3 x 131,072 x 524,288 gated MLP."""
    plan = default_plan()
    for path, value in (("model.vocab", 1_000_000), ("model.heads", 1024), ("model.head_dim", 4096),
                        ("model.hidden", 131_072), ("model.gated_mlp", True), ("model.ffn", 524_288),
                        ("model.layers", 100)):
        plan = set_field(plan, path, value)
    return plan


def test_a_value_that_takes_the_plan_past_a_plan_wide_limit_is_refused_at_its_field(qtbot):
    plan = big_model_plan()
    per_layer = (parameter_count(set_field(plan, "model.layers", 101).model) - parameter_count(plan.model))
    # 4 x 131,072 x 4,194,304 (attention) + 3 x 131,072 x 524,288 (gated MLP) + norms
    assert per_layer >= 4 * 131_072 * 4_194_304 + 3 * 131_072 * 524_288
    too_many = MAX_PARAMETERS // per_layer + 1  # layers within 1..MAX_LAYERS, parameters past 10^15
    assert too_many <= MAX_LAYERS
    document = PlanDocument(plan)
    panel = ModelPanel(document)
    qtbot.addWidget(panel)
    panel.show()
    before, steps = document.plan, document.undo_stack.count()
    binding = panel.bindings["model.layers"]
    spin = binding.widget
    spin.setFocus()
    spin.lineEdit().selectAll()
    qtbot.keyClicks(spin.lineEdit(), str(too_many))
    qtbot.keyClick(spin.lineEdit(), Qt.Key.Key_Return)
    assert document.plan is before and document.undo_stack.count() == steps  # not changed, no step
    assert document.error is None  # not an estimate error above the diagram ...
    assert spin.value() == 100  # ... the field shows the plan's value again, and says why under it
    assert not binding.error.isHidden()
    assert binding.error.text().startswith(f"Not accepted: expected a model of at most 1e+15 parameters; {too_many} makes ")
    fewer = (too_many - 1) // 4 * 4  # within the limit, and split evenly over the plan's 4 stages
    spin.setValue(fewer)
    assert document.plan.model.layers == fewer and document.error is None


def test_grid_dialog_sizes_take_the_engines_bounds(qtbot):
    dialog = GridDialog(None, slots=2048)
    qtbot.addWidget(dialog)
    assert (dialog.tp.maximum(), dialog.pp.maximum(), dialog.dp.maximum()) == (2048, MAX_PP, 2048)
