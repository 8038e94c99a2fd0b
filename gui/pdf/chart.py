"""The stacked bar chart of every card's memory with its capacity line, painted as vectors."""

from __future__ import annotations

import math

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QColor, QPen

from engine.report.records import BREAKDOWN_KEYS, Estimate
from engine.units import Unit, to_unit
from gui.pdf.canvas import MUTED_COLOR, TEXT_COLOR, PdfCanvas
from gui.pdf.summary import chart_bars
from gui.theme import CATEGORY_COLORS, OVER_CAPACITY

# The app's colours (gui.theme), so the PDF matches the window.

CATEGORY_LABELS = {"weights": "weights", "gradients": "gradients", "optimizer_states": "optimizer states",
                   "activations": "activations", "logits": "logits", "communication": "communication", "transient": "transient buffers",
                   "kv_cache": "KV cache", "overhead": "overhead"}
CAPACITY_COLOR = QColor("#222222")
OVER_COLOR = QColor(OVER_CAPACITY["light"])


def nice_step(top: float, ticks: int = 5) -> float:
    raw = top / ticks
    magnitude = 10 ** math.floor(math.log10(raw)) if raw > 0 else 1
    return next(m * magnitude for m in (1, 2, 2.5, 5, 10) if m * magnitude >= raw)


def draw_chart(canvas: PdfCanvas, est: Estimate, unit: Unit, height_pt: float = 210.0) -> None:
    distinct = {id(c.breakdown): c.breakdown for c in est.cards}.values()  # cards share breakdowns
    keys = [k for k in BREAKDOWN_KEYS if any(getattr(b, k).bytes for b in distinct)]
    canvas.ensure(canvas.pt(height_pt + 30))
    p = canvas.painter
    label_font = canvas.font(6.5)
    fm = canvas.metrics(label_font)
    axis_w = fm.horizontalAdvance("0000.0") + canvas.pt(6)
    plot = QRectF(canvas.left + axis_w, canvas.y + canvas.pt(4), canvas.width - axis_w,
                  canvas.pt(height_pt) - fm.height() * 2 - canvas.pt(8))
    top = max(max(to_unit(c.total_bytes, unit), to_unit(c.capacity_bytes, unit)) for c in est.cards) * 1.06
    step = nice_step(top)
    top = math.ceil(top / step) * step

    def y_of(value: float) -> float:
        return plot.bottom() - plot.height() * value / top

    p.setFont(label_font)
    draw_value_grid(canvas, plot, top, step, y_of, fm, canvas.pt(4))
    _draw_bars(canvas, est, unit, keys, plot, y_of)
    _draw_x_labels(canvas, est, plot, fm)
    p.setPen(TEXT_COLOR)
    p.save()
    p.translate(canvas.left - canvas.pt(2), plot.center().y())
    p.rotate(-90)
    p.drawText(QRectF(-plot.height() / 2, -fm.height(), plot.height(), fm.height()),
               int(Qt.AlignmentFlag.AlignCenter), f"memory per card ({unit.value})")
    p.restore()
    canvas.y = plot.bottom() + fm.height() * 2 + canvas.pt(4)
    _draw_legend(canvas, keys)


def draw_value_grid(canvas: PdfCanvas, plot: QRectF, top: float, step: float, y_of, fm, gap: float) -> None:
    """Horizontal grid lines every ``step`` up to ``top`` across ``plot``, each labelled at its left,
    right-aligned ``gap`` before the plot (the memory chart and the sweep plot)."""
    p = canvas.painter
    tick = 0.0
    while tick <= top + 1e-9:
        y = y_of(tick)
        p.setPen(QPen(QColor("#e3e3e3"), canvas.pt(0.4)))
        p.drawLine(QPointF(plot.left(), y), QPointF(plot.right(), y))
        p.setPen(MUTED_COLOR)
        p.drawText(QRectF(canvas.left, y - fm.height() / 2, plot.left() - gap - canvas.left, fm.height()),
                   int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter), f"{tick:g}")
        tick += step


