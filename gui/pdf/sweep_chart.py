"""The sweep plot in the PDF: the heaviest card's peak against one knob, the capacity, the value that fits.

The same coordinates as the sweep dock (:func:`gui.sweep_data.sweep_curve`), painted as vectors.
"""

from __future__ import annotations

import math

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QColor, QPainterPath, QPen

from engine.compare import Sweep
from engine.units import Unit, format_bytes
from gui.pdf.canvas import MUTED_COLOR, TEXT_COLOR, PdfCanvas
from gui.pdf.chart import CAPACITY_COLOR, OVER_COLOR, draw_value_grid, nice_step
from gui.sweep_data import SweepCurve, short_value, sweep_curve

FIT_COLOR = QColor("#0072B2")
MARK_COLOR = QColor("#C0007A")
KNOB_NAMES = {"seq": "sequence length", "micro-batch": "micro-batch size", "context": "context length",
              "batch": "concurrent sequences", "lora-rank": "LoRA rank", "tp": "TP size", "pp": "PP size (stages)"}


def answer_text(s: Sweep, unit: Unit) -> str:
    """The sentence under the plot: the value marked and where it binds, or that nothing fits."""
    knob = KNOB_NAMES.get(s.knob, s.knob)
    largest = s.memory_grows
    value, p = (s.largest_fitting, s.largest_fitting_point) if largest else (s.smallest_fitting, s.smallest_fitting_point)
    if value is None or p is None:
        return f"No {knob} from {s.start:,} to {s.stop:,} fits."
    which = "Largest" if largest else "Smallest"
    return (f"{which} {knob} that fits: {value:,} (the plan: {s.current:,}); peak {format_bytes(p.peak_bytes, unit)} "
            f"on stage {p.peak_stage + 1}, tightest card #{p.binding_card} (stage {p.binding_stage + 1}) with "
            f"{format_bytes(p.headroom_bytes, unit)} left.")


def _linear_ticks(lo: float, hi: float) -> list[tuple[float, str]]:
    step = nice_step(hi - lo)
    first = math.ceil(lo / step) * step
    count = int((hi - first) / step) + 1
    return [(first + i * step, f"{first + i * step:,.0f}") for i in range(count)]


def draw_sweep(canvas: PdfCanvas, s: Sweep, unit: Unit, height_pt: float = 190.0) -> None:
    c = sweep_curve(s, unit)
    canvas.ensure(canvas.pt(height_pt + 40))
    p = canvas.painter
    font = canvas.font(6.5)
    fm = canvas.metrics(font)
    axis_w = fm.horizontalAdvance("0000.0") + canvas.pt(8)
    plot = QRectF(canvas.left + axis_w, canvas.y + canvas.pt(4), canvas.width - axis_w,
                  canvas.pt(height_pt) - fm.height() * 2 - canvas.pt(8))
    top = c.y_top
    step = nice_step(top)
    top = math.ceil(top / step) * step
    x_lo, x_hi = c.x_range

    def at(x: float, y: float) -> QPointF:
        return QPointF(plot.left() + plot.width() * (x - x_lo) / (x_hi - x_lo), plot.bottom() - plot.height() * y / top)

    p.setFont(font)
    _grid(canvas, plot, c, step, top, at, fm)
    _curve(canvas, c, at)
    _marks(canvas, plot, c, at, fm)
    p.setPen(TEXT_COLOR)
    p.save()
    p.translate(canvas.left, plot.center().y())
    p.rotate(-90)
    p.drawText(QRectF(-plot.height() / 2, 0, plot.height(), fm.height()), int(Qt.AlignmentFlag.AlignCenter),
               f"heaviest card ({unit.value})")
    p.restore()
    knob = KNOB_NAMES.get(s.knob, s.knob) + (" (log scale)" if c.log_x else "")
    p.drawText(QRectF(plot.left(), plot.bottom() + fm.height(), plot.width(), fm.height()),
               int(Qt.AlignmentFlag.AlignCenter), knob)
    canvas.y = plot.bottom() + fm.height() * 2 + canvas.pt(6)
    canvas.paragraph(answer_text(s, unit), canvas.font(8.5, bold=True), after_pt=2)
    canvas.paragraph(f"Capacity line (dashed): the smallest card, {format_bytes(s.capacity_bytes, unit)}; dotted: the "
                     f"plan's value; red points do not fit. {len(s.points)} values from {s.start:,} to {s.stop:,} "
                     f"({s.scale}); {s.search}.", canvas.font(7), color=MUTED_COLOR, after_pt=6)


