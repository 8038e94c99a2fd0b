"""The sweep dock driven through its real widgets: pick a knob, wait for the worker, click a point, undo.

The article's 13B example (PP 4 × ZeRO-1 DP 2 on 8 × A100 80GB, seed method; worked-examples.md): stage 1
holds 13e9 × (6/4 + 12/8) = 39e9 B of weights, gradients and optimizer states whatever the sequence, plus
4 micro-batches of 10 layers of activations at 40·S·H bytes per layer and sample = 40 × S × 5120 × 40 =
8,192,000·S B.  It fits while 39e9 + 8,192,000·S <= the card's 85,100,068,864 B (what CUDA reports for an
A100 80GB), so the largest sequence that fits is floor(46,100,068,864 / 8,192,000) = 5,627.
"""

from __future__ import annotations

import math

import pytest
from PySide6.QtCore import QPoint, QPointF, Qt

from engine.compare import knobs_for, sweep
from engine.plan.edits import remove_cards
from engine.plan.schema import Plan, load_plan
from engine.resources import resource_path
from gui.document import PlanDocument
from gui.panels.plan_fields import set_field
from gui.sweep_view import SweepView

STATIC_STAGE1 = 13_000_000_000 * 6 // 4 + 13_000_000_000 * 12 // 8
PER_TOKEN_STAGE1 = 40 * 5120 * 10 * 4


def article() -> Plan:
    return load_plan(resource_path("templates", "article-13b-pp4-zero1-dp2.json"))


def shown(qtbot, view: SweepView, action) -> None:
    """Run ``action`` and wait for the worker's sweep to be drawn."""
    with qtbot.waitSignal(view.sweep_shown, timeout=10000):
        action()


@pytest.fixture
def view(qtbot):
    document = PlanDocument(article())
    widget = SweepView(document)
    qtbot.addWidget(widget)
    widget.resize(760, 420)
    with qtbot.waitSignal(widget.sweep_shown, timeout=10000):
        widget.show()  # a hidden dock does not sweep; shown, it sweeps its first knob
    return widget


def test_largest_fitting_sequence_equals_the_engines_and_the_article(qtbot, view):
    plan = view._document.plan
    capacity = plan.layout.cards[0].capacity_bytes
    assert capacity == 85_100_068_864
    by_hand = (capacity - STATIC_STAGE1) // PER_TOKEN_STAGE1
    assert by_hand == 5627
    engine = sweep(plan, "seq")  # the engine's own default range, 512..32,768
    assert view.current_knob == "seq" and view.result == engine
    assert engine.largest_fitting == by_hand
    assert "Largest sequence length that fits: 5,627" in view.answer.text()
    assert view.marker_line.value() == pytest.approx(math.log10(5627))  # log axis for a geometric series
    assert view.capacity_line.value() == pytest.approx(capacity / 1e9)
    xs, ys = view.points.getData()
    assert len(xs) == len(engine.points)
    assert ys[0] == pytest.approx(engine.points[0].peak_bytes / 1e9)
    assert (view.start_box.value(), view.stop_box.value()) == (512, 32768)
    assert view.made and view.result_for(plan) == engine  # the PDF's sweep plot: the one on screen


def test_pick_a_knob_click_a_point_undo(qtbot, view):
    document = view._document
    index = view.knob.findData("micro-batch")
    view.knob.setCurrentIndex(index)
    shown(qtbot, view, lambda: view.knob.activated.emit(index))
    assert view.result.knob == "micro-batch" and view.result.largest_fitting == 1  # 2 would need 39 + 2 x 33.55 GB
    shown(qtbot, view, lambda: view.set_knob("seq"))
    # a real click on the first point that does not fit (red)
    spot = next(p for p in view.points.points() if int(p.data()) > 5627)
    value = int(spot.data())
    vb = view.plot.getViewBox()
    scene = vb.mapViewToScene(QPointF(spot.pos().x(), spot.pos().y()))
    where = view.plot.mapFromScene(scene)
    shown(qtbot, view, lambda: qtbot.mouseClick(view.plot.viewport(), Qt.MouseButton.LeftButton,
                                                  pos=QPoint(where.x(), where.y())))
    assert document.plan.training.seq == value
    assert document.undo_stack.count() == 1
    assert document.undo_stack.undoText() == f"Set sequence length to {value:,} (sweep)"
    assert not document.estimate.fits
    assert view.result.current == value and view.result.largest_fitting == 5627
    assert (view.result.start, view.result.stop) == (512, 32768)  # the range stays put
    shown(qtbot, view, document.undo_stack.undo)
    assert document.plan.training.seq == 4096 and view.result.current == 4096


