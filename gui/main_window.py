"""The main window: composes the diagram, chart, side panels, warnings and menus (no arithmetic)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QCoreApplication, QSize, Qt
from PySide6.QtWidgets import (
    QDockWidget,
    QHBoxLayout,
    QMainWindow,
    QScrollArea,
    QSplitter,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from gui.analysis_docks import AnalysisDocks
from gui.chart import MemoryChart
from gui.diagram.controller import DiagramController
from gui.diagram.view import DiagramView
from gui.document import PlanDocument
from gui.file_actions import FileActions
from gui.palette import GpuPalette
from gui.panels.model_panel import ModelPanel
from gui.panels.notice_bar import NoticeBar
from gui.panels.plan_fields import set_field
from gui.panels.stages_panel import StagesPanel
from gui.panels.workload_panel import WorkloadPanel
from gui.serving_answers import ServingAnswers
from gui.serving_panel import ServingPanel
from gui.warnings_panel import WarningsPanel
from gui.window_actions import WindowActions
from gui.window_layout import PALETTE_MIN, SETTINGS_MIN, apply_default_sizes

if TYPE_CHECKING:
    from gui.autosave import Autosaver

translate = QCoreApplication.translate  # lupdate extracts translate("Context", "text") calls


def _scrolled(widget: QWidget) -> QScrollArea:
    area = QScrollArea()
    area.setWidget(widget)
    area.setWidgetResizable(True)
    area.setFrameShape(QScrollArea.Shape.NoFrame)
    area.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
    return area


class MainWindow(QMainWindow):
    def __init__(self, document: PlanDocument, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.document = document
        self.autosaver: Autosaver | None = None  # the interactive app sets one (gui.app.main)
        self.layout_restored = False  # the last session's dock layout was restored (gui.window_layout)
        self._sized = False
        self.setObjectName("MainWindow")
        self.setAcceptDrops(True)
        self.setDockOptions(QMainWindow.DockOption.AnimatedDocks | QMainWindow.DockOption.AllowTabbedDocks)
        self.files = FileActions(document, self)
        self._build_center()
        self._build_docks()
        self.actions_ = WindowActions(self)
        self.files.message.connect(lambda text: self.notice.show_message(text, timeout_ms=6000))
        document.file_changed.connect(self._update_title)
        document.plan_changed.connect(self._update_title)
        self._update_title()
        # Adding and tabifying docks leaves the window a minimum from an intermediate layout (three
        # bottom docks side by side were 1,482 px wide): recompute it from the finished layout.
        window_layout = self.layout()
        if window_layout is not None:  # QMainWindow always has its layout; the stub says it may not
            window_layout.invalidate()
            window_layout.activate()
        self.resize(1280, 800)

    # Composition --------------------------------------------------------------
    def _build_center(self) -> None:
        self.diagram = DiagramView(self.document)
        self.diagram_controller = DiagramController(self.document, self.diagram.diagram_scene)
        self.chart = MemoryChart(self.document)
        # serving plans: the engine's answers in a column beside the diagram and the chart, full height
        # (computed off the GUI thread)
        self.serving_answers = ServingAnswers(self.document, self)
        self.serving_panel = ServingPanel(self.serving_answers, self.document)
        self.serving_panel.use_format.connect(self._use_format)
        self.splitter = QSplitter(Qt.Orientation.Vertical)
        self.splitter.setChildrenCollapsible(False)
        self.splitter.addWidget(self.diagram)
        self.splitter.addWidget(self.chart)
        self.splitter.setStretchFactor(0, 1)
        self.splitter.setStretchFactor(1, 1)
        self.chart.setMinimumHeight(220)
        self.notice = NoticeBar()
        center = QWidget()
        layout = QVBoxLayout(center)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)
        layout.addWidget(self.notice)
        row = QHBoxLayout()
        row.setContentsMargins(0, 0, 0, 0)
        row.setSpacing(4)
        row.addWidget(self.splitter, 1)
        row.addWidget(self.serving_panel)
        layout.addLayout(row, 1)
        self.setCentralWidget(center)

    def _dock(self, name: str, title: str, widget: QWidget | None, area: Qt.DockWidgetArea) -> QDockWidget:
        dock = QDockWidget(title, self)
        dock.setObjectName(name)
        if widget is not None:
            dock.setWidget(widget)
        dock.setFeatures(QDockWidget.DockWidgetFeature.DockWidgetMovable
                         | QDockWidget.DockWidgetFeature.DockWidgetFloatable
                         | QDockWidget.DockWidgetFeature.DockWidgetClosable)
        self.addDockWidget(area, dock)
        return dock

    def _build_docks(self) -> None:
        self.gpu_palette = palette = GpuPalette(unit=self.document.units)
        palette.setMinimumWidth(PALETTE_MIN)
        self.document.units_changed.connect(lambda: palette.set_units(self.document.units))
        self.palette_dock = self._dock("paletteDock", translate("MainWindow", "GPUs"), palette, Qt.DockWidgetArea.LeftDockWidgetArea)
        self.model_panel = ModelPanel(self.document)
        self.workload_panel = WorkloadPanel(self.document, answers=self.serving_answers)
        self.stages_panel = StagesPanel(self.document)
        stages_page = QWidget()
        stages_layout = QVBoxLayout(stages_page)
        stages_layout.setContentsMargins(4, 4, 4, 4)
        stages_layout.addWidget(self.stages_panel)
        stages_layout.addStretch(1)
        self.tabs = QTabWidget()
        self.tabs.setDocumentMode(True)
        self.tabs.setMinimumWidth(SETTINGS_MIN)  # the forms' rows are not cut (long labels wrap above)
        self.tabs.addTab(_scrolled(self.workload_panel), translate("MainWindow", "Workload"))
        self.tabs.addTab(_scrolled(self.model_panel), translate("MainWindow", "Model"))
        self.tabs.addTab(_scrolled(stages_page), translate("MainWindow", "Stages"))
        self.settings_dock = self._dock("settingsDock", translate("MainWindow", "Plan settings"), self.tabs,
                                        Qt.DockWidgetArea.RightDockWidgetArea)
        self.warnings = WarningsPanel(self.document)
        self.warnings_dock = self._dock("warningsDock", translate("MainWindow", "Warnings"), self.warnings,
                                        Qt.DockWidgetArea.RightDockWidgetArea)
        self.splitDockWidget(self.settings_dock, self.warnings_dock, Qt.Orientation.Vertical)
        self.resizeDocks([self.settings_dock, self.warnings_dock], [560, 200], Qt.Orientation.Vertical)
        self.resizeDocks([self.palette_dock, self.settings_dock], [235, 320], Qt.Orientation.Horizontal)
        # The planner (engine.planner, its table and plots) is built the first time its dock shows.
        self.planner: QWidget | None = None
        self.planner_dock = self._dock("plannerDock", translate("MainWindow", "Planner"), None,
                                       Qt.DockWidgetArea.RightDockWidgetArea)
        self.tabifyDockWidget(self.settings_dock, self.planner_dock)
        self.planner_dock.hide()  # opened from View > Planner; its width would crowd the default view
        self.planner_dock.visibilityChanged.connect(self._build_planner)
        self.settings_dock.raise_()
        self.analysis = AnalysisDocks(self)  # step timeline, compare, sweep: tabbed under the chart

    def _use_format(self, quant: str) -> None:
        """The serving panel's "Use <format>": one undo step."""
        self.document.apply(set_field(self.document.plan, "serving.quant", quant),
                            translate("MainWindow", "Use weight format {format}").format(format=quant))

    def _build_planner(self, visible: bool) -> None:
        if visible and self.planner is None:
            from gui.planner_panel import PlannerPanel

            self.planner = PlannerPanel(self.document)
            self.planner_dock.setWidget(self.planner)

    def sizeHint(self) -> QSize:  # noqa: N802 - Qt's name
        return QSize(1280, 800)

    def showEvent(self, event) -> None:  # noqa: N802 - Qt's name
        super().showEvent(event)
        if not self._sized:
            self._sized = True
            if not self.layout_restored:
                apply_default_sizes(self)  # docks as wide as their content needs, within a share

    # Behaviour ----------------------------------------------------------------
    def _update_title(self) -> None:
        name = self.document.path.name if self.document.path else self.document.plan.name
        self.setWindowTitle(f"{name}[*] — vramplan")
        self.setWindowModified(self.document.dirty)

    def dragEnterEvent(self, event) -> None:  # noqa: N802 - Qt's name
        if any(u.isLocalFile() for u in event.mimeData().urls()):
            event.acceptProposedAction()

    def dropEvent(self, event) -> None:  # noqa: N802 - Qt's name
        paths = [Path(u.toLocalFile()) for u in event.mimeData().urls() if u.isLocalFile()]
        if paths:
            event.acceptProposedAction()
            self.open_dropped(paths[0])

    def open_dropped(self, path: Path) -> None:
        """A dropped plan file opens; a dropped model config (config.json or folder) sets the model."""
        if self.files.looks_like_plan(path):
            if self.files.maybe_save():
                self.files.open_path(path)
        elif self.model_panel.load_config(path):
            self.tabs.setCurrentIndex(1)

    def closeEvent(self, event) -> None:  # noqa: N802 - Qt's name
        if not self.files.maybe_save():
            event.ignore()
            return
        if self.autosaver is not None:
            self.autosaver.finish()
        event.accept()