def _grid(canvas: PdfCanvas, plot: QRectF, c: SweepCurve, step: float, top: float, at, fm) -> None:
    p = canvas.painter
    draw_value_grid(canvas, plot, top, step, lambda value: at(c.x_range[0], value).y(), fm, canvas.pt(3))
    ticks = c.ticks or _linear_ticks(float(c.x[0]), float(c.x[-1]))
    for x, label in ticks:
        px = at(x, 0).x()
        p.setPen(QPen(QColor("#eeeeee"), canvas.pt(0.4)))
        p.drawLine(QPointF(px, plot.top()), QPointF(px, plot.bottom()))
        p.setPen(MUTED_COLOR)
        p.drawText(QRectF(px - canvas.pt(20), plot.bottom() + canvas.pt(1), canvas.pt(40), fm.height()),
                   int(Qt.AlignmentFlag.AlignCenter), label)
    p.setPen(QPen(MUTED_COLOR, canvas.pt(0.6)))
    p.drawLine(plot.bottomLeft(), plot.bottomRight())


def _curve(canvas: PdfCanvas, c: SweepCurve, at) -> None:
    p = canvas.painter
    path = QPainterPath()
    for i, (x, y) in enumerate(zip(c.x, c.peaks, strict=True)):
        point = at(float(x), float(y))
        path.moveTo(point) if i == 0 else path.lineTo(point)
    p.setPen(QPen(TEXT_COLOR, canvas.pt(0.8)))
    p.setBrush(Qt.BrushStyle.NoBrush)
    p.drawPath(path)
    radius = canvas.pt(1.6)
    p.setPen(Qt.PenStyle.NoPen)
    for x, y, ok in zip(c.x, c.peaks, c.fits, strict=True):
        p.setBrush(FIT_COLOR if ok else OVER_COLOR)
        p.drawEllipse(at(float(x), float(y)), radius, radius)
    p.setBrush(Qt.BrushStyle.NoBrush)


def _marks(canvas: PdfCanvas, plot: QRectF, c: SweepCurve, at, fm) -> None:
    p = canvas.painter
    y = at(c.x_range[0], c.capacity).y()
    p.setPen(QPen(CAPACITY_COLOR, canvas.pt(0.9), Qt.PenStyle.DashLine))
    p.drawLine(QPointF(plot.left(), y), QPointF(plot.right(), y))
    if c.current_x is not None:
        x = at(c.current_x, 0).x()
        p.setPen(QPen(MUTED_COLOR, canvas.pt(0.6), Qt.PenStyle.DotLine))
        p.drawLine(QPointF(x, plot.top()), QPointF(x, plot.bottom()))
    if c.marker_x is not None and c.marker is not None:
        x = at(c.marker_x, 0).x()
        p.setPen(QPen(MARK_COLOR, canvas.pt(1.0), Qt.PenStyle.DashLine))
        p.drawLine(QPointF(x, plot.top()), QPointF(x, plot.bottom()))
        p.setPen(MARK_COLOR)
        p.drawText(QRectF(x + canvas.pt(2), plot.top(), canvas.pt(60), fm.height()),
                   int(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignTop), short_value(c.marker)
                   if c.marker >= 1024 and c.marker % 1024 == 0 else f"{c.marker:,}")
