"""The node diagram with a real document, real widgets and synthesised input (offscreen).

After each step the figures drawn on the card bars are compared with an
independent ``engine.estimate.estimate(document.plan)`` call, and a few with
the article's own numbers (``../shared/reference/worked-examples.md``):
13B, S = 4096, H = 5120, L = 40, PP 4 x ZeRO-1 DP 2 on 80 GB cards gives
72.55 / 64.17 / 55.78 / 47.39 GB per stage (exact activations, 33.55e9 B/sample).
"""

from __future__ import annotations

import pytest
from PySide6.QtCore import QEvent, QMimeData, QPoint, QPointF, QRectF, Qt
from PySide6.QtGui import (
    QColor,
    QDragEnterEvent,
    QDragMoveEvent,
    QDropEvent,
    QImage,
    QKeyEvent,
    QPainter,
)
from PySide6.QtWidgets import QApplication

from engine.estimate import estimate
from engine.model.spec import ModelSpec
from engine.plan import edits
from engine.plan.layout import build_grid
from engine.plan.schema import Plan
from engine.training.config import MethodConfig, TrainingConfig
from engine.units import GiB, format_bytes
from gui.diagram.actions import RoleActions
from gui.diagram.colors import stage_color
from gui.diagram.controller import DiagramController
from gui.diagram.geometry import CARD_H, CARD_W, TITLE_H, node_scene_pos, slot_pos
from gui.diagram.view import DiagramView
from gui.document import PlanDocument
from gui.palette import GpuPalette

# PySide6 6.12 marks the QPoint constructors of the drag events deprecated but offers no QPointF one.
pytestmark = pytest.mark.filterwarnings("ignore:Function.*QDrag.*deprecated:DeprecationWarning")

MODEL_13B = ModelSpec(name="13B", params=13_000_000_000, layers=40, hidden=5120, heads=40)
ARTICLE_STAGE_TOTALS = ("72.55 GB", "64.17 GB", "55.78 GB", "47.39 GB")


def article_plan(spare_node: bool = True) -> Plan:
    plan = Plan(name="13B PP4 x ZeRO-1 DP2", model=MODEL_13B, training=TrainingConfig(zero=1),
                method=MethodConfig(method="seed"),
                layout=build_grid(pp=4, dp=2, gpu="A100 80GB", capacity_bytes=80 * GiB))
    return edits.add_node(plan, "spare", x=0.0, y=1.0, node_id="n1") if spare_node else plan


@pytest.fixture
def diagram(qtbot):
    document = PlanDocument(article_plan())
    view = DiagramView(document)
    qtbot.addWidget(view)
    view.resize(1200, 800)
    view.show()
    qtbot.waitExposed(view)
    controller = DiagramController(document, view.diagram_scene)
    actions = RoleActions(document)
    actions.attach_scene(view.diagram_scene)
    view.set_zoom(1.0)
    return document, view, controller, actions


# Checks shared by the tests ----------------------------------------------------------
def assert_bars_match_engine(document: PlanDocument, view: DiagramView) -> None:
    scene = view.diagram_scene
    report = estimate(document.plan)  # an independent call, not the document's cached estimate
    assert set(scene.card_items) == {c.id for c in document.plan.layout.cards}
    for row in report.cards:
        item = scene.card_items[row.card_id]
        assert item.total_text == format_bytes(row.total_bytes, document.units)
        assert item.capacity_text == f"of {format_bytes(row.capacity_bytes, document.units)}"
        assert item.over == (row.total_bytes > row.capacity_bytes)
        drawn = [(rect.height(), brush.color().name()) for rect, brush in item.segments]
        assert len(drawn) == sum(1 for p in row.breakdown.parts() if p.bytes > 0)


def rendered_color(view: DiagramView, item, local: QPointF) -> QColor:
    """Render the scene around one point of an item and read the pixel back."""
    scene_point = item.mapToScene(local)
    image = QImage(3, 3, QImage.Format.Format_ARGB32)
    image.fill(0)
    painter = QPainter(image)
    view.diagram_scene.render(painter, QRectF(0, 0, 3, 3), QRectF(scene_point - QPointF(1, 1), scene_point + QPointF(1, 1)))
    painter.end()
    return image.pixelColor(1, 1)