def _draw_bars(canvas: PdfCanvas, est: Estimate, unit: Unit, keys: list[str], plot: QRectF, y_of) -> None:
    p = canvas.painter
    n = len(est.cards)
    slot = plot.width() / n
    gap = slot * 0.18 if slot > canvas.pt(3) else 0.0
    # Bars with gaps: one per card.  Touching bars: neighbours with the same figures are one bar, at most
    # CHART_MAX_BARS of them (gui.pdf.summary), so a plan of any size draws a bounded number of shapes.
    bars = [(i, 1, c) for i, c in enumerate(est.cards)] if gap else chart_bars(est)[0]
    brushes = {k: QColor(CATEGORY_COLORS[k]) for k in keys}
    p.setPen(Qt.PenStyle.NoPen)
    for start, count, c in bars:
        x, base = plot.left() + start * slot + gap / 2, 0.0
        for k in keys:
            v = to_unit(getattr(c.breakdown, k).bytes, unit)
            if v > 0:
                p.fillRect(QRectF(x, y_of(base + v), slot * count - gap, y_of(base) - y_of(base + v)), brushes[k])
                base += v
    # Capacity lines: one segment per run of bars with the same capacity; red over bars that overflow.
    first = 0
    for b in range(1, len(bars) + 1):
        if b < len(bars) and bars[b][2].capacity_bytes == bars[first][2].capacity_bytes:
            continue
        y = y_of(to_unit(bars[first][2].capacity_bytes, unit))
        end = bars[b - 1][0] + bars[b - 1][1]
        p.setPen(QPen(CAPACITY_COLOR, canvas.pt(0.9), Qt.PenStyle.DashLine))
        p.drawLine(QPointF(plot.left() + bars[first][0] * slot, y), QPointF(plot.left() + end * slot, y))
        first = b
    p.setPen(QPen(OVER_COLOR, canvas.pt(1.6)))
    for start, count, c in bars:
        if not c.fits:
            y = y_of(to_unit(c.total_bytes, unit))
            p.drawLine(QPointF(plot.left() + start * slot, y), QPointF(plot.left() + (start + count) * slot, y))
    p.setPen(QPen(MUTED_COLOR, canvas.pt(0.6)))
    p.drawLine(plot.bottomLeft(), plot.bottomRight())


def _draw_x_labels(canvas: PdfCanvas, est: Estimate, plot: QRectF, fm) -> None:
    p = canvas.painter
    n = len(est.cards)
    slot = plot.width() / n
    every = max(1, math.ceil(fm.horizontalAdvance(max("0000", str(n - 1), key=len)) / slot))
    every = 1 << (every - 1).bit_length()  # a power of two: labels 0, 64, 128 ...
    p.setPen(MUTED_COLOR)
    for i in range(0, n, every):
        x = plot.left() + (i + 0.5) * slot
        p.drawText(QRectF(x - canvas.pt(15), plot.bottom() + canvas.pt(1), canvas.pt(30), fm.height()),
                   int(Qt.AlignmentFlag.AlignCenter), str(est.cards[i].index))
    p.drawText(QRectF(plot.left(), plot.bottom() + fm.height(), plot.width(), fm.height()),
               int(Qt.AlignmentFlag.AlignCenter), _axis_title(est, slot, canvas))


def _axis_title(est: Estimate, slot: float, canvas: PdfCanvas) -> str:
    if slot > canvas.pt(3):
        return "card"
    k = chart_bars(est)[1]
    return "card" if k == 1 else f"card (each bar: the fullest of {k} neighbouring cards)"


def _draw_legend(canvas: PdfCanvas, keys: list[str]) -> None:
    p = canvas.painter
    font = canvas.font(7)
    fm = canvas.metrics(font)
    p.setFont(font)
    x, box = canvas.left, canvas.pt(7)
    items: list[tuple[str, QColor | None, QPen | None]] = [
        (CATEGORY_LABELS[k], QColor(CATEGORY_COLORS[k]), None) for k in keys]
    items += [("capacity", None, QPen(CAPACITY_COLOR, canvas.pt(0.9), Qt.PenStyle.DashLine)),
              ("over capacity (total)", None, QPen(OVER_COLOR, canvas.pt(1.6)))]
    for label, fill, pen in items:
        w = box + canvas.pt(3) + fm.horizontalAdvance(label) + canvas.pt(10)
        if x + w > canvas.right:
            x = canvas.left
            canvas.y += fm.height() + canvas.pt(2)
        cy = canvas.y + fm.height() / 2
        if fill is not None:
            p.fillRect(QRectF(x, cy - box / 2, box, box), fill)
        else:
            p.setPen(pen)
            p.drawLine(QPointF(x, cy), QPointF(x + box, cy))
        p.setPen(TEXT_COLOR)
        p.drawText(QRectF(x + box + canvas.pt(3), canvas.y, w, fm.height()),
                   int(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter), label)
        x += w
    canvas.y += fm.height() + canvas.pt(8)
