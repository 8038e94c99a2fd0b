"""File > Import Launch Config…: paste Megatron-LM flags or a DeepSpeed config, get the plan.

The dialog only collects text and choices; ``engine.export.import_launch_config``
does the parsing, and the window applies the result as one undoable command.
Errors show inline under the text box.
"""

from __future__ import annotations

from PySide6.QtCore import QCoreApplication, Qt
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QPlainTextEdit,
    QVBoxLayout,
    QWidget,
)

from engine.catalog import gpu_catalog
from engine.errors import PlanError
from engine.export import ImportResult, import_launch_config
from gui.theme import OVER_CAPACITY

translate = QCoreApplication.translate


class LaunchImportDialog(QDialog):
    def __init__(self, current_model, current_gpu: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle(translate("LaunchImport", "Import launch config"))
        self.resize(640, 460)
        self._current_model = current_model
        self.imported: ImportResult | None = None
        form = QFormLayout()
        self.format = QComboBox(self)
        self.format.addItem(translate("LaunchImport", "Megatron-LM arguments"), "megatron")
        self.format.addItem(translate("LaunchImport", "DeepSpeed config (JSON, applied to the current model)"), "deepspeed")
        form.addRow(translate("LaunchImport", "Format:"), self.format)
        self.gpu = QComboBox(self)
        for g in gpu_catalog():
            self.gpu.addItem(f"{g.name} ({g.marketed_memory or g.memory_bytes})", g.name)
        self.gpu.setCurrentIndex(max(0, self.gpu.findData(current_gpu)))
        form.addRow(translate("LaunchImport", "GPU:"), self.gpu)
        self.text = QPlainTextEdit(self)
        self.text.setObjectName("launchText")
        self.text.setPlaceholderText(translate("LaunchImport", "Paste e.g. torchrun … pretrain_gpt.py --tensor-model-parallel-size 2 …"))
        self.error = QLabel(self)
        self.error.setObjectName("launchError")
        self.error.setTextFormat(Qt.TextFormat.PlainText)  # quotes the pasted text: never HTML
        self.error.setWordWrap(True)
        self.error.setStyleSheet(f"color: {OVER_CAPACITY['light']};")
        self.error.hide()
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel, self)
        buttons.accepted.connect(self.try_accept)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.text, 1)
        layout.addWidget(self.error)
        layout.addWidget(buttons)

    def try_accept(self) -> None:
        try:
            self.imported = import_launch_config(self.text.toPlainText(), self.format.currentData(),
                                               gpu=self.gpu.currentData(), current_model=self._current_model)
        except PlanError as e:
            self.error.setText(str(e))
            self.error.show()
            return
        self.accept()
