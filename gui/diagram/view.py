"""``DiagramView``: the QGraphicsView around a :class:`DiagramScene`.

Rubber-band selection, Ctrl + wheel zoom, drops from the GPU palette, and an
overlay in viewport coordinates: the error / notice banner at the top and the
legend (stage colours, memory categories) at the bottom left.
"""

from __future__ import annotations

from PySide6.QtCore import QCoreApplication, QPointF, QRect, QRectF, QSizeF, Qt, QTimer
from PySide6.QtGui import (
    QAction,
    QColor,
    QContextMenuEvent,
    QFontMetricsF,
    QKeySequence,
    QPainter,
    QPen,
    QPixmap,
    QPixmapCache,
    QWheelEvent,
)
from PySide6.QtWidgets import QGraphicsView, QMenu, QWidget

from engine.plan.layout import Layout
from gui.diagram.colors import LegendEntry
from gui.diagram.scene import DiagramScene
from gui.document import PlanDocument

MIN_ZOOM, MAX_ZOOM = 0.05, 4.0
PIXMAP_CACHE_KB = 64 * 1024


def tr(text: str) -> str:
    return QCoreApplication.translate("DiagramView", text)


class DiagramView(QGraphicsView):
    def __init__(self, document: PlanDocument, parent: QWidget | None = None) -> None:
        self.diagram_scene = DiagramScene(document)
        super().__init__(self.diagram_scene, parent)
        self.diagram_scene.setParent(self)
        self.setRenderHints(QPainter.RenderHint.Antialiasing | QPainter.RenderHint.TextAntialiasing)
        self.setDragMode(QGraphicsView.DragMode.RubberBandDrag)
        self.setRubberBandSelectionMode(Qt.ItemSelectionMode.IntersectsItemShape)
        self.setViewportUpdateMode(QGraphicsView.ViewportUpdateMode.SmartViewportUpdate)
        self.setOptimizationFlag(QGraphicsView.OptimizationFlag.DontSavePainterState, True)
        self.setTransformationAnchor(QGraphicsView.ViewportAnchor.AnchorUnderMouse)
        self.setAcceptDrops(True)
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.setAccessibleName(tr("Node diagram"))
        self.setMinimumSize(240, 200)
        self._fitted = False
        self._fitted_layout: Layout | None = None  # the plan layout the scene rect was last fitted to
        self._legend: tuple[tuple, QPixmap] | None = None  # (what it shows, drawing): redrawn when that changes
        if QPixmapCache.cacheLimit() < PIXMAP_CACHE_KB:
            QPixmapCache.setCacheLimit(PIXMAP_CACHE_KB)  # card faces and nodes are cached as pixmaps
        self.context_actions: list[QAction | None] = []  # None: a separator
        self._banner_rect = QRectF()  # where the banner was drawn (a click there dismisses a notice)
        self._known_items: set[str] = self._item_ids()
        self._auto_fit = True  # the plan as opened: refit on resize until the user zooms by hand
        self._fitted_for_error = ""
        self.fit_action = QAction(tr("Fit Diagram to Window"), self)
        self.fit_action.setShortcut(QKeySequence("Ctrl+0"))
        self.fit_action.setStatusTip(tr("Zoom so that every node shows"))
        self.fit_action.triggered.connect(self.fit_all)
        self.diagram_scene.overlay_changed.connect(self.viewport().update)
        self.diagram_scene.overlay_changed.connect(self._refit_for_banner)
        document.plan_changed.connect(self._refit_scene_rect)  # after the scene's own sync (connected first)
        document.plan_changed.connect(self._reveal_new_nodes)
        document.file_changed.connect(self._fit_after_reset)
        self._refit_scene_rect()

    # Zoom ------------------------------------------------------------------------
    def zoom(self) -> float:
        return self.transform().m11()

    def set_zoom(self, factor: float) -> None:
        factor = max(MIN_ZOOM, min(MAX_ZOOM, factor))
        if abs(factor - self.zoom()) <= 1e-9 * factor:
            return  # unchanged: no new transform, no scroll-bar change, no resize echo
        self.resetTransform()
        self.scale(factor, factor)
        self.diagram_scene.set_view_scale(self.zoom())

    def legend_height(self) -> float:
        """The legend's height on screen (it sits over the bottom of the view)."""
        return self._legend[1].deviceIndependentSize().height() + 16 if self._legend is not None else 70.0

    def fit_all(self) -> None:
        """Zoom (at most 1:1) so every node shows, clear of the legend at the bottom.

        The nodes are centred (a scene smaller than the view cannot be scrolled off centre), so the
        legend's height is kept free at the top as well as at the bottom."""
        rect = self._nodes_rect()
        if rect.isEmpty():
            return
        legend = self.legend_height()
        error = self.diagram_scene.error_text  # the plan's error stays up: keep the nodes below it
        top = max(legend, self._banner_box(error, False).bottom() + 8 if error else 0)
        # The viewport's size without scroll bars: fitting to the current viewport would toggle the
        # scroll bars, resize the viewport and refit again, for ever, when the view is small.
        whole = QRectF(QPointF(0, 0), QSizeF(self.maximumViewportSize()))
        room = whole.adjusted(16, top, -16, -top)
        if room.width() < 50 or room.height() < 50:
            room = whole
        self.set_zoom(max(MIN_ZOOM, min(1.0, room.width() / rect.width(), room.height() / rect.height())))
        self.centerOn(rect.center())

    def _refit_for_banner(self) -> None:
        """The plan's error appeared or went: refit while the view follows the plan (not zoomed by hand)."""
        error = self.diagram_scene.error_text
        if error != self._fitted_for_error:
            self._fitted_for_error = error
            if self._fitted and self._auto_fit:
                self.fit_all()

    def _nodes_rect(self) -> QRectF:
        rect = QRectF()
        for item in self.diagram_scene.node_items.values():
            rect = rect.united(item.sceneBoundingRect())
        return rect

    def _item_ids(self) -> set[str]:
        return set(self.diagram_scene.node_items) | set(self.diagram_scene.card_items)

    def _reveal_new_nodes(self) -> None:
        """A node or card that just appeared (a GPU dropped) scrolls into view, clear of the legend."""
        scene = self.diagram_scene
        ids = self._item_ids()
        new = [item for key, item in (*scene.node_items.items(), *scene.card_items.items())
               if key not in self._known_items]
        self._known_items = ids
        if not new or not self.isVisible():
            return
        rect = new[0].sceneBoundingRect()
        for item in new[1:]:
            rect = rect.united(item.sceneBoundingRect())
        # ensureVisible's margins are in view pixels: keep the legend's height free below the item
        self.ensureVisible(rect, 20, int(self.legend_height()) + 10)

    def _fit_after_reset(self) -> None:
        """A plan was opened or a template loaded (empty undo history): show all of it."""
        if self.diagram_scene.document.undo_stack.count() == 0:
            self._known_items = self._item_ids()
            self._auto_fit = True
            if self.isVisible():
                QTimer.singleShot(0, self.fit_all)

    def wheelEvent(self, event: QWheelEvent) -> None:  # noqa: N802 - Qt's name
        if event.modifiers() & Qt.KeyboardModifier.ControlModifier:
            steps = event.angleDelta().y() / 120
            self.set_zoom(self.zoom() * (1.15 ** steps))
            self._auto_fit = False
            event.accept()
            return
        super().wheelEvent(event)

    def showEvent(self, event) -> None:  # noqa: N802
        super().showEvent(event)
        if not self._fitted:
            self._fitted = True
            self.fit_all()

    def resizeEvent(self, event) -> None:  # noqa: N802
        super().resizeEvent(event)
        if self._fitted and self._auto_fit:
            self.fit_all()  # not zoomed by hand yet: keep all of the plan in view while the window settles

    def mousePressEvent(self, event) -> None:  # noqa: N802
        if self.diagram_scene.notice_text and self._banner_rect.contains(QPointF(event.position())):
            self.diagram_scene.clear_notice()  # a click on a notice dismisses it
            event.accept()
            return
        super().mousePressEvent(event)

    def _refit_scene_rect(self, *_args) -> None:
        """Grow the scrollable area to the items' extent; items move only when the layout changes."""
        layout = self.diagram_scene.document.plan.layout
        if layout is self._fitted_layout:
            return
        self._fitted_layout = layout
        rect = self.diagram_scene.itemsBoundingRect().adjusted(-200, -150, 200, 150)
        if rect != self.sceneRect():
            self.setSceneRect(rect.united(self.sceneRect()) if self.sceneRect().isValid() else rect)

    def set_context_actions(self, actions: list[QAction | None]) -> None:
        """Actions of the right-click menu (e.g. ``RoleActions.actions()``); None adds a separator."""
        self.context_actions = list(actions)

    def contextMenuEvent(self, event: QContextMenuEvent) -> None:  # noqa: N802 - Qt's name
        if not self.context_actions:
            super().contextMenuEvent(event)
            return
        card = self.diagram_scene.card_at(self.mapToScene(event.pos()))
        if card is not None and not card.isSelected():
            self.diagram_scene.clearSelection()
            card.setSelected(True)
        menu = QMenu(self)
        for action in self.context_actions:
            if action is None:
                menu.addSeparator()
            else:
                menu.addAction(action)
        menu.exec(event.globalPos())

    # Overlay ---------------------------------------------------------------------
    def drawForeground(self, painter: QPainter, rect: QRectF | QRect) -> None:  # noqa: N802
        scene = self.diagram_scene
        painter.save()
        painter.resetTransform()
        painter.setRenderHint(QPainter.RenderHint.Antialiasing, True)
        if scene.document.plan.layout.cards:
            self._draw_legend(painter, scene)
        else:
            self._draw_empty_hint(painter, scene)
        text = scene.banner_text()
        self._banner_rect = QRectF()
        if text:
            self._draw_banner(painter, text, error=not scene.notice_text)
        painter.restore()

    def _draw_empty_hint(self, painter: QPainter, scene: DiagramScene) -> None:
        """The empty plan: what to do first, mid-canvas (or at the bottom, clear of the empty nodes)."""
        st = scene.diagram_style
        flags = int(Qt.AlignmentFlag.AlignCenter | Qt.TextFlag.TextWordWrap)
        painter.setFont(st.title_font)
        port = QRectF(self.viewport().rect())
        if not scene.node_items:
            painter.setPen(st.muted)
            painter.drawText(port.adjusted(40, 40, -40, -40), flags, tr(
                "No cards yet. Drag a GPU from the palette on the left onto the canvas to start a node."))
            return
        text = tr("No cards yet. Drag a GPU from the palette onto an empty slot of a node.")
        bound = QFontMetricsF(st.title_font).boundingRect(port.adjusted(24, 0, -24, 0), flags, text)
        box = QRectF(12, port.height() - bound.height() - 28, port.width() - 24, bound.height() + 16)
        painter.setPen(QPen(st.muted, 1))
        painter.setBrush(st.badge_fill)
        painter.drawRoundedRect(box, 6, 6)
        painter.setPen(st.text)
        painter.drawText(box, flags, text)

    _BANNER_FLAGS = Qt.TextFlag.TextWordWrap | Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter

    def _banner_box(self, text: str, hint: bool) -> QRectF:
        """Where the banner with ``text`` goes (top of the view, full width, as tall as its lines)."""
        width = self.viewport().width() - 24
        metrics = QFontMetricsF(self.diagram_scene.diagram_style.title_font)
        bound = metrics.boundingRect(QRectF(0, 0, width - 24, 1000), int(self._BANNER_FLAGS), text)
        return QRectF(12, 10, width, bound.height() + 16 + (14 if hint else 0))

    def _draw_banner(self, painter: QPainter, text: str, error: bool) -> None:
        st = self.diagram_scene.diagram_style
        painter.setFont(st.title_font)
        flags = self._BANNER_FLAGS
        hint = tr("click to dismiss") if not error else ""  # a notice can be dismissed: say how
        box = self._banner_box(text, bool(hint))
        self._banner_rect = box
        painter.setPen(QPen(QColor("#A3001A") if error else QColor("#8A6D00"), 1.2))
        painter.setBrush(QColor(255, 235, 236, 240) if error else QColor(255, 248, 220, 240))
        painter.drawRoundedRect(box, 6, 6)
        painter.setPen(QColor("#7A0013") if error else QColor("#5C4800"))
        painter.drawText(box.adjusted(12, 8, -12, -8 - (14 if hint else 0)), int(flags), text)
        if hint:
            painter.setFont(st.small_font)
            painter.drawText(box.adjusted(12, 2, -10, -4), int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignBottom),
                             hint)

    def _draw_legend(self, painter: QPainter, scene: DiagramScene) -> None:
        """The legend box at the bottom left, drawn once per content and width and blitted on every repaint."""
        dpr = self.viewport().devicePixelRatioF()
        room = max(self.viewport().width() - 16, 120)
        key = (scene.stages, scene.categories, scene.diagram_style, dpr, room)
        if self._legend is None or self._legend[0] != key:
            self._legend = (key, self._legend_pixmap(scene, dpr, room))
        pixmap = self._legend[1]
        size = pixmap.deviceIndependentSize()
        painter.drawPixmap(QPointF(8, self.viewport().height() - size.height() - 8), pixmap)

    def _legend_lines(self, scene: DiagramScene, room: float) -> tuple[float, list[tuple[str, list[LegendEntry]]]]:
        """(label width, lines): the entries of each row wrapped to ``room`` pixels; a row's title
        on its first line only."""
        stages, categories = scene.legend()
        metrics = scene.diagram_style.card_metrics
        rows = [(title, entries) for title, entries in ((tr("Stage"), stages), (tr("Memory"), categories)) if entries]
        label_w = max((metrics.horizontalAdvance(t) for t, _ in rows), default=0) + 10
        lines: list[tuple[str, list[LegendEntry]]] = []
        for title, entries in rows:
            line: list[LegendEntry] = []
            width, first = 0.0, True
            for entry in entries:
                w = self._row_width([entry], metrics)
                if line and label_w + width + w + 16 > room:
                    lines.append((title if first else "", line))
                    line, width, first = [], 0.0, False
                line.append(entry)
                width += w
            lines.append((title if first else "", line))
        return label_w, lines

    def _legend_pixmap(self, scene: DiagramScene, dpr: float, room: float) -> QPixmap:
        st = scene.diagram_style
        metrics = st.card_metrics
        label_w, lines = self._legend_lines(scene, room)
        height = 20.0 * len(lines) + 10
        total_w = label_w + max((self._row_width(entries, metrics) for _, entries in lines), default=0) + 16
        pixmap = QPixmap(int(total_w * dpr) + 2, int(height * dpr) + 2)
        pixmap.setDevicePixelRatio(dpr)
        pixmap.fill(Qt.GlobalColor.transparent)
        painter = QPainter(pixmap)
        painter.setRenderHints(QPainter.RenderHint.Antialiasing | QPainter.RenderHint.TextAntialiasing)
        painter.setFont(st.card_font)
        painter.setPen(QPen(QColor(0, 0, 0, 40), 1))
        painter.setBrush(QColor(40, 42, 46, 225) if st.dark else QColor(255, 255, 255, 230))
        painter.drawRoundedRect(QRectF(0.5, 0.5, total_w, height), 6, 6)
        for i, (title, entries) in enumerate(lines):
            row_y = 8.5 + 20.0 * i
            painter.setPen(st.text)
            if title:
                painter.drawText(QPointF(8.5, row_y + 11), title)
            x = 8.5 + label_w
            for entry in entries:
                x = self._draw_entry(painter, entry, x, row_y, metrics, st)
        painter.end()
        return pixmap

    @staticmethod
    def _row_width(entries: list[LegendEntry], metrics: QFontMetricsF) -> float:
        return sum(16 + metrics.horizontalAdvance(e.text) + 12 for e in entries)

    @staticmethod
    def _draw_entry(painter, entry: LegendEntry, x: float, y: float, metrics, st) -> float:
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(entry.color)
        painter.drawRoundedRect(QRectF(x, y + 2, 11, 11), 2, 2)
        painter.setPen(st.text)
        painter.drawText(QPointF(x + 15, y + 11), entry.text)
        return x + 16 + metrics.horizontalAdvance(entry.text) + 12