def assert_colours_and_outlines_match_plan(document: PlanDocument, view: DiagramView) -> None:
    scene = view.diagram_scene
    for card in document.plan.layout.cards:
        item = scene.card_items[card.id]
        assert item.parentItem() is scene.node_items[card.node]
        assert item.pos() == slot_pos(card.slot)
        # Header strip between the "S" label and the DP badge is the stage colour.
        assert rendered_color(view, item, QPointF(CARD_W / 2 - 6, 10)).name() == stage_color(card.stage).name()
    sizes: dict[int, int] = {}
    for card in document.plan.layout.cards:
        sizes[card.tp_group] = sizes.get(card.tp_group, 0) + 1
    wanted = {(c.node, c.tp_group) for c in document.plan.layout.cards if sizes[c.tp_group] > 1}
    assert set(scene.outline_items) == wanted
    for (node_id, group), outline in scene.outline_items.items():
        members = [c for c in document.plan.layout.cards if c.node == node_id and c.tp_group == group]
        for c in members:
            assert outline.sceneBoundingRect().contains(scene.card_items[c.id].sceneBoundingRect().adjusted(4, 4, -4, -4))


def viewport_point(view: DiagramView, scene_point: QPointF) -> QPoint:
    view.centerOn(scene_point)
    return view.mapFromScene(scene_point)


def slot_center(node_id: str, x: float, y: float, slot: int) -> QPointF:
    return node_scene_pos(x, y) + slot_pos(slot) + QPointF(CARD_W / 2, CARD_H / 2)


def drop_gpu(view: DiagramView, mime: QMimeData, scene_point: QPointF) -> bool:
    """Synthesised drag enter / move / drop on the viewport, as a palette drag would deliver them."""
    target = view.viewport()
    pos = viewport_point(view, scene_point)
    buttons, mods = Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier
    enter = QDragEnterEvent(pos, Qt.DropAction.CopyAction, mime, buttons, mods)
    QApplication.sendEvent(target, enter)
    move = QDragMoveEvent(pos, Qt.DropAction.CopyAction, mime, buttons, mods)
    QApplication.sendEvent(target, move)
    drop = QDropEvent(QPointF(pos), Qt.DropAction.CopyAction, mime, buttons, mods)
    QApplication.sendEvent(target, drop)
    return move.isAccepted() and drop.isAccepted()


# The article's plan as drawn --------------------------------------------------------------
def test_article_plan_is_drawn_with_the_articles_numbers(diagram):
    document, view, _, _ = diagram
    scene = view.diagram_scene
    # build_grid(pp=4, dp=2): card r is on stage r // 2.
    assert [scene.card_items[f"c{r}"].total_text for r in range(0, 8, 2)] == list(ARTICLE_STAGE_TOTALS)
    assert scene.card_items["c0"].capacity_text == "of 85.90 GB"  # 80 GiB = 85,899,345,920 B
    assert_bars_match_engine(document, view)
    assert_colours_and_outlines_match_plan(document, view)
    assert "stage 4" in [e.text for e in scene.legend()[0]]


def test_tooltip_lists_the_formulas(diagram):
    document, view, _, _ = diagram
    html = view.diagram_scene.card_items["c0"].tooltip_html()
    # Stage 1 weights: 2 B x 13e9 x 10/40 = 6.5e9 B; the formula is the engine's text.
    assert "6.50 GB" in html and "2 B × 13,000,000,000 params × 10/40 layers" in html


