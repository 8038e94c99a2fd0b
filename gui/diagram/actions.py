"""``RoleActions``: the diagram's QActions (toolbar, menus, context menu).

Set stage 1..9 (keys 1-9), new TP group / new ZeRO-DP group from the
selection, fill the selected nodes with a TP x PP x DP grid, delete,
duplicate node x N, rename node.  Each action is one undo command; a refused
edit is reported through :attr:`RoleActions.message` (and on the diagram
when a scene is attached), never a dialog.
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QCoreApplication, QObject, Signal
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QInputDialog, QWidget

from engine.plan import edits
from engine.plan.schema import Plan
from gui.diagram.colors import stage_color
from gui.diagram.controller import apply_edit
from gui.diagram.geometry import suggested_columns
from gui.diagram.scene import DiagramScene
from gui.document import PlanDocument
from gui.i18n import plural

STAGE_KEYS = 9


def tr(text: str, disambiguation: str | None = None, n: int = -1) -> str:
    return QCoreApplication.translate("RoleActions", text, disambiguation, n) if n < 0 else \
        plural(QCoreApplication.translate("RoleActions", text, disambiguation, n), n)  # "1 card", "2 cards"


class RoleActions(QObject):
    message = Signal(str)  # why an action was refused ("" clears)

    def __init__(self, document: PlanDocument, parent: QObject | None = None) -> None:
        super().__init__(parent or document)
        self.document = document
        self.scene: DiagramScene | None = None
        self.dialog_parent: QWidget | None = None
        self.stage_actions: list[QAction] = []
        for k in range(STAGE_KEYS):
            action = self._action(tr("Set stage {0}").format(k + 1), str(k + 1),
                                  tr("Put the selected cards on pipeline stage {0}").format(k + 1))
            action.setIcon(_swatch_icon(k))
            action.setIconText(tr("S{0}").format(k + 1))
            action.triggered.connect(lambda _checked=False, s=k: self.set_stage(s))
            self.stage_actions.append(action)
        self.new_tp_group = self._action(tr("New TP group"), "T", tr("The selected cards form one tensor-parallel group"))
        self.new_tp_group.setIconText(tr("TP group"))
        self.new_tp_group.triggered.connect(self.make_tp_group)
        self.new_dp_group = self._action(tr("New ZeRO/DP group"), "Z",
                                         tr("The selected cards form one data-parallel (ZeRO) group"))
        self.new_dp_group.setIconText(tr("DP group"))
        self.new_dp_group.triggered.connect(self.make_dp_group)
        self.fill_grid = self._action(tr("Fill with TP × PP × DP grid…"), "Ctrl+G",
                                      tr("Give the selected nodes' cards a grid in Megatron rank order"))
        self.fill_grid.setIconText(tr("Grid…"))
        self.fill_grid.triggered.connect(lambda: self.fill_with_grid())
        self.delete = self._action(tr("Delete"), QKeySequence(QKeySequence.StandardKey.Delete),
                                   tr("Delete the selected cards (or the current node)"))
        self.delete.triggered.connect(self.delete_selection)
        self.duplicate_node = self._action(tr("Duplicate node ×N…"), "Ctrl+D",
                                           tr("Add copies of the node as data-parallel replicas"))
        self.duplicate_node.setIconText(tr("Duplicate…"))
        self.duplicate_node.triggered.connect(lambda: self.duplicate(None))
        self.rename_node = self._action(tr("Rename node…"), "F2", tr("Rename the selected node"))
        self.rename_node.setIconText(tr("Rename"))
        self.rename_node.triggered.connect(lambda: self.rename(None))
        self.arrange = self._action(tr("Arrange nodes"), "Ctrl+Shift+A", tr("Place all nodes on a tidy grid"))
        self.arrange.setIconText(tr("Arrange"))
        self.arrange.triggered.connect(lambda: self.arrange_nodes())
        document.selection_changed.connect(self._update_enabled)
        document.plan_changed.connect(self._update_enabled)
        self._update_enabled()

    def _action(self, text: str, key, tip: str) -> QAction:
        action = QAction(text, self)
        action.setShortcut(QKeySequence(key) if isinstance(key, str) else key)
        action.setStatusTip(tip)
        action.setToolTip(f"{text} ({action.shortcut().toString(QKeySequence.SequenceFormat.NativeText)})")
        return action

    def actions(self) -> list[QAction]:
        return [*self.stage_actions, self.new_tp_group, self.new_dp_group, self.fill_grid,
                self.duplicate_node, self.rename_node, self.arrange, self.delete]

    def attach_scene(self, scene: DiagramScene) -> None:
        """Use the diagram's current node (title clicked), show refusals on it, and take its Delete key."""
        self.scene = scene
        self.message.connect(scene.set_notice)
        scene.current_node_changed.connect(self._update_enabled)
        scene.delete_requested.connect(self.delete_selection)
        self._update_enabled()

    # Targets -----------------------------------------------------------------------
    def selected_cards(self) -> tuple[str, ...]:
        return self.document.selected_card_ids

    def target_nodes(self) -> list[str]:
        """Nodes holding selected cards, else the diagram's current node."""
        ids = set(self.selected_cards())
        nodes = {c.node for c in self.document.plan.layout.cards if c.id in ids}
        if not nodes and self.scene is not None and self.scene.current_node_id:
            nodes = {self.scene.current_node_id}
        return [n.id for n in self.document.plan.layout.nodes if n.id in nodes]

    def _update_enabled(self) -> None:
        has_cards = bool(self.selected_cards())
        nodes = self.target_nodes()
        for action in (*self.stage_actions, self.new_tp_group, self.new_dp_group):
            action.setEnabled(has_cards)
        self.delete.setEnabled(has_cards or bool(nodes))
        self.fill_grid.setEnabled(bool(nodes))
        self.duplicate_node.setEnabled(bool(nodes))
        self.rename_node.setEnabled(len(nodes) == 1)

    # Edits -------------------------------------------------------------------------
    def _edit(self, make: Callable[[], Plan], text: str) -> bool:
        return apply_edit(self.document, make, text, self.message.emit)

    def set_stage(self, stage: int) -> bool:
        ids = self.selected_cards()
        return self._edit(lambda: edits.set_stage(self.document.plan, ids, stage),
                          tr("Set stage {0} on %n card(s)", "", len(ids)).format(stage + 1))

    def make_tp_group(self) -> bool:
        ids = self.selected_cards()
        return self._edit(lambda: edits.new_tp_group(self.document.plan, ids),
                          tr("New TP group of %n card(s)", "", len(ids)))

    def make_dp_group(self) -> bool:
        ids = self.selected_cards()
        return self._edit(lambda: edits.new_dp_group(self.document.plan, ids),
                          tr("New ZeRO/DP group of %n card(s)", "", len(ids)))

    def delete_selection(self) -> bool:
        ids = self.selected_cards()
        if ids:
            return self._edit(lambda: edits.remove_cards(self.document.plan, ids),
                              tr("Delete %n card(s)", "", len(ids)))
        nodes = self.target_nodes()
        return bool(nodes) and self._edit(lambda: _fold(self.document.plan, nodes, edits.remove_node),
                                          tr("Delete %n node(s)", "", len(nodes)))

    def duplicate(self, copies: int | None = None) -> bool:
        nodes = self.target_nodes()
        if not nodes:
            return False
        if copies is None:
            copies, ok = QInputDialog.getInt(self.dialog_parent, tr("Duplicate node"),
                                             tr("Copies (added as data-parallel replicas):"), 1, 1, edits.MAX_COPIES)
            if not ok:
                return False
        return self._edit(lambda: _fold(self.document.plan, nodes, lambda p, n: edits.duplicate_node(p, n, copies)),
                          tr("Duplicate %n node(s)", "", len(nodes)) + f" ×{copies}")

    def rename(self, name: str | None = None) -> bool:
        nodes = self.target_nodes()
        if len(nodes) != 1:
            return False
        node_id = nodes[0]
        if name is None:
            if self.scene is not None and node_id in self.scene.node_items:
                self.scene.node_items[node_id].begin_rename()  # in place; commits through the scene
                return True
            current = next(n.name for n in self.document.plan.layout.nodes if n.id == node_id)
            name, ok = QInputDialog.getText(self.dialog_parent, tr("Rename node"), tr("Name:"), text=current)
            if not ok:
                return False
        return self._edit(lambda: edits.rename_node(self.document.plan, node_id, name), tr("Rename node"))

    def arrange_nodes(self, columns: int | None = None) -> bool:
        count = len(self.document.plan.layout.nodes)
        if not count:
            return False
        cols = columns or suggested_columns(count)
        return self._edit(lambda: edits.arrange_nodes(self.document.plan, cols), tr("Arrange nodes"))

    def fill_with_grid(self, tp: int | None = None, pp: int | None = None, dp: int | None = None) -> bool:
        nodes = self.target_nodes()
        if not nodes:
            return False
        if tp is None or pp is None or dp is None:
            from gui.diagram.grid_dialog import ask_grid

            slots = sum(n.slots for n in self.document.plan.layout.nodes if n.id in nodes)
            answer = ask_grid(self.dialog_parent, slots)
            if answer is None:
                return False
            tp, pp, dp = answer
        return self._edit(lambda: edits.fill_grid(self.document.plan, nodes, tp, pp, dp),
                          tr("Fill grid TP {0} × PP {1} × DP {2}").format(tp, pp, dp))


def _fold(plan: Plan, node_ids: list[str], step: Callable[[Plan, str], Plan]) -> Plan:
    for node_id in node_ids:
        plan = step(plan, node_id)
    return plan


def _swatch_icon(stage: int):
    from PySide6.QtGui import QIcon, QPixmap

    pixmap = QPixmap(14, 14)
    pixmap.fill(stage_color(stage))
    return QIcon(pixmap)
