"""``DiagramView``: the QGraphicsView around a :class:`DiagramScene`.

Rubber-band selection, Ctrl + wheel zoom, drops from the GPU palette, and an
overlay in viewport coordinates: the error / notice banner at the top and the
legend (stage colours, memory categories) at the bottom left.
"""

from __future__ import annotations

from PySide6.QtCore import QCoreApplication, QPointF, QRect, QRectF, Qt, QTimer
from PySide6.QtGui import (
    QAction,
    QColor,
    QContextMenuEvent,
    QFontMetricsF,
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
        self.setMinimumSize(320, 240)
        self._fitted = False
        self._fitted_layout: Layout | None = None  # the plan layout the scene rect was last fitted to
        self._legend: tuple[tuple, QPixmap] | None = None  # (what it shows, drawing): redrawn when that changes
        if QPixmapCache.cacheLimit() < PIXMAP_CACHE_KB:
            QPixmapCache.setCacheLimit(PIXMAP_CACHE_KB)  # card faces and nodes are cached as pixmaps
        self.context_actions: list[QAction | None] = []  # None: a separator
        self.diagram_scene.overlay_changed.connect(self.viewport().update)
        document.plan_changed.connect(self._refit_scene_rect)  # after the scene's own sync (connected first)
        document.file_changed.connect(self._fit_after_reset)
        self._refit_scene_rect()

    # Zoom ------------------------------------------------------------------------
    def zoom(self) -> float:
        return self.transform().m11()

    def set_zoom(self, factor: float) -> None:
        factor = max(MIN_ZOOM, min(MAX_ZOOM, factor))
        self.resetTransform()
        self.scale(factor, factor)

    def fit_all(self) -> None:
        rect = self.diagram_scene.itemsBoundingRect()
        if rect.isEmpty():
            return
        self.fitInView(rect.adjusted(-30, -60, 30, 90), Qt.AspectRatioMode.KeepAspectRatio)
        if self.zoom() > 1.0:
            self.set_zoom(1.0)
            self.centerOn(rect.center())

    def _fit_after_reset(self) -> None:
        """A plan was opened or a template loaded (empty undo history): show all of it."""
        if self.diagram_scene.document.undo_stack.count() == 0 and self.isVisible():
            QTimer.singleShot(0, self.fit_all)

    def wheelEvent(self, event: QWheelEvent) -> None:  # noqa: N802 - Qt's name
        if event.modifiers() & Qt.KeyboardModifier.ControlModifier:
            steps = event.angleDelta().y() / 120
            self.set_zoom(self.zoom() * (1.15 ** steps))
            event.accept()
            return
        super().wheelEvent(event)

    def showEvent(self, event) -> None:  # noqa: N802
        super().showEvent(event)
        if not self._fitted:
            self._fitted = True
            self.fit_all()

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
        self._draw_legend(painter, scene)
        text = scene.banner_text()
        if text:
            self._draw_banner(painter, text, error=not scene.notice_text)
        painter.restore()

    def _draw_banner(self, painter: QPainter, text: str, error: bool) -> None:
        st = self.diagram_scene.diagram_style
        painter.setFont(st.title_font)
        width = self.viewport().width() - 24
        metrics = QFontMetricsF(st.title_font)
        flags = Qt.TextFlag.TextWordWrap | Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter
        bound = metrics.boundingRect(QRectF(0, 0, width - 24, 1000), int(flags), text)
        box = QRectF(12, 10, width, bound.height() + 16)
        painter.setPen(QPen(QColor("#A3001A") if error else QColor("#8A6D00"), 1.2))
        painter.setBrush(QColor(255, 235, 236, 240) if error else QColor(255, 248, 220, 240))
        painter.drawRoundedRect(box, 6, 6)
        painter.setPen(QColor("#7A0013") if error else QColor("#5C4800"))
        painter.drawText(box.adjusted(12, 8, -12, -8), int(flags), text)

    def _draw_legend(self, painter: QPainter, scene: DiagramScene) -> None:
        """The legend box at the bottom left, drawn once per content and blitted on every repaint."""
        dpr = self.viewport().devicePixelRatioF()
        key = (scene.stages, scene.diagram_style, dpr)
        if self._legend is None or self._legend[0] != key:
            self._legend = (key, self._legend_pixmap(scene, dpr))
        pixmap = self._legend[1]
        size = pixmap.deviceIndependentSize()
        painter.drawPixmap(QPointF(8, self.viewport().height() - size.height() - 8), pixmap)

    def _legend_pixmap(self, scene: DiagramScene, dpr: float) -> QPixmap:
        stages, categories = scene.legend()
        st = scene.diagram_style
        metrics = st.card_metrics
        rows = [(tr("Stage"), stages), (tr("Memory"), categories)]
        height = 20.0 * len(rows) + 10
        label_w = max(metrics.horizontalAdvance(t) for t, _ in rows) + 10
        total_w = label_w + max((self._row_width(entries, metrics) for _, entries in rows), default=0) + 16
        pixmap = QPixmap(int(total_w * dpr) + 2, int(height * dpr) + 2)
        pixmap.setDevicePixelRatio(dpr)
        pixmap.fill(Qt.GlobalColor.transparent)
        painter = QPainter(pixmap)
        painter.setRenderHints(QPainter.RenderHint.Antialiasing | QPainter.RenderHint.TextAntialiasing)
        painter.setFont(st.card_font)
        painter.setPen(QPen(QColor(0, 0, 0, 40), 1))
        painter.setBrush(QColor(40, 42, 46, 225) if st.dark else QColor(255, 255, 255, 230))
        painter.drawRoundedRect(QRectF(0.5, 0.5, total_w, height), 6, 6)
        for i, (title, entries) in enumerate(rows):
            row_y = 8.5 + 20.0 * i
            painter.setPen(st.text)
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
