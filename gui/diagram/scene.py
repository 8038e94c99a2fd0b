"""``DiagramScene``: the plan's nodes and cards as graphics items, reconciled by id.

The scene reads the document and emits intent signals; it never edits the
plan (``gui.diagram.controller.DiagramController`` does).  On every
``plan_changed`` the ``dict[id, item]`` maps are reconciled: missing items
are added, stale ones removed, the rest updated in place.
"""

from __future__ import annotations

from PySide6.QtCore import QCoreApplication, QEvent, QObject, QRect, QTimer, Signal
from PySide6.QtWidgets import QGraphicsScene, QGraphicsSceneHelpEvent, QToolTip

from engine.errors import PlanError
from engine.plan.layout import Layout
from engine.report.records import BREAKDOWN_KEYS, CardSlot
from gui.diagram.bar_item import TEXT_LOD
from gui.diagram.card_item import CardItem, SharedBars
from gui.diagram.colors import LegendEntry, category_legend, stage_legend
from gui.diagram.geometry import node_units, slot_pos
from gui.diagram.group_outline import TpOutlineItem
from gui.diagram.interaction import InteractiveScene
from gui.diagram.node_item import NodeItem
from gui.diagram.style import DiagramStyle
from gui.document import PlanDocument
from gui.plan_errors import describe

NOTICE_MS = 10_000  # a refused edit's notice goes after this long (or on a click, or the next change)
TOOLTIP_MS = 600_000  # a tooltip stays while the pointer rests (Qt's default is ~10 s)


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
        self.categories: tuple[str, ...] = BREAKDOWN_KEYS  # memory categories in the legend
        self.view_scale = 1.0  # the view's zoom: figure labels show on the heaviest cards when small
        self._notice_timer = QTimer(self)
        self._notice_timer.setSingleShot(True)
        self._notice_timer.setInterval(NOTICE_MS)
        self._notice_timer.timeout.connect(self.clear_notice)
        self.setBackgroundBrush(self.diagram_style.canvas)
        self.setItemIndexMethod(QGraphicsScene.ItemIndexMethod.BspTreeIndex)
        document.plan_changed.connect(self.sync_plan)
        document.plan_changed.connect(self.clear_notice)  # a refusal is old news once the plan changed
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
        self._sync_cards(layout, _slots(layout))
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

    def _sync_cards(self, layout: Layout, slots: list[CardSlot] | None) -> None:
        live = set()
        for i, card in enumerate(layout.cards):
            live.add(card.id)
            node = self.node_items[card.node]
            item = self.card_items.get(card.id)
            slot = slots[i] if slots is not None else None
            if item is None:
                item = self.card_items[card.id] = CardItem(card, self.diagram_style, node, slot)
                item.setPos(slot_pos(card.slot))
                continue
            old = item.card
            if card is old and slot == item.slot:
                continue
            item.set_card(card, slot)
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
        text = tr("Not computed: {0}").format(describe(error, doc.plan)) if error is not None else ""
        if text != self.error_text:
            self.error_text = text
            self.overlay_changed.emit()
        est = doc.estimate
        unit, items = doc.units, self.card_items
        if est is None:  # invalid (or empty): no figure may outlive the plan it was computed for
            for item in items.values():
                item.set_estimate(None, unit)
            self._mark_heaviest(set())
            return
        distinct = {id(r.breakdown): r.breakdown for r in est.cards}.values()  # cards share breakdowns
        categories = tuple(k for k in BREAKDOWN_KEYS if any(getattr(b, k).bytes for b in distinct))
        if categories != self.categories:
            self.categories = categories
            self.overlay_changed.emit()
        shared: SharedBars = {}
        heaviest: dict[int, tuple[int, str]] = {}
        for row in est.cards:
            card_item = items.get(row.card_id)
            if card_item is not None:
                card_item.set_estimate(row, unit, shared)
            best = heaviest.get(row.stage)
            if best is None or row.total_bytes > best[0]:
                heaviest[row.stage] = (row.total_bytes, row.card_id)
        self._mark_heaviest({card_id for _, card_id in heaviest.values()})

    def _mark_heaviest(self, card_ids: set[str]) -> None:
        """Cards whose total stays readable at small zoom: the heaviest card of each stage."""
        for card_id, item in self.card_items.items():
            item.figure_label.wanted = card_id in card_ids
        self._show_figure_labels()

    def set_view_scale(self, scale: float) -> None:
        """The view zoomed: below the scale where bar figures are readable, show the stage labels."""
        if (scale < TEXT_LOD) != (self.view_scale < TEXT_LOD):
            self.view_scale = scale
            self._show_figure_labels()
        self.view_scale = scale

    def _show_figure_labels(self) -> None:
        small = self.view_scale < TEXT_LOD
        for item in self.card_items.values():
            label = item.figure_label
            label.setVisible(small and label.wanted)
            item.setZValue(1 if label.isVisible() else 0)  # its label above the neighbouring cards

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
        """A transient message (a refused edit); cleared by the next change of the plan, a click on
        it, or after NOTICE_MS."""
        self.notice_text = text
        self._notice_timer.start()
        self.overlay_changed.emit()

    def clear_notice(self) -> None:
        self._notice_timer.stop()
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
        """Stage colours, and the memory categories the estimate has (all of them without one)."""
        return stage_legend(self.stages), category_legend(self.categories)

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
        QToolTip.showText(event.screenPos(), card.tooltip_html(), event.widget(), QRect(), TOOLTIP_MS)
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
            card.figure_label.restyle(style)
        for outline in self.outline_items.values():
            outline.restyle(style)
        self.overlay_changed.emit()


def _slots(layout: Layout) -> list[CardSlot] | None:
    """Each card's ranks (for the DP badge and tooltips); None for a layout without a topology."""
    try:
        return layout.topology.slots
    except PlanError:
        return None
