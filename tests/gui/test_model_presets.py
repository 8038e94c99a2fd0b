"""Architecture fields and user model presets in the model panel."""

from __future__ import annotations

from PySide6.QtWidgets import QCheckBox, QInputDialog

from engine.catalog import find_model, user_catalog_dir
from engine.model.params import parameter_count
from gui.document import PlanDocument
from gui.panels.model_panel import ModelPanel
from gui.templates import default_plan


def make_panel(qtbot):
    document = PlanDocument(default_plan())
    panel = ModelPanel(document)
    qtbot.addWidget(panel)
    return document, panel


def test_gated_mlp_check_is_one_undo_step(qtbot):
    document, panel = make_panel(qtbot)
    # give the article-level model a vocabulary so the architecture decides the count
    check = panel.findChild(QCheckBox, "model.gated_mlp")
    before = document.undo_stack.count()
    check.setChecked(True)
    assert document.plan.model.gated_mlp is True
    assert document.undo_stack.count() == before + 1
    document.undo_stack.undo()
    assert document.plan.model.gated_mlp is False


def test_save_as_preset_persists_in_the_user_catalog(qtbot, monkeypatch):
    document, panel = make_panel(qtbot)
    monkeypatch.setattr(QInputDialog, "getText", lambda *a, **k: ("my-13b", True))
    panel.save_preset.click()
    saved = find_model("my-13b")
    assert saved.spec == document.plan.model
    assert saved.published_params == parameter_count(document.plan.model) == 13_000_000_000
    assert (user_catalog_dir() / "models" / "my13b.json").is_file()
    assert panel.preset.findData("my-13b") >= 0
