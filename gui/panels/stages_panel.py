"""Per-stage layer counts: an even split, or an uneven one the user edits stage by stage.

The panel never offers a split the engine refuses: "Even split" is only on offer when the engine
accepts one (training needs the stages to divide the layers), an uneven split always adds up to
the model's layers (a stage's spin box takes or gives layers to its neighbour), and a plan whose
stages do not divide the layers gets a one-click uneven split.
"""

from __future__ import annotations

from PySide6.QtCore import QCoreApplication, Qt
from PySide6.QtWidgets import (
    QCheckBox,
    QFormLayout,
    QGroupBox,
    QLabel,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from engine.errors import PlanError
from engine.training.memory.schedule import stage_layer_indices
from gui.i18n import plural
from gui.panels.form import error_label
from gui.panels.limit_spin import LimitSpinBox
from gui.panels.plan_fields import even_layer_split, even_split_refusal, rebalanced, set_field

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
        self.note = QLabel(self)
        self.note.setObjectName("stagesNote")
        self.note.setWordWrap(True)
        self.note.setTextFormat(Qt.TextFormat.PlainText)
        self.split_button = QPushButton(self)
        self.split_button.setObjectName("unevenSplit")
        self.split_button.clicked.connect(self._on_uneven_split)
        self.summary = QLabel(self)
        self.summary.setWordWrap(True)
        self.error = error_label(self)  # an uneven split the engine refused (should not happen)
        self.rows = QFormLayout()
        self.rows.setVerticalSpacing(4)
        self.spins: list[LimitSpinBox] = []
        outer = QVBoxLayout(self)
        outer.addWidget(self.even)
        outer.addWidget(self.note)
        outer.addWidget(self.split_button)
        outer.addLayout(self.rows)
        outer.addWidget(self.summary)
        outer.addWidget(self.error)
        document.plan_changed.connect(self.refresh)
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
        if stages < 1:
            return ()
        try:
            return tuple(len(ix) for ix in stage_layer_indices(layers, stages, None, layout.vpp))
        except PlanError:
            return even_layer_split(layers, stages)

    def refresh(self) -> None:
        stages = self._stage_count()
        plan = self.document.plan
        while len(self.spins) > stages:
            self.rows.removeRow(len(self.spins) - 1)
            self.spins.pop()
        while len(self.spins) < stages:
            spin = LimitSpinBox(self)
            spin.setKeyboardTracking(False)
            spin.setSuffix(translate("StagesPanel", " layers"))
            index = len(self.spins)
            spin.setObjectName(f"layout.pp_layers[{index}]")
            spin.valueChanged.connect(lambda value, i=index: self._on_count(i, value))
            spin.editingFinished.connect(self._end_gesture)
            spin.editingFinished.connect(lambda s=spin: self._show_limit(s))
            label = translate("StagesPanel", "Stage {n}:").format(n=index + 1)
            spin.set_field(label.rstrip(":：").strip())
            self.rows.addRow(label, spin)
            self.spins.append(spin)
        uneven = plan.layout.pp_layers is not None
        counts = self._shown_counts(stages)
        for index, (spin, count) in enumerate(zip(self.spins, counts, strict=True)):
            spin.blockSignals(True)
            neighbour = counts[index + 1] if index + 1 < len(counts) else (counts[index - 1] if index else 1)
            spin.setRange(1, max(1, count + neighbour - 1))  # the neighbour keeps at least one layer
            spin.setValue(count)
            spin.setEnabled(uneven and stages > 1)
            spin.setToolTip(translate("StagesPanel", "Layers taken from or given to the next stage "
                                                     "(the last stage trades with the one before)"))
            spin.blockSignals(False)
        refusal = even_split_refusal(plan)
        self.even.blockSignals(True)
        self.even.setChecked(not uneven)
        # back to an even split only when the engine takes one; interleaving needs the even split
        self.even.setEnabled(stages > 1 and ((uneven and refusal is None) or (not uneven and plan.layout.vpp == 1)))
        self.even.setVisible(stages > 0)
        self.even.blockSignals(False)
        self._show_note(stages, uneven, refusal)
        self.error.hide()

    def _show_note(self, stages: int, uneven: bool, refusal: PlanError | None) -> None:
        layers = self.document.plan.model.layers
        if stages == 0:
            self.note.setText(translate("StagesPanel", "No cards yet: drag a GPU from the palette onto the diagram."))
        elif refusal is not None and not uneven:
            self.note.setText(translate("StagesPanel", "{layers} layers do not split evenly over {stages} stages: "
                                                       "give each stage its layers.").format(layers=layers,
                                                                                             stages=stages))
        else:
            self.note.setText("")
        self.note.setVisible(bool(self.note.text()))
        offer = refusal is not None and not uneven and stages > 1 and self.document.plan.layout.vpp == 1
        if offer:
            split = " + ".join(str(n) for n in even_layer_split(layers, stages))
            self.split_button.setText(translate("StagesPanel", "Split as {split}").format(split=split))
        self.split_button.setVisible(offer)
        self.summary.setText(plural(translate("StagesPanel", "%n stage(s); the model has {layers} layers", "", stages),
                                    stages).format(layers=layers) if stages else "")
        self.summary.setVisible(stages > 0)

    # Edits ------------------------------------------------------------------
    def _apply_split(self, counts: tuple[int, ...] | None, text: str, merge_key: str | None = None) -> None:
        try:
            plan = set_field(self.document.plan, "layout.pp_layers", counts)
        except PlanError as e:
            self.error.setText(str(e))
            self.error.show()
            return
        self.document.apply(plan, text, merge_key=merge_key)

    def _on_even(self, even: bool) -> None:
        counts = None if even else even_layer_split(self.document.plan.model.layers, len(self.spins))
        text = translate("StagesPanel", "Split layers evenly") if even else translate("StagesPanel", "Edit layers per stage")
        self._apply_split(counts, text)

    def _on_uneven_split(self) -> None:
        self._apply_split(even_layer_split(self.document.plan.model.layers, len(self.spins)),
                          translate("StagesPanel", "Edit layers per stage"))

    def _on_count(self, index: int, value: int) -> None:
        counts = rebalanced(self._shown_counts(len(self.spins)), index, value)
        self._apply_split(counts, translate("StagesPanel", "Set layers per stage"), merge_key=f"pp_layers#{self._gesture}")

    def _end_gesture(self) -> None:
        self._gesture += 1

    def _show_limit(self, spin: LimitSpinBox) -> None:
        message = spin.take_limit_message()  # a count past what the neighbouring stage can give
        if message:
            self.error.setText(message)
            self.error.show()
