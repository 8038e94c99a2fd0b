"""The analysis docks under the diagram and chart: the step timeline, the comparison and the sweep.

They share the bottom dock area, tabbed, between the GPU palette and the plan settings (the side
docks keep the window's bottom corners), so each sits right under the chart.  The step timeline is
shown from the start; the comparison and the sweep open from the View menu, and Edit > Pin as
Baseline (or asking for the busiest vs average EP rank, from the workload panel) opens the comparison.  The main window builds this once and the window's actions put its
actions in the menus.
"""

from __future__ import annotations

from PySide6.QtCore import QCoreApplication, QObject, Qt, QTimer
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QDockWidget, QMainWindow

from engine.compare import Sweep
from engine.plan.schema import Plan
from gui.compare_view import CompareView
from gui.step_timeline import StepTimelineView
from gui.sweep_view import SweepView

DOCK_HEIGHT = 220  # the bottom area's height when the window opens (px)
OPEN_HEIGHT = 320  # ... when the comparison or the sweep is opened


def tr(text: str) -> str:
    return QCoreApplication.translate("AnalysisDocks", text)


class AnalysisDocks(QObject):
    def __init__(self, window: QMainWindow) -> None:
        super().__init__(window)
        self.window = window
        document = window.document  # type: ignore[attr-defined]
        self.document = document
        self.timeline = StepTimelineView(document)
        self.compare = CompareView(document)
        self.sweep = SweepView(document)
        window.setCorner(Qt.Corner.BottomLeftCorner, Qt.DockWidgetArea.LeftDockWidgetArea)
        window.setCorner(Qt.Corner.BottomRightCorner, Qt.DockWidgetArea.RightDockWidgetArea)
        bottom = Qt.DockWidgetArea.BottomDockWidgetArea
        self.timeline_dock = self._dock("stepTimelineDock", tr("Step timeline"), self.timeline, bottom)
        self.compare_dock = self._dock("compareDock", tr("Compare"), self.compare, bottom)
        self.sweep_dock = self._dock("sweepDock", tr("Sweep"), self.sweep, bottom)
        self.compare_dock.hide()  # hidden before they are tabbed: a tab bar made while the window is unshown
        self.sweep_dock.hide()  # would otherwise stay drawn over the palette
        window.tabifyDockWidget(self.timeline_dock, self.compare_dock)
        window.tabifyDockWidget(self.timeline_dock, self.sweep_dock)
        self.timeline_dock.raise_()
        # Sized once the window is laid out (before it is shown, the dock area has no height to share).
        QTimer.singleShot(0, self, lambda: window.resizeDocks([self.timeline_dock], [DOCK_HEIGHT], Qt.Orientation.Vertical))
        self.timeline_dock.toggleViewAction().setShortcut(QKeySequence("Ctrl+Shift+T"))
        self.compare_dock.toggleViewAction().setShortcut(QKeySequence("Ctrl+Shift+C"))
        self.sweep_dock.toggleViewAction().setShortcut(QKeySequence("Ctrl+Shift+W"))
        self.pin_action = QAction(tr("Pin as &Baseline"), self)
        self.pin_action.setShortcut(QKeySequence("Ctrl+B"))
        self.pin_action.setStatusTip(tr("Keep the current plan as the baseline and compare every later edit with it"))
        self.pin_action.triggered.connect(self.pin)
        self.unpin_action = QAction(tr("&Unpin Baseline"), self)
        self.unpin_action.triggered.connect(document.unpin_baseline)
        self._source = document.compare_source
        document.baseline_changed.connect(self._sync)
        self._sync()

    def _dock(self, name: str, title: str, widget, area: Qt.DockWidgetArea) -> QDockWidget:
        dock = QDockWidget(title, self.window)
        dock.setObjectName(name)
        dock.setWidget(widget)
        dock.setFeatures(QDockWidget.DockWidgetFeature.DockWidgetMovable
                         | QDockWidget.DockWidgetFeature.DockWidgetFloatable
                         | QDockWidget.DockWidgetFeature.DockWidgetClosable)
        self.window.addDockWidget(area, dock)
        return dock

    def view_actions(self) -> list[QAction]:
        """The docks' show/hide toggles, for the View menu."""
        return [d.toggleViewAction() for d in (self.timeline_dock, self.compare_dock, self.sweep_dock)]

    def show_dock(self, dock: QDockWidget) -> None:
        """Show and raise ``dock``, giving the bottom area room for a table and a plot."""
        dock.show()
        dock.raise_()
        if dock.height() < OPEN_HEIGHT and not dock.isFloating():
            self.window.resizeDocks([dock], [OPEN_HEIGHT], Qt.Orientation.Vertical)

    def pin(self) -> None:
        """Edit > Pin as Baseline: pin and show the comparison (an unestimated plan is refused there, inline)."""
        self.show_dock(self.compare_dock)
        self.compare.pin()

    def _sync(self) -> None:
        self.unpin_action.setEnabled(self.document.baseline is not None)
        source = self.document.compare_source
        if source != self._source:  # the busiest vs average EP rank asked for (the workload panel's button)
            self._source = source
            if source == "expert-load":
                self.show_dock(self.compare_dock)

    def apply_theme(self) -> None:
        for view in (self.timeline, self.compare, self.sweep):
            view.apply_theme()

    def baseline_for_report(self) -> tuple[Plan, str] | None:
        """(the pinned plan, its label) for the PDF's alternatives, or None."""
        b = self.document.baseline
        return None if b is None else (b.plan, b.label)

    def sweep_for_report(self) -> Sweep | None:
        """The sweep of the current plan when the user made one (the PDF's sweep plot), else None."""
        return self.sweep.result_for(self.document.plan)
