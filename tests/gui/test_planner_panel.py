"""The planner dock: searches off the GUI thread, lists and plots candidates, applies one undoable layout."""

import pytest
from PySide6.QtCore import QThreadPool

from engine import GiB, MethodConfig, ModelSpec, Plan, TrainingConfig, build_grid
from gui.document import PlanDocument
from gui.planner_panel import COLUMNS, PlannerPanel, headroom_color


@pytest.fixture
def document(qtbot):
    plan = Plan(name="13B article", model=ModelSpec(params=13_000_000_000, layers=40, hidden=5120, heads=40),
                training=TrainingConfig(seq=4096), method=MethodConfig(method="seed"),
                layout=build_grid(pp=4, gpu="A100 80GB", capacity_bytes=80 * GiB))
    return PlanDocument(plan)


@pytest.fixture
def panel(qtbot, document):
    p = PlannerPanel(document)
    qtbot.addWidget(p)
    yield p
    p.cancel()
    QThreadPool.globalInstance().waitForDone(10_000)


def search_and_wait(qtbot, panel):
    panel.start_search()
    assert panel.is_searching  # the search runs on the pool; the slot returned at once
    qtbot.waitUntil(lambda: not panel.is_searching, timeout=30_000)


def test_search_lists_and_plots_the_front(qtbot, panel):
    panel.gpu.setCurrentText("A100 80GB")
    panel.max_gpus.setValue(8)
    search_and_wait(qtbot, panel)
    rows = panel.table.rowCount()
    assert rows > 0 and panel.table.columnCount() == len(COLUMNS)
    assert len(panel.front_listed.data) == rows
    assert panel.table.item(0, 0).text() == "4"  # fewest GPUs first: the article's 13B needs 4 cards at least
    assert "GB" in panel.table.item(0, COLUMNS.index("max card")).text()  # every figure names its unit
    assert "Best (fewest-gpus)" in panel.status.text()
    assert panel.apply_button.isEnabled()  # the best row is selected


def test_apply_is_one_undoable_command(qtbot, panel, document):
    panel.max_gpus.setValue(8)
    search_and_wait(qtbot, panel)
    old = document.plan
    panel.table.selectRow(1)
    chosen = panel.selected_candidate()
    panel.apply_button.click()
    assert document.undo_stack.count() == 1
    assert document.undo_stack.text(0).startswith("Apply planner layout")
    assert len(document.plan.layout.cards) == chosen.gpus
    assert document.plan.training.zero == chosen.zero and document.plan.training.micro_batch == chosen.micro_batch
    assert document.estimate is not None
    assert max(c.total_bytes for c in document.estimate.cards) == chosen.max_total_bytes  # the engine agrees
    document.undo_stack.undo()
    assert document.plan == old


def test_clicking_a_point_selects_its_row(qtbot, panel):
    panel.max_gpus.setValue(8)
    search_and_wait(qtbot, panel)
    points = panel.front_listed.points()
    panel._point_clicked(panel.front_listed, [points[2]])
    assert panel.table.selectionModel().selectedRows()[0].row() == 2


def test_a_new_search_replaces_the_one_in_flight(qtbot, panel):
    panel.max_gpus.setValue(4096)
    panel.start_search()
    first = panel._job
    panel.max_gpus.setValue(8)
    search_and_wait(qtbot, panel)
    assert first.cancelled
    assert int(panel.table.item(0, 0).text()) <= 8


def test_an_error_shows_inline(qtbot, panel):
    panel.gpu.addItem("no such card")
    panel.gpu.setCurrentText("no such card")
    panel.start_search()
    assert not panel.is_searching
    assert "Cannot search" in panel.status.text() and "gpu" in panel.status.text()


def test_nothing_fits_says_so(qtbot, panel):
    panel.gpu.setCurrentText("RTX 4090")
    panel.max_gpus.setValue(1)
    search_and_wait(qtbot, panel)
    assert panel.table.rowCount() == 0 and "No layout fits" in panel.status.text()
    assert not panel.apply_button.isEnabled()


def test_headroom_colour_runs_red_to_green():
    assert headroom_color(0, 100).hueF() == pytest.approx(0.0, abs=1e-6)
    assert headroom_color(50, 100).hueF() == pytest.approx(1 / 3, abs=1e-3)


def test_days_axis_ticks_are_round_numbers():
    from gui.planner_panel import _round_ticks

    # 40 .. 600 days: 1-2-5 steps from 20 (half the low end) to 1,000 (within twice the high end)
    assert [label for _, label in _round_ticks(40, 600)] == ["20", "50", "100", "200", "500", "1000"]
    # 0.5 .. 5,000 days: too many 1-2-5 steps, decades only
    assert [label for _, label in _round_ticks(0.5, 5000)] == ["1", "10", "100", "1000", "10000"]