# Palette drops ------------------------------------------------------------------------------
def test_drop_palette_gpu_onto_a_node_slot(diagram, qtbot):
    document, view, _, _ = diagram
    palette = GpuPalette()
    qtbot.addWidget(palette)
    mime = palette.mimeData("A100 80GB")
    assert drop_gpu(view, mime, slot_center("n1", 0.0, 1.0, 2))
    new = document.plan.layout.cards[-1]
    assert (new.node, new.slot, new.gpu, new.capacity_bytes) == ("n1", 2, "A100 80GB", 85_100_068_864)
    assert document.undo_stack.count() == 1 and document.undo_stack.text(0) == "Add A100 80GB"
    # The new card is stage 1 on its own (DP 1): 13e9 x 18 / 4 = 58.5e9 B of states plus
    # 4 micro-batches in flight x 40 x 4096 x 5120 x 10 = 33,554,432,000 B: 92.05 GB > 85.90 GB.
    item = view.diagram_scene.card_items[new.id]
    assert item.total_text == "92.05 GB" and item.over
    assert_bars_match_engine(document, view)
    assert_colours_and_outlines_match_plan(document, view)


def test_drop_on_a_full_node_is_refused_inline(diagram, qtbot):
    document, view, _, _ = diagram
    mime = GpuPalette().mimeData("RTX 4090")
    drop_gpu(view, mime, slot_center("n0", 0.0, 0.0, 3))  # node-0 has all 8 slots taken
    assert document.undo_stack.count() == 0
    assert "free slot" in view.diagram_scene.banner_text()


def test_drop_on_empty_canvas_creates_a_node(diagram, qtbot):
    document, view, _, _ = diagram
    mime = GpuPalette().mimeData("RTX 4090")
    assert drop_gpu(view, mime, QPointF(1200.0, 900.0))
    node = document.plan.layout.nodes[-1]
    card = document.plan.layout.cards[-1]
    assert len(document.plan.layout.nodes) == 3 and card.node == node.id and card.gpu == "RTX 4090"
    assert card.capacity_bytes == 25_386_352_640  # the catalog's RTX 4090 as CUDA reports it
    assert node.id in view.diagram_scene.node_items
    assert document.undo_stack.count() == 1
    document.undo_stack.undo()
    assert len(document.plan.layout.nodes) == 2 and node.id not in view.diagram_scene.node_items
    assert_bars_match_engine(document, view)


# Moving cards with the mouse ------------------------------------------------------------------
def test_drag_cards_to_another_node_previews_live_then_records_one_command(diagram, qtbot):
    document, view, _, _ = diagram
    scene = view.diagram_scene
    kept = scene.card_items["c1"]
    start = viewport_point(view, slot_center("n0", 0, 0, 6))  # card c6 (stage 4)
    qtbot.mousePress(view.viewport(), Qt.MouseButton.LeftButton, pos=start)
    assert document.selected_card_ids == ("c6",)
    target_scene = slot_center("n1", 0, 1, 4)
    halfway = view.mapFromScene(slot_center("n0", 0, 0, 6) + QPointF(0, 60))
    qtbot.mouseMove(view.viewport(), halfway)
    target = view.mapFromScene(target_scene)
    qtbot.mouseMove(view.viewport(), target)
    # Live preview: the card already sits in node n1, nothing recorded yet.
    assert next(c for c in document.plan.layout.cards if c.id == "c6").node == "n1"
    assert scene.card_items["c6"].parentItem() is scene.node_items["n1"]
    assert document.undo_stack.count() == 0
    qtbot.mouseRelease(view.viewport(), Qt.MouseButton.LeftButton, pos=target)
    assert document.undo_stack.count() == 1 and document.undo_stack.text(0) == "Move 1 card"
    moved = next(c for c in document.plan.layout.cards if c.id == "c6")
    assert (moved.node, moved.slot) == ("n1", 0)
    assert scene.card_items["c1"] is kept  # reconciled in place, not rebuilt
    assert_bars_match_engine(document, view)
    assert_colours_and_outlines_match_plan(document, view)
    document.undo_stack.undo()
    assert next(c for c in document.plan.layout.cards if c.id == "c6").node == "n0"
    assert scene.card_items["c6"].parentItem() is scene.node_items["n0"]


