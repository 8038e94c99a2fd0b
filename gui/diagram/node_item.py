"""``NodeItem``: a server drawn as a rounded box with its name and N card slots.

Drag the title bar to move the node (one command on release); double-click
the title to rename it in place.  Cards are child items placed in slots.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import QCoreApplication, QPointF, QRectF, Qt, QTimer
from PySide6.QtGui import QFocusEvent, QKeyEvent, QPainter, QPainterPath, QStaticText
from PySide6.QtWidgets import (
    QGraphicsItem,
    QGraphicsSceneMouseEvent,
    QGraphicsTextItem,
    QStyleOptionGraphicsItem,
    QWidget,
)

from engine.plan.layout import Node
from gui.diagram.geometry import (
    CARD_H,
    CARD_W,
    TITLE_H,
    node_scene_pos,
    node_size,
    slot_at,
    slot_pos,
)
from gui.diagram.style import DiagramStyle

if TYPE_CHECKING:
    from gui.diagram.scene import DiagramScene

RADIUS = 8.0


def tr(text: str) -> str:
    return QCoreApplication.translate("NodeItem", text)


class NodeItem(QGraphicsItem):
    """View of one :class:`engine.plan.layout.Node`, keyed by ``Node.id``."""

    def __init__(self, node: Node, style: DiagramStyle) -> None:
        super().__init__()
        self.node_id = node.id
        self.node = node
        self._style = style
        self._rect = QRectF()
        self._drag_origin: QPointF | None = None
        self._editor: NameEditor | None = None
        self.drop_slot: int | None = None  # slot lit up while a GPU is dragged over
        self.used_slots: frozenset[int] = frozenset()
        self.setFlag(QGraphicsItem.GraphicsItemFlag.ItemIsSelectable, False)
        self.setZValue(0)
        self.setCacheMode(QGraphicsItem.CacheMode.DeviceCoordinateCache)
        self._build(node, geometry=True)

    def set_node(self, node: Node) -> None:
        if node is not self.node:
            self._build(node, geometry=node.slots != self.node.slots)

    def _build(self, node: Node, geometry: bool) -> None:
        """Show ``node`` in the current style; ``geometry``: its slot count changed (or first build)."""
        if geometry:
            self.prepareGeometryChange()
            width, height = node_size(node.slots)
            self._rect = QRectF(0, 0, width, height)
            outline = QPainterPath()
            outline.addRoundedRect(self._rect, RADIUS, RADIUS)
            title = QPainterPath()
            title.addRect(QRectF(0, 0, width, TITLE_H))
            self._title_path = outline.intersected(title)
            self._slot_rects = [QRectF(slot_pos(s), QPointF(slot_pos(s).x() + CARD_W, slot_pos(s).y() + CARD_H))
                                for s in range(node.slots)]
        self.node = node
        self._title = QStaticText(self._style.title_metrics.elidedText(
            node.name, Qt.TextElideMode.ElideRight, self._rect.width() - 110))
        self._title.setTextFormat(Qt.TextFormat.PlainText)  # a name from a plan file is text, never HTML
        self._slots_text = QStaticText(tr("{0} slots").format(node.slots))
        if self._drag_origin is None:
            self.setPos(node_scene_pos(node.x, node.y))
        self.update()

    def restyle(self, style: DiagramStyle) -> None:
        self._style = style
        self._build(self.node, geometry=False)

    def set_used_slots(self, slots: frozenset[int]) -> None:
        """Slots holding a card (their placeholders are hidden under the card anyway)."""
        if slots != self.used_slots:
            self.used_slots = slots
            self.update()

    def set_drop_slot(self, slot: int | None) -> None:
        if slot != self.drop_slot:
            self.drop_slot = slot
            self.update()

    def slot_at(self, scene_pos: QPointF) -> int | None:
        return slot_at(self.mapFromScene(scene_pos), self.node.slots)

    def title_rect(self) -> QRectF:
        return QRectF(0, 0, self._rect.width(), TITLE_H)

    def diagram(self) -> DiagramScene | None:
        """The diagram scene this node is in (None outside one)."""
        from gui.diagram.scene import DiagramScene  # that module imports this one

        scene = self.scene()
        return scene if isinstance(scene, DiagramScene) else None

    # Painting ------------------------------------------------------------------
    def boundingRect(self) -> QRectF:  # noqa: N802 - Qt's name
        return self._rect.adjusted(-1, -1, 1, 1)

    def paint(self, painter: QPainter, option: QStyleOptionGraphicsItem, widget: QWidget | None = None) -> None:
        st = self._style
        diagram = self.diagram()
        current = diagram is not None and diagram.current_node_id == self.node_id
        painter.setPen(st.node_selected_pen if current else st.node_pen)
        painter.setBrush(st.node_fill)
        painter.drawRoundedRect(self._rect, RADIUS, RADIUS)
        painter.fillPath(self._title_path, st.node_title_fill)
        painter.setPen(st.text)
        painter.setFont(st.title_font)
        if self._editor is None:
            painter.drawStaticText(QPointF(12, (TITLE_H - self._title.size().height()) / 2), self._title)
        painter.setFont(st.card_font)
        painter.setPen(st.muted)
        painter.drawStaticText(QPointF(self._rect.width() - self._slots_text.size().width() - 12,
                                       (TITLE_H - self._slots_text.size().height()) / 2), self._slots_text)
        painter.setPen(st.slot_pen)
        painter.setBrush(Qt.BrushStyle.NoBrush)
        for s, rect in enumerate(self._slot_rects):
            if s in self.used_slots:
                continue
            if s == self.drop_slot:
                painter.fillRect(rect, st.slot_hover)
            painter.drawRoundedRect(rect.adjusted(2, 2, -2, -2), 6, 6)

    # Mouse: move by the title bar, rename by double-click ------------------------
    def mousePressEvent(self, event: QGraphicsSceneMouseEvent) -> None:  # noqa: N802
        if event.button() == Qt.MouseButton.LeftButton and self.title_rect().contains(event.pos()):
            self._drag_origin = self.pos()
            diagram = self.diagram()
            if diagram is not None:
                diagram.clearSelection()
                diagram.set_current_node(self.node_id)
            event.accept()
            return
        event.ignore()  # body: let the view start a rubber band

    def mouseMoveEvent(self, event: QGraphicsSceneMouseEvent) -> None:  # noqa: N802
        if self._drag_origin is not None:
            self.setPos(self._drag_origin + event.scenePos() - event.buttonDownScenePos(Qt.MouseButton.LeftButton))

    def mouseReleaseEvent(self, event: QGraphicsSceneMouseEvent) -> None:  # noqa: N802
        if self._drag_origin is None:
            return
        moved = self.pos() != self._drag_origin
        self._drag_origin = None
        diagram = self.diagram()
        if moved and diagram is not None:
            diagram.node_drag_finished(self)
        self.setPos(node_scene_pos(self.node.x, self.node.y))  # the stored (snapped) position

    def mouseDoubleClickEvent(self, event: QGraphicsSceneMouseEvent) -> None:  # noqa: N802
        if self.title_rect().contains(event.pos()):
            self.begin_rename()
            event.accept()
        else:
            event.ignore()

    def begin_rename(self) -> None:
        if self._editor is not None:
            return
        self._editor = NameEditor(self)
        self._editor.setFont(self._style.title_font)
        self._editor.setDefaultTextColor(self._style.text)
        self._editor.setPlainText(self.node.name)
        self._editor.setPos(8, (TITLE_H - self._editor.boundingRect().height()) / 2)
        self._editor.setFocus(Qt.FocusReason.MouseFocusReason)
        self._editor.select_all()
        self.update()

    def end_rename(self, commit: bool) -> None:
        editor, self._editor = self._editor, None
        if editor is None:
            return
        text = editor.toPlainText()
        editor.clearFocus()
        editor.hide()
        # Removed on the next turn of the event loop: this may run inside the editor's own key handler.
        QTimer.singleShot(0, lambda: _remove_from_scene(editor))
        self.update()
        diagram = self.diagram()
        if commit and text.strip() != self.node.name and diagram is not None:
            diagram.node_renamed.emit(self.node_id, text)


def _remove_from_scene(item: QGraphicsItem) -> None:
    scene = item.scene()
    if scene is not None:
        scene.removeItem(item)


class NameEditor(QGraphicsTextItem):
    """In-place editor for a node's name: Enter commits, Escape cancels, focus loss commits."""

    def __init__(self, node_item: NodeItem) -> None:
        super().__init__(node_item)
        self._node_item = node_item
        self.setTextInteractionFlags(Qt.TextInteractionFlag.TextEditorInteraction)
        self.setZValue(10)

    def select_all(self) -> None:
        cursor = self.textCursor()
        cursor.select(cursor.SelectionType.Document)
        self.setTextCursor(cursor)

    def keyPressEvent(self, event: QKeyEvent) -> None:  # noqa: N802
        if event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter):
            self._node_item.end_rename(commit=True)
        elif event.key() == Qt.Key.Key_Escape:
            self._node_item.end_rename(commit=False)
        else:
            super().keyPressEvent(event)

    def focusOutEvent(self, event: QFocusEvent) -> None:  # noqa: N802
        super().focusOutEvent(event)
        self._node_item.end_rename(commit=True)
