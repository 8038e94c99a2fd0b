"""The undo stack keeps at most gui.document.UNDO_LIMIT steps (issue 15): a long session does not grow
without bound; the oldest steps go, the document stays valid and undo/redo still walk what is kept."""

from __future__ import annotations

from gui.document import UNDO_LIMIT, PlanDocument
from gui.panels.workload_panel import WorkloadPanel
from gui.templates import default_plan


def test_more_edits_than_the_limit_keep_the_limit(qtbot):
    document = PlanDocument(default_plan())
    panel = WorkloadPanel(document)
    qtbot.addWidget(panel)
    spin = panel.bindings["training.seq"].widget
    assert document.undo_stack.undoLimit() == UNDO_LIMIT == 500
    extra = 20
    first = document.plan.training.seq
    for k in range(1, UNDO_LIMIT + extra + 1):
        spin.setValue(first + k)  # one edit ...
        spin.editingFinished.emit()  # ... per gesture (a gesture's values merge into one step)
    assert document.plan.training.seq == first + UNDO_LIMIT + extra
    assert document.undo_stack.count() == UNDO_LIMIT
    assert document.estimate is not None and document.error is None
    assert document.dirty

    while document.undo_stack.canUndo():
        document.undo_stack.undo()
    # the first `extra` steps were dropped: undo stops at the value after them
    assert document.plan.training.seq == first + extra
    assert spin.value() == first + extra
    assert document.estimate is not None and document.error is None
    assert document.dirty  # the saved state's step is gone: the document can never be clean again here

    document.undo_stack.redo()
    assert document.plan.training.seq == first + extra + 1
    document.undo_stack.setIndex(document.undo_stack.count())
    assert document.plan.training.seq == first + UNDO_LIMIT + extra


def test_open_clears_and_keeps_the_limit(qtbot):
    document = PlanDocument(default_plan())
    document.reset(default_plan())
    assert document.undo_stack.count() == 0 and document.undo_stack.undoLimit() == UNDO_LIMIT
