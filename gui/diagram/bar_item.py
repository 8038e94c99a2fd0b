"""``BarItem``: the memory fill bar and its figures, a child of each ``CardItem``.

The bar changes with every estimate while the card face (stage colour, labels)
rarely does, so the face is cached as a pixmap and only this item repaints.
Figures come from the engine's ``CardEstimate``; the only arithmetic here
scales byte counts to pixels.
"""

from __future__ import annotations

from functools import lru_cache

from PySide6.QtCore import QCoreApplication, QPointF, QRectF, Qt
from PySide6.QtGui import QBrush, QPainter, QStaticText
from PySide6.QtWidgets import QGraphicsItem, QStyleOptionGraphicsItem, QWidget

from engine.report import CardEstimate
from engine.units import Unit, format_bytes
from gui.diagram.colors import category_color
from gui.diagram.geometry import BAR_H, BAR_TOP, BAR_W, BAR_X, CARD_H, CARD_W
from gui.diagram.style import DiagramStyle

COARSE_LOD = 0.3  # below this scale cards are flat shapes
TEXT_LOD = 0.55  # below this scale text is unreadable and skipped
EMPTY_TEXT = "–"
_BAR = QRectF(BAR_X, BAR_TOP, BAR_W, BAR_H)
_BOUNDS = QRectF(BAR_X - 6, BAR_TOP - 2, BAR_W + 12, BAR_H + 4).united(
    QRectF(0, BAR_TOP + BAR_H, CARD_W, CARD_H - BAR_TOP - BAR_H))
_TOTAL_Y = BAR_TOP + BAR_H + 3
_CAP_Y = BAR_TOP + BAR_H + 18
_NO_BRUSH = Qt.BrushStyle.NoBrush


def tr(text: str) -> str:
    return QCoreApplication.translate("CardItem", text)


@lru_cache(maxsize=64)
def _category_brush(key: str) -> QBrush:
    return QBrush(category_color(key))


@lru_cache(maxsize=4096)
def static_text(text: str) -> QStaticText:
    return QStaticText(text)


class BarModel:
    """What one card's bar shows for one breakdown, capacity and unit.

    Cards with the same breakdown object (the engine memoises them) share one
    model, so a 1,024-card update builds a handful of these, not 1,024.
    """

    __slots__ = ("breakdown", "capacity", "unit", "segments", "over", "capacity_y",
                 "total_text", "capacity_text", "total_static", "capacity_static")

    def __init__(self, est: CardEstimate, unit: Unit) -> None:
        self.breakdown, self.capacity, self.unit = est.breakdown, est.capacity_bytes, unit
        total, capacity = est.breakdown.total_bytes, est.capacity_bytes
        scale = BAR_H / max(total, capacity, 1)  # pixels per byte
        bottom = BAR_TOP + BAR_H
        segments, below = [], 0
        for part in est.breakdown.parts():
            if part.bytes > 0:
                top = bottom - (below + part.bytes) * scale
                segments.append((QRectF(BAR_X, top, BAR_W, part.bytes * scale), _category_brush(part.key)))
                below += part.bytes
        self.segments = segments
        self.over = not est.fits
        self.capacity_y = bottom - capacity * scale
        self.total_text = format_bytes(total, unit)
        self.capacity_text = tr("of {0}").format(format_bytes(capacity, unit))
        self.total_static = QStaticText(self.total_text)
        self.capacity_static = QStaticText(self.capacity_text)

    def matches(self, est: CardEstimate, unit: Unit) -> bool:
        return est.breakdown is self.breakdown and est.capacity_bytes == self.capacity and unit is self.unit


class BarItem(QGraphicsItem):
    def __init__(self, style: DiagramStyle, parent: QGraphicsItem) -> None:
        super().__init__(parent)
        self._style = style
        self.bar: BarModel | None = None
        self.setAcceptedMouseButtons(Qt.MouseButton.NoButton)
        self.setZValue(1)

    def set_bar(self, bar: BarModel | None) -> None:
        if bar is not self.bar:
            self.bar = bar
            self.update()

    def boundingRect(self) -> QRectF:  # noqa: N802 - Qt's name
        return _BOUNDS

    def paint(self, painter: QPainter, option: QStyleOptionGraphicsItem, widget: QWidget | None = None) -> None:
        st, bar = self._style, self.bar
        painter.fillRect(_BAR, st.bar_bg)
        if bar is not None:
            for rect, brush in bar.segments:
                painter.fillRect(rect, brush)
            if bar.over:
                over_rect = QRectF(BAR_X, BAR_TOP, BAR_W, bar.capacity_y - BAR_TOP)
                painter.fillRect(over_rect, st.overflow_brush)
                painter.fillRect(over_rect, st.overflow_hatch)
                painter.setPen(st.capacity_pen)
                painter.drawLine(QPointF(BAR_X - 4, bar.capacity_y), QPointF(BAR_X + BAR_W + 4, bar.capacity_y))
        painter.setBrush(_NO_BRUSH)
        painter.setPen(st.overflow_pen if bar is not None and bar.over else st.bar_pen)
        painter.drawRect(_BAR)
        if option.levelOfDetailFromTransform(painter.worldTransform()) >= TEXT_LOD:
            self._paint_figures(painter, st, bar)

    @staticmethod
    def _paint_figures(painter: QPainter, st: DiagramStyle, bar: BarModel | None) -> None:
        total = bar.total_static if bar is not None else static_text(EMPTY_TEXT)
        painter.setFont(st.figure_font)
        painter.setPen(st.overflow if bar is not None and bar.over else st.text)
        painter.drawStaticText(QPointF((CARD_W - total.size().width()) / 2, _TOTAL_Y), total)
        if bar is not None:
            cap = bar.capacity_static
            painter.setFont(st.small_font)
            painter.setPen(st.muted)
            painter.drawStaticText(QPointF((CARD_W - cap.size().width()) / 2, _CAP_Y), cap)