def test_a_burst_of_edits_gives_one_sweep_of_the_last_plan(qtbot, view):
    document = view._document
    drawn = []
    view.sweep_shown.connect(lambda: drawn.append(view.result))
    with qtbot.waitSignal(view.sweep_shown, timeout=10000):
        for seq in (1024, 2048, 3072):
            document.apply(set_field(document.plan, "training.seq", seq), "Set sequence length")
    view.wait()
    qtbot.wait(200)  # nothing else is pending
    assert len(drawn) == 1 and drawn[0].current == 3072 and view.result == sweep(document.plan, "seq", 512, 32768)


def test_tp_and_pp_mark_the_smallest_size_that_fits(qtbot, view):
    shown(qtbot, view, lambda: view.set_knob("pp"))
    engine = sweep(view._document.plan, "pp")
    assert not engine.memory_grows and view.result == engine
    assert f"Smallest PP size (stages) that fits: {engine.smallest_fitting:,}" in view.answer.text()
    assert view.marker_line.value() == pytest.approx(math.log10(engine.smallest_fitting))
    assert view.stop_box.maximum() == 256  # the pipeline-size limit (engine.limits.MAX_PP), not the layer limit
    # clicking PP 8 rebuilds the uniform grid with 8 stages (engine.compare.sweep.plan_with_knob): one command
    view.apply_value(8)
    assert view._document.plan.model_copy(update={"layout": article().layout}) == article()  # only the layout
    assert view._document.plan.layout.topology.stages == 8 and view._document.undo_stack.count() == 1
    view._document.undo_stack.undo()
    assert view._document.plan.layout.topology.stages == 4
    # a size the layers refuse is said inline, and nothing is applied
    view.apply_value(3)
    assert "Cannot sweep" in view.answer.text() and "divides layers=40" in view.answer.text()
    assert view._document.plan.layout.topology.stages == 4 and view._document.undo_stack.index() == 0


def test_a_layout_the_knob_cannot_sweep_is_shown_inline(qtbot, view):
    document = view._document
    shown(qtbot, view, lambda: view.set_knob("tp"))
    ragged = remove_cards(document.plan, [document.plan.layout.cards[-1].id])  # 7 cards: not a uniform grid
    shown(qtbot, view, lambda: document.apply(ragged, "Delete card"))
    assert "Cannot sweep" in view.answer.text() and "uniform" in view.answer.text()
    assert view.result is None and view.points.getData()[0].size == 0


def test_knobs_follow_the_workload(qtbot, view):
    document = view._document
    assert [view.knob.itemData(i) for i in range(view.knob.count())] == list(knobs_for(document.plan))
    from gui.panels.plan_fields import set_mode

    shown(qtbot, view, lambda: document.apply(set_mode(document.plan, "serving"), "Set workload"))
    assert [view.knob.itemData(i) for i in range(view.knob.count())] == ["context", "batch", "tp", "pp"]
    assert view.current_knob == "context" and view.result.knob == "context"


def test_a_hidden_dock_does_not_sweep(qtbot):
    document = PlanDocument(article())
    view = SweepView(document)
    qtbot.addWidget(view)
    document.apply(set_field(document.plan, "training.seq", 2048), "Set sequence length")
    qtbot.wait(150)
    assert view.result is None and not view.made
    assert view.result_for(document.plan) is None  # nothing made: the PDF has no sweep plot
