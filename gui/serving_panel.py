"""The serving answers beside the chart: longest context, concurrent sequences, KV pool, the least
aggressive format that fits, the cheapest card, and the formats these cards cannot run.

A view of :class:`gui.serving_answers.ServingAnswers` (which runs the engine); it formats figures
and emits intent ("use this format"), nothing more.
"""

from __future__ import annotations

import html

from PySide6.QtCore import QCoreApplication, QSize, Qt, Signal
from PySide6.QtWidgets import (
    QFrame,
    QLabel,
    QPushButton,
    QScrollArea,
    QSizePolicy,
    QVBoxLayout,
    QWidget,
)

from engine.serving.report import sampler_warmup_of
from engine.units import format_bytes
from gui.i18n import plural
from gui.serving_answers import Answers, ServingAnswers
from gui.theme import OVER_CAPACITY

translate = QCoreApplication.translate  # lupdate extracts translate("Context", "text") calls

PANEL_WIDTH = 260
MUTED = "#707070"


def _row(title: str, value: str, note: str = "") -> str:
    """One answer as a table row: the question, the figure in bold; what binds it below, muted and small."""
    out = f"<tr><td style='padding-right:6px'>{html.escape(title)}</td><td><b>{value}</b></td></tr>"
    if note:
        out += f"<tr><td colspan='2' style='color:{MUTED}; font-size:small; padding-bottom:3px'>{note}</td></tr>"
    return out


def _table(rows: list[str]) -> str:
    return "<table cellspacing='0' cellpadding='1' width='100%'>" + "".join(rows) + "</table>"


