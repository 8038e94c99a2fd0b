"""The warnings panel: the estimate's warnings and the plan's error; a click highlights the cards."""

from __future__ import annotations

from PySide6.QtCore import QCoreApplication, Qt
from PySide6.QtWidgets import QListWidget, QListWidgetItem, QStyle, QWidget

CARDS_ROLE = Qt.ItemDataRole.UserRole + 1
CODE_ROLE = Qt.ItemDataRole.UserRole + 2


class WarningsPanel(QListWidget):
    def __init__(self, document, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._document = document
        self.setObjectName("warningsPanel")
        self.setWordWrap(True)
        self.setAlternatingRowColors(True)
        self.setVerticalScrollMode(QListWidget.ScrollMode.ScrollPerPixel)
        self._shown: tuple | None = None
        self.itemClicked.connect(self._on_item_clicked)
        self.currentItemChanged.connect(self._on_current_changed)
        document.estimate_changed.connect(self.refresh)
        self.refresh()

    def refresh(self) -> None:
        error, estimate = self._document.error, self._document.estimate
        shown = (str(error) if error else None, self._document.plan.layout.cards,
                 estimate.warnings if estimate is not None else None)
        if shown == self._shown:
            return  # same messages for the same cards: keep the list (and its selection) as it is
        self._shown = shown
        self.blockSignals(True)
        self.clear()
        style = self.style()
        error = self._document.error
        if error is not None:
            self._add(style.standardIcon(QStyle.StandardPixmap.SP_MessageBoxCritical), str(error), (), "error")
        estimate = self._document.estimate
        for w in estimate.warnings if estimate is not None and error is None else ():
            icon = (QStyle.StandardPixmap.SP_MessageBoxInformation if w.severity == "info"
                    else QStyle.StandardPixmap.SP_MessageBoxWarning)
            self._add(style.standardIcon(icon), w.message, self._card_ids(w.cards), w.code)
        if self.count() == 0:
            item = QListWidgetItem(QCoreApplication.translate("warnings", "No warnings"), self)
            item.setFlags(Qt.ItemFlag.NoItemFlags)
        self.blockSignals(False)

    def _add(self, icon, text: str, card_ids: tuple[str, ...], code: str) -> None:
        item = QListWidgetItem(icon, text, self)
        item.setData(CARDS_ROLE, list(card_ids))
        item.setData(CODE_ROLE, code)
        if card_ids:
            item.setToolTip(QCoreApplication.translate("warnings", "Click to highlight the {count} card(s) concerned")
                            .format(count=len(card_ids)))

    def _card_ids(self, indices: tuple[int, ...]) -> tuple[str, ...]:
        cards = self._document.plan.layout.cards
        return tuple(cards[i].id for i in indices if 0 <= i < len(cards))

    def _on_current_changed(self, item: QListWidgetItem | None, _previous: QListWidgetItem | None) -> None:
        if item is not None:
            self._on_item_clicked(item)

    def _on_item_clicked(self, item: QListWidgetItem) -> None:
        self._document.set_highlight(tuple(item.data(CARDS_ROLE) or ()))
