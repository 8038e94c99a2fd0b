"""The planner dock: search the layouts that fit, see the trade-off, apply one (undoable).

The search runs on ``QThreadPool`` (never on the GUI thread); a new search
cancels the one in flight and stale answers are dropped.  The engine computes
every figure (``engine.planner``); this panel formats and draws them.  Apply
turns the chosen candidate into a layout with ``engine.plan.layout.build_grid`` and
pushes ONE ``document.apply``.
"""

from __future__ import annotations

import math
from typing import NamedTuple

import pyqtgraph as pg
from PySide6.QtCore import (
    QT_TRANSLATE_NOOP,
    QCoreApplication,
    QObject,
    QRunnable,
    Qt,
    QThreadPool,
    Signal,
)
from PySide6.QtGui import QColor
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QDoubleSpinBox,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSpinBox,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from engine.catalog import gpu_catalog
from engine.errors import PlanError
from engine.limits import MAX_SEARCH_GPUS, MAX_SLOTS_PER_NODE
from engine.planner import OBJECTIVES, Candidate, PlannerRequest, PlannerResult, search
from engine.planner.explain import candidate_layout, candidate_training
from engine.planner.report import answer
from engine.planner.request import request_for_plan
from engine.units import format_bytes
from gui.i18n import plural

LISTED = 100  # candidates listed (and drawn large); the rest of the front is drawn small
# Table headers; QT_TRANSLATE_NOOP marks them for lupdate (the table translates them with tr()).
COLUMNS = (
    QT_TRANSLATE_NOOP("PlannerPanel", "cards"), QT_TRANSLATE_NOOP("PlannerPanel", "TP"),
    QT_TRANSLATE_NOOP("PlannerPanel", "PP"), QT_TRANSLATE_NOOP("PlannerPanel", "DP"),
    QT_TRANSLATE_NOOP("PlannerPanel", "CP"), QT_TRANSLATE_NOOP("PlannerPanel", "VPP"),
    QT_TRANSLATE_NOOP("PlannerPanel", "ZeRO"), QT_TRANSLATE_NOOP("PlannerPanel", "recompute"),
    QT_TRANSLATE_NOOP("PlannerPanel", "mb"), QT_TRANSLATE_NOOP("PlannerPanel", "SP"),
    QT_TRANSLATE_NOOP("PlannerPanel", "layers/stage"), QT_TRANSLATE_NOOP("PlannerPanel", "max card"),
    QT_TRANSLATE_NOOP("PlannerPanel", "headroom"), QT_TRANSLATE_NOOP("PlannerPanel", "step s"),
    QT_TRANSLATE_NOOP("PlannerPanel", "tok/s/GPU"), QT_TRANSLATE_NOOP("PlannerPanel", "days"),
    QT_TRANSLATE_NOOP("PlannerPanel", "binding"),
)


def tr(text: str) -> str:
    return QCoreApplication.translate("PlannerPanel", text)


class _Answer(NamedTuple):
    """A finished search: the engine's result, its report and the candidates listed."""

    result: PlannerResult
    report: dict
    listed: list[Candidate]


class _Job(QRunnable):
    """One search on a worker thread; ``cancelled`` is polled by the engine between blocks."""

    class Signals(QObject):
        finished = Signal(object, object)  # job, _Answer or PlanError

    def __init__(self, request: PlannerRequest) -> None:
        super().__init__()
        self.request = request
        self.cancelled = False
        self.signals = _Job.Signals()

    def run(self) -> None:
        try:
            result = search(self.request, cancelled=lambda: self.cancelled)
            report, listed = answer(result, LISTED)
            payload: _Answer | PlanError = _Answer(result, report, listed)
        except PlanError as e:
            payload = e
        self.signals.finished.emit(self, payload)


def _log(values: list[float]) -> list[float]:
    """Positions on the log-scale axes (pyqtgraph's scatter items take log10 coordinates)."""
    return [math.log10(v) for v in values]


def _round_ticks(low: float, high: float) -> list[tuple[float, str]]:
    """Log-axis ticks at 1, 2, 5 x 10^k spanning [low, high] (decades only when that is too many)."""
    values = [m * 10.0**k for k in range(math.floor(math.log10(low)) - 1, math.ceil(math.log10(high)) + 1)
              for m in (1, 2, 5)]
    inside = [v for v in values if low / 2 <= v <= high * 2]
    if len(inside) > 7:
        inside = [v for v in inside if f"{v:g}".lstrip("0.").startswith("1")]
    return [(math.log10(v), f"{v:g}") for v in inside]


