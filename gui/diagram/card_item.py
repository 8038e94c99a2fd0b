"""``CardItem``: one GPU card in a node slot, coloured by stage, with its memory fill bar.

All figures come from the engine's ``CardEstimate``; the item only scales
byte counts to pixels and formats them with ``engine.units.format_bytes``.
"""

from __future__ import annotations

from functools import lru_cache

from PySide6.QtCore import QCoreApplication, QPointF, QRectF, Qt
from PySide6.QtGui import QBrush, QPainter, QPainterPath, QPen
from PySide6.QtWidgets import QGraphicsItem, QStyleOptionGraphicsItem, QWidget

from engine.plan.layout import Card
from engine.report.records import CardEstimate, CardSlot
from engine.units import Unit, format_bytes
from gui.diagram.bar_item import (
    COARSE_LOD,
    EMPTY_TEXT,
    TEXT_LOD,
    BarItem,
    BarModel,
    FigureLabel,
    static_text,
)
from gui.diagram.colors import (
    group_color,
    stage_color,
    stage_text_color,
    stage_tint,
)
from gui.diagram.geometry import BAR_TOP, CARD_H, CARD_W, HEADER_H
from gui.diagram.style import DiagramStyle

MARGIN = 4.0  # room for the highlight ring outside the card
RADIUS = 6.0
_BOUNDS = QRectF(-MARGIN, -MARGIN, CARD_W + 2 * MARGIN, CARD_H + 2 * MARGIN)
_BODY = QRectF(0.5, 0.5, CARD_W - 1, CARD_H - 1)
_GPU_RECT = QRectF(4, HEADER_H + 2, CARD_W - 8, BAR_TOP - HEADER_H - 4)


def _header_path() -> QPainterPath:
    path = QPainterPath()
    path.addRoundedRect(_BODY, RADIUS, RADIUS)
    top = QPainterPath()
    top.addRect(QRectF(0, 0, CARD_W, HEADER_H))
    return path.intersected(top)


_HEADER = _header_path()
_HEADER_RECT = QRectF(0, 0, CARD_W, HEADER_H)
_SHAPE = QPainterPath()
_SHAPE.addRect(_BODY)
_HEADER_TEXT_POS = QPointF(6, 3)
_GPU_TEXT_POS = QPointF(_GPU_RECT.x(), _GPU_RECT.y() + 2)
_NO_PEN = Qt.PenStyle.NoPen
_NO_BRUSH = Qt.BrushStyle.NoBrush
_ELIDE_RIGHT = Qt.TextElideMode.ElideRight


# One update pass's bar models, shared by cards with the same figures: (id(breakdown), capacity, unit) -> model.
SharedBars = dict[tuple[int, int, Unit], BarModel]


def tr(text: str) -> str:
    return QCoreApplication.translate("CardItem", text)


@lru_cache(maxsize=256)
def _stage_brush(stage: int, dark: bool) -> QBrush:
    return QBrush(stage_tint(stage, dark))


@lru_cache(maxsize=256)
def _stage_pen(stage: int) -> QPen:
    return QPen(stage_color(stage), 1.0)


