"""Per-stage layer counts: an even split, or an uneven one the user edits stage by stage."""

from __future__ import annotations

from PySide6.QtCore import QCoreApplication
from PySide6.QtWidgets import (
    QCheckBox,
    QFormLayout,
    QGroupBox,
    QLabel,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from engine.errors import PlanError
from engine.training.memory.schedule import stage_layer_indices
from gui.panels.form import error_label
from gui.panels.plan_fields import even_layer_split, set_field

translate = QCoreApplication.translate  # lupdate extracts translate("Context", "text") calls


class StagesPanel(QGroupBox):
    """One spin box per pipeline stage; scrubbing merges into one undo step per gesture."""

    def __init__(self, document, parent: QWidget | None = None) -> None:
        super().__init__(translate("StagesPanel", "Layers per pipeline stage"), parent)
        self.document = document
        self._gesture = 0
        self.even = QCheckBox(translate("StagesPanel", "Even split"), self)
        self.even.setObjectName("layout.pp_layers.even")
        self.even.toggled.connect(self._on_even)
        self.summary = QLabel(self)
        self.error = error_label(self)
        self.rows = QFormLayout()
        self.rows.setVerticalSpacing(4)
        self.spins: list[QSpinBox] = []
        outer = QVBoxLayout(self)
        outer.addWidget(self.even)
        outer.addLayout(self.rows)
        outer.addWidget(self.summary)
        outer.addWidget(self.error)
        document.plan_changed.connect(self.refresh)
        document.estimate_changed.connect(self._show_error)
        self.refresh()

    def _stage_count(self) -> int:
        try:
            return self.document.plan.layout.topology.stages
        except PlanError:
            return 0

    def _shown_counts(self, stages: int) -> tuple[int, ...]:
        layout, layers = self.document.plan.layout, self.document.plan.model.layers
        if layout.pp_layers is not None and len(layout.pp_layers) == stages:
            return layout.pp_layers
        try:
            return tuple(len(ix) for ix in stage_layer_indices(layers, stages, None, layout.vpp))
        except PlanError:
            return even_layer_split(layers, stages)

    def refresh(self) -> None:
        stages = self._stage_count()
        while len(self.spins) > stages:
            self.rows.removeRow(len(self.spins) - 1)
            self.spins.pop()
        while len(self.spins) < stages:
            spin = QSpinBox(self)
            spin.setRange(1, 100_000)
            spin.setKeyboardTracking(False)
            spin.setSuffix(translate("StagesPanel", " layers"))
            index = len(self.spins)
            spin.setObjectName(f"layout.pp_layers[{index}]")
            spin.valueChanged.connect(lambda _v: self._on_counts())
            spin.editingFinished.connect(self._end_gesture)
            self.rows.addRow(translate("StagesPanel", "Stage {n}:").format(n=index + 1), spin)
            self.spins.append(spin)
        uneven = self.document.plan.layout.pp_layers is not None
        for spin, count in zip(self.spins, self._shown_counts(stages), strict=True):
            spin.blockSignals(True)
            spin.setValue(count)
            spin.setEnabled(uneven)
            spin.blockSignals(False)
        self.even.blockSignals(True)
        self.even.setChecked(not uneven)
        self.even.setEnabled(stages > 1)
        self.even.blockSignals(False)
        self.summary.setText(translate("StagesPanel", "{stages} stage(s), model has {layers} layers").format(
            stages=stages, layers=self.document.plan.model.layers))
        self._show_error()

    def _on_even(self, even: bool) -> None:
        counts = None if even else even_layer_split(self.document.plan.model.layers, len(self.spins))
        text = translate("StagesPanel", "Split layers evenly") if even else translate("StagesPanel", "Edit layers per stage")
        self.document.apply(set_field(self.document.plan, "layout.pp_layers", counts), text)

    def _on_counts(self) -> None:
        counts = tuple(s.value() for s in self.spins)
        self.document.apply(set_field(self.document.plan, "layout.pp_layers", counts),
                            translate("StagesPanel", "Set layers per stage"), merge_key=f"pp_layers#{self._gesture}")

    def _end_gesture(self) -> None:
        self._gesture += 1

    def _show_error(self) -> None:
        error = self.document.error
        shown = error is not None and error.field in ("layout.pp_layers", "layout.pp", "layout.vpp")
        self.error.setText(str(error) if shown else "")
        self.error.setVisible(shown)
