"""``BarItem``: the memory fill bar and its figures, a child of each ``CardItem``.

The bar changes with every estimate while the card face (stage colour, labels)
rarely does, so the face is cached as a pixmap and only this item repaints.
Figures come from the engine's ``CardEstimate``; the only arithmetic here
scales byte counts to pixels.

Cards with the same breakdown share one :class:`BarModel`, and the model keeps
its drawing as a pixmap per device scale: a 1,024-card repaint draws a handful
of bars and blits the rest.
"""

from __future__ import annotations

import math
from functools import lru_cache

from PySide6.QtCore import QCoreApplication, QPointF, QRectF, Qt
from PySide6.QtGui import QBrush, QPainter, QPixmap, QStaticText, QTransform
from PySide6.QtWidgets import QGraphicsItem, QStyleOptionGraphicsItem, QWidget

from engine.report.records import CardEstimate
from engine.units import Unit, format_bytes
from gui.chart_data import display_bytes
from gui.diagram.colors import category_color
from gui.diagram.geometry import BAR_H, BAR_TOP, BAR_W, BAR_X, CARD_H, CARD_W
from gui.diagram.style import DiagramStyle

COARSE_LOD = 0.3  # below this scale cards are flat shapes
TEXT_LOD = 0.55  # below this scale text is unreadable and skipped
EMPTY_TEXT = "–"
_FIGURE_ROOM = CARD_W - 6  # the widest a figure may be under the bar (scene px)
_BAR = QRectF(BAR_X, BAR_TOP, BAR_W, BAR_H)
_BOUNDS = QRectF(BAR_X - 6, BAR_TOP - 2, BAR_W + 12, BAR_H + 4).united(
    QRectF(0, BAR_TOP + BAR_H, CARD_W, CARD_H - BAR_TOP - BAR_H))
_TOTAL_Y = BAR_TOP + BAR_H + 3
_CAP_Y = BAR_TOP + BAR_H + 18
_NO_BRUSH = Qt.BrushStyle.NoBrush
_PIXMAPS_PER_MODEL = 4  # device scales kept per bar model (zoom steps)
_BOUNDS_X, _BOUNDS_Y = _BOUNDS.x(), _BOUNDS.y()
_DEVICE = QTransform()  # world transform for drawing in device pixels
_RENDER_HINTS = QPainter.RenderHint.Antialiasing | QPainter.RenderHint.TextAntialiasing


def tr(text: str) -> str:
    return QCoreApplication.translate("CardItem", text)


@lru_cache(maxsize=64)
def _category_brush(key: str) -> QBrush:
    return QBrush(category_color(key))


@lru_cache(maxsize=4096)
def static_text(text: str) -> QStaticText:
    static = QStaticText(text)
    static.setTextFormat(Qt.TextFormat.PlainText)  # GPU names come from plan files: shown as text, never HTML
    return static


class BarModel:
    """What one card's bar shows for one breakdown, capacity and unit.

    Cards with the same breakdown object (the engine memoises them) share one
    model, so a 1,024-card update builds a handful of these, not 1,024.
    """

    __slots__ = ("breakdown", "capacity", "unit", "segments", "over", "capacity_y",
                 "total_text", "capacity_text", "total_static", "capacity_static", "pixmaps")

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
        self.total_text = display_bytes(total, unit)
        self.capacity_text = tr("of {0}").format(format_bytes(capacity, unit))
        self.total_static = QStaticText(self.total_text)
        self.capacity_static = QStaticText(self.capacity_text)
        self.pixmaps: dict[tuple, QPixmap] = {}  # (style, view scale, device pixel ratio) -> drawing

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
        transform, bar = painter.worldTransform(), self.bar
        scale = transform.m11()
        if widget is None or bar is None or transform.isRotating() or transform.m22() != scale:
            # Printing (``scene.render``: the PDF's vector drawing, tests) or an unusual transform: draw it.
            draw_bar(painter, self._style, bar, option.levelOfDetailFromTransform(transform) >= TEXT_LOD)
            return
        # On screen: blit the shared model's drawing 1:1 at the item's device position.  An
        # untransformed blit is the raster engine's fast path; a scaled one costs more than drawing.
        dpr = widget.devicePixelRatioF()
        pixmap = bar.pixmaps.get((self._style, scale, dpr)) or bar_pixmap(bar, self._style, scale, dpr)
        painter.setWorldTransform(_DEVICE)
        painter.drawPixmap(round(transform.dx() + _BOUNDS_X * scale), round(transform.dy() + _BOUNDS_Y * scale), pixmap)
        painter.setWorldTransform(transform)


