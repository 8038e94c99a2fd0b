"""The GUI's one document: the current plan, its last estimate, the undo stack.

Every change goes through :meth:`PlanDocument.apply` (one undo command) or
:meth:`PlanDocument.preview` (live feedback during a drag or spin-box scrub,
not recorded).  The document re-runs the engine and emits ``plan_changed`` and
``estimate_changed``; views subscribe and redraw.  No widget calls the engine
itself and no widget does memory arithmetic.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QObject, Signal
from PySide6.QtGui import QUndoStack

from engine.errors import PlanError
from engine.plan.schema import Plan
from engine.report.records import Estimate
from engine.units import Unit
from gui.estimator import run_estimate


class PlanDocument(QObject):
    plan_changed = Signal()
    estimate_changed = Signal()
    selection_changed = Signal()
    units_changed = Signal()
    file_changed = Signal()  # path or clean state changed (window title, recent files)
    highlight_changed = Signal()  # cards highlighted from the warnings panel

    def __init__(self, plan: Plan, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._plan = plan
        self._estimate: Estimate | None = None
        self._error: PlanError | None = None
        self._selection: tuple[str, ...] = ()
        self._highlight: tuple[str, ...] = ()
        self._units = Unit.GB
        self._path: Path | None = None
        self.undo_stack = QUndoStack(self)
        self.undo_stack.cleanChanged.connect(self.file_changed)
        self._recompute()

    # State ------------------------------------------------------------------
    @property
    def plan(self) -> Plan:
        return self._plan

    @property
    def estimate(self) -> Estimate | None:
        """The last successful estimate of the current plan (None when the plan is invalid)."""
        return self._estimate

    @property
    def error(self) -> PlanError | None:
        """Why the current plan cannot be estimated (shown inline), or None."""
        return self._error

    @property
    def units(self) -> Unit:
        return self._units

    def set_units(self, unit: Unit | str) -> None:
        unit = Unit(unit)
        if unit is not self._units:
            self._units = unit
            self.units_changed.emit()

    @property
    def selected_card_ids(self) -> tuple[str, ...]:
        return self._selection

    def set_selection(self, card_ids: tuple[str, ...] | list[str]) -> None:
        ids = tuple(card_ids)
        if ids != self._selection:
            self._selection = ids
            self.selection_changed.emit()

    @property
    def highlighted_card_ids(self) -> tuple[str, ...]:
        return self._highlight

    def set_highlight(self, card_ids: tuple[str, ...] | list[str]) -> None:
        self._highlight = tuple(card_ids)
        self.highlight_changed.emit()

    @property
    def path(self) -> Path | None:
        return self._path

    def set_path(self, path: Path | None) -> None:
        self._path = path
        self.file_changed.emit()

    @property
    def dirty(self) -> bool:
        return not self.undo_stack.isClean()

    # Changes ----------------------------------------------------------------
    def apply(self, new_plan: Plan, text: str, merge_key: str | None = None) -> None:
        """Record one user action (one undo step).  ``merge_key`` merges consecutive
        commands with the same key (spin-box scrubbing, continuous drags)."""
        from gui.commands import ReplacePlanCommand

        if new_plan == self._plan:
            return
        self.undo_stack.push(ReplacePlanCommand(self, self._plan, new_plan, text, merge_key))

    def preview(self, plan: Plan) -> None:
        """Show ``plan`` live without recording it (drag in progress)."""
        self._set_plan(plan)

    def reset(self, plan: Plan, path: Path | None = None) -> None:
        """Replace the whole document (open, new, template): clears undo history."""
        self.undo_stack.clear()
        self._path = path
        self._selection = ()
        self._set_plan(plan)
        self.undo_stack.setClean()
        self.file_changed.emit()

    def _set_plan(self, plan: Plan) -> None:
        """Used by commands and previews only."""
        self._plan = plan
        live = {c.id for c in plan.layout.cards}
        if any(i not in live for i in self._selection):
            self._selection = tuple(i for i in self._selection if i in live)
            self.selection_changed.emit()
        self.plan_changed.emit()
        self._recompute()

    def _recompute(self) -> None:
        self._estimate, self._error = run_estimate(self._plan)
        self.estimate_changed.emit()
