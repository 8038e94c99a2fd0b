"""Mouse and drag-and-drop handling of the diagram scene, turned into intent signals.

* A GPU dragged from the palette (MIME ``application/x-vramplan-gpu``) lights
  the slot under the cursor and, on drop, emits ``gpu_dropped``.
* Cards dragged with the mouse emit ``card_drag_started`` / ``card_drag_moved``
  (the controller previews the move live) and ``cards_dropped`` on release.

:class:`InteractiveScene` is the base of ``gui.diagram.scene.DiagramScene``,
which keeps the items in step with the plan and answers the two queries this
module asks (the selected cards, the current node).
"""

from __future__ import annotations

from PySide6.QtCore import QCoreApplication, QMimeData, QObject, QPointF, QRectF, Qt, Signal
from PySide6.QtGui import QKeyEvent, QKeySequence
from PySide6.QtWidgets import (
    QApplication,
    QGraphicsItem,
    QGraphicsRectItem,
    QGraphicsScene,
    QGraphicsSceneDragDropEvent,
    QGraphicsSceneMouseEvent,
    QGraphicsSimpleTextItem,
)

from gui.diagram.card_item import CardItem
from gui.diagram.geometry import CARD_H, CARD_W
from gui.diagram.node_item import NodeItem
from gui.diagram.style import DiagramStyle
from gui.i18n import plural

GPU_MIME = "application/x-vramplan-gpu"


def gpu_name_from_mime(mime: QMimeData | None) -> str | None:
    if mime is None or not mime.hasFormat(GPU_MIME):
        return None
    name = bytes(mime.data(GPU_MIME).data()).decode("utf-8").strip()
    return name or None


class _DragState:
    __slots__ = ("ids", "target", "ghost")

    def __init__(self, ids: list[str], ghost: QGraphicsRectItem) -> None:
        self.ids = ids
        self.target: str | None = None
        self.ghost = ghost


