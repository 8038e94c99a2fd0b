"""The workload panel's MoE expert-load rows driven through their real widgets (issue 14).

The plan: 2 MoE layers (h 64, 8 experts of f_e 96, top-2, a 2-matrix MLP), T = 128 tokens per rank, DP 4 x EP 4,
detailed method (the model of tests/engine/test_moe_imbalance.py).  On average a rank receives R = T·k = 256
routed copies; the busiest rank's permuted expert inputs (2·R·h bytes) and expert FFN activations (2·2·R·f_e)
grow with its R, so each extra copy costs 2·64 + 4·96 = 512 B per MoE layer and micro-batch (one in flight).
"""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt

from engine import GiB, MethodConfig, ModelSpec, Plan, TrainingConfig, build_grid
from engine.model.spec import MoESpec
from engine.plan.schema import with_changes
from engine.training.config import ExpertLoad
from gui.document import PlanDocument
from gui.panels.expert_load import FACTOR_PATH, KIND_PATH, load_of_kind
from gui.panels.plan_fields import set_mode
from gui.panels.workload_panel import WorkloadPanel

MODEL = ModelSpec(name="moe", layers=2, hidden=64, heads=4, vocab=300, moe=MoESpec(experts=8, top_k=2, expert_ffn=96))
PLAN = Plan(name="moe", model=MODEL, training=TrainingConfig(seq=128, flash_attention=True),
            method=MethodConfig(method="detailed"), layout=build_grid(dp=4, ep=4, gpu="g", capacity_bytes=80 * GiB))
PER_COPY = 2 * 64 + 2 * 2 * 96  # bytes per routed copy and MoE layer


def activations(document: PlanDocument) -> int:
    return document.estimate.cards[0].breakdown.activations.bytes


@pytest.fixture
def panel(qtbot):
    widget = WorkloadPanel(PlanDocument(PLAN))
    qtbot.addWidget(widget)
    widget.show()
    return widget


def choose(panel: WorkloadPanel, kind: str) -> None:
    combo = panel.bindings[KIND_PATH].widget
    index = combo.findData(kind)
    combo.setCurrentIndex(index)
    combo.activated.emit(index)


def test_kind_and_factor_set_the_busiest_rank_the_cards_show(panel):
    document = panel.document
    factor = panel.bindings[FACTOR_PATH].widget
    balanced = activations(document)
    assert not factor.isEnabled()  # balanced takes no factor
    assert "busiest of 4 expert-parallel ranks" in panel.expert_load.note.text()
    # measured starts at 1.5: R = ceil(256 x 1.5) = 384, 128 more copies on 2 layers
    choose(panel, "measured")
    assert document.plan.training.expert_load == ExpertLoad(kind="measured", factor=1.5)
    assert factor.isEnabled() and factor.value() == 1.5
    assert activations(document) - balanced == 2 * 128 * PER_COPY == 131_072
    # ratio 2: R = 512, twice the average rank's
    factor.setValue(2.0)
    factor.editingFinished.emit()
    assert document.plan.training.expert_load == ExpertLoad(kind="measured", factor=2.0)
    assert activations(document) - balanced == 2 * 256 * PER_COPY == 262_144
    assert document.undo_stack.count() == 2 and document.undo_stack.undoText() == "Set Factor"
    # a measured ratio below 1 is refused under the field; the plan keeps 2
    factor.setValue(0.5)
    assert document.plan.training.expert_load.factor == 2.0 and factor.value() == 2.0
    error = panel.bindings[FACTOR_PATH].error
    assert not error.isHidden() and "Not accepted" in error.text()
    # the drop-less worst case: EP 4 x T 128 x min(k 2, 8/4 experts) = 1,024 copies
    choose(panel, "dropless-worst-case")
    assert document.plan.training.expert_load == ExpertLoad(kind="dropless-worst-case")
    assert activations(document) - balanced == 2 * (1024 - 256) * PER_COPY == 786_432 and not factor.isEnabled()
    for _ in range(3):
        document.undo_stack.undo()
    assert document.plan.training.expert_load == ExpertLoad() and activations(document) == balanced


def test_the_compare_button_shows_the_average_beside_the_busiest(panel, qtbot):
    document = panel.document
    choose(panel, "dropless-worst-case")
    qtbot.mouseClick(panel.expert_load.compare_button, Qt.MouseButton.LeftButton)
    c = document.comparison
    assert document.compare_source == "expert-load" and c is not None
    assert next(d for d in c.stages[0].categories if d.key == "activations").delta_bytes == 786_432


def test_the_rows_show_for_a_moe_training_plan_only(panel):
    group = panel.expert_load.group
    assert group.isVisible() and group.title() == "MoE expert load"
    panel.document.reset(with_changes(PLAN, model=ModelSpec(name="dense", layers=2, hidden=64, heads=4, vocab=300)))
    assert not group.isVisible()
    panel.document.undo_stack.clear()
    panel.document.reset(PLAN)
    assert group.isVisible()
    panel.document.apply(set_mode(panel.document.plan, "serving"), "Set workload")
    assert not group.isVisible()


def test_ep_1_says_the_load_changes_nothing(panel):
    panel.document.reset(with_changes(PLAN, layout=build_grid(dp=4, gpu="g", capacity_bytes=80 * GiB)))
    assert panel.bindings[KIND_PATH].widget.isEnabled()
    assert "EP 1" in panel.expert_load.note.text()


def test_a_new_kind_keeps_a_factor_it_accepts():
    assert load_of_kind(ExpertLoad(), "capacity-factor") == ExpertLoad(kind="capacity-factor", factor=1.25)
    assert load_of_kind(ExpertLoad(kind="measured", factor=2.0), "capacity-factor").factor == 2.0
    # a capacity factor below 1 is no busiest/mean ratio: measured starts from 1.5
    assert load_of_kind(ExpertLoad(kind="capacity-factor", factor=0.5), "measured").factor == 1.5
    assert load_of_kind(ExpertLoad(kind="measured", factor=2.0), "balanced") == ExpertLoad()