# Selection, roles, undo / redo --------------------------------------------------------------------
def test_ctrl_click_select_set_stage_undo_redo(diagram, qtbot):
    document, view, _, actions = diagram
    ctrl = Qt.KeyboardModifier.ControlModifier
    qtbot.mouseClick(view.viewport(), Qt.MouseButton.LeftButton, pos=viewport_point(view, slot_center("n0", 0, 0, 5)))
    qtbot.mouseClick(view.viewport(), Qt.MouseButton.LeftButton, ctrl, viewport_point(view, slot_center("n0", 0, 0, 6)))
    assert document.selected_card_ids == ("c5", "c6")
    before = document.plan
    actions.stage_actions[0].trigger()  # key 1: stage 1 (0-based 0); c4 and c7 keep stages 3 and 4
    assert [c.stage for c in document.plan.layout.cards] == [0, 0, 1, 1, 2, 0, 0, 3]
    assert document.undo_stack.text(0) == "Set stage 1 on 2 cards"
    assert_bars_match_engine(document, view)
    assert_colours_and_outlines_match_plan(document, view)
    document.undo_stack.undo()
    assert document.plan == before
    assert_bars_match_engine(document, view)
    assert_colours_and_outlines_match_plan(document, view)
    assert [view.diagram_scene.card_items[f"c{r}"].total_text for r in range(0, 8, 2)] == list(ARTICLE_STAGE_TOTALS)
    document.undo_stack.redo()
    assert view.diagram_scene.card_items["c6"].card.stage == 0
    assert_colours_and_outlines_match_plan(document, view)


def test_rubber_band_selects_and_tp_group_gets_an_outline(diagram, qtbot):
    document, view, _, actions = diagram
    scene = view.diagram_scene
    document.set_selection(["c0", "c1"])  # document -> scene
    assert {i for i, item in scene.card_items.items() if item.isSelected()} == {"c0", "c1"}
    scene.clearSelection()
    from PySide6.QtGui import QPainterPath

    area = QPainterPath()
    area.addRect(QRectF(slot_center("n0", 0, 0, 2) - QPointF(10, 10), slot_center("n0", 0, 0, 3) + QPointF(10, 10)))
    scene.setSelectionArea(area)  # what the rubber band does on release
    assert document.selected_card_ids == ("c2", "c3")
    assert actions.make_tp_group()
    assert ("n0", 8) in scene.outline_items  # tp ids were 0..7 (TP 1): the new group is 8
    assert scene.card_items["c2"].total_text == "32.08 GB"
    # Stage 2 with TP 2: (13e9 x 18 / 4 ... ) per the seed rule every term / TP 2:
    # states 13e9 x 10/40 x (2 + 4 + 12 / 2) / 2 = 19.5e9; activations 3 x 8.388608e9 / 2 = 12.582912e9.
    assert_bars_match_engine(document, view)
    assert_colours_and_outlines_match_plan(document, view)


def test_an_invalid_plan_greys_every_bar_and_says_why_in_gui_words(diagram):
    document, view, _, actions = diagram
    document.set_selection(["c6", "c7"])
    actions.set_stage(6)  # stages 0, 1, 2, 6: stages 3 to 5 empty -> the engine refuses
    scene = view.diagram_scene
    assert document.error is not None
    # 1-based, as the window counts stages; no plan field names
    assert scene.banner_text().startswith("Not computed: Stage 4 has no cards") and "layout." not in scene.banner_text()
    assert all(item.bar is None and item.total_text == "–" for item in scene.card_items.values())
    assert "not computed" in scene.card_items["c0"].tooltip_html()
    view.grab()  # paints the banner and the "not computed" bars without raising
    document.undo_stack.undo()
    assert scene.banner_text() == ""
    assert [scene.card_items[f"c{r}"].total_text for r in range(0, 8, 2)] == list(ARTICLE_STAGE_TOTALS)