class CardItem(QGraphicsItem):
    """View of one :class:`engine.plan.layout.Card`, keyed by ``Card.id``."""

    def __init__(self, card: Card, style: DiagramStyle, parent: QGraphicsItem | None = None,
                 slot: CardSlot | None = None) -> None:
        super().__init__(parent)
        self.card_id = card.id
        self.card = card
        self.slot = slot  # who the card is in the layout (ranks); None while the layout has no topology
        self._style = style
        self.estimate: CardEstimate | None = None
        self._unit: Unit | None = None
        self.highlighted = False
        self.setFlag(QGraphicsItem.GraphicsItemFlag.ItemIsSelectable, True)
        # The face changes rarely (stage, groups, selection): cache it; the bar child repaints alone.
        self.setCacheMode(QGraphicsItem.CacheMode.DeviceCoordinateCache)
        self.bar_item = BarItem(style, self)
        self.figure_label = FigureLabel(style, self)  # the total at small zoom (heaviest card of a stage)
        self._build_face()

    @property
    def bar(self) -> BarModel | None:
        return self.bar_item.bar

    # What tests and tooltips read ------------------------------------------------
    @property
    def total_text(self) -> str:
        return self.bar.total_text if self.bar else EMPTY_TEXT

    @property
    def capacity_text(self) -> str:
        return self.bar.capacity_text if self.bar else ""

    @property
    def over(self) -> bool:
        return self.bar.over if self.bar else False

    @property
    def segments(self) -> list[tuple[QRectF, QBrush]]:
        return self.bar.segments if self.bar else []

    # Model -> view -------------------------------------------------------------
    def set_card(self, card: Card, slot: CardSlot | None = None) -> None:
        if card is not self.card or slot != self.slot:
            self.card, self.slot = card, slot
            self._build_face()

    def _build_face(self) -> None:
        """The header, badge and GPU texts of ``self.card`` in the current style."""
        card = self.card
        self._header = static_text(tr("S{0}").format(card.stage + 1))
        # The badge gives the card's data-parallel rank (1-based) in its group, when it has company
        slot = self.slot
        self._dp = (static_text(tr("DP {0}/{1}").format(slot.dp_rank + 1, slot.dp_size))
                    if slot is not None and slot.dp_size > 1 else None)
        self._gpu = static_text(self._style.card_metrics.elidedText(card.gpu, _ELIDE_RIGHT, _GPU_RECT.width()))
        colour = group_color(card.dp_group or 0)
        self._dp_pen = QPen(colour.lighter(150) if self._style.dark else colour.darker(160))
        self.update()

    def restyle(self, style: DiagramStyle) -> None:
        self._style = self.bar_item._style = style
        self._build_face()
        self.bar_item.update()

    def set_estimate(self, est: CardEstimate | None, unit: Unit, shared: SharedBars | None = None) -> None:
        """Show the engine's figures for this card (None: no estimate yet for a new card).

        ``shared`` maps ``(id(breakdown), capacity, unit)`` to a :class:`BarModel` for one update pass.
        """
        self.estimate, self._unit = est, unit
        if est is None:
            self.bar_item.set_bar(None)
            self.figure_label.set_bar(None)
            return
        key = (id(est.breakdown), est.capacity_bytes, unit)
        bar = shared.get(key) if shared is not None else None
        if bar is None:
            bar = self.bar_item.bar  # unchanged figures keep their model (and its drawing)
            if bar is None or not bar.matches(est, unit):
                bar = BarModel(est, unit)
            if shared is not None:
                shared[key] = bar
        self.bar_item.set_bar(bar)
        self.figure_label.set_bar(bar)

    def set_highlighted(self, on: bool) -> None:
        if on != self.highlighted:
            self.highlighted = on
            self.update()

    # Painting ------------------------------------------------------------------
    def boundingRect(self) -> QRectF:  # noqa: N802 - Qt's name
        return _BOUNDS

    def shape(self) -> QPainterPath:
        return _SHAPE

    def paint(self, painter: QPainter, option: QStyleOptionGraphicsItem, widget: QWidget | None = None) -> None:
        card, st = self.card, self._style
        lod = option.levelOfDetailFromTransform(painter.worldTransform())
        if lod < COARSE_LOD:
            self._paint_coarse(painter, st)
            return
        painter.setPen(_stage_pen(card.stage))
        painter.setBrush(_stage_brush(card.stage, st.dark))
        painter.drawRoundedRect(_BODY, RADIUS, RADIUS)
        painter.fillPath(_HEADER, stage_color(card.stage))
        if lod >= TEXT_LOD:
            painter.setFont(st.header_font)
            painter.setPen(stage_text_color(card.stage))
            painter.drawStaticText(_HEADER_TEXT_POS, self._header)
            self._paint_dp_badge(painter, st)
            painter.setFont(st.card_font)
            painter.setPen(st.muted)
            painter.drawStaticText(_GPU_TEXT_POS, self._gpu)
        self._paint_marks(painter, st)

    def _paint_coarse(self, painter: QPainter, st: DiagramStyle) -> None:
        """Zoomed far out: flat shapes only, no text (a 1,024-card overview)."""
        painter.fillRect(_BODY, _stage_brush(self.card.stage, st.dark))
        painter.fillRect(_HEADER_RECT, stage_color(self.card.stage))
        self._paint_marks(painter, st)

    def _paint_marks(self, painter: QPainter, st: DiagramStyle) -> None:
        if self.isSelected():
            painter.setBrush(_NO_BRUSH)
            painter.setPen(st.selected_pen)
            painter.drawRoundedRect(_BODY, RADIUS, RADIUS)
        if self.highlighted:
            painter.setBrush(_NO_BRUSH)
            painter.setPen(st.highlight_pen)
            painter.drawRoundedRect(_BODY.adjusted(-2, -2, 2, 2), RADIUS + 2, RADIUS + 2)

    def _paint_dp_badge(self, painter: QPainter, st: DiagramStyle) -> None:
        text = self._dp
        if text is None:
            return  # alone in its data-parallel group: nothing to group
        width = text.size().width() + 8
        rect = QRectF(CARD_W - width - 4, 3, width, HEADER_H - 6)
        painter.setPen(_NO_PEN)
        painter.setBrush(st.badge_fill)
        painter.drawRoundedRect(rect, 4, 4)
        painter.setPen(self._dp_pen)
        painter.setFont(st.badge_font)
        painter.drawStaticText(QPointF(rect.x() + 4, rect.y() + (rect.height() - text.size().height()) / 2), text)

    # Tooltip -------------------------------------------------------------------
    def tooltip_html(self) -> str:
        """The breakdown with each figure's formula (built on demand, not per estimate)."""
        card, est, unit, slot = self.card, self.estimate, self._unit or Unit.GB, self.slot
        head = tr("<b>{0}</b> · stage {1}").format(_esc(card.gpu), card.stage + 1)
        if slot is not None:
            head += " · " + tr("TP rank {0}/{1} · DP rank {2}/{3}").format(
                slot.tp_rank + 1, slot.tp_size, slot.dp_rank + 1, slot.dp_size)
        if est is None:
            return head + "<br>" + tr("not computed: the plan has an error (see the message above the diagram)")
        rows = "".join(
            f"<tr><td>{_esc(p.label)}</td><td align='right'>&nbsp;{format_bytes(p.bytes, unit)}</td>"
            f"<td>&nbsp;= {_esc(p.formula)}</td></tr>"
            for p in est.breakdown.parts()
        )
        verdict = tr("fits, {0} free").format(format_bytes(est.headroom_bytes, unit)) if est.fits else \
            tr("<b>over capacity by {0}</b>").format(format_bytes(-est.headroom_bytes, unit))
        total = tr("total {0} of {1}: {2}").format(
            format_bytes(est.total_bytes, unit), format_bytes(est.capacity_bytes, unit), verdict)
        card_word = tr("card #{0}").format(est.index)  # outside the f-string so lupdate extracts it
        return f"{head} · {card_word}<table>{rows}</table>{total}"


def _esc(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
