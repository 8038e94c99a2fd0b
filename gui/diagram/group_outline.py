"""``TpOutlineItem``: a dashed outline around the cards of one TP group inside one node.

A TP group split over two nodes gets one outline per node (and the engine's
"TP spans nodes" warning).  Groups of one card get no outline.
"""

from __future__ import annotations

from PySide6.QtCore import QCoreApplication, QPointF, QRectF, Qt
from PySide6.QtGui import QPainter, QPen, QStaticText
from PySide6.QtWidgets import QGraphicsItem, QStyleOptionGraphicsItem, QWidget

from gui.diagram.colors import group_color
from gui.diagram.geometry import CARD_H, CARD_W, slot_pos
from gui.diagram.style import DiagramStyle

INSET = 3.5  # outline distance from the cards (less than half the slot gap)
LABEL_H = 14.0


def tr(text: str) -> str:
    return QCoreApplication.translate("TpOutlineItem", text)


class TpOutlineItem(QGraphicsItem):
    """Key: ``(node_id, tp_group)``; child of the node item, drawn above the cards."""

    def __init__(self, key: tuple[str, int], style: DiagramStyle, parent: QGraphicsItem) -> None:
        super().__init__(parent)
        self.key = key
        self.tp_group = key[1]
        self.slots: tuple[int, ...] = ()
        self.size = 0
        self._style = style
        self._rect = QRectF()
        color = group_color(self.tp_group)
        self._pen = QPen(color.darker(115), 2.0, Qt.PenStyle.DashLine)
        self._label_color = color.darker(130)
        self._label = QStaticText()
        self.setZValue(5)
        self.setCacheMode(QGraphicsItem.CacheMode.DeviceCoordinateCache)
        self.setAcceptedMouseButtons(Qt.MouseButton.NoButton)

    def restyle(self, style: DiagramStyle) -> None:
        self._style = style
        self.update()

    def set_members(self, slots: tuple[int, ...], size: int) -> None:
        """``slots`` of this node's members; ``size``: cards in the whole group."""
        if slots == self.slots and size == self.size:
            return
        self.prepareGeometryChange()
        self.slots, self.size = slots, size
        left = min(slot_pos(s).x() for s in slots) - INSET
        top = min(slot_pos(s).y() for s in slots) - INSET
        right = max(slot_pos(s).x() for s in slots) + CARD_W + INSET
        bottom = max(slot_pos(s).y() for s in slots) + CARD_H + INSET
        self._rect = QRectF(left, top, right - left, bottom - top)
        self._label = QStaticText(tr("TP {0} ×{1}").format(self.tp_group, size))
        self.update()

    def boundingRect(self) -> QRectF:  # noqa: N802 - Qt's name
        return self._rect.adjusted(-1.5, -1.5, 1.5, LABEL_H + 1.5)

    def paint(self, painter: QPainter, option: QStyleOptionGraphicsItem, widget: QWidget | None = None) -> None:
        painter.setRenderHint(QPainter.RenderHint.Antialiasing, True)
        painter.setPen(self._pen)
        painter.setBrush(Qt.BrushStyle.NoBrush)
        painter.drawRoundedRect(self._rect, 8, 8)
        painter.setFont(self._style.badge_font)
        painter.setPen(self._label_color if not self._style.dark else self._label_color.lighter(180))
        width = self._label.size().width()
        painter.drawStaticText(QPointF(self._rect.center().x() - width / 2, self._rect.bottom() + 1), self._label)