def _identity(c: Candidate) -> tuple:
    return (c.gpu, c.geometry, c.dp, c.ep, c.zero, c.micro_batch, c.recompute, c.sequence_parallel)


def headroom_color(headroom_bytes: int, capacity_bytes: int) -> QColor:
    """Red when the heaviest card is nearly full, green when half of it is free."""
    share = max(0.0, min(1.0, headroom_bytes / capacity_bytes / 0.5))
    return QColor.fromHsvF(share / 3, 0.75, 0.85)  # hue 0 (red) .. 1/3 (green)


class PlannerPanel(QWidget):
    """Inputs, the candidates table and the Pareto front; Apply makes the chosen layout the plan's."""

    def __init__(self, document, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("plannerPanel")
        self._document = document
        self._job: _Job | None = None
        self._request: PlannerRequest | None = None
        self._listed: list[Candidate] = []
        self._build_inputs()
        self._build_results()
        self._layout_panel()
        self.setMinimumWidth(420)

    # Construction ---------------------------------------------------------------------------
    def _build_inputs(self) -> None:
        self.gpu = QComboBox(self)
        names = [g.name for g in gpu_catalog() if g.bf16_tflops]
        self.gpu.addItems(names)
        current = self._document.plan.layout.cards[0].gpu if self._document.plan.layout.cards else ""
        if current in names:
            self.gpu.setCurrentText(current)
        elif "A100 80GB" in names:
            self.gpu.setCurrentText("A100 80GB")
        self.gpus_per_node = QSpinBox(self)
        self.gpus_per_node.setRange(1, MAX_SLOTS_PER_NODE)
        nodes = self._document.plan.layout.nodes
        self.gpus_per_node.setValue(nodes[0].slots if nodes else 8)
        self.max_gpus = QSpinBox(self)
        self.max_gpus.setRange(1, MAX_SEARCH_GPUS)
        self.max_gpus.setValue(max(8, len(self._document.plan.layout.cards)))
        self.objective = QComboBox(self)
        self.objective.addItems(list(OBJECTIVES))
        self.margin = QDoubleSpinBox(self)
        self.margin.setRange(0.0, 0.9)
        self.margin.setSingleStep(0.05)
        self.margin.setValue(0.1)
        self.mfu = QDoubleSpinBox(self)
        self.mfu.setRange(0.05, 1.0)
        self.mfu.setSingleStep(0.05)
        self.mfu.setValue(0.4)
        self.search_button = QPushButton(tr("Search layouts"), self)
        self.search_button.clicked.connect(self.start_search)
        self.apply_button = QPushButton(tr("Apply"), self)
        self.apply_button.setEnabled(False)
        self.apply_button.clicked.connect(self.apply_selected)
        self.status = QLabel(tr("Pick a GPU and a card budget, then search."), self)
        self.status.setWordWrap(True)
        self.status.setObjectName("plannerStatus")

    def _build_results(self) -> None:
        self.table = QTableWidget(0, len(COLUMNS), self)
        self.table.setHorizontalHeaderLabels([tr(str(c)) for c in COLUMNS])
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.verticalHeader().setVisible(False)
        self.table.horizontalHeader().setStretchLastSection(True)
        self.table.itemSelectionChanged.connect(self._selection_changed)
        self.plot = pg.PlotWidget(self)
        self.plot.setBackground("w")
        self.plot.setMenuEnabled(False)
        self.plot.hideButtons()
        self.plot.setMinimumHeight(180)
        self.plot.showGrid(x=True, y=True, alpha=0.25)
        for axis in ("left", "bottom"):
            self.plot.getAxis(axis).enableAutoSIPrefix(False)
            self.plot.getAxis(axis).setPen("#404040")
            self.plot.getAxis(axis).setTextPen("#202020")
        self.plot.setLabel("bottom", tr("cards (log)"))
        # Card counts labelled at powers of two (1, 2, 4 ... 65,536): readable on a log axis.
        self.plot.getAxis("bottom").setTicks([[(math.log10(2**k), f"{2**k:,}") for k in range(17)], []])
        self.plot.setLogMode(x=True, y=True)
        self.front_rest = pg.ScatterPlotItem(size=5, pen=pg.mkPen(None), brush=pg.mkBrush(150, 150, 150, 120))
        self.front_listed = pg.ScatterPlotItem(size=10, pen=pg.mkPen("#303030", width=0.8))
        self.selected_marker = pg.ScatterPlotItem(size=18, symbol="o", pen=pg.mkPen("#1060C0", width=2.5),
                                                  brush=pg.mkBrush(None))
        for item in (self.front_rest, self.front_listed, self.selected_marker):
            self.plot.addItem(item)
        self.plot.getViewBox().disableAutoRange()  # ranged on each answer (the marker must not move it)
        self.front_listed.sigClicked.connect(self._point_clicked)
        self.legend = QLabel(tr("Pareto front: fewer cards, less training time, more memory headroom. "
                                "Colour: headroom of the heaviest card (red: tight, green: half free)."), self)
        self.legend.setWordWrap(True)

    def _layout_panel(self) -> None:
        form = QGridLayout()
        fields = ((tr("GPU"), self.gpu), (tr("GPUs per node"), self.gpus_per_node), (tr("Max GPUs"), self.max_gpus),
                  (tr("Objective"), self.objective), (tr("Safety margin"), self.margin), (tr("MFU"), self.mfu))
        for i, (label, widget) in enumerate(fields):
            row, col = i % 3, 2 * (i // 3)
            form.addWidget(QLabel(label, self), row, col)
            form.addWidget(widget, row, col + 1)
        form.setColumnStretch(1, 2)
        form.setColumnStretch(3, 1)
        self.margin.setToolTip(tr("Fraction of each card's memory kept free"))
        self.mfu.setToolTip(tr("Fraction of the peak BF16 TFLOP/s the kernels reach"))
        buttons = QHBoxLayout()
        buttons.addWidget(self.search_button)
        buttons.addStretch(1)
        buttons.addWidget(self.apply_button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 6, 6, 6)
        layout.addLayout(form)
        layout.addLayout(buttons)
        layout.addWidget(self.status)
        layout.addWidget(self.plot, 1)
        layout.addWidget(self.legend)
        layout.addWidget(self.table, 2)

    # Searching ----------------------------------------------------------------------------------
    @property
    def is_searching(self) -> bool:
        return self._job is not None

    def start_search(self) -> None:
        """Read the inputs, cancel a search in flight, start a new one on the thread pool."""
        try:
            request = request_for_plan(
                self._document.plan, self.gpu.currentText(), gpus_per_node=self.gpus_per_node.value(),
                max_gpus=self.max_gpus.value(), objective=self.objective.currentText(),
                margin=self.margin.value(), mfu=self.mfu.value())
        except PlanError as e:
            self.status.setText(tr("Cannot search: {0}").format(e))
            return
        self.cancel()
        self._job = _Job(request)
        self._job.signals.finished.connect(self._finished)
        self.status.setText(tr("Searching up to {0} × {1} …").format(request.hardware[0].max_gpus,
                                                                    request.hardware[0].gpu))
        self.search_button.setText(tr("Restart search"))
        QThreadPool.globalInstance().start(self._job)

    def cancel(self) -> None:
        if self._job is not None:
            self._job.cancelled = True
            self._job = None

    def _finished(self, job: _Job, payload: object) -> None:
        if job is not self._job:
            return  # an answer to a search the user replaced
        self._job = None
        self.search_button.setText(tr("Search layouts"))
        if not isinstance(payload, _Answer):
            self.status.setText(tr("Cannot search: {0}").format(payload))
            return
        self._request, self._listed = job.request, payload.listed
        self._show(payload.result, payload.report)

    # Showing ------------------------------------------------------------------------------------
    def _show(self, result: PlannerResult, report: dict) -> None:
        self.status.setText(self._summary(report))
        units = self._document.units
        self.table.setRowCount(len(report["candidates"]))
        for row, c in enumerate(report["candidates"]):
            for col, text in enumerate(self._cells(c, units)):
                item = QTableWidgetItem(text)
                if col not in (7, 10, 16):
                    item.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
                self.table.setItem(row, col, item)
        self.table.resizeColumnsToContents()
        self._draw(result, report)
        if report["candidates"]:
            self.table.selectRow(0)

    @staticmethod
    def _cells(c: dict, units) -> list[str]:
        return [str(c["gpus"]), str(c["tp"]), str(c["pp"]), str(c["dp"]), str(c["cp"]), str(c["vpp"]),
                str(c["zero"]), c["recompute"], str(c["micro_batch"]), "on" if c["sequence_parallel"] else "–",
                ",".join(map(str, c["pp_layers"])) if c["pp_layers"] else tr("even"),
                format_bytes(c["max_total_bytes"], units), format_bytes(c["headroom_bytes"], units),
                f"{c['step_time_s']:.3g}", f"{c['tokens_per_s_per_gpu']:,.0f}", f"{c['days_to_train']:.3g}",
                c["binding"]]

    def _summary(self, report: dict) -> str:
        s, best = report["stats"], report["best"]
        counts = tr("{0:,} configurations: {1:,} evaluated, {2:,} pruned; {3:,} layouts on the front.").format(
            s["configurations"], s["evaluated"], s["pruned"], report["pool_size"])
        if best is None:
            return tr("No layout fits with a {0:.0%} margin. ").format(report["margin"]) + counts
        gpus = best["gpus"]
        text = plural(QCoreApplication.translate(
            "PlannerPanel", "Best ({0}): %n card(s), TP {2} × PP {3} × DP {4}, ZeRO-{5}; {6:.3g} s per step; "
            "binding: {7}.", "", gpus), gpus)
        return text.format(report["objective"], best["gpus"], best["tp"], best["pp"], best["dp"], best["zero"],
                           best["step_time_s"], best["binding"]) + " " + counts

    def _draw(self, result: PlannerResult, report: dict) -> None:
        tokens = report["train_tokens"]
        self.plot.setLabel("left", tr("days to train (log)"))
        self.legend.setText(tr("Pareto front: fewer cards, less time to train {0:.3g} tokens, more memory headroom. "
                               "Colour: headroom of the heaviest card (red: tight, green: half free); grey: "
                               "front layouts beyond the first {1} listed.").format(tokens, LISTED))
        listed = {_identity(c) for c in self._listed}
        rest = [c for c in result.front if _identity(c) not in listed]
        self.front_rest.setData(x=_log([c.gpus for c in rest]), y=_log([c.days_to_train for c in rest]))
        spots = [{"pos": (_log([c["gpus"]])[0], _log([c["days_to_train"]])[0]), "data": row,
                  "brush": pg.mkBrush(headroom_color(c["headroom_bytes"], c["capacity_bytes"]))}
                 for row, c in enumerate(report["candidates"])]
        self.front_listed.setData(spots)
        self.selected_marker.setData([])
        days = [c.days_to_train for c in result.front]
        if days:
            self.plot.getAxis("left").setTicks([_round_ticks(min(days), max(days)), []])
        if spots:
            self.plot.getViewBox().autoRange(items=[self.front_listed, self.front_rest])

    # Choosing and applying ----------------------------------------------------------------------
    def _point_clicked(self, _item, points, _event=None) -> None:
        if len(points):
            self.table.selectRow(int(points[0].data()))

    def selected_candidate(self) -> Candidate | None:
        rows = self.table.selectionModel().selectedRows() if self.table.selectionModel() else []
        if not rows or not self._listed:
            return None
        return self._listed[rows[0].row()]

    def _selection_changed(self) -> None:
        c = self.selected_candidate()
        self.apply_button.setEnabled(c is not None)
        if c is None:
            self.selected_marker.setData([])
            return
        self.selected_marker.setData(x=_log([c.gpus]), y=_log([c.days_to_train]))
        self.apply_button.setToolTip(tr("Make this layout the plan's: {0}").format(self._describe(c)))

    @staticmethod
    def _describe(c: Candidate) -> str:
        text = f"{c.gpus} × {c.gpu}, TP {c.tp} × PP {c.pp} × DP {c.dp}"
        if c.cp > 1:
            text += f" × CP {c.cp}"
        return text + f", ZeRO-{c.zero}"

    def apply_selected(self) -> None:
        """One undoable command: the candidate's layout and its ZeRO / micro-batch / recompute / SP."""
        c = self.selected_candidate()
        if c is None or self._request is None:
            return
        plan = self._document.plan.model_copy(update={
            "training": candidate_training(self._request, c), "layout": candidate_layout(self._request, c)})
        self._document.apply(plan, tr("Apply planner layout {0}").format(self._describe(c)))
        self.status.setText(tr("Applied {0}; Edit ▸ Undo restores the previous layout.").format(self._describe(c)))
