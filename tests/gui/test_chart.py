"""The chart shows the engine's report: bar heights, capacity lines and the summary follow every edit."""

from __future__ import annotations

import pytest
from PySide6.QtCore import QPointF

from engine.estimate import estimate
from engine.report.records import BREAKDOWN_KEYS
from engine.units import GB, GiB
from gui.chart import MemoryChart
from gui.document import PlanDocument
from gui.panels.workload_panel import WorkloadPanel
from gui.templates import default_plan, load_template

# The article's 13B scenario (seed method): P = 13e9, S = 4096, H = 5120, L = 40, PP = 4, ZeRO-1 DP = 2.
# Stage 1 (card 0) holds 10 layers and, under 1F1B, 4 micro-batches of activations:
#   weights 2 B x 13e9 / 4              =  6,500,000,000
#   gradients 4 B x 13e9 / 4            = 13,000,000,000
#   optimizer 12 B x 13e9 / 4 / 2       = 19,500,000,000
#   activations 40 x 4096 x 5120 x 10 x 4 = 33,554,432,000
STAGE1_PP4_ZERO1 = 6_500_000_000 + 13_000_000_000 + 19_500_000_000 + 33_554_432_000  # 72,554,432,000
# Doubling S to 8192 doubles the activations: 40 x 8192 x 5120 x 10 x 4 = 67,108,864,000
STAGE1_SEQ8192 = 6_500_000_000 + 13_000_000_000 + 19_500_000_000 + 67_108_864_000  # 106,108,864,000


def bar_tops(chart: MemoryChart) -> list[float]:
    """The top of each card's stack as drawn (last category's y0 + height)."""
    top = chart.bar_items[BREAKDOWN_KEYS[-1]].opts
    return [float(y0 + h) for y0, h in zip(top["y0"], top["height"], strict=True)]


def assert_chart_matches_engine(chart: MemoryChart, document: PlanDocument) -> None:
    report = estimate(document.plan)
    scale = document.units.bytes
    for key in BREAKDOWN_KEYS:
        heights = chart.bar_items[key].opts["height"]
        expected = [c.breakdown.bytes_by_key()[key] / scale for c in report.cards]
        assert list(heights) == pytest.approx(expected, rel=1e-12, abs=1e-12), key
    assert bar_tops(chart) == pytest.approx([c.total_bytes / scale for c in report.cards], rel=1e-12)
    xs, ys = chart.capacity_line.getData()
    ox, oy = chart.over_line.getData()
    fitting = [c.capacity_bytes / scale for c in report.cards if c.fits]
    over = [c.capacity_bytes / scale for c in report.cards if not c.fits]
    assert list(ys if ys is not None else [])[::2] == pytest.approx(fitting)
    assert list(oy if oy is not None else [])[::2] == pytest.approx(over)


@pytest.fixture
def setup(qtbot):
    document = PlanDocument(default_plan())
    chart = MemoryChart(document)
    panel = WorkloadPanel(document)
    qtbot.addWidget(chart)
    qtbot.addWidget(panel)
    return document, chart, panel


def test_bars_show_the_articles_13b_stage_figures(setup):
    document, chart, _ = setup
    assert bar_tops(chart)[0] == pytest.approx(STAGE1_PP4_ZERO1 / GB, rel=1e-12)
    assert_chart_matches_engine(chart, document)
    assert "Fits" in chart.summary.text() and "8 cards" in chart.summary.text()
    # 85,100,068,864 B (the A100 80GB as CUDA reports it) - 72,554,432,000 B = 12,545,636,864 B headroom
    assert "12.55 GB headroom" in chart.summary.text()


def test_spin_box_edit_undo_redo_keep_chart_equal_to_engine(setup):
    document, chart, panel = setup
    seq = panel.bindings["training.seq"].widget
    seq.setValue(8192)
    assert document.plan.training.seq == 8192
    assert bar_tops(chart)[0] == pytest.approx(STAGE1_SEQ8192 / GB, rel=1e-12)
    assert_chart_matches_engine(chart, document)
    assert "Does not fit" in chart.summary.text()
    document.undo_stack.undo()
    assert bar_tops(chart)[0] == pytest.approx(STAGE1_PP4_ZERO1 / GB, rel=1e-12)
    assert_chart_matches_engine(chart, document)
    assert seq.value() == 4096
    document.undo_stack.redo()
    assert_chart_matches_engine(chart, document)
    assert seq.value() == 8192


def test_scrubbing_merges_into_one_undo_step_and_updates_live(setup):
    document, chart, panel = setup
    seq = panel.bindings["training.seq"].widget
    for value in (4608, 5120, 5632, 6144):
        seq.setValue(value)
        assert_chart_matches_engine(chart, document)  # live, not only on release
    assert document.undo_stack.count() == 1
    seq.editingFinished.emit()
    seq.setValue(2048)
    assert document.undo_stack.count() == 2
    document.undo_stack.undo()
    assert document.plan.training.seq == 6144
    document.undo_stack.undo()
    assert document.plan.training.seq == 4096


def test_units_switch_rescales_bars_and_labels(setup):
    document, chart, _ = setup
    document.set_units("GiB")
    assert bar_tops(chart)[0] == pytest.approx(STAGE1_PP4_ZERO1 / GiB, rel=1e-12)
    assert "GiB" in chart.plot.getAxis("left").labelText
    assert "GiB" in chart.summary.text()
    assert_chart_matches_engine(chart, document)


def test_over_capacity_cards_get_the_red_capacity_line(qtbot):
    document = PlanDocument(load_template("article-13b-zero1-only"))
    chart = MemoryChart(document)
    qtbot.addWidget(chart)
    assert chart.capacity_line.getData()[0] is None or len(chart.capacity_line.getData()[0]) == 0
    assert len(chart.over_line.getData()[0]) == 2 * 8
    assert_chart_matches_engine(chart, document)


def test_invalid_plan_shows_no_stale_bars_and_says_not_computed(setup):
    document, chart, panel = setup
    panel.bindings["training.global_batch"].widget.setValue(3)  # not a multiple of micro 1 x DP 2
    assert document.error is not None and document.error.field == "training.global_batch"
    assert not any(item.isVisible() for item in chart.bar_items.values())  # no figure of the previous plan
    assert chart.state_text.isVisible() and chart.state_text.toPlainText() == "not computed"
    assert "Not computed" in chart.summary.text()
    xs, ys = chart.capacity_line.getData()  # the cards' capacities stay, greyed
    assert list(ys[::2]) == pytest.approx([c.capacity_bytes / GB for c in document.plan.layout.cards])
    assert chart.capacity_line.opts["pen"].color().name() == "#9a9a9a"
    panel.bindings["training.global_batch"].widget.setValue(4)
    assert document.error is None and not chart.state_text.isVisible()
    assert_chart_matches_engine(chart, document)


def test_tooltip_lists_breakdown_with_formulas(setup):
    document, chart, _ = setup
    text = chart.tooltip_html(0)
    report = estimate(document.plan)
    for f in report.cards[0].breakdown.parts():
        if f.bytes:
            assert f.formula.replace("&", "&amp;") in text
    assert "72.55 GB" in text  # 72,554,432,000 B to two decimals


def test_hover_maps_positions_to_cards(setup):
    _, chart, _ = setup
    chart.resize(800, 400)
    chart.show()
    vb = chart.plot.getPlotItem().vb
    inside = vb.mapViewToScene(QPointF(2.0, 10.0))
    gap = vb.mapViewToScene(QPointF(2.5, 10.0))
    assert chart.card_at(inside) == 2
    assert chart.card_at(gap) is None
