"""The warnings panel: the estimate's warnings; a click highlights the cards concerned.

The plan's error is not repeated here (it shows once, above the diagram); while the plan cannot
be estimated the panel says that its warnings are not computed.  Each warning leads with a
translatable headline chosen by its code (the engine's message, with its figures, follows).
"""

from __future__ import annotations

from PySide6.QtCore import QCoreApplication, Qt
from PySide6.QtWidgets import QListWidget, QListWidgetItem, QStyle, QWidget

from engine.report.records import PlanWarning
from gui.i18n import plural

CARDS_ROLE = Qt.ItemDataRole.UserRole + 1
CODE_ROLE = Qt.ItemDataRole.UserRole + 2

translate = QCoreApplication.translate  # lupdate extracts translate("Context", "text") calls


def headline(code: str) -> str:
    """A short, translatable title of an engine warning ("" for a code the GUI does not know)."""
    titles = {
        "over-capacity": translate("warnings", "Over capacity"),
        "oom-at-first-optimizer-step": translate("warnings", "Runs out at the first optimizer step"),
        "attention-scores": translate("warnings", "Attention scores without FlashAttention"),
        "unbalanced-stages": translate("warnings", "Stages are unbalanced"),
        "seed-ignores-overhead": translate("warnings", "The seed method leaves out overheads"),
        "tp-spans-nodes": translate("warnings", "A TP group spans nodes"),
        "tp-too-large": translate("warnings", "TP group larger than 8"),
        "unequal-tp-groups": translate("warnings", "TP groups of unequal sizes"),
        "unequal-dp-groups": translate("warnings", "DP groups of unequal sizes"),
        "mixed-gpus": translate("warnings", "Mixed GPU types"),
        "unexplained-parameters": translate("warnings", "Parameters the layers do not explain"),
        "context-beyond-training": translate("warnings", "Context beyond what the model was trained for"),
        "format-unsupported": translate("warnings", "Weight format these cards cannot run"),
        "format-emulated": translate("warnings", "Weight format runs differently on these cards"),
        "gguf-runtime": translate("warnings", "GGUF format outside llama.cpp"),
        "host-offload": translate("warnings", "Parts kept in system RAM"),
        "paged-optimizer": translate("warnings", "Paged optimizer"),
        "deepspeed-bf16-without-zero": translate("warnings", "DeepSpeed bf16 without ZeRO"),
        "gradients-from-backward": translate("warnings", "Peaks before its gradients exist"),
        "vllm-margin": translate("warnings", "vLLM's margin cannot hold the CUDA context and graphs"),
        "vllm-max-num-seqs": translate("warnings", "vLLM runs fewer sequences at once than planned"),
        "vllm-batch-refused": translate("warnings", "vLLM refuses these batch settings"),
    }
    return titles.get(code, "")


def warning_text(w: PlanWarning) -> str:
    """The engine's message, under its headline when the interface language is not English (the
    engine writes its messages in English; the headline says in the user's language what it is about)."""
    title = headline(w.code)
    english = QCoreApplication.translate("warnings", "Over capacity") == "Over capacity"
    return w.message if english or not title else f"{title}\n{w.message}"


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
        shown = (error is not None, self._document.plan.layout.cards,
                 estimate.warnings if estimate is not None else None)
        if shown == self._shown:
            return  # same messages for the same cards: keep the list (and its selection) as it is
        self._shown = shown
        self.blockSignals(True)
        self.clear()
        style = self.style()
        if error is not None:
            self._note(translate("warnings", "Not computed while the plan has an error (see the message above "
                                             "the diagram)."))
        for w in estimate.warnings if estimate is not None else ():
            icon = (QStyle.StandardPixmap.SP_MessageBoxInformation if w.severity == "info"
                    else QStyle.StandardPixmap.SP_MessageBoxWarning)
            self._add(style.standardIcon(icon), warning_text(w), self._card_ids(w.cards), w.code)
        if self.count() == 0:
            self._note(translate("warnings", "No warnings"))
        self.blockSignals(False)

    def _note(self, text: str) -> None:
        item = QListWidgetItem(text, self)
        item.setFlags(Qt.ItemFlag.NoItemFlags)

    def _add(self, icon, text: str, card_ids: tuple[str, ...], code: str) -> None:
        item = QListWidgetItem(icon, text, self)
        item.setData(CARDS_ROLE, list(card_ids))
        item.setData(CODE_ROLE, code)
        if card_ids:
            count = len(card_ids)
            item.setToolTip(plural(translate("warnings", "Click to highlight the %n card(s) concerned", "", count),
                                   count))

    def _card_ids(self, indices: tuple[int, ...]) -> tuple[str, ...]:
        cards = self._document.plan.layout.cards
        return tuple(cards[i].id for i in indices if 0 <= i < len(cards))

    def _on_current_changed(self, item: QListWidgetItem | None, _previous: QListWidgetItem | None) -> None:
        if item is not None:
            self._on_item_clicked(item)

    def _on_item_clicked(self, item: QListWidgetItem) -> None:
        self._document.set_highlight(tuple(item.data(CARDS_ROLE) or ()))
