"""``DiagramScene``: the plan's nodes and cards as graphics items, reconciled by id.

The scene reads the document and emits intent signals; it never edits the
plan (``gui.diagram.controller.DiagramController`` does).  On every
``plan_changed`` the ``dict[id, item]`` maps are reconciled: missing items
are added, stale ones removed, the rest updated in place.
"""

from __future__ import annotations

from PySide6.QtCore import QCoreApplication, QEvent, QObject, Signal
from PySide6.QtWidgets import QGraphicsScene, QGraphicsSceneHelpEvent, QToolTip

from engine.plan.layout import Layout
from gui.diagram.card_item import CardItem, SharedBars
from gui.diagram.colors import LegendEntry, category_legend, stage_legend
from gui.diagram.geometry import node_units, slot_pos
from gui.diagram.group_outline import TpOutlineItem
from gui.diagram.interaction import InteractiveScene
from gui.diagram.node_item import NodeItem
from gui.diagram.style import DiagramStyle
from gui.document import PlanDocument


def tr(text: str) -> str:
    return QCoreApplication.translate("DiagramScene", text)


class DiagramScene(InteractiveScene):
    # gpu_dropped, card_drag_*, cards_dropped, delete_requested: see InteractiveScene
    node_moved = Signal(str, float, float)  # node id, x, y in node-pitch units
    node_renamed = Signal(str, str)  # node id, new name
    current_node_changed = Signal()  # the node whose title was clicked last (actions target it)
    overlay_changed = Signal()  # banner text or legend changed (the view repaints its overlay)

    def __init__(self, document: PlanDocument, parent: QObject | None = None) -> None:
        super().__init__(DiagramStyle(), parent)
        self.document = document
        self.node_items: dict[str, NodeItem] = {}
        self.card_items: dict[str, CardItem] = {}
        self.outline_items: dict[tuple[str, int], TpOutlineItem] = {}
        self._layout: Layout | None = None
        self.syncing_selection = False
        self.current_node_id = ""
        self.error_text = ""
        self.notice_text = ""
        self.stages: tuple[int, ...] = ()
        self.setBackgroundBrush(self.diagram_style.canvas)
        self.setItemIndexMethod(QGraphicsScene.ItemIndexMethod.BspTreeIndex)
        document.plan_changed.connect(self.sync_plan)
        document.estimate_changed.connect(self.sync_estimate)
        document.units_changed.connect(self.sync_units)
        document.selection_changed.connect(self.sync_selection)
        document.highlight_changed.connect(self.sync_highlight)
        self.sync_plan()
        self.sync_estimate()
        self.sync_selection()
        self.sync_highlight()

    # Reconcile: plan -> items ------------------------------------------------------
    def sync_plan(self) -> None:
        layout = self.document.plan.layout
        if layout is self._layout:
            return
        self._layout = layout
        self._sync_nodes(layout)
        self._sync_cards(layout)
        self._sync_outlines(layout)
        stages = tuple(sorted({c.stage for c in layout.cards}))
        if stages != self.stages:
            self.stages = stages
            self.overlay_changed.emit()

    def _sync_nodes(self, layout: Layout) -> None:
        live = set()
        for node in layout.nodes:
            live.add(node.id)
            item = self.node_items.get(node.id)
            if item is None:
                item = self.node_items[node.id] = NodeItem(node, self.diagram_style)
                self.addItem(item)
            else:
                item.set_node(node)
        if self.current_node_id and self.current_node_id not in live:
            self.set_current_node("")
        for stale in [i for i in self.node_items if i not in live]:
            item = self.node_items.pop(stale)
            for child in item.childItems():  # cards moving elsewhere are re-parented below
                child.setParentItem(None)  # type: ignore[arg-type]  # Qt takes None (no parent); the stub omits it
                self.removeItem(child)
            self.removeItem(item)

    def _sync_cards(self, layout: Layout) -> None:
        live = set()
        for card in layout.cards:
            live.add(card.id)
            node = self.node_items[card.node]
            item = self.card_items.get(card.id)
            if item is None:
                item = self.card_items[card.id] = CardItem(card, self.diagram_style, node)
                item.setPos(slot_pos(card.slot))
                continue
            old = item.card
            if card is old:
                continue
            item.set_card(card)
            if item.parentItem() is not node:
                item.setParentItem(node)
            if item.scene() is None:
                self.addItem(item)
            if old.slot != card.slot or item.pos() != slot_pos(card.slot):
                item.setPos(slot_pos(card.slot))
        for stale in [i for i in self.card_items if i not in live]:
            item = self.card_items.pop(stale)
            if item.scene() is self:
                self.removeItem(item)
        used: dict[str, set[int]] = {}
        for card in layout.cards:
            used.setdefault(card.node, set()).add(card.slot)
        for node_id, node_item in self.node_items.items():
            node_item.set_used_slots(frozenset(used.get(node_id, ())))

    def _sync_outlines(self, layout: Layout) -> None:
        sizes: dict[int, int] = {}
        slots: dict[tuple[str, int], list[int]] = {}
        for card in layout.cards:
            if card.tp_group is None:
                continue  # alone in its TP dimension: no outline
            sizes[card.tp_group] = sizes.get(card.tp_group, 0) + 1
            slots.setdefault((card.node, card.tp_group), []).append(card.slot)
        live = set()
        for key, members in slots.items():
            size = sizes[key[1]]
            if size < 2:
                continue
            live.add(key)
            item = self.outline_items.get(key)
            if item is None:
                item = self.outline_items[key] = TpOutlineItem(key, self.diagram_style, self.node_items[key[0]])
            item.set_members(tuple(sorted(members)), size)
        for stale in [k for k in self.outline_items if k not in live]:
            item = self.outline_items.pop(stale)
            if item.scene() is self:
                self.removeItem(item)

    # Estimate, units, selection, highlight ---------------------------------------
    def sync_estimate(self) -> None:
        doc = self.document
        error = doc.error
        text = tr("Cannot estimate: {0}").format(error) if error is not None else ""
        if text != self.error_text:
            self.error_text = text
            self.overlay_changed.emit()
        est = doc.estimate
        if est is None:
            return  # keep the last drawing; the banner says why
        unit, items = doc.units, self.card_items
        shared: SharedBars = {}
        for row in est.cards:
            item = items.get(row.card_id)
            if item is not None:
                item.set_estimate(row, unit, shared)

    def sync_units(self) -> None:
        unit = self.document.units
        shared: SharedBars = {}
        for item in self.card_items.values():
            item.set_estimate(item.estimate, unit, shared)

    def sync_selection(self) -> None:
        wanted = set(self.document.selected_card_ids)
        self.syncing_selection = True
        try:
            for card_id, item in self.card_items.items():
                on = card_id in wanted
                if item.isSelected() != on:
                    item.setSelected(on)
        finally:
            self.syncing_selection = False

    def sync_highlight(self) -> None:
        lit = set(self.document.highlighted_card_ids)
        for card_id, item in self.card_items.items():
            item.set_highlighted(card_id in lit)

    def selected_card_ids(self) -> list[str]:
        """Selected cards in plan order."""
        return [c.id for c in self.document.plan.layout.cards
                if (item := self.card_items.get(c.id)) is not None and item.isSelected()]

    # Overlay: banner and legend (drawn by the view) ------------------------------
    def show_notice(self, text: str) -> None:
        """A transient message (a refused edit); cleared by the next successful change."""
        self.notice_text = text
        self.overlay_changed.emit()

    def clear_notice(self) -> None:
        if self.notice_text:
            self.notice_text = ""
            self.overlay_changed.emit()

    def set_notice(self, text: str) -> None:
        """Show ``text`` as the notice; "" clears it."""
        if text:
            self.show_notice(text)
        else:
            self.clear_notice()

    def banner_text(self) -> str:
        return self.notice_text or self.error_text

    def legend(self) -> tuple[list[LegendEntry], list[LegendEntry]]:
        return stage_legend(self.stages), category_legend()

    # Queries of InteractiveScene -------------------------------------------------
    def set_current_node(self, node_id: str) -> None:
        if node_id == self.current_node_id:
            return
        old = self.node_items.get(self.current_node_id)
        self.current_node_id = node_id
        for item in (old, self.node_items.get(node_id)):
            if item is not None:
                item.update()
        self.current_node_changed.emit()

    def node_drag_finished(self, item: NodeItem) -> None:
        x, y = node_units(item.pos())
        self.node_moved.emit(item.node_id, x, y)

    # Events ----------------------------------------------------------------------
    def helpEvent(self, event: QGraphicsSceneHelpEvent) -> None:  # noqa: N802 - Qt's name
        card = self.card_at(event.scenePos())
        if card is None:
            QToolTip.hideText()
            return
        QToolTip.showText(event.screenPos(), card.tooltip_html(), event.widget())
        event.accept()

    def event(self, event: QEvent) -> bool:
        if event.type() == QEvent.Type.PaletteChange:
            self._restyle()
        return super().event(event)

    def _restyle(self) -> None:
        self.diagram_style = DiagramStyle(self.palette())
        self.setBackgroundBrush(self.diagram_style.canvas)
        style = self.diagram_style
        for node in self.node_items.values():
            node.restyle(style)
        for card in self.card_items.values():
            card.restyle(style)
        for outline in self.outline_items.values():
            outline.restyle(style)
        self.overlay_changed.emit()