def bar_pixmap(bar: BarModel, style: DiagramStyle, scale: float, dpr: float) -> QPixmap:
    """``bar`` drawn at ``scale`` view pixels per scene unit on a ``dpr`` screen, cached on the (shared) model."""
    if len(bar.pixmaps) >= _PIXMAPS_PER_MODEL:
        bar.pixmaps.clear()
    device_scale = scale * dpr
    pixmap = QPixmap(math.ceil(_BOUNDS.width() * device_scale), math.ceil(_BOUNDS.height() * device_scale))
    pixmap.fill(Qt.GlobalColor.transparent)
    painter = QPainter(pixmap)
    painter.setRenderHints(_RENDER_HINTS)
    painter.scale(device_scale, device_scale)
    painter.translate(-_BOUNDS.topLeft())
    draw_bar(painter, style, bar, scale >= TEXT_LOD)
    painter.end()
    pixmap.setDevicePixelRatio(dpr)
    bar.pixmaps[(style, scale, dpr)] = pixmap
    return pixmap


def draw_bar(painter: QPainter, st: DiagramStyle, bar: BarModel | None, figures: bool) -> None:
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
    if figures:
        _draw_figures(painter, st, bar)


def _draw_figures(painter: QPainter, st: DiagramStyle, bar: BarModel | None) -> None:
    if bar is None:  # the plan cannot be estimated (or not yet): say so, no stale figure
        painter.setFont(st.small_font)
        painter.setPen(st.muted)
        _draw_fitted(painter, static_text(not_computed_text()), _TOTAL_Y + 4)
        return
    painter.setFont(st.figure_font)
    painter.setPen(st.overflow if bar.over else st.text)
    _draw_fitted(painter, bar.total_static, _TOTAL_Y)
    painter.setFont(st.small_font)
    painter.setPen(st.muted)
    _draw_fitted(painter, bar.capacity_static, _CAP_Y)


def _draw_fitted(painter: QPainter, text: QStaticText, y: float) -> None:
    """``text`` centred under the bar, squeezed to the card's width when it is wider (huge figures)."""
    width = text.size().width()
    if width <= _FIGURE_ROOM:
        painter.drawStaticText(QPointF((CARD_W - width) / 2, y), text)
        return
    painter.save()
    squeeze = _FIGURE_ROOM / width
    painter.translate((CARD_W - _FIGURE_ROOM) / 2, y)
    painter.scale(squeeze, squeeze)
    painter.drawStaticText(QPointF(0, 0), text)
    painter.restore()


def not_computed_text() -> str:
    return tr("not computed")


class FigureLabel(QGraphicsItem):
    """A card's total at a fixed screen size, for zoom levels where the bar's own figures are too
    small to read (an 80-card overview).  The scene shows it on the heaviest card of each stage."""

    PAD = 3.0

    def __init__(self, style: DiagramStyle, parent: QGraphicsItem) -> None:
        super().__init__(parent)
        self._style = style
        self.bar: BarModel | None = None
        self.wanted = False  # the heaviest card of its stage
        self._rect = QRectF()
        self.setFlag(QGraphicsItem.GraphicsItemFlag.ItemIgnoresTransformations, True)
        self.setAcceptedMouseButtons(Qt.MouseButton.NoButton)
        self.hide()
        self.setPos(CARD_W / 2, BAR_TOP + BAR_H / 2)
        self.setZValue(5)

    def set_bar(self, bar: BarModel | None) -> None:
        if bar is not self.bar:
            self.prepareGeometryChange()
            self.bar = bar
            self._rect = QRectF()
            self.update()

    def restyle(self, style: DiagramStyle) -> None:
        self.prepareGeometryChange()
        self._style = style
        self._rect = QRectF()

    def _text(self) -> QStaticText:
        return self.bar.total_static if self.bar is not None else static_text(not_computed_text())

    def boundingRect(self) -> QRectF:  # noqa: N802 - Qt's name
        if self._rect.isNull():
            size = self._style.figure_metrics.boundingRect(self._text().text()).size()
            w, h = size.width() + 2 * self.PAD, size.height() + 2 * self.PAD
            self._rect = QRectF(-w / 2, -h / 2, w, h)
        return self._rect

    def paint(self, painter: QPainter, option: QStyleOptionGraphicsItem, widget: QWidget | None = None) -> None:
        rect, st = self.boundingRect(), self._style
        painter.setPen(st.overflow_pen if self.bar is not None and self.bar.over else st.bar_pen)
        painter.setBrush(st.badge_fill)
        painter.drawRoundedRect(rect.adjusted(0.5, 0.5, -0.5, -0.5), 3, 3)
        painter.setFont(st.figure_font)
        painter.setPen(st.overflow if self.bar is not None and self.bar.over else st.text)
        painter.drawText(rect, int(Qt.AlignmentFlag.AlignCenter), self._text().text())