def test_highlight_and_units(diagram):
    document, view, _, _ = diagram
    scene = view.diagram_scene
    document.set_highlight(["c3"])
    assert scene.card_items["c3"].highlighted and not scene.card_items["c2"].highlighted
    assert rendered_color(view, scene.card_items["c3"], QPointF(-2, CARD_H / 2)).name() == "#ff00aa"
    document.set_units("GiB")
    # 72,554,432,000 B / 2^30 = 67.57 GiB; 80 GiB capacity.
    assert scene.card_items["c0"].total_text == "67.57 GiB"
    assert scene.card_items["c0"].capacity_text == "of 80.00 GiB"
    assert_bars_match_engine(document, view)


def test_delete_duplicate_fill_grid_and_rename(diagram, qtbot):
    document, view, _, actions = diagram
    scene = view.diagram_scene
    document.set_selection(["c7"])
    view.setFocus()
    qtbot.keyClick(view.viewport(), Qt.Key.Key_Delete)
    assert "c7" not in scene.card_items and document.undo_stack.count() == 1
    document.set_selection(["c0"])
    assert actions.duplicate(2)
    assert len(document.plan.layout.nodes) == 4 and len(scene.node_items) == 4
    assert len(document.plan.layout.cards) == 7 * 3
    document.undo_stack.undo()
    document.set_selection(["c0"])
    assert actions.fill_with_grid(tp=2, pp=2, dp=2)  # 8 slots: fills slot 7 again with an A100
    assert len(document.plan.layout.cards) == 8
    assert ("n0", 0) in scene.outline_items
    assert_bars_match_engine(document, view)
    assert_colours_and_outlines_match_plan(document, view)
    assert actions.rename("训练节点 一")
    assert scene.node_items["n0"].node.name == "训练节点 一"


def test_double_click_title_renames_in_place(diagram, qtbot):
    document, view, _, _ = diagram
    title = viewport_point(view, node_scene_pos(0, 1) + QPointF(60, TITLE_H / 2))
    qtbot.mouseDClick(view.viewport(), Qt.MouseButton.LeftButton, pos=title)
    editor = view.diagram_scene.node_items["n1"]._editor
    assert editor is not None
    # QTest.keyClicks only types Latin-1; an input method delivers CJK text as one key event.
    QApplication.sendEvent(view.viewport(), QKeyEvent(QEvent.Type.KeyPress, 0, Qt.KeyboardModifier.NoModifier, "机房B"))
    qtbot.keyClick(view.viewport(), Qt.Key.Key_Return)
    assert document.plan.layout.nodes[1].name == "机房B"
    assert document.undo_stack.text(0) == "Rename node"


def test_node_title_drag_moves_the_node_in_one_command(diagram, qtbot):
    document, view, _, _ = diagram
    start_scene = node_scene_pos(0, 1) + QPointF(300, TITLE_H / 2)
    start = viewport_point(view, start_scene)
    qtbot.mousePress(view.viewport(), Qt.MouseButton.LeftButton, pos=start)
    qtbot.mouseMove(view.viewport(), start + QPoint(40, 10))
    qtbot.mouseMove(view.viewport(), start + QPoint(110, 75))  # 110 px = 0.125 x 880, 75 px = 0.25 x 300
    qtbot.mouseRelease(view.viewport(), Qt.MouseButton.LeftButton, pos=start + QPoint(110, 75))
    node = document.plan.layout.nodes[1]
    assert (node.x, node.y) == (0.125, 1.25)
    assert document.undo_stack.count() == 1
    assert view.diagram_scene.node_items["n1"].pos() == node_scene_pos(0.125, 1.25)


def test_refused_role_edit_is_a_notice_not_a_command(diagram, qtbot):
    document, view, _, actions = diagram
    document.set_selection(["c0", "c2"])  # stages 1 and 2: one TP group cannot span two stages
    with qtbot.waitSignal(actions.message) as signal:
        assert not actions.make_tp_group()
    assert signal.args[0] == "Not done: the selected cards are on stages 1, 2, and a TP group holds the cards of one stage."
    assert view.diagram_scene.banner_text() == signal.args[0]
    assert document.undo_stack.count() == 0
    view.diagram_scene.document.apply(edits.rename_node(document.plan, "n1", "spare 2"), "Rename")
    assert view.diagram_scene.banner_text() == ""  # the next change of the plan (File > New too) clears it
    document.set_selection([])
    assert not actions.new_tp_group.isEnabled() and not actions.stage_actions[0].isEnabled()