class ServingPanel(QScrollArea):
    """Shown for serving plans only; follows every edit."""

    use_format = Signal(str)  # the user asked for this weight format (the window applies it)

    def __init__(self, answers: ServingAnswers, document, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("servingPanel")
        self._model = answers
        self._document = document
        self.setWidgetResizable(True)
        self.setFrameShape(QFrame.Shape.StyledPanel)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setMinimumWidth(190)
        self.setMaximumWidth(PANEL_WIDTH + 40)
        self.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Expanding)
        body = QWidget(self)
        layout = QVBoxLayout(body)
        layout.setContentsMargins(6, 4, 6, 4)
        layout.setSpacing(2)
        title = translate("ServingPanel", "Serving answers")  # outside the f-string so lupdate extracts it
        self.title = QLabel(f"<b>{html.escape(title)}</b>", body)
        self.limits = self._label(body, "servingLimits")
        self.formats = self._label(body, "servingFormats")
        self.use_button = QPushButton(body)
        self.use_button.setObjectName("useBestFormat")
        self.use_button.clicked.connect(self._on_use)
        self.cards = self._label(body, "servingCards")
        self.ruled_out = self._label(body, "servingRuledOut")
        self.sizes = self._label(body, "servingSizes")
        for widget in (self.title, self.limits, self.formats, self.use_button, self.cards, self.ruled_out, self.sizes):
            layout.addWidget(widget)
        layout.addStretch(1)
        self.setWidget(body)
        self._best = ""
        answers.changed.connect(self.refresh)
        document.units_changed.connect(self.refresh)
        self.refresh()

    def sizeHint(self) -> QSize:  # noqa: N802 - Qt's name
        return QSize(PANEL_WIDTH, 400)  # wide enough for a question and its figure side by side

    @staticmethod
    def _label(parent: QWidget, name: str) -> QLabel:
        label = QLabel(parent)
        label.setObjectName(name)
        label.setTextFormat(Qt.TextFormat.RichText)
        label.setWordWrap(True)
        label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        label.setAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignTop)
        return label

    # Display -----------------------------------------------------------------
    def refresh(self) -> None:
        answers = self._model.answers
        self.setVisible(answers is not None)
        if answers is None:
            return
        self.limits.setText(_table(self._limits_rows(answers)))
        self.formats.setText(_table([self._formats_row(answers)]))
        self.cards.setText(_table([self._cards_row(answers), *self._cpu_moe_rows(answers)]))
        self.sizes.setText(_table(self._size_rows(answers)))
        self.ruled_out.setText(self._ruled_out_html(answers))
        self.ruled_out.setVisible(bool(self.ruled_out.text()))
        best = answers.searches.best if answers.searches is not None else None
        self._best = best.quant if best is not None and best.quant != answers.summary.quant else ""
        self.use_button.setText(translate("ServingPanel", "Use {format}").format(format=self._best))
        self.use_button.setVisible(bool(self._best))

    def _limits_rows(self, a: Answers) -> list[str]:
        s = a.summary
        worst = a.worst
        card = (translate("ServingPanel", "card #{index} ({gpu})").format(index=worst.index, gpu=html.escape(worst.gpu))
                if worst is not None else "")
        if s.max_context_tokens == 0:
            context_note = translate("ServingPanel", "not even one token fits on {card}").format(card=card)
        elif a.context_bound_by_training:
            context_note = translate("ServingPanel", "limited by the model's trained context ({tokens} tokens)").format(
                tokens=f"{a.trained_context:,}")
        else:
            context_note = translate("ServingPanel", "limited by the memory of {card}").format(card=card)
        if s.max_batch == 0:
            batch_note = translate("ServingPanel", "not one sequence fits on {card}").format(card=card)
        elif a.pool:
            batch_note = translate("ServingPanel", "limited by the KV pool of {card}").format(card=card)
        else:
            batch_note = translate("ServingPanel", "limited by the memory of {card}").format(card=card)
        batch = s.batch  # a plain name: lupdate takes no attribute as the %n argument
        longest = plural(translate("ServingPanel", "Longest context at %n sequence(s)", "", batch), batch)
        return [
            _row(longest,
                 translate("ServingPanel", "{tokens} tokens").format(tokens=f"{s.max_context_tokens:,}"), context_note),
            _row(translate("ServingPanel", "Concurrent sequences at {tokens} tokens").format(tokens=f"{s.context:,}"),
                 f"{s.max_batch:,}", batch_note),
        ]

    def _size_rows(self, a: Answers) -> list[str]:
        s, unit = a.summary, self._document.units
        rows = []
        if s.kv_pool_tokens is not None:
            rows.append(_row(translate("ServingPanel", "KV pool ({runtime})").format(runtime=html.escape(s.runtime)),
                             translate("ServingPanel", "{tokens} tokens").format(tokens=f"{s.kv_pool_tokens:,}"),
                             format_bytes(s.kv_pool_bytes or 0, unit)))
        warm = sampler_warmup_of(a.worst)
        if warm is not None and warm[1]:
            rows.append(_row(translate("ServingPanel", "Sampler warm-up (vLLM)"), format_bytes(warm[0], unit),
                             translate("ServingPanel", "its profile's peak: every request's logits over the whole "
                                       "vocabulary; fewer max sequences lower it")))
        rows.append(_row(translate("ServingPanel", "Weights, whole model ({format})").format(format=html.escape(s.quant)),
                         format_bytes(s.weight_bytes, unit)))
        rows.append(_row(translate("ServingPanel", "KV cache per token, whole model ({dtype})").format(
            dtype=html.escape(s.kv_dtype)), f"{s.kv_bytes_per_token:,} B"))
        if s.host_bytes:
            rows.append(_row(translate("ServingPanel", "System RAM for offloaded parts"), format_bytes(s.host_bytes, unit)))
        return rows

    def _formats_row(self, a: Answers) -> str:
        title = translate("ServingPanel", "Least aggressive format that fits")
        if a.search_error:
            return _row(title, "–", html.escape(a.search_error))
        if a.searches is None:
            return _row(title, html.escape(translate("ServingPanel", "searching…")))
        best = a.searches.best
        if best is None:
            return _row(title, html.escape(translate("ServingPanel", "none")),
                        html.escape(translate("ServingPanel", "no format this runtime loads fits these cards")))
        note = translate("ServingPanel", "weights {size}").format(size=format_bytes(best.weight_bytes, self._document.units))
        if best.note:
            note += " · " + html.escape(best.note)
        return _row(title, html.escape(best.quant), note)

    def _cards_row(self, a: Answers) -> str:
        title = translate("ServingPanel", "Cheapest single card that fits")
        if a.searches is None or a.search_error:
            return _row(title, "–" if a.search_error else html.escape(translate("ServingPanel", "searching…")))
        gpu = a.searches.cheapest
        if gpu is None:
            return _row(title, html.escape(translate("ServingPanel", "none in the catalog")))
        note = format_bytes(gpu.gpu.memory_bytes, self._document.units)
        if gpu.gpu.price_usd_per_hour is not None:
            note += " · " + translate("ServingPanel", "${price}/h").format(price=f"{gpu.gpu.price_usd_per_hour:.2f}")
        return _row(title, html.escape(gpu.gpu.name), note)

    def _cpu_moe_rows(self, a: Answers) -> list[str]:
        """llama.cpp with a mixture of experts: the fewest layers whose experts must stay in system RAM."""
        plan = self._document.plan
        if plan.serving is None or plan.serving.runtime != "llamacpp" or plan.model.moe is None:
            return []
        title = translate("ServingPanel", "Fewest expert layers in RAM that fit")
        if a.searches is None or a.search_error:
            return [_row(title, "–" if a.search_error else html.escape(translate("ServingPanel", "searching…")))]
        m = a.searches.cpu_moe
        if m is None:
            return [_row(title, html.escape(translate("ServingPanel", "none")),
                         html.escape(translate("ServingPanel", "too large even with every layer's experts in RAM")))]
        unit = self._document.units
        note = translate("ServingPanel", "--n-cpu-moe {layers}; system RAM {ram}").format(
            layers=m.layers, ram=format_bytes(m.host_bytes, unit))
        return [_row(title, f"{m.layers:,}", html.escape(note))]

    def _ruled_out_html(self, a: Answers) -> str:
        """The formats these cards cannot run, those with the same reason on one line."""
        if a.searches is None or not a.searches.ruled_out:
            return ""
        reasons: dict[str, list[str]] = {}
        for o in a.searches.ruled_out:
            reasons.setdefault(o.note, []).append(o.quant)
        red = OVER_CAPACITY["light"]
        items = "".join(f"<li><b>{html.escape(', '.join(quants))}</b>: {html.escape(note)}</li>"
                        for note, quants in reasons.items())
        title = html.escape(translate("ServingPanel", "Ruled out on these cards"))
        return f"<span style='color:{red}'>{title}</span><ul style='margin-left:-24px; margin-top:0px'>{items}</ul>"

    # Intent ------------------------------------------------------------------
    def _on_use(self) -> None:
        if self._best:
            self.use_format.emit(self._best)
