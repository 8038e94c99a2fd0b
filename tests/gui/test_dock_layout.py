"""Showing the analysis docks in a small window settles: the diagram's fit does not chase its scroll bars.

Fitting to the viewport toggled the scroll bars, which resized the viewport and refitted, for ever, once
the docks left the diagram little room (1280x800 with the Sweep and Step timeline docks open).  The fit
now uses the viewport's size without scroll bars, and an unchanged zoom is not re-applied.
"""

import pytest
from PySide6.QtCore import QCoreApplication, QEventLoop
from PySide6.QtWidgets import QDockWidget

from gui.diagram.view import DiagramView
from gui.document import PlanDocument
from gui.main_window import MainWindow
from gui.templates import default_plan


def _settle(rounds: int = 40) -> None:
    for _ in range(rounds):  # bounded: a layout loop cannot hang the test
        QCoreApplication.processEvents(QEventLoop.ProcessEventsFlag.AllEvents, 20)


@pytest.mark.parametrize("size", [(1280, 800), (1024, 700)])
@pytest.mark.parametrize("order", [("sweepDock", "stepTimelineDock"),
                                   ("sweepDock", "compareDock", "plannerDock", "stepTimelineDock")])
def test_opening_docks_settles(qtbot, monkeypatch, size, order):
    fits = []
    original = DiagramView.fit_all
    monkeypatch.setattr(DiagramView, "fit_all", lambda self: (fits.append(1), original(self))[1])
    window = MainWindow(PlanDocument(default_plan()))
    qtbot.addWidget(window)
    window.resize(*size)
    window.show()
    _settle()
    docks = {d.objectName(): d for d in window.findChildren(QDockWidget)}
    for name in order:
        docks[name].show()
        _settle()
    fits.clear()
    _settle()
    assert len(fits) <= 2, f"the diagram keeps refitting ({len(fits)} fits with nothing changing)"
    view = window.findChild(DiagramView)
    zoom = view.zoom()
    view.fit_all()
    assert view.zoom() == pytest.approx(zoom)
