"""The main window: composition, files, drops, units, warnings, shortcuts and screenshots."""

from __future__ import annotations

import json

import pytest
from PySide6.QtCore import QCoreApplication, QEvent, QMimeData, QPointF, Qt, QUrl
from PySide6.QtGui import QDropEvent, QImage, QKeySequence

from engine.plan.schema import load_plan, save_plan
from engine.units import Unit
from gui.app import main, render_screenshot
from gui.document import PlanDocument
from gui.main_window import MainWindow
from gui.panels.plan_fields import set_field
from gui.recent_files import recent_files
from gui.templates import default_plan, load_template


@pytest.fixture
def window(qtbot):
    win = MainWindow(PlanDocument(default_plan()))
    yield win
    win.document.undo_stack.setClean()  # closing must not stop at the unsaved-changes prompt
    win.diagram.diagram_scene.clearSelection()
    win.close()
    win.deleteLater()
    QCoreApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)


def test_window_opens_on_the_articles_13b_scenario(window):
    assert window.document.plan == default_plan()
    assert "13B" in window.windowTitle()
    assert window.document.error is None
    assert "Fits" in window.chart.summary.text()


def test_title_marks_unsaved_changes(window):
    window.document.apply(set_field(window.document.plan, "training.seq", 2048), "Set sequence length")
    assert window.isWindowModified()
    window.document.undo_stack.undo()
    assert not window.isWindowModified()


def test_save_and_reopen_round_trip(window, tmp_path):
    document = window.document
    document.apply(set_field(document.plan, "training.seq", 2048), "Set sequence length")
    path = tmp_path / "plan.json"
    assert window.files.save_to(path)
    assert not document.dirty and document.path == path
    assert load_plan(path) == document.plan
    assert path.resolve() in recent_files()
    saved = document.plan
    window.files.new_from(load_template("article-13b-pp8"))
    assert window.files.open_path(path)
    assert document.plan == saved and document.undo_stack.count() == 0


def test_opening_a_bad_file_says_why_inline_and_keeps_the_plan(window, tmp_path):
    bad = tmp_path / "bad.json"
    bad.write_text("{ nope", encoding="utf-8")
    before = window.document.plan
    assert not window.files.open_path(bad)
    assert window.document.plan is before
    assert not window.notice.isHidden() and "valid JSON" in window.notice.label.text()


def _drop(window, path) -> None:
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(path))])
    event = QDropEvent(QPointF(10, 10), Qt.DropAction.CopyAction, mime, Qt.MouseButton.NoButton,
                       Qt.KeyboardModifier.NoModifier)
    window.dropEvent(event)


def test_dropping_a_plan_opens_it_and_a_config_sets_the_model(window, tmp_path):
    plan_path = tmp_path / "pp8.json"
    save_plan(load_template("article-13b-pp8"), plan_path)
    _drop(window, plan_path)
    assert window.document.plan == load_template("article-13b-pp8")
    config = tmp_path / "config.json"
    config.write_text(json.dumps({
        "model_type": "llama", "hidden_size": 4096, "intermediate_size": 11008, "num_hidden_layers": 32,
        "num_attention_heads": 32, "vocab_size": 32000, "max_position_embeddings": 4096}), encoding="utf-8")
    _drop(window, config)
    assert window.document.plan.model.hidden == 4096
    assert window.document.plan.layout == load_template("article-13b-pp8").layout


def test_units_switch_from_the_view_menu(window):
    window.actions_.unit_actions[Unit.GiB].trigger()
    assert window.document.units is Unit.GiB
    assert window.actions_.units_combo.currentText() == "GiB"
    assert "GiB" in window.chart.summary.text()


def test_clicking_a_warning_highlights_its_cards(qtbot):
    win = MainWindow(PlanDocument(load_template("article-13b-zero1-only")))
    qtbot.addWidget(win)
    panel = win.warnings
    texts = [panel.item(i).text() for i in range(panel.count())]
    row = next(i for i, t in enumerate(texts) if "over capacity" in t)
    panel.itemClicked.emit(panel.item(row))
    assert set(win.document.highlighted_card_ids) == {c.id for c in win.document.plan.layout.cards}


