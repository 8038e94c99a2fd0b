"""The selected card's memory over one step: moments stacked by category, the capacity, the peak."""

from __future__ import annotations

import re

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QCoreApplication, Qt
from PySide6.QtWidgets import QLabel, QVBoxLayout, QWidget

from gui.chart import category_label
from gui.document import PlanDocument
from gui.theme import CATEGORY_COLORS, style_plot
from gui.timeline_data import TIMELINE_KEYS, TimelineSeries, focus_card, timeline_series


def tr(text: str) -> str:
    return QCoreApplication.translate("StepTimeline", text)


class StepTimelineView(QWidget):
    """Subscribes to the document; draws the focused card's step (first selected card, else the worst card)."""

    def __init__(self, document: PlanDocument, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("stepTimeline")
        self._document = document
        self.caption = QLabel(self)
        self.caption.setObjectName("stepTimelineCaption")
        self.caption.setWordWrap(True)
        self.caption.setTextFormat(Qt.TextFormat.PlainText)
        self.caption.setAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignTop)  # at the top when alone
        self.plot = pg.PlotWidget(self)
        self.plot.setMenuEnabled(False)
        self.plot.setMouseEnabled(x=False, y=False)
        self.plot.hideButtons()
        self.plot.setMinimumHeight(100)
        self.plot.getAxis("bottom").enableAutoSIPrefix(False)
        self.plot.getAxis("left").enableAutoSIPrefix(False)
        self.curves: dict[str, pg.PlotDataItem] = {}
        self.fills: list[pg.FillBetweenItem] = []
        below = pg.PlotDataItem()
        self.baseline = below
        self.plot.addItem(below)
        for key in (*TIMELINE_KEYS, "overhead"):
            curve = pg.PlotDataItem(pen=pg.mkPen(CATEGORY_COLORS[key], width=1))
            self.plot.addItem(curve)
            fill = pg.FillBetweenItem(below, curve, brush=pg.mkBrush(CATEGORY_COLORS[key]))
            self.plot.addItem(fill)
            self.curves[key], below = curve, curve
            self.fills.append(fill)
        self.capacity_line = pg.InfiniteLine(angle=0, movable=False)
        self.peak_line = pg.InfiniteLine(angle=90, movable=False)
        self.peak_marker = pg.ScatterPlotItem(size=11, symbol="o")
        for item in (self.capacity_line, self.peak_line, self.peak_marker):
            self.plot.addItem(item)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 4, 6, 4)
        layout.setSpacing(2)
        layout.addWidget(self.caption)
        layout.addWidget(self.plot, 1)
        document.estimate_changed.connect(self.refresh)
        document.selection_changed.connect(self.refresh)
        document.units_changed.connect(self.refresh)
        self.apply_theme()

    def apply_theme(self, name: str | None = None) -> None:
        colors = style_plot(self.plot, name, grid_x=False, grid_y=True)
        self.capacity_line.setPen(pg.mkPen(colors.capacity, width=2))
        self.peak_line.setPen(pg.mkPen(colors.highlight, width=1, style=Qt.PenStyle.DashLine))
        self.peak_marker.setPen(pg.mkPen(colors.highlight, width=2))
        self.peak_marker.setBrush(pg.mkBrush(None))
        self.refresh()

    def refresh(self) -> None:
        estimate = self._document.estimate
        card = focus_card(estimate, self._document.selected_card_ids) if estimate is not None else None
        series = timeline_series(card, self._document.units) if card is not None else None
        if series is None:
            if estimate is None:
                why = tr("No step timeline: the plan is not estimated")
            elif estimate.mode == "serving":
                why = tr("No step timeline for this card: a serving estimate is a steady state")
            else:
                why = tr("No step timeline: the seed method (the article's rules) sums steady parts; "
                         "the detailed method walks the step moment by moment")
            self._clear(why)
            return
        self.plot.show()
        self._draw(series)

    def _clear(self, why: str) -> None:
        self.caption.setText(why)
        self.plot.hide()  # empty axes would read as a card at zero
        for curve in self.curves.values():
            curve.setData([], [])
        self.baseline.setData([], [])
        self.peak_marker.setData([], [])
        self.capacity_line.hide()
        self.peak_line.hide()

    def _draw(self, s: TimelineSeries) -> None:
        unit = self._document.units.value
        card = s.card
        text = tr("Card {index} (stage {stage}, {gpu}) over one step. {peak}").format(
            index=card.index, stage=card.stage + 1, gpu=card.gpu, peak=_peak_text(s))
        if s.first_step is not None:
            text = tr("{caption}. Until its first optimizer step the card needs {before}: the run starts and runs "
                      "out when that step creates the optimizer's state ({state}).").format(
                caption=text, before=s.first_step[0], state=s.first_step[1])
        self.caption.setText(text)
        zeros = np.zeros_like(s.x)
        self.baseline.setData(s.x, zeros)
        top = zeros
        for key in TIMELINE_KEYS:
            top = s.tops[key]
            self.curves[key].setData(s.x, top)
        self.curves["overhead"].setData(s.x, top + s.overhead)
        self.capacity_line.setValue(s.capacity)
        self.capacity_line.show()
        self.peak_line.setValue(float(s.peak))
        self.peak_line.show()
        self.peak_marker.setData([float(s.peak)], [float(top[s.peak] + s.overhead)])
        axis = self.plot.getAxis("bottom")
        axis.setTicks([[(float(i), tick_text(tick)) for i, tick in enumerate(s.ticks)]])
        self.plot.setLabel("left", tr("memory ({unit})").format(unit=unit))
        self.plot.setToolTip("\n".join(f"{i + 1}. {label}" for i, label in enumerate(s.labels)))
        self.plot.setXRange(-0.5, len(s.labels) - 0.5, padding=0)
        self.plot.setYRange(0, max(s.capacity, float(top.max() + s.overhead)) * 1.08, padding=0)


def _peak_text(s: TimelineSeries) -> str:
    """The peak in words: the engine's moment, the card's total and overhead, the live parts by category."""
    separator = tr(", ")
    parts = separator.join(tr("{category} {size}").format(category=category_label(key), size=size)
                           for key, size in s.peak_parts)
    return tr("peak: {moment} — {total} with overhead {overhead} ({parts})").format(
        moment=s.peak_label, total=s.peak_total, overhead=s.peak_overhead, parts=parts)


_FORWARD_OF = re.compile(r"forward (\d+)/(\d+)")


def tick_text(short: str) -> str:
    """An axis tick in the interface language: the engine names its moments with a few fixed words
    ("start", "forward 2/4", "backward", ...); a word this view does not know stays as the engine wrote it."""
    forward = _FORWARD_OF.fullmatch(short)
    if forward:
        return tr("forward {j}/{k}").format(j=forward.group(1), k=forward.group(2))
    words = {
        "start": tr("start"),
        "forward": tr("forward"),
        "loss": tr("loss"),
        "backward": tr("backward"),
        "all-reduce": tr("all-reduce"),
        "optimizer step": tr("optimizer step"),
        "next forward": tr("next forward"),
    }
    return words.get(short, short)
