"""The sweep dock: the heaviest card's peak against one knob, the capacity line and the value that fits.

``engine.compare.sweep`` runs on a worker thread after each plan change (coalesced: a burst of edits
gives one sweep; an answer for an older plan is dropped) and only while the dock is shown.  The plot's
items are made once and updated in place.  Clicking a point applies its value as one undoable edit
(``PlanDocument.apply``).
"""

from __future__ import annotations

import html

import pyqtgraph as pg
from PySide6.QtCore import QCoreApplication, QObject, QRunnable, Qt, QThreadPool, QTimer, Signal
from PySide6.QtWidgets import (
    QBoxLayout,
    QComboBox,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from engine.compare import Sweep, knobs_for
from engine.compare.sweep import DEFAULT_POINTS, MAX_POINTS, plan_with_knob
from engine.errors import PlanError
from engine.plan.schema import Plan
from engine.units import format_bytes
from gui.document import PlanDocument
from gui.sweep_data import SweepCurve, knob_limit, run_sweep, sweep_curve
from gui.theme import OVER_CAPACITY, current_theme, style_plot

COALESCE_MS = 60  # edits closer together than this give one sweep
WIDE_PX = 700  # from this width the controls take one row
FIT_COLOR = "#0072B2"


def tr(text: str) -> str:
    return QCoreApplication.translate("SweepView", text)


def knob_label(knob: str) -> str:
    labels = {"seq": tr("sequence length"), "micro-batch": tr("micro-batch size"), "context": tr("context length"),
              "batch": tr("concurrent sequences"), "lora-rank": tr("LoRA rank"), "tp": tr("TP size"),
              "pp": tr("PP size (stages)")}
    return labels.get(knob, knob)


class _SweepJob(QRunnable):
    """One sweep on a worker thread; the answer (a Sweep or a PlanError) comes back as a signal."""

    class Signals(QObject):
        finished = Signal(object, object)  # job, Sweep | PlanError

    def __init__(self, plan: Plan, knob: str, start: int | None, stop: int | None, points: int) -> None:
        super().__init__()
        self.plan, self.knob, self.args = plan, knob, (start, stop, points)
        self.signals = _SweepJob.Signals()

    def run(self) -> None:
        self.signals.finished.emit(self, run_sweep(self.plan, self.knob, *self.args))


class SweepView(QWidget):
    """Knob, range and points above the plot; the answer and the engine's search note below it."""

    sweep_shown = Signal()  # a sweep (or its error) was drawn

    def __init__(self, document: PlanDocument, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("sweepView")
        self._document = document
        self._range: tuple[int, int] | None = None  # None: the engine's default range for the knob
        self._job: _SweepJob | None = None
        self._pending = False
        self._result: Sweep | None = None
        self._result_plan: Plan | None = None
        self._curve: SweepCurve | None = None
        self.made = False  # a sweep was shown to the user (the PDF then includes it)
        self._pool = QThreadPool(self)
        self._pool.setMaxThreadCount(1)
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(COALESCE_MS)
        self._timer.timeout.connect(self._start)
        self._build_controls()
        self._build_plot()
        document.plan_changed.connect(self._plan_changed)
        document.units_changed.connect(self._redraw)
        self._fill_knobs()
        self.apply_theme()

    # Construction ---------------------------------------------------------------------------
    def _build_controls(self) -> None:
        self.knob = QComboBox(self)
        self.knob.setObjectName("sweepKnob")
        self.knob.activated.connect(lambda _i: self._knob_chosen())
        self.start_box, self.stop_box = QSpinBox(self), QSpinBox(self)
        for box in (self.start_box, self.stop_box):
            box.setRange(1, 1)
            box.setGroupSeparatorShown(True)
            box.editingFinished.connect(self._range_edited)
        self.points_box = QSpinBox(self)
        self.points_box.setRange(2, MAX_POINTS)
        self.points_box.setValue(DEFAULT_POINTS)
        self.points_box.setToolTip(tr("Values evaluated along the range"))
        self.points_box.editingFinished.connect(self.schedule)
        self.reset_button = QPushButton(tr("Reset range"), self)
        self.reset_button.setToolTip(tr("From the plan's value ÷ 8 to × 8 (TP, PP: every size the model allows)"))
        self.reset_button.clicked.connect(self._reset_range)
        self.answer = QLabel(self)
        self.answer.setObjectName("sweepAnswer")
        self.answer.setTextFormat(Qt.TextFormat.RichText)
        self.answer.setWordWrap(True)
        self.note = QLabel(self)
        self.note.setObjectName("sweepNote")
        self.note.setWordWrap(True)
        self.note.setTextFormat(Qt.TextFormat.PlainText)

    def _build_plot(self) -> None:
        self.plot = pg.PlotWidget(self)
        self.plot.setMenuEnabled(False)
        self.plot.setMouseEnabled(x=False, y=False)
        self.plot.hideButtons()
        self.plot.setMinimumHeight(90)
        for axis in ("left", "bottom"):
            self.plot.getAxis(axis).enableAutoSIPrefix(False)
        self.curve = pg.PlotCurveItem()
        self.points = pg.ScatterPlotItem(size=8, hoverable=True, tip=self._point_tip)
        self.capacity_line = pg.InfiniteLine(angle=0, movable=False)
        self.current_line = pg.InfiniteLine(angle=90, movable=False)
        self.marker_line = pg.InfiniteLine(angle=90, movable=False, label="", labelOpts={"position": 0.92})
        for item in (self.capacity_line, self.current_line, self.marker_line, self.curve, self.points):
            self.plot.addItem(item)
        self.plot.getViewBox().disableAutoRange()
        self.points.sigClicked.connect(self._point_clicked)
        knob_row, range_row = QHBoxLayout(), QHBoxLayout()
        knob_row.addWidget(QLabel(tr("Knob:"), self))
        knob_row.addWidget(self.knob, 1)
        knob_row.addWidget(self.reset_button)
        for text, box in ((tr("from"), self.start_box), (tr("to"), self.stop_box), (tr("points"), self.points_box)):
            range_row.addWidget(QLabel(text, self))
            range_row.addWidget(box, 1)
        self.controls = QBoxLayout(QBoxLayout.Direction.TopToBottom)  # one row when wide (resizeEvent)
        self.controls.addLayout(knob_row, 3)
        self.controls.addLayout(range_row, 4)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 4, 6, 4)
        layout.setSpacing(4)
        layout.addLayout(self.controls)
        layout.addWidget(self.answer)
        layout.addWidget(self.plot, 1)
        layout.addWidget(self.note)

    def resizeEvent(self, event) -> None:  # noqa: N802 - Qt's name
        """The knob and the range on one row in the wide bottom dock, two rows when narrow."""
        super().resizeEvent(event)
        wide = event.size().width() >= WIDE_PX
        self.controls.setDirection(QBoxLayout.Direction.LeftToRight if wide else QBoxLayout.Direction.TopToBottom)

    def apply_theme(self, name: str | None = None) -> None:
        colors = style_plot(self.plot, name, grid_x=True, grid_y=True)
        self.curve.setPen(pg.mkPen(colors.foreground, width=1.5))
        self.capacity_line.setPen(pg.mkPen(colors.capacity, width=2))
        self.current_line.setPen(pg.mkPen(colors.foreground, width=1, style=Qt.PenStyle.DotLine))
        self.marker_line.setPen(pg.mkPen(colors.highlight, width=2, style=Qt.PenStyle.DashLine))
        self.marker_line.label.setColor(colors.highlight)
        self._redraw()

    # State ------------------------------------------------------------------------------------
    @property
    def result(self) -> Sweep | None:
        """The sweep on screen (None before the first answer or after an error)."""
        return self._result

    @property
    def current_knob(self) -> str | None:
        return self.knob.currentData()

    def result_for(self, plan: Plan) -> Sweep | None:
        """The sweep of ``plan`` with the dock's knob and range, when the user made one (the PDF's sweep plot):
        the one on screen, or computed now when the plan changed since."""
        if not self.made or self.current_knob is None:
            return None
        if self._result is not None and self._result_plan is plan:
            return self._result
        answer = run_sweep(plan, self.current_knob, *self._args())
        return answer if isinstance(answer, Sweep) else None

    def set_knob(self, knob: str) -> None:
        """Choose the knob (as the combo does); the range goes back to the engine's default."""
        index = self.knob.findData(knob)
        if index < 0:
            raise PlanError("knob", knob, ", ".join(knobs_for(self._document.plan)))
        self.knob.setCurrentIndex(index)
        self._knob_chosen()

    # Scheduling -------------------------------------------------------------------------------
    def _plan_changed(self) -> None:
        self._fill_knobs()
        self.schedule()

    def schedule(self) -> None:
        """Sweep again soon (coalesced); only while shown: a hidden dock sweeps when it is shown."""
        self._pending = True
        if self.isVisible():
            self._timer.start()

    def showEvent(self, event) -> None:  # noqa: N802 - Qt's name
        super().showEvent(event)
        if self._pending or self._result_plan is not self._document.plan:
            self.schedule()

    def _args(self) -> tuple[int | None, int | None, int]:
        start, stop = self._range if self._range is not None else (None, None)
        return start, stop, self.points_box.value()

    def _start(self) -> None:
        knob = self.current_knob
        if knob is None or self._document.estimate is None:
            self._pending = False
            self._show_error(self._document.error)
            return
        if self._job is not None:  # one at a time: the newest plan is swept when this one ends
            return
        self._pending = False
        job = self._job = _SweepJob(self._document.plan, knob, *self._args())
        job.signals.finished.connect(self._finished)
        self._pool.start(job)

    def _finished(self, job: _SweepJob, answer: Sweep | PlanError) -> None:
        if job is not self._job:
            return
        self._job = None
        if self._pending or job.plan is not self._document.plan or job.knob != self.current_knob:
            self.schedule()  # the plan (or the knob) changed meanwhile: this answer is stale
            return
        if isinstance(answer, PlanError):
            self._show_error(answer)
            return
        self.show_sweep(answer, job.plan)

    def wait(self, timeout_ms: int = 10000) -> bool:
        """Block until the worker is idle (tests, shutdown)."""
        return self._pool.waitForDone(timeout_ms)

    # Controls ---------------------------------------------------------------------------------
    def _fill_knobs(self) -> None:
        knobs = knobs_for(self._document.plan)
        shown = tuple(self.knob.itemData(i) for i in range(self.knob.count()))
        if shown == knobs:
            return
        previous = self.current_knob
        self.knob.blockSignals(True)
        self.knob.clear()
        for k in knobs:
            self.knob.addItem(knob_label(k), k)
        self.knob.setCurrentIndex(max(0, self.knob.findData(previous)))
        self.knob.blockSignals(False)
        if self.current_knob != previous:
            self._range = None
            self._set_limits()

    def _set_limits(self) -> None:
        knob = self.current_knob
        limit = knob_limit(self._document.plan, knob) if knob is not None else 1
        for box in (self.start_box, self.stop_box):
            box.blockSignals(True)
            box.setRange(1, limit)
            box.blockSignals(False)

    def _knob_chosen(self) -> None:
        self._range = None
        self._set_limits()
        self.schedule()

    def _reset_range(self) -> None:
        self._range = None
        self.schedule()

    def _range_edited(self) -> None:
        wanted = (self.start_box.value(), self.stop_box.value())
        if wanted != self._range and (self._result is None or wanted != (self._result.start, self._result.stop)):
            self._range = wanted
            self.schedule()

    # Drawing ----------------------------------------------------------------------------------
    def show_sweep(self, s: Sweep, plan: Plan | None = None) -> None:
        """Draw ``s`` (the engine's answer for ``plan``, by default the document's plan), in place."""
        self._result, self._result_plan = s, plan if plan is not None else self._document.plan
        if self._range is None:  # the range stays put while the plan changes (a clicked point keeps its place)
            self._range = (s.start, s.stop)
        self.made = self.made or self.isVisible()
        for box, value in ((self.start_box, s.start), (self.stop_box, s.stop)):
            box.blockSignals(True)
            box.setValue(value)
            box.blockSignals(False)
        self._redraw()
        self.sweep_shown.emit()

    def _redraw(self) -> None:
        s = self._result
        if s is None:
            return
        unit = self._document.units
        c = self._curve = sweep_curve(s, unit)
        red = OVER_CAPACITY[current_theme()]
        self.curve.setData(c.x, c.peaks)
        self.points.setData(x=c.x, y=c.peaks, data=c.values,
                            brush=[pg.mkBrush(FIT_COLOR if ok else red) for ok in c.fits], pen=pg.mkPen(None))
        self.capacity_line.setValue(c.capacity)
        self.current_line.setVisible(c.current_x is not None)
        if c.current_x is not None:
            self.current_line.setValue(c.current_x)
        self.marker_line.setVisible(c.marker_x is not None)
        if c.marker_x is not None and c.marker is not None:
            self.marker_line.setValue(c.marker_x)
            self.marker_line.label.setFormat(f"{c.marker:,}")
        self.marker_line.setToolTip(self._marker_text(s, c, rich=False))
        self.plot.getAxis("bottom").setTicks([c.ticks] if c.ticks else None)
        knob = knob_label(s.knob)
        self.plot.setLabel("bottom", tr("{knob} (log scale)").format(knob=knob) if c.log_x else knob)
        self.plot.setLabel("left", tr("heaviest card ({unit})").format(unit=unit.value))
        self.plot.setXRange(*c.x_range, padding=0)
        self.plot.setYRange(0, c.y_top, padding=0)
        self.answer.setText(self._marker_text(s, c, rich=True))
        excluded = "; ".join(f"{e.value:,}: {e.reason}" for e in s.excluded[:3])
        self.note.setText(tr("Click a point to apply its value (undoable). Solid line: the smallest card's capacity, "
                             "{capacity}; dotted: the plan's {current:,}.").format(
            capacity=format_bytes(s.capacity_bytes, unit), current=s.current)
            + (" " + tr("Sizes left out: {sizes}").format(sizes=excluded) if excluded else ""))
        self.note.setToolTip(s.search)

    def _marker_text(self, s: Sweep, c: SweepCurve, *, rich: bool) -> str:
        unit = self._document.units
        knob = knob_label(s.knob)
        p = c.marker_point
        if c.marker is None or p is None:
            text = tr("No {knob} from {start:,} to {stop:,} fits").format(knob=knob, start=s.start, stop=s.stop)
            return f'<b style="color:{OVER_CAPACITY[current_theme()]}">{html.escape(text)}</b>' if rich else text
        which = (tr("Largest {knob} that fits: {value:,}") if c.marker_is_largest
                 else tr("Smallest {knob} that fits: {value:,}")).format(knob=knob, value=c.marker)
        detail = tr("peak {peak} on stage {stage}, {headroom} left on card #{card} (stage {binding})").format(
            peak=format_bytes(p.peak_bytes, unit), stage=p.peak_stage + 1, card=p.binding_card,
            binding=p.binding_stage + 1, headroom=format_bytes(p.headroom_bytes, unit))
        return f"<b>{html.escape(which)}</b> — {html.escape(detail)}" if rich else f"{which}: {detail}"

    def _point_tip(self, x: float, y: float, data) -> str:
        unit = self._document.units.value
        return tr("{knob} {value:,}: {peak:.2f} {unit} — click to apply").format(
            knob=knob_label(self.current_knob or ""), value=int(data), peak=y, unit=unit)

    def _show_error(self, error: PlanError | None) -> None:
        self._result = None
        self._curve = None
        self.curve.setData([], [])
        self.points.setData([])
        self.marker_line.hide()
        self.current_line.hide()
        text = tr("Cannot sweep: {error}").format(error=error) if error is not None else ""
        self.answer.setText(f'<span style="color:{OVER_CAPACITY[current_theme()]}">{html.escape(text)}</span>')
        self.note.setText("")
        self.sweep_shown.emit()

    # Applying ---------------------------------------------------------------------------------
    def _point_clicked(self, _item, points, _event=None) -> None:
        if len(points):
            self.apply_value(int(points[0].data()))

    def apply_value(self, value: int) -> None:
        """Set the knob to ``value`` in the plan: one undoable command."""
        s = self._result
        if s is None:
            return
        try:
            plan = plan_with_knob(self._document.plan, s.knob, value)
        except PlanError as e:
            self._show_error(e)
            return
        self._document.apply(plan, tr("Set {knob} to {value:,} (sweep)").format(knob=knob_label(s.knob), value=value))
