"""The "Fill with TP × PP × DP grid" dialog: three spin boxes, nothing computed here."""

from __future__ import annotations

from PySide6.QtCore import QCoreApplication
from PySide6.QtWidgets import QDialog, QDialogButtonBox, QFormLayout, QLabel, QSpinBox, QWidget

from engine.limits import MAX_PARALLEL, MAX_PP


def tr(text: str) -> str:
    return QCoreApplication.translate("GridDialog", text)


class GridDialog(QDialog):
    def __init__(self, parent: QWidget | None, slots: int) -> None:
        super().__init__(parent)
        self.setWindowTitle(tr("Fill with TP × PP × DP grid"))
        form = QFormLayout(self)
        form.addRow(QLabel(tr("Cards get roles in Megatron rank order: TP fastest, then DP, PP slowest.\n"
                              "The selected nodes have {0} slots; empty slots are filled.").format(slots)))
        # at most the selected slots, and the engine's bounds of a parallel size and a pipeline
        self.tp, self.pp, self.dp = (self._spin(min(slots, bound)) for bound in (MAX_PARALLEL, MAX_PP, MAX_PARALLEL))
        form.addRow(tr("Tensor parallel (TP):"), self.tp)
        form.addRow(tr("Pipeline stages (PP):"), self.pp)
        form.addRow(tr("Data parallel / ZeRO (DP):"), self.dp)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        form.addRow(buttons)

    @staticmethod
    def _spin(maximum: int) -> QSpinBox:
        spin = QSpinBox()
        spin.setRange(1, max(1, maximum))
        spin.setValue(1)
        return spin

    def values(self) -> tuple[int, int, int]:
        return self.tp.value(), self.pp.value(), self.dp.value()


def ask_grid(parent: QWidget | None, slots: int) -> tuple[int, int, int] | None:
    dialog = GridDialog(parent, slots)
    return dialog.values() if dialog.exec() == QDialog.DialogCode.Accepted else None