class InteractiveScene(QGraphicsScene):
    """Drops of palette GPUs and card drags on the diagram scene, as intent signals."""

    gpu_dropped = Signal(str, str, int, QPointF)  # gpu name, node id ("" = empty canvas), slot (-1 = first free), pos
    card_drag_started = Signal(list)  # card ids
    card_drag_moved = Signal(list, str)  # card ids, node id under the cursor ("" = none)
    cards_dropped = Signal(list, str, QPointF)  # card ids, target node id ("" = empty canvas), scene pos
    card_drag_cancelled = Signal()
    delete_requested = Signal()  # the Delete key with nothing focused (RoleActions.delete_selection)

    def __init__(self, style: DiagramStyle, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.diagram_style = style
        self._lit_node: NodeItem | None = None
        self._press: tuple[QPointF, str] | None = None
        self._drag: _DragState | None = None

    # Queries -----------------------------------------------------------------------
    def node_at(self, pos: QPointF) -> NodeItem | None:
        for item in self.items(pos):
            found: QGraphicsItem | None = item
            while found is not None:
                if isinstance(found, NodeItem):
                    return found
                found = found.parentItem()
        return None

    def card_at(self, pos: QPointF) -> CardItem | None:
        for item in self.items(pos):
            if isinstance(item, CardItem):
                return item
        return None

    def selected_card_ids(self) -> list[str]:
        """Selected cards in plan order (the subclass knows the plan)."""
        raise NotImplementedError

    def set_current_node(self, node_id: str) -> None:
        """The node whose title was clicked last ("" = none); the subclass keeps it."""
        raise NotImplementedError

    @property
    def dragging_cards(self) -> bool:
        return self._drag is not None

    # Palette GPUs ------------------------------------------------------------------
    def dragEnterEvent(self, event: QGraphicsSceneDragDropEvent) -> None:  # noqa: N802 - Qt's name
        if gpu_name_from_mime(event.mimeData()) is None:
            event.ignore()
            return
        event.setDropAction(Qt.DropAction.CopyAction)
        event.accept()

    def dragMoveEvent(self, event: QGraphicsSceneDragDropEvent) -> None:  # noqa: N802
        if gpu_name_from_mime(event.mimeData()) is None:
            event.ignore()
            return
        node = self.node_at(event.scenePos())
        self._light(node, self._free_slot_under(node, event.scenePos()) if node else None)
        event.setDropAction(Qt.DropAction.CopyAction)
        event.accept()

    def dragLeaveEvent(self, event: QGraphicsSceneDragDropEvent) -> None:  # noqa: N802
        self._light(None, None)
        event.accept()

    def dropEvent(self, event: QGraphicsSceneDragDropEvent) -> None:  # noqa: N802
        name = gpu_name_from_mime(event.mimeData())
        self._light(None, None)
        if name is None:
            event.ignore()
            return
        pos = event.scenePos()
        node = self.node_at(pos)
        slot = self._free_slot_under(node, pos) if node else None
        event.setDropAction(Qt.DropAction.CopyAction)
        event.accept()
        self.gpu_dropped.emit(name, node.node_id if node else "", -1 if slot is None else slot, pos)

    @staticmethod
    def _free_slot_under(node: NodeItem, pos: QPointF) -> int | None:
        slot = node.slot_at(pos)
        return slot if slot is not None and slot not in node.used_slots else None

    def _light(self, node: NodeItem | None, slot: int | None) -> None:
        if self._lit_node is not None and self._lit_node is not node:
            self._lit_node.set_drop_slot(None)
        self._lit_node = node
        if node is not None:
            node.set_drop_slot(slot)

    # Card drags --------------------------------------------------------------------
    def mousePressEvent(self, event: QGraphicsSceneMouseEvent) -> None:  # noqa: N802
        super().mousePressEvent(event)
        self._press = None
        if event.button() == Qt.MouseButton.LeftButton:
            card = self.card_at(event.scenePos())
            if card is not None:
                self._press = (event.scenePos(), card.card_id)
                self.set_current_node("")
            elif self.node_at(event.scenePos()) is None:
                self.set_current_node("")

    def mouseMoveEvent(self, event: QGraphicsSceneMouseEvent) -> None:  # noqa: N802
        if self._drag is None and self._press is not None and event.buttons() & Qt.MouseButton.LeftButton:
            start, card_id = self._press
            if (event.scenePos() - start).manhattanLength() * self._zoom() >= QApplication.startDragDistance():
                self._begin_card_drag(card_id)
        if self._drag is None:
            super().mouseMoveEvent(event)
            return
        self._drag.ghost.setPos(event.scenePos() - QPointF(CARD_W * 0.3, CARD_H * 0.15))
        node = self.node_at(event.scenePos())
        target = node.node_id if node is not None else ""
        if target != self._drag.target:
            self._drag.target = target
            self.card_drag_moved.emit(list(self._drag.ids), target)
        event.accept()

    def mouseReleaseEvent(self, event: QGraphicsSceneMouseEvent) -> None:  # noqa: N802
        drag, self._drag, self._press = self._drag, None, None
        if drag is not None:
            self.removeItem(drag.ghost)
            node = self.node_at(event.scenePos())
            self.cards_dropped.emit(list(drag.ids), node.node_id if node else "", event.scenePos())
        super().mouseReleaseEvent(event)

    def keyPressEvent(self, event: QKeyEvent) -> None:  # noqa: N802
        if self._drag is not None and event.key() == Qt.Key.Key_Escape:
            drag, self._drag, self._press = self._drag, None, None
            self.removeItem(drag.ghost)
            self.card_drag_cancelled.emit()
            event.accept()
            return
        if self.focusItem() is None and event.matches(QKeySequence.StandardKey.Delete):
            self.delete_requested.emit()
            event.accept()
            return
        super().keyPressEvent(event)

    def _begin_card_drag(self, card_id: str) -> None:
        ids = self.selected_card_ids()
        if card_id not in ids:
            ids = [card_id]
        ghost = QGraphicsRectItem(QRectF(0, 0, CARD_W * 0.6, CARD_H * 0.3))
        ghost.setPen(self.diagram_style.ghost_pen)
        ghost.setBrush(self.diagram_style.ghost_brush)
        ghost.setZValue(100)
        count = len(ids)
        label = QGraphicsSimpleTextItem(
            plural(QCoreApplication.translate("DiagramScene", "%n card(s)", "", count), count), ghost)
        label.setFont(self.diagram_style.card_font)
        label.setBrush(self.diagram_style.text)
        label.setPos(4, 4)
        self.addItem(ghost)
        self._drag = _DragState(ids, ghost)
        self.card_drag_started.emit(list(ids))

    def _zoom(self) -> float:
        views = self.views()
        return views[0].transform().m11() if views else 1.0
