"""The app as a new user meets it (issue 12): no dead ends, honest numbers, nothing cut off.

Real documents and real widgets, offscreen; the command line in-process and in a subprocess.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from PySide6.QtCore import QCoreApplication, QEvent, QPoint, QPointF, Qt
from PySide6.QtGui import QHelpEvent, QKeySequence
from PySide6.QtWidgets import QApplication, QLabel, QToolTip, QWidget

from engine.estimate import estimate
from engine.limits import MAX_SEQ
from engine.plan import edits
from engine.plan.schema import save_plan
from gui import settings
from gui.app import build_parser, initial_plan
from gui.document import PlanDocument
from gui.entry import main as entry_main
from gui.entry import route
from gui.i18n import install_translator, remove_translators
from gui.main_window import MainWindow
from gui.panels.plan_fields import set_field, set_mode
from gui.pdf.content import card_rows
from gui.recent_files import add_recent_file, recent_files
from gui.templates import default_plan, load_template
from gui.window_layout import remember, restore, stored_theme, stored_units

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def open_window():
    windows = []

    def make(plan, size=(1280, 800)) -> MainWindow:
        win = MainWindow(PlanDocument(plan))
        win.resize(*size)
        win.show()
        for _ in range(3):
            QCoreApplication.processEvents()
        windows.append(win)
        return win

    yield make
    for win in windows:
        win.document.undo_stack.setClean()  # no unsaved-changes prompt on close
        win.close()
        win.deleteLater()
    QCoreApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)


# 1, 7: the command line ---------------------------------------------------------------------
def test_a_plan_path_as_the_only_argument_opens_the_app_on_it(tmp_path):
    path = tmp_path / "pp8.json"
    save_plan(load_template("article-13b-pp8"), path)
    assert route([str(path)]) == ("gui", [str(path)])  # what a file manager runs: vramplan %f
    assert route(["missing.json"]) == ("gui", ["missing.json"])  # and says why it cannot open it
    assert route(["estimate", "--help"])[0] == "engine" and route([]) == ("gui", [])
    plan, opened = initial_plan(build_parser().parse_args([str(path)]))
    assert plan == load_template("article-13b-pp8") and opened == path


def test_a_plan_path_starts_the_app_in_a_real_process(tmp_path):
    path, shot = tmp_path / "serving.json", tmp_path / "shot.png"
    save_plan(load_template("70b-4xh100-vllm"), path)
    proc = subprocess.run([sys.executable, "-m", "gui.entry", str(path), "--screenshot", str(shot), "--size", "800x600"],
                          cwd=ROOT, capture_output=True, text=True, timeout=120,
                          env={**__import__("os").environ, "QT_QPA_PLATFORM": "offscreen"})
    assert proc.returncode == 0, proc.stderr
    assert shot.stat().st_size > 10_000


def test_help_lists_every_command(capsys):
    assert entry_main(["--help"]) == 0
    out = capsys.readouterr().out
    for command in ("gui", "report", "selftest", "estimate", "infer", "finetune", "plan", "compare", "sweep"):
        assert f"\n    {command} " in out, command
    assert entry_main(["nonsense"]) == 2
    err = capsys.readouterr().err
    assert "invalid choice" in err and "'gui'" in err and "'selftest'" in err


# 2: the empty plan ----------------------------------------------------------------------------
def test_deleting_every_card_is_the_empty_state_not_an_error(open_window, qtbot):
    win = open_window(default_plan())
    document, roles = win.document, win.actions_.roles
    document.set_selection([c.id for c in document.plan.layout.cards])
    roles.delete.trigger()  # Delete on all eight cards: no ZeroDivisionError anywhere
    assert document.plan.layout.cards == () and document.undo_stack.count() == 1
    assert document.error is None and document.estimate is None
    chart = win.chart
    assert not any(item.isVisible() for item in chart.bar_items.values())
    assert chart.state_text.isVisible() and chart.state_text.toPlainText() == "no cards yet"
    assert "drag a GPU" in chart.summary.text()
    assert [win.warnings.item(i).text() for i in range(win.warnings.count())] == ["No warnings"]
    assert win.diagram.diagram_scene.banner_text() == ""  # no error banner
    assert win.stages_panel.spins == [] and "No cards yet" in win.stages_panel.note.text()
    win.diagram.grab()  # the empty-canvas hint paints
    document.undo_stack.undo()
    assert document.estimate is not None and len(win.stages_panel.spins) == 4


def test_deleting_the_last_node_leaves_an_empty_canvas(open_window):
    win = open_window(load_template("6b-rtx3060-int4"))
    document = win.document
    node = document.plan.layout.nodes[0].id
    document.apply(edits.remove_node(document.plan, node), "Delete node")
    assert document.error is None and document.estimate is None
    assert not win.serving_panel.isVisibleTo(win)
    win.diagram.grab()


# 3: an invalid plan: greyed, the error once, and the Stages tab offers a split the engine takes
def test_relabelled_stages_get_a_one_click_uneven_split(open_window):
    win = open_window(default_plan())
    document, panel = win.document, win.stages_panel
    last_two = [c.id for c in document.plan.layout.cards[-2:]]
    document.apply(edits.set_stage(document.plan, last_two, 2), "Set stage 3")  # 40 layers over 3 stages
    assert document.error is not None and document.error.field == "layout.pp"
    scene = win.diagram.diagram_scene
    assert "40 layers do not split evenly over 3 pipeline stages" in scene.banner_text()
    assert "--pp-layers" not in scene.banner_text() and "layout.pp" not in scene.banner_text()
    assert all(item.total_text == "–" for item in scene.card_items.values())  # no 47.39 GB left over
    assert panel.split_button.isVisibleTo(panel) and panel.split_button.text() == "Split as 14 + 13 + 13"
    assert "40 layers do not split evenly over 3 stages" in panel.note.text()
    panel.split_button.click()
    assert document.plan.layout.pp_layers == (14, 13, 13) and document.error is None
    assert not panel.even.isEnabled()  # back to an even split would be refused
    assert not panel.split_button.isVisibleTo(panel)


# 6 (labels), DP vocabulary -------------------------------------------------------------------
def test_dp_ranks_read_the_same_on_badge_tooltips_and_pdf(open_window):
    win = open_window(default_plan())  # PP 4 x ZeRO-1 DP 2: cards 2k and 2k+1 share a DP group
    document = win.document
    est = estimate(document.plan)
    second = est.cards[1]
    assert (second.dp_rank, second.dp_size) == (1, 2)  # the JSON's 0-based rank
    item = win.diagram.diagram_scene.card_items[second.card_id]
    assert item._dp.text() == "DP 2/2"  # the badge: 1-based rank of 2, not the group id
    assert "DP rank 2/2" in item.tooltip_html() and "TP rank 1/1" in item.tooltip_html()
    assert "DP rank 2/2" in win.chart.tooltip_html(1)
    row = card_rows(document.plan, est, all_cards=True)[1]
    assert (row.tp, row.zero) == ("1/1", "2/2")
    assert "group" not in item.tooltip_html()


# rough edges ---------------------------------------------------------------------------------
def test_the_chart_tooltip_stays_while_the_pointer_rests(open_window):
    win = open_window(default_plan())
    chart = win.chart
    vb = chart.plot.getPlotItem().vb
    at = chart.plot.mapFromScene(vb.mapViewToScene(QPointF(0.0, 20.0)))
    for _ in range(2):  # Qt sends a tooltip event each time the pointer rests: the bar answers both
        event = QHelpEvent(QEvent.Type.ToolTip, at, chart.plot.viewport().mapToGlobal(at))
        QApplication.sendEvent(chart.plot.viewport(), event)
        QCoreApplication.processEvents()
        assert QToolTip.isVisible() and "Card #0" in QToolTip.text()
    QToolTip.hideText()


def test_a_new_node_scrolls_into_view_clear_of_the_legend(open_window):
    win = open_window(default_plan())
    view, document = win.diagram, win.document
    below = document.plan.layout.nodes[0].y + 3  # far below the only node
    document.apply(edits.add_card(edits.add_node(document.plan, "new", x=0.0, y=below, node_id="n9"), "n9",
                                  "H100 SXM", 85_000_000_000), "Add node with H100 SXM")
    view.grab()  # lay out and paint (the legend's size is known after its first paint)
    rect = view.mapFromScene(view.diagram_scene.card_items[document.plan.layout.cards[-1].id].sceneBoundingRect())
    box = rect.boundingRect()
    assert view.viewport().rect().contains(box)
    assert box.bottom() <= view.viewport().height() - view.legend_height() + 8
    view.fit_action.trigger()  # View > Fit Diagram to Window (Ctrl+0): every node, none under the legend
    assert view.fit_action.shortcut() == QKeySequence("Ctrl+0")
    for node in view.diagram_scene.node_items.values():
        shown = view.mapFromScene(node.sceneBoundingRect()).boundingRect()
        assert view.viewport().rect().contains(shown)


def test_zoomed_out_each_stage_keeps_the_number_of_its_heaviest_card(open_window):
    win = open_window(load_template("70b-80-cards"), (1920, 1080))
    scene, est = win.diagram.diagram_scene, win.document.estimate
    win.diagram.fit_all()
    assert win.diagram.zoom() < 0.55  # too small for the bars' own figures
    shown = [item for item in scene.card_items.values() if item.figure_label.isVisible()]
    assert len(shown) == len({c.stage for c in est.cards})  # one per stage
    for item in shown:
        stage = [c for c in est.cards if c.stage == item.card.stage]
        assert item.estimate.total_bytes == max(c.total_bytes for c in stage)
    win.diagram.set_zoom(1.0)
    assert not any(item.figure_label.isVisible() for item in scene.card_items.values())


def test_palette_names_are_whole_on_a_wide_screen(open_window):
    win = open_window(default_plan(), (1920, 1080))
    tree = win.gpu_palette.tree
    widest = max(tree.fontMetrics().horizontalAdvance(n) for n in win.gpu_palette.visible_gpu_names())
    assert tree.columnWidth(0) - 2 * tree.indentation() >= widest


def test_fields_that_do_nothing_are_greyed(open_window):
    win = open_window(load_template("6b-rtx3060-int4"))
    document, bindings = win.document, win.workload_panel.bindings
    for quant in ("int4-gptq", "Q4_K_M"):
        document.apply(set_field(document.plan, "serving.quant", quant), "Set quant")
        assert not bindings["serving.double_quant"].widget.isEnabled(), quant
    document.apply(set_field(document.plan, "serving.quant", "nf4"), "Set quant")
    assert bindings["serving.double_quant"].widget.isEnabled()
    document.apply(set_mode(document.plan, "finetune"), "Fine-tuning")
    assert document.plan.finetune.method == "lora"
    assert not bindings["finetune.quant"].widget.isEnabled() and not bindings["finetune.double_quant"].widget.isEnabled()
    document.apply(set_field(document.plan, "finetune.method", "qlora"), "QLoRA")
    assert bindings["finetune.quant"].widget.isEnabled() and bindings["finetune.double_quant"].widget.isEnabled()


def test_a_refused_edit_notice_goes_on_a_click_and_on_file_new(open_window, qtbot):
    win = open_window(default_plan())
    scene, view, roles = win.diagram.diagram_scene, win.diagram, win.actions_.roles
    node = win.document.plan.layout.nodes[0].id
    roles.scene.set_current_node(node)
    win.diagram_controller.on_gpu_dropped("H100 SXM", node, -1, QPointF())  # a full node: refused
    assert scene.notice_text.startswith("Not done: node-0: expected a node with a free slot")
    view.grab()
    qtbot.mouseClick(view.viewport(), Qt.MouseButton.LeftButton, pos=view._banner_rect.center().toPoint())
    assert scene.banner_text() == ""
    win.diagram_controller.on_gpu_dropped("H100 SXM", node, -1, QPointF())
    assert scene.notice_text
    win.files.new_from(default_plan())  # File > New
    assert scene.banner_text() == ""


def test_extreme_values_fit_the_card_and_the_axis(open_window):
    plan = load_template("6b-rtx3060-int4")
    plan = set_field(plan, "serving.batch", 65_536)  # the engine's limit: petabytes of KV cache
    win = open_window(plan)
    est = win.document.estimate
    item = next(iter(win.diagram.diagram_scene.card_items.values()))
    assert est.cards[0].total_bytes > 10_000 * 10**9
    assert "," in item.total_text and "." not in item.total_text  # "2,199,062 GB", not "2199062.26 GB"
    strings = win.chart.plot.getAxis("left").tickStrings([0.0, 1e6, 2e6], 1.0, 1e6)
    assert strings == ["0", "1,000,000", "2,000,000"]


def test_a_typed_value_past_the_limit_says_the_limit(open_window, qtbot):
    win = open_window(default_plan())
    binding = win.workload_panel.bindings["training.seq"]
    spin = binding.widget
    win.tabs.setCurrentIndex(0)
    spin.setFocus()
    spin.lineEdit().selectAll()
    qtbot.keyClicks(spin.lineEdit(), "99999999")
    assert spin.lineEdit().text().startswith("99999999")  # not silently cut to the limit's digits
    qtbot.keyClick(spin.lineEdit(), Qt.Key.Key_Return)
    assert win.document.plan.training.seq == MAX_SEQ
    assert not binding.error.isHidden()
    assert binding.error.text() == (f"Sequence length: 99,999,999 is out of range (allowed: 1 to {MAX_SEQ:,}); "
                                    f"set to {MAX_SEQ} tokens.")  # the field, the value and the range
    assert f"{MAX_SEQ:,}" in spin.toolTip()


def test_counts_read_as_english_plurals(open_window):
    win = open_window(load_template("6b-rtx3060-int4"))
    assert win.chart.summary.text().endswith("&nbsp; 1 card")
    win2 = open_window(default_plan())
    assert "8 cards" in win2.chart.summary.text()
    assert win2.stages_panel.summary.text() == "4 stages; the model has 40 layers"


# 8: what the app remembers ----------------------------------------------------------------
def test_units_theme_geometry_and_docks_are_remembered(open_window):
    win = open_window(default_plan())
    remember(win)
    win.document.set_units("GiB")
    win.actions_.dark.setChecked(True)
    assert stored_units() == "GiB" and stored_theme() == "dark"
    win.actions_.dark.setChecked(False)
    win.planner_dock.show()
    win.resize(1100, 760)
    win.close()  # saves the geometry and the dock layout
    assert settings.read_bytes(settings.GEOMETRY) is not None
    again = open_window(default_plan())
    assert restore(again) and again.layout_restored
    assert again.planner_dock.isVisible()


def test_recent_files_live_in_the_settings(tmp_path):
    path = tmp_path / "plan.json"
    save_plan(default_plan(), path)
    add_recent_file(path)
    assert recent_files() == [path.resolve()]
    assert settings.read_list(settings.RECENT_FILES) == [str(path.resolve())]
    ini = Path(settings.settings().fileName())
    assert ini.parent == tmp_path / "config" and "plan.json" in ini.read_text(encoding="utf-8")
    path.unlink()
    assert recent_files() == []  # a file that is gone is skipped


# nothing clipped at 1280 x 800, in English and Chinese --------------------------------------
def _cut_widgets(win: MainWindow) -> list[str]:
    """Visible labels and fields of the plan settings that are cut off left or right."""
    tabs = win.tabs
    area = tabs.currentWidget()
    port = area.viewport() if hasattr(area, "viewport") else area
    cut = []
    for widget in port.findChildren(QWidget):
        if not widget.isVisibleTo(port) or widget.width() <= 0:
            continue
        left = widget.mapTo(port, QPoint(0, 0)).x()
        if left < 0 or left + widget.width() > port.width() + 1:
            cut.append(f"{type(widget).__name__} {widget.objectName()} {left}+{widget.width()} > {port.width()}")
        if isinstance(widget, QLabel) and widget.text() and not widget.wordWrap() \
                and widget.width() < widget.sizeHint().width() - 1:
            cut.append(f"label {widget.text()!r} {widget.width()} < {widget.sizeHint().width()}")
    return cut


@pytest.mark.parametrize("language", ["en", "zh_CN"])
@pytest.mark.parametrize("key", ["70b-4xh100-vllm", "article-13b-pp4-zero1-dp2"])
def test_nothing_is_cut_at_1280x800(qapp, open_window, language, key):
    if language != "en":
        assert install_translator(qapp, language)
    try:
        win = open_window(load_template(key))
        for index in range(win.tabs.count()):
            win.tabs.setCurrentIndex(index)
            QCoreApplication.processEvents()
            assert _cut_widgets(win) == [], (language, key, win.tabs.tabText(index))
        combo = win.workload_panel.bindings["mode"].widget
        win.tabs.setCurrentIndex(0)
        combo.setFocus()  # a focused combo used to scroll the form sideways ("/orkload")
        QCoreApplication.processEvents()
        assert _cut_widgets(win) == []
    finally:
        remove_translators(qapp)


def test_the_rtx3060_template_opens_cleanly():
    plan = load_template("6b-rtx3060-int4")
    est = estimate(plan)
    assert est.fits and est.cards[0].gpu == "RTX 3060 12GB" and plan.serving.quant == "int4-gptq"
    assert [w.code for w in est.warnings] == []
    assert json.loads((ROOT / "resources/templates/6b-rtx3060-int4.json").read_text(encoding="utf-8"))["mode"] == "serving"