def test_an_invalid_plan_says_so_everywhere_and_its_error_once_in_gui_words(window):
    window.document.apply(set_field(window.document.plan, "training.global_batch", 3), "Set global batch")
    assert window.document.error is not None
    banner = window.diagram.diagram_scene.banner_text()
    # the one message: the GUI's place and words, no plan field names, no CLI flags
    assert "Global batch" in banner and "micro-batch × DP = 1 × 2 = 2" in banner
    assert "training." not in banner and "global_batch" not in banner and "--" not in banner
    texts = [window.warnings.item(i).text() for i in range(window.warnings.count())]
    assert texts == ["Not computed while the plan has an error (see the message above the diagram)."]
    assert "Not computed" in window.chart.summary.text() and "global_batch" not in window.chart.summary.text()
    label = window.workload_panel.bindings["training.global_batch"].row_label
    assert "color" in label.styleSheet() and "Global batch" in label.toolTip()  # the field is marked, not repeated
    assert all(item.total_text == "–" for item in window.diagram.diagram_scene.card_items.values())


def test_frequent_actions_have_shortcuts(window):
    acts = window.actions_
    assert acts.undo.shortcut() == QKeySequence(QKeySequence.StandardKey.Undo)
    assert QKeySequence("Ctrl+Y") in acts.redo.shortcuts()
    assert window.files.save.shortcut() == QKeySequence(QKeySequence.StandardKey.Save)
    assert window.files.open.shortcut() == QKeySequence(QKeySequence.StandardKey.Open)
    assert window.files.new.shortcut() == QKeySequence(QKeySequence.StandardKey.New)
    assert acts.export_pdf.shortcut() == QKeySequence("Ctrl+E")


def test_ctrl_z_undoes_through_the_keyboard(window, qtbot):
    window.show()
    window.activateWindow()
    qtbot.waitUntil(lambda: window.isActiveWindow(), timeout=3000)
    window.document.apply(set_field(window.document.plan, "training.seq", 2048), "Set sequence length")
    qtbot.keyClick(window.chart, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    assert window.document.plan.training.seq == 4096


def test_render_screenshot_writes_the_window(tmp_path):
    out = tmp_path / "shot.png"
    render_screenshot(default_plan(), out, size=(1280, 800))
    image = QImage(str(out))
    assert (image.width(), image.height()) == (1280, 800)
    colours = {image.pixel(x, y) for x in range(0, 1280, 40) for y in range(0, 800, 40)}
    assert len(colours) > 10  # not blank


def test_bad_plan_argument_is_one_line_and_exit_2(tmp_path, capsys):
    assert main(["--plan", str(tmp_path / "missing.json"), "--screenshot", str(tmp_path / "x.png")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "missing.json" in err


def test_role_actions_are_in_menus_toolbar_and_context_menu(window):
    roles = window.actions_.roles
    stage1 = roles.stage_actions[0]
    assert stage1 in window.actions_.toolbar.actions()
    assert stage1 in window.actions()  # its key (1) works anywhere in the window
    assert window.diagram.context_actions  # right-click menu installed


def test_stage_action_on_a_selection_updates_chart_undo_redo(window):
    from tests.gui.test_chart import assert_chart_matches_engine

    roles = window.actions_.roles
    document = window.document
    last_two = [c.id for c in document.plan.layout.cards[-2:]]  # the two stage-4 cards
    document.set_selection(last_two)
    roles.stage_actions[2].trigger()  # "Set stage 3"
    assert {c.stage for c in document.plan.layout.cards if c.id in last_two} == {2}
    assert document.undo_stack.count() == 1
    if document.estimate is not None:
        assert_chart_matches_engine(window.chart, document)
    else:
        assert "Not computed" in window.chart.summary.text()
    document.undo_stack.undo()
    assert_chart_matches_engine(window.chart, document)
    document.undo_stack.redo()
    assert {c.stage for c in document.plan.layout.cards if c.id in last_two} == {2}


def test_planner_is_built_when_its_dock_first_shows(window, qtbot):
    from gui.planner_panel import PlannerPanel

    window.show()
    qtbot.waitExposed(window)
    assert window.planner is None and window.planner_dock.isHidden()  # not needed for the first window
    window.planner_dock.toggleViewAction().trigger()  # View > Planner: a tab beside the plan settings
    window.planner_dock.raise_()  # its tab chosen
    qtbot.waitUntil(lambda: window.planner is not None, timeout=3000)
    assert isinstance(window.planner, PlannerPanel) and window.planner_dock.widget() is window.planner
