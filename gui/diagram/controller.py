"""``DiagramController``: the scene's intent signals become document commands.

Each slot is a few lines: call a pure function of :mod:`engine.plan.edits`, then
``document.apply`` (one undo step) or ``document.preview`` (live drag).  A
refused edit (``PlanError``) shows as a notice on the diagram, never a dialog.
:func:`apply_edit` is the diagram's one edit path; the role actions
(:mod:`gui.diagram.actions`) use it too.
"""

from __future__ import annotations

from collections.abc import Callable

import shiboken6
from PySide6.QtCore import QCoreApplication, QObject, QPointF

from engine.catalog import find_gpu
from engine.errors import PlanError
from engine.plan import edits
from engine.plan.layout import new_id
from engine.plan.schema import Plan
from gui.diagram.geometry import CARD_W, NODE_PAD, TITLE_H, node_units
from gui.diagram.scene import DiagramScene
from gui.document import PlanDocument
from gui.i18n import plural
from gui.plan_errors import refusal_text


def tr(text: str, disambiguation: str | None = None, n: int = -1) -> str:
    return QCoreApplication.translate("DiagramController", text, disambiguation, n) if n < 0 else \
        plural(QCoreApplication.translate("DiagramController", text, disambiguation, n), n)  # "1 card", "2 cards"


def apply_edit(document: PlanDocument, make: Callable[[], Plan], text: str, notify: Callable[[str], None]) -> bool:
    """Apply ``make()`` as one undo step; a refused edit (PlanError) goes to ``notify`` ("" clears
    the last one).  True if applied."""
    try:
        plan = make()
    except PlanError as e:
        notify(refusal_text(e))
        return False
    notify("")
    document.apply(plan, text)
    return True


def _capacity(gpu: str) -> int:
    return find_gpu(gpu).memory_bytes


class DiagramController(QObject):
    def __init__(self, document: PlanDocument, scene: DiagramScene, parent: QObject | None = None) -> None:
        super().__init__(parent or scene)
        self.document = document
        self.scene = scene
        self._drag_base: Plan | None = None
        scene.gpu_dropped.connect(self.on_gpu_dropped)
        scene.card_drag_started.connect(self.on_card_drag_started)
        scene.card_drag_moved.connect(self.on_card_drag_moved)
        scene.cards_dropped.connect(self.on_cards_dropped)
        scene.card_drag_cancelled.connect(self.on_card_drag_cancelled)
        scene.node_moved.connect(self.on_node_moved)
        scene.node_renamed.connect(self.on_node_renamed)
        scene.selectionChanged.connect(self.on_scene_selection)

    def edit(self, make: Callable[[], Plan], text: str) -> bool:
        """Apply ``make()`` as one undo step; a PlanError becomes a notice on the diagram."""
        return apply_edit(self.document, make, text, self.scene.set_notice)

    # Slots -----------------------------------------------------------------------
    def on_scene_selection(self) -> None:
        if not shiboken6.isValid(self.scene):
            # The scene is being destroyed: ~QGraphicsScene deletes the items one by one and each
            # selected one emits selectionChanged.  The selection dies with the scene; nothing to record.
            return
        if not self.scene.syncing_selection and not self.scene.dragging_cards:
            self.document.set_selection(self.scene.selected_card_ids())

    def on_gpu_dropped(self, gpu: str, node_id: str, slot: int, pos: QPointF) -> None:
        plan = self.document.plan
        if node_id:
            self.edit(lambda: edits.add_card(plan, node_id, gpu, _capacity(gpu), None if slot < 0 else slot),
                      tr("Add {0}").format(gpu))
            return
        nid = new_id()
        x, y = node_units(pos - QPointF(NODE_PAD + CARD_W / 2, TITLE_H + NODE_PAD))
        self.edit(lambda: edits.add_card(edits.add_node(plan, x=x, y=y, node_id=nid), nid, gpu, _capacity(gpu)),
                  tr("Add node with {0}").format(gpu))

    def on_card_drag_started(self, card_ids: list[str]) -> None:
        self._drag_base = self.document.plan

    def on_card_drag_moved(self, card_ids: list[str], node_id: str) -> None:
        base = self._drag_base
        if base is None:
            return
        try:
            preview = edits.move_cards(base, card_ids, node_id) if node_id else base
        except PlanError:
            preview = base  # the target has no room: show the cards at home
        self.document.preview(preview)

    def on_cards_dropped(self, card_ids: list[str], node_id: str, pos: QPointF) -> None:
        base, self._drag_base = self._drag_base, None
        if base is None:
            return
        self.document.preview(base)  # the command records base -> result
        if node_id:
            self.edit(lambda: edits.move_cards(base, card_ids, node_id),
                      tr("Move %n card(s)", "", len(card_ids)))
            return
        nid = new_id()
        x, y = node_units(pos - QPointF(NODE_PAD + CARD_W / 2, TITLE_H + NODE_PAD))
        self.edit(lambda: edits.move_cards(edits.add_node(base, x=x, y=y, node_id=nid), card_ids, nid),
                  tr("Move %n card(s) to a new node", "", len(card_ids)))

    def on_card_drag_cancelled(self) -> None:
        base, self._drag_base = self._drag_base, None
        if base is not None:
            self.document.preview(base)

    def on_node_moved(self, node_id: str, x: float, y: float) -> None:
        self.edit(lambda: edits.set_node_position(self.document.plan, node_id, x, y), tr("Move node"))

    def on_node_renamed(self, node_id: str, name: str) -> None:
        self.edit(lambda: edits.rename_node(self.document.plan, node_id, name), tr("Rename node"))