def test_dragging_onto_a_full_node_previews_nothing_and_records_nothing(diagram, qtbot):
    document, view, _, _ = diagram
    document.preview(edits.add_card(document.plan, "n1", "A100 80GB", 80 * GiB))  # c? in n1 slot 0
    new_id = document.plan.layout.cards[-1].id
    before = document.plan
    start = viewport_point(view, slot_center("n1", 0, 1, 0))
    qtbot.mousePress(view.viewport(), Qt.MouseButton.LeftButton, pos=start)
    target = view.mapFromScene(slot_center("n0", 0, 0, 3))  # node-0 is full
    qtbot.mouseMove(view.viewport(), view.mapFromScene(slot_center("n1", 0, 1, 0) + QPointF(0, -80)))
    qtbot.mouseMove(view.viewport(), target)
    assert document.plan == before  # the preview shows the card at home
    qtbot.mouseRelease(view.viewport(), Qt.MouseButton.LeftButton, pos=target)
    assert document.undo_stack.count() == 0
    assert next(c for c in document.plan.layout.cards if c.id == new_id).node == "n1"
    assert "free slot" in view.diagram_scene.banner_text()


def test_escape_cancels_a_card_drag(diagram, qtbot):
    document, view, _, _ = diagram
    before = document.plan
    start = viewport_point(view, slot_center("n0", 0, 0, 1))
    qtbot.mousePress(view.viewport(), Qt.MouseButton.LeftButton, pos=start)
    qtbot.mouseMove(view.viewport(), view.mapFromScene(slot_center("n0", 0, 0, 1) + QPointF(0, 80)))
    target = view.mapFromScene(slot_center("n1", 0, 1, 5))
    qtbot.mouseMove(view.viewport(), target)
    assert document.plan != before  # previewing the move into n1
    qtbot.keyClick(view.viewport(), Qt.Key.Key_Escape)
    assert document.plan == before
    qtbot.mouseRelease(view.viewport(), Qt.MouseButton.LeftButton, pos=target)
    assert document.plan == before and document.undo_stack.count() == 0


def test_delete_key_and_delete_action_are_one_path(diagram, qtbot):
    """The Delete key on the diagram and Edit > Delete do the same: selected cards, else the current node."""
    document, view, _, actions = diagram
    scene = view.diagram_scene
    scene.set_current_node("n1")  # the spare node's title was clicked; no card is selected
    assert document.selected_card_ids == ()
    view.setFocus()
    qtbot.keyClick(view.viewport(), Qt.Key.Key_Delete)
    assert [n.id for n in document.plan.layout.nodes] == ["n0"] and "n1" not in scene.node_items
    assert document.undo_stack.count() == 1 and document.undo_stack.text(0) == "Delete 1 node"
    document.undo_stack.undo()
    document.set_selection(["c6", "c7"])
    actions.delete.trigger()
    assert {"c6", "c7"}.isdisjoint(scene.card_items) and document.undo_stack.text(0) == "Delete 2 cards"


def test_overflow_red_comes_from_the_one_colour_table(qtbot):
    from gui.chart import MemoryChart
    from gui.templates import load_template
    from gui.theme import OVER_CAPACITY

    document = PlanDocument(load_template("article-13b-zero1-only"))  # every card over capacity
    view, chart = DiagramView(document), MemoryChart(document)
    qtbot.addWidget(view)
    qtbot.addWidget(chart)
    red = QColor(OVER_CAPACITY["light"])
    card = next(iter(view.diagram_scene.card_items.values()))
    assert card.over and view.diagram_scene.diagram_style.overflow == red
    assert chart.over_line.opts["pen"].color() == red
    assert red.name() in chart.summary.text().lower()
