"""Destroying a window or a diagram while cards are selected raises nothing.

``~QGraphicsScene`` deletes its items one by one and every selected item emits
``selectionChanged`` on the way out; the controller must not read the half-deleted
scene then (it used to raise ``RuntimeError: Internal C++ object (CardItem) already
deleted`` from the slot, reported through ``sys.excepthook``).
"""

from __future__ import annotations

import sys

import pytest
from PySide6.QtCore import QCoreApplication, QEvent

from gui.diagram.controller import DiagramController
from gui.diagram.view import DiagramView
from gui.document import PlanDocument
from gui.main_window import MainWindow
from gui.templates import default_plan


@pytest.fixture
def raised(monkeypatch) -> list:
    """Every exception Qt hands to Python's hooks while the test runs (slots report through excepthook)."""
    caught: list = []
    monkeypatch.setattr(sys, "excepthook", lambda *exc: caught.append(exc[1]))
    monkeypatch.setattr(sys, "unraisablehook", lambda unraisable: caught.append(unraisable.exc_value))
    return caught


def destroy(widget) -> None:
    widget.close()
    widget.deleteLater()
    QCoreApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)


def select_cards(scene, count: int) -> list[str]:
    ids = list(scene.card_items)[:count]
    for card_id in ids:
        scene.card_items[card_id].setSelected(True)
    return ids


def test_closing_the_main_window_with_selected_cards_raises_nothing(qtbot, raised):
    window = MainWindow(PlanDocument(default_plan()))
    window.show()
    qtbot.waitExposed(window)
    ids = select_cards(window.diagram.diagram_scene, 3)
    assert window.document.selected_card_ids == tuple(ids)  # the selection reached the document
    window.document.undo_stack.setClean()
    destroy(window)
    assert raised == []


def test_deleting_a_diagram_view_with_selected_cards_raises_nothing(qtbot, raised):
    document = PlanDocument(default_plan())
    view = DiagramView(document)
    DiagramController(document, view.diagram_scene)
    view.show()
    qtbot.waitExposed(view)
    ids = select_cards(view.diagram_scene, 8)
    assert document.selected_card_ids == tuple(ids)
    destroy(view)
    assert raised == []
    # The document outlives its view and keeps working.
    document.set_selection(ids[:1])
    assert document.selected_card_ids == tuple(ids[:1])
    assert raised == []
