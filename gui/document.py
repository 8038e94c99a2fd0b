"""The GUI's one document: the current plan, its last estimate, the undo stack.

Every change goes through :meth:`PlanDocument.apply` (one undo command) or
:meth:`PlanDocument.preview` (live feedback during a drag or spin-box scrub,
not recorded).  The document re-runs the engine and emits ``plan_changed`` and
``estimate_changed``; views subscribe and redraw.  No widget calls the engine
itself and no widget does memory arithmetic.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from PySide6.QtCore import QCoreApplication, QObject, Signal
from PySide6.QtGui import QUndoStack

from engine.compare import PlanComparison
from engine.errors import PlanError
from engine.plan.schema import Plan
from engine.report.records import Estimate
from engine.units import Unit
from gui.compare_data import run_comparison, run_expert_load
from gui.estimator import run_estimate

CompareSource = Literal["baseline", "expert-load"]
# Undo steps kept; the oldest go first (issue 15).  Each step keeps the plan before it alive, so an
# unbounded stack grew with every edit of a long session.  Plans share what an edit leaves alone: on a
# 16,384-card plan a field edit holds a few KB and a card gesture ~0.15 MB (its new tuple of cards),
# so 500 steps (hours of editing) stay under ~100 MB; only a grid fill rewriting every card holds more
# (~23 MB a step).
UNDO_LIMIT = 500


@dataclass(frozen=True)
class Baseline:
    """A plan pinned for comparison, with its estimate and the name it is shown under."""

    plan: Plan
    estimate: Estimate
    label: str


class PlanDocument(QObject):
    plan_changed = Signal()
    estimate_changed = Signal()
    selection_changed = Signal()
    units_changed = Signal()
    file_changed = Signal()  # path or clean state changed (window title, recent files)
    highlight_changed = Signal()  # cards highlighted from the warnings panel
    baseline_changed = Signal()  # a baseline pinned, replaced or unpinned; the comparison source changed
    comparison_changed = Signal()  # the comparison with the baseline (or of the EP ranks) was recomputed

    def __init__(self, plan: Plan, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._plan = plan
        self._estimate: Estimate | None = None
        self._error: PlanError | None = None
        self._selection: tuple[str, ...] = ()
        self._highlight: tuple[str, ...] = ()
        self._units = Unit.GB
        self._path: Path | None = None
        self._baseline: Baseline | None = None
        self._compare_source: CompareSource = "baseline"
        self._comparison: PlanComparison | None = None
        self._comparison_error: PlanError | None = None
        self.undo_stack = QUndoStack(self)
        self.undo_stack.setUndoLimit(UNDO_LIMIT)
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

    # Comparison ---------------------------------------------------------------
    @property
    def baseline(self) -> Baseline | None:
        return self._baseline

    @property
    def compare_source(self) -> CompareSource:
        """What the current plan is compared with: the pinned baseline, or (MoE) its own average EP rank."""
        return self._compare_source

    @property
    def comparison(self) -> PlanComparison | None:
        """A = the baseline (or the average EP rank), B = the current plan; None when there is nothing to compare."""
        return self._comparison

    @property
    def comparison_error(self) -> PlanError | None:
        """Why there is no comparison although one was asked for (shown inline), or None."""
        return self._comparison_error

    def pin_baseline(self, label: str | None = None) -> None:
        """Pin the current plan and its estimate as the baseline.  Raises PlanError when it has no estimate."""
        if self._estimate is None:
            raise self._error or PlanError("plan", self._plan.name, "a plan the engine can estimate")
        self._set_baseline(Baseline(self._plan, self._estimate, label or self._plan.name))

    def set_baseline(self, plan: Plan, label: str) -> None:
        """Pin another plan (a second file) as the baseline.  Raises PlanError for a plan the engine rejects."""
        estimate, error = run_estimate(plan)
        if estimate is None:
            raise error or PlanError("baseline", label, "a plan the engine can estimate")
        self._set_baseline(Baseline(plan, estimate, label))

    def unpin_baseline(self) -> None:
        if self._baseline is not None:
            self._baseline = None
            self.baseline_changed.emit()
            self._recompare()

    def set_compare_source(self, source: CompareSource) -> None:
        if source not in ("baseline", "expert-load"):
            raise PlanError("compare_source", source, "baseline or expert-load")
        if source != self._compare_source:
            self._compare_source = source
            self.baseline_changed.emit()
            self._recompare()

    def _set_baseline(self, baseline: Baseline) -> None:
        self._baseline = baseline
        self._compare_source = "baseline"
        self.baseline_changed.emit()
        self._recompare()

    def _recompare(self) -> None:
        """A (the baseline, or the average EP rank) against B (the current plan), after every estimate."""
        comparison, error = None, None
        if self._compare_source == "expert-load":
            comparison, error = run_expert_load(self._plan)
        elif self._baseline is not None:
            if self._estimate is None:
                error = self._error
            else:
                comparison, error = run_comparison(
                    self._baseline.plan, self._plan,
                    label_a=QCoreApplication.translate("PlanDocument", "baseline"),
                    label_b=QCoreApplication.translate("PlanDocument", "current plan"),
                    estimate_a=self._baseline.estimate, estimate_b=self._estimate)
        if comparison is None and error is None and self._comparison is None and self._comparison_error is None:
            return  # nothing compared before or now: no signal on every edit
        self._comparison, self._comparison_error = comparison, error
        self.comparison_changed.emit()

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
        self._recompare()
