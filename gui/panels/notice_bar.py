"""An inline, non-modal bar at the top of the window: a message and up to two buttons."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QCoreApplication, Qt, QTimer
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QPushButton, QWidget

STYLES = {
    "info": "background:#E8F1FB; color:#0B3D6E; border-bottom:1px solid #B6D0EE;",
    "warning": "background:#FFF4D6; color:#5C4200; border-bottom:1px solid #E8CF86;",
    "error": "background:#FDE7E9; color:#7A0010; border-bottom:1px solid #F1A7AE;",
}


class NoticeBar(QFrame):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("noticeBar")
        self.label = QLabel(self)
        self.label.setTextFormat(Qt.TextFormat.PlainText)  # messages quote names from files: never HTML
        self.label.setWordWrap(True)
        self.primary = QPushButton(self)
        self.secondary = QPushButton(self)
        self.close_button = QPushButton(QCoreApplication.translate("NoticeBar", "Dismiss"), self)
        self.close_button.clicked.connect(self.hide)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(10, 5, 10, 5)
        layout.addWidget(self.label, 1)
        for b in (self.primary, self.secondary, self.close_button):
            layout.addWidget(b)
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.timeout.connect(self.hide)
        self._callbacks: list[Callable[[], None]] = []
        self.primary.clicked.connect(lambda: self._run(0))
        self.secondary.clicked.connect(lambda: self._run(1))
        self.hide()

    def show_message(self, text: str, kind: str = "info", *, buttons: tuple[tuple[str, Callable[[], None]], ...] = (),
                     timeout_ms: int = 0) -> None:
        """Show ``text``; each button runs its callback and closes the bar; ``timeout_ms`` hides it later."""
        self.setStyleSheet(f"#noticeBar {{{STYLES.get(kind, STYLES['info'])}}} #noticeBar QLabel {{background:transparent;}}")
        self.label.setText(text)
        self._callbacks = [cb for _, cb in buttons]
        for button, spec in zip((self.primary, self.secondary), (*buttons, None, None), strict=False):
            button.setVisible(spec is not None)
            if spec is not None:
                button.setText(spec[0])
        self.close_button.setVisible(not buttons)
        self._timer.stop()
        if timeout_ms:
            self._timer.start(timeout_ms)
        self.show()

    def _run(self, index: int) -> None:
        self.hide()
        if index < len(self._callbacks):
            self._callbacks[index]()
